package epk

import (
	"bytes"
	"encoding/json"
	"io"
)

// DocKeyComponents parses the key under which Setsuna stores a Cosmos
// document: a JSON array of the partition-key values followed by the id
// (a string), e.g. ["p1","a1"] or ["tenant",42,"a1"]. It returns the
// partition-key components; ok is false for any other key (an item another
// surface wrote), which has no components of its own.
func DocKeyComponents(key []byte) (cs []Component, ok bool) {
	if len(key) < 2 || key[0] != '[' || key[len(key)-1] != ']' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(key))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, false
	}
	idLast := false
	for dec.More() {
		if len(cs) > MaxLevels {
			return nil, false
		}
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		idLast = false
		switch v := t.(type) {
		case string:
			cs = append(cs, String(v))
			idLast = true
		case json.Number:
			f, err := v.Float64()
			if err != nil {
				return nil, false
			}
			cs = append(cs, Number(f))
		case bool:
			cs = append(cs, Bool(v))
		case nil:
			cs = append(cs, Null())
		case json.Delim:
			// Only {} (an undefined value) is a partition-key value.
			if v != '{' {
				return nil, false
			}
			if end, err := dec.Token(); err != nil || end != json.Delim('}') {
				return nil, false
			}
			cs = append(cs, Undefined())
		default:
			return nil, false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF || !idLast || len(cs) < 2 {
		return nil, false
	}
	return cs[:len(cs)-1], true
}
