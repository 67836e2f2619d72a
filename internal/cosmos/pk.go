package cosmos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/setsuna-io/setsuna/internal/epk"
)

// Partition key kinds and versions of a container definition.
const (
	kindHash      = "Hash"
	kindMultiHash = "MultiHash"
	// defaultPKPath is what the SDK sends for a container created
	// without a partition key.
	defaultPKPath = "/_partitionKey"
	maxPathLen    = 512
)

// pkDef is a container's partitionKey definition, normalized so that
// kind and version are always present (the SDK hashes with V2 only when
// the container says version 2).
type pkDef struct {
	Paths     []string `json:"paths"`
	Kind      string   `json:"kind"`
	Version   int      `json:"version"`
	SystemKey *bool    `json:"systemKey,omitempty"`

	segs [][]string // parsed paths
}

// parsePKDef validates and normalizes a partitionKey definition; a
// missing one gets the SDK's default path. The service's default version
// is 1 for Hash; MultiHash is always version 2.
func parsePKDef(raw json.RawMessage) (pkDef, *Error) {
	var d pkDef
	if len(raw) == 0 || string(raw) == "null" {
		d.Paths = []string{defaultPKPath}
	} else if err := strictUnmarshal(raw, &d); err != nil {
		return d, badRequest("Invalid partitionKey definition: " + err.Error() + ".")
	}
	if d.Kind == "" {
		d.Kind = kindHash
	}
	switch d.Kind {
	case kindHash:
		if len(d.Paths) != 1 {
			return d, badRequest(fmt.Sprintf("A partition key of kind Hash has exactly one path, not %d.", len(d.Paths)))
		}
		if d.Version == 0 {
			d.Version = 1
		}
	case kindMultiHash:
		if len(d.Paths) < 1 || len(d.Paths) > epk.MaxLevels {
			return d, badRequest(fmt.Sprintf("A hierarchical partition key has 1 to %d paths, not %d.", epk.MaxLevels, len(d.Paths)))
		}
		if d.Version == 0 {
			d.Version = 2
		}
		if d.Version != 2 {
			return d, badRequest("A hierarchical (MultiHash) partition key must use version 2.")
		}
	default:
		return d, badRequest(fmt.Sprintf("Unknown partition key kind %q; use Hash or MultiHash.", trunc(d.Kind)))
	}
	if d.Version != 1 && d.Version != 2 {
		return d, badRequest(fmt.Sprintf("Unknown partition key version %d; use 1 or 2.", d.Version))
	}
	for _, p := range d.Paths {
		segs, err := parsePath(p)
		if err != nil {
			return d, badRequest(capitalize(err.Error()) + ".")
		}
		d.segs = append(d.segs, segs)
	}
	return d, nil
}

func (d *pkDef) scheme() epk.Scheme {
	switch {
	case d.Kind == kindMultiHash:
		return epk.SchemeMultiHash
	case d.Version == 2:
		return epk.SchemeV2
	}
	return epk.SchemeV1
}

// ensureSegs parses the paths of a definition read back from storage.
func (d *pkDef) ensureSegs() {
	if d.segs != nil {
		return
	}
	for _, p := range d.Paths {
		segs, _ := parsePath(p)
		d.segs = append(d.segs, segs)
	}
}

// parsePath splits "/a/b" or `/"a b"/c` into property names.
func parsePath(p string) ([]string, error) {
	if len(p) < 2 || p[0] != '/' || len(p) > maxPathLen {
		return nil, fmt.Errorf("invalid partition key path %q: a path starts with / and names a property", trunc(p))
	}
	var segs []string
	rest := p[1:]
	for {
		var seg string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("invalid partition key path %q: unterminated quote", trunc(p))
			}
			seg, rest = rest[1:end+1], rest[end+2:]
		} else {
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				i = len(rest)
			}
			seg, rest = rest[:i], rest[i:]
		}
		if seg == "" {
			return nil, fmt.Errorf("invalid partition key path %q: empty property name", trunc(p))
		}
		segs = append(segs, seg)
		if rest == "" {
			return segs, nil
		}
		if rest[0] != '/' || len(rest) == 1 {
			return nil, fmt.Errorf("invalid partition key path %q", trunc(p))
		}
		rest = rest[1:]
	}
}

// pkValue is one partition-key component: a string, number, bool, null,
// or undefined (a missing value, {} on the wire).
type pkValue struct {
	kind byte // 's', 'n', 't', 'f', 'z' (null), 'u' (undefined)
	s    string
	n    float64
}

func (v pkValue) component() epk.Component {
	switch v.kind {
	case 's':
		return epk.String(v.s)
	case 'n':
		return epk.Number(v.n)
	case 't':
		return epk.Bool(true)
	case 'f':
		return epk.Bool(false)
	case 'z':
		return epk.Null()
	}
	return epk.Undefined()
}

