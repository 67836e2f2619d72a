package cosmos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// members are the top-level members of a JSON object in order, so that
// documents come back as they were sent.
type members []member

type member struct {
	key string
	raw json.RawMessage
}

// maxMembers bounds the top-level members of an object.
const maxMembers = 10_000

// parseObject splits a JSON object into its members; duplicate names are
// refused, as the service does.
func parseObject(b []byte) (members, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object")
	}
	var m members
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("want a property name")
		}
		if seen[k] {
			return nil, fmt.Errorf("duplicate property %q", trunc(k))
		}
		seen[k] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if len(m) == maxMembers {
			return nil, fmt.Errorf("more than %d properties", maxMembers)
		}
		m = append(m, member{k, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the object")
	}
	return m, nil
}

func (m members) get(k string) (json.RawMessage, bool) {
	for _, x := range m {
		if x.key == k {
			return x.raw, true
		}
	}
	return nil, false
}

// set replaces or appends a member.
func (m members) set(k string, raw json.RawMessage) members {
	for i := range m {
		if m[i].key == k {
			m[i].raw = raw
			return m
		}
	}
	return append(m, member{k, raw})
}

// without drops the named members.
func (m members) without(keys []string) members {
	out := make(members, 0, len(m))
	for _, x := range m {
		if !slices.Contains(keys, x.key) {
			out = append(out, x)
		}
	}
	return out
}

func (m members) marshal() []byte {
	b := make([]byte, 0, 64*len(m)+2)
	return m.appendTo(b)
}

func (m members) appendTo(b []byte) []byte {
	b = append(b, '{')
	for i, x := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, x.key)
		b = append(b, ':')
		b = append(b, x.raw...)
	}
	return append(b, '}')
}

func jsonString(s string) json.RawMessage { return appendJSONString(nil, s) }

// systemProps are the properties the service owns; clients' values are
// dropped on write.
var systemProps = []string{"_rid", "_self", "_etag", "_ts", "_attachments", "_lsn", "_colls", "_users", "_docs", "_sprocs", "_triggers", "_udfs", "_conflicts"}

// stringMember reads a required string member such as "id".
func stringMember(m members, k, what string) (string, *Error) {
	raw, ok := m.get(k)
	if !ok {
		return "", badRequest(fmt.Sprintf("The %s has no %q property.", what, k))
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", badRequest(fmt.Sprintf("The %s's %q property must be a string.", what, k))
	}
	if k == "id" {
		if e := validID(what, s); e != nil {
			return "", e
		}
	}
	return s, nil
}