// appendJSON writes v as the SDK does in x-ms-documentdb-partitionkey.
func (v pkValue) appendJSON(b []byte) []byte {
	switch v.kind {
	case 's':
		return appendJSONString(b, v.s)
	case 'n':
		return strconv.AppendFloat(b, v.n, 'g', -1, 64)
	case 't':
		return append(b, "true"...)
	case 'f':
		return append(b, "false"...)
	case 'z':
		return append(b, "null"...)
	}
	return append(b, "{}"...)
}

func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// pkJSON is the canonical JSON array of a key: equal keys give equal
// strings (1 and 1.0 alike), so it identifies a logical partition.
func pkJSON(vals []pkValue) string {
	b := []byte{'['}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = v.appendJSON(b)
	}
	return string(append(b, ']'))
}

// pkValueOf converts one JSON value; objects other than {} and arrays are
// not partition keys.
func pkValueOf(raw json.RawMessage) (pkValue, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return pkValue{kind: 'u'}, true
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return pkValue{}, false
		}
		return pkValue{kind: 's', s: s}, true
	case 't':
		return pkValue{kind: 't'}, string(raw) == "true"
	case 'f':
		return pkValue{kind: 'f'}, string(raw) == "false"
	case 'n':
		return pkValue{kind: 'z'}, string(raw) == "null"
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || len(m) != 0 {
			return pkValue{}, false
		}
		return pkValue{kind: 'u'}, true
	case '[':
		return pkValue{}, false
	}
	if !json.Valid(raw) {
		return pkValue{}, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return pkValue{}, false
	}
	return pkValue{kind: 'n', n: f}, true
}

// parsePKHeader reads x-ms-documentdb-partitionkey: a JSON array of
// values ([] is the undefined key of every path). It does not check the
// count against a definition.
func parsePKHeader(v string) ([]pkValue, *Error) {
	bad := func(why string) *Error {
		return badRequest(fmt.Sprintf("Invalid value %q for header x-ms-documentdb-partitionkey: %s.", trunc(v), why))
	}
	if len(v) > maxPartitionKeyHeader {
		return nil, bad(fmt.Sprintf("longer than %d bytes", maxPartitionKeyHeader))
	}
	var raws []json.RawMessage
	if err := strictUnmarshal([]byte(v), &raws); err != nil {
		return nil, bad("want a JSON array of partition key values")
	}
	if len(raws) > epk.MaxLevels {
		return nil, bad(fmt.Sprintf("at most %d values", epk.MaxLevels))
	}
	vals := make([]pkValue, len(raws))
	for i, r := range raws {
		pv, ok := pkValueOf(r)
		if !ok {
			return nil, bad("a value is a string, number, true, false, null or {}")
		}
		vals[i] = pv
	}
	return vals, nil
}

// full checks a header key against the definition: point operations
// name every path ([] stands for all undefined).
func (d *pkDef) full(vals []pkValue) ([]pkValue, *Error) {
	if len(vals) == 0 {
		vals = make([]pkValue, len(d.Paths))
		for i := range vals {
			vals[i] = pkValue{kind: 'u'}
		}
	}
	if len(vals) != len(d.Paths) {
		return nil, badRequest(fmt.Sprintf("Partition key %s is invalid: the container's partition key has %d path(s).", trunc(pkJSON(vals)), len(d.Paths)))
	}
	return vals, nil
}

// epkOf is the effective partition key of a full or (MultiHash) prefix key.
func (d *pkDef) epkOf(vals []pkValue) (string, *Error) {
	cs := make([]epk.Component, len(vals))
	for i, v := range vals {
		cs[i] = v.component()
	}
	e, err := d.scheme().Of(cs...)
	if err != nil {
		return "", badRequest(capitalize(err.Error()) + ".")
	}
	return e, nil
}

// extract reads the partition key of a document from its top-level
// members: a missing value is undefined.
func (d *pkDef) extract(doc members) ([]pkValue, *Error) {
	d.ensureSegs()
	vals := make([]pkValue, len(d.segs))
	for i, segs := range d.segs {
		raw, ok := doc.get(segs[0])
		for _, s := range segs[1:] {
			if !ok {
				break
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				ok = false
				break
			}
			raw, ok = m[s]
		}
		if !ok {
			vals[i] = pkValue{kind: 'u'}
			continue
		}
		pv, good := pkValueOf(raw)
		if !good {
			return nil, badRequest(fmt.Sprintf("The partition key value at %s must be a string, number, boolean or null.", d.Paths[i]))
		}
		vals[i] = pv
	}
	return vals, nil
}

// partitionKeyObject is the metadata.partitionKey of an all-versions
// delete: {"<path>": value} per path.
func (d *pkDef) partitionKeyObject(pk string) json.RawMessage {
	vals, err := parsePKHeader(pk)
	if err != nil || len(vals) != len(d.Paths) {
		return nil
	}
	b := []byte{'{'}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, strings.TrimPrefix(d.Paths[i], "/"))
		b = append(b, ':')
		b = v.appendJSON(b)
	}
	return append(b, '}')
}

// strictUnmarshal decodes exactly one JSON value.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
