// Package feed is the change feed above the Store: feed ranges (whole
// cache, one partition key, an effective-partition-key range) with their
// JSON form, continuation tokens, and the page logic that reads one or
// several partitions. It knows nothing of gRPC or REST: the native feed
// service (internal/feedrpc) and the Cosmos surface both use it.
package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// MaxEPKLen bounds the EPK strings of a range (MultiHash keys of 8 levels).
const MaxEPKLen = 256

// MaxPartitionKeyLen bounds the partition key of a range, as an item key.
const MaxPartitionKeyLen = store.MaxItemSize

// Range is a FeedRange: the whole cache, one partition key, or a half-open
// range [Min, Max) of effective partition keys (uppercase hex compared as
// strings, "" .. "FF" being everything). The zero Range is the whole cache.
type Range struct {
	pk       string
	hasPK    bool
	min, max string
	set      bool // min/max were given (else whole)
}

// Whole is the range of every item of a cache.
func Whole() Range { return Range{} }

// PartitionKey is the range of the one item whose key is pk. Keys must be
// valid UTF-8 to be carried in JSON.
func PartitionKey(pk string) (Range, error) {
	if pk == "" || len(pk) > MaxPartitionKeyLen || !utf8.ValidString(pk) {
		return Range{}, errs.ErrInvalidRange.Withf("a partition key must be 1..%d bytes of UTF-8", MaxPartitionKeyLen)
	}
	return Range{pk: pk, hasPK: true}, nil
}

// EPKRange is the range [min, max) of effective partition keys.
func EPKRange(min, max string) (Range, error) {
	if !validEPK(min) || !validEPK(max) || max == "" {
		return Range{}, errs.ErrInvalidRange.Withf("bounds %q..%q must be uppercase hex of at most %d characters", trunc(min), trunc(max), MaxEPKLen)
	}
	if min >= max {
		return Range{}, errs.ErrInvalidRange.Withf("min %q is not below max %q", trunc(min), trunc(max))
	}
	if min == epk.MinInclusive && max == epk.MaxExclusive {
		return Whole(), nil
	}
	return Range{min: min, max: max, set: true}, nil
}

func validEPK(s string) bool {
	if len(s) > MaxEPKLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// IsPartitionKey reports whether r is a partition-key range, and its key.
func (r Range) IsPartitionKey() (string, bool) { return r.pk, r.hasPK }

// Bounds returns the EPK bounds of an EPK range ("" and "FF" for the whole
// cache); it is meaningless for a partition-key range.
func (r Range) Bounds() (min, max string) {
	if !r.set {
		return epk.MinInclusive, epk.MaxExclusive
	}
	return r.min, r.max
}

// String is the JSON form.
func (r Range) String() string { return r.ToJSON() }

// Equal reports whether a and b are the same range.
func (r Range) Equal(o Range) bool { return r == o }

type rangeJSON struct {
	Range *struct {
		Min            *string `json:"min"`
		Max            *string `json:"max"`
		IsMinInclusive *bool   `json:"isMinInclusive,omitempty"`
		IsMaxInclusive *bool   `json:"isMaxInclusive,omitempty"`
	} `json:"Range,omitempty"`
	PK         json.RawMessage `json:"PK,omitempty"`
	PKRangeID  *string         `json:"PKRangeId,omitempty"`
	MinInclude *string         `json:"minInclusive,omitempty"` // the JS SDK's FeedRangeInternal
	MaxExclude *string         `json:"maxExclusive,omitempty"`
}

// ToJSON serializes r as the .NET/Java SDKs do (FeedRange.ToJsonString):
// {"Range":{"min":"","max":"FF"}} or {"PK":"value"}.
func (r Range) ToJSON() string {
	var v any
	if r.hasPK {
		v = struct {
			PK string `json:"PK"`
		}{r.pk}
	} else {
		min, max := r.Bounds()
		v = struct {
			Range struct {
				Min string `json:"min"`
				Max string `json:"max"`
			} `json:"Range"`
		}{Range: struct {
			Min string `json:"min"`
			Max string `json:"max"`
		}{min, max}}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("BUG: " + err.Error())
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

// FromJSON parses a range serialized by ToJSON, by the .NET/Java SDKs
// ({"Range":{"min","max"}}, {"PK":"v"} or {"PK":["v"]}), or by the JS SDK
// ({"minInclusive","maxExclusive"}). "" is the whole cache.
func FromJSON(s string) (Range, error) {
	if s == "" {
		return Whole(), nil
	}
	if len(s) > 2*MaxPartitionKeyLen {
		return Range{}, errs.ErrInvalidRange.Withf("%d bytes of JSON", len(s))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var v rangeJSON
	if err := dec.Decode(&v); err != nil {
		return Range{}, errs.ErrInvalidRange.Withf("%v", err)
	}
	if dec.More() {
		return Range{}, errs.ErrInvalidRange.Withf("trailing data after the JSON object")
	}
	forms := 0
	for _, ok := range []bool{v.Range != nil, v.PK != nil, v.PKRangeID != nil, v.MinInclude != nil || v.MaxExclude != nil} {
		if ok {
			forms++
		}
	}
	if forms != 1 {
		return Range{}, errs.ErrInvalidRange.Withf("want exactly one of Range, PK or minInclusive/maxExclusive")
	}
	switch {
	case v.Range != nil:
		if v.Range.Min == nil || v.Range.Max == nil {
			return Range{}, errs.ErrInvalidRange.Withf("Range needs min and max")
		}
		if v.Range.IsMinInclusive != nil && !*v.Range.IsMinInclusive || v.Range.IsMaxInclusive != nil && *v.Range.IsMaxInclusive {
			return Range{}, errs.ErrInvalidRange.Withf("only [min, max) ranges are supported")
		}
		return EPKRange(*v.Range.Min, *v.Range.Max)
	case v.PK != nil:
		var pk string
		if err := json.Unmarshal(v.PK, &pk); err != nil {
			var arr []string
			if err := json.Unmarshal(v.PK, &arr); err != nil || len(arr) != 1 {
				return Range{}, errs.ErrInvalidRange.Withf("PK must be a string or an array of one string")
			}
			pk = arr[0]
		}
		return PartitionKey(pk)
	case v.PKRangeID != nil:
		return Range{}, errs.ErrInvalidRange.Withf("PKRangeId ranges are not supported; use the Range form from GetFeedRanges")
	}
	if v.MinInclude == nil || v.MaxExclude == nil {
		return Range{}, errs.ErrInvalidRange.Withf("minInclusive needs maxExclusive")
	}
	return EPKRange(*v.MinInclude, *v.MaxExclude)
}

// piece is the part of a range that one partition serves.
type piece struct {
	partition int
	// min/max narrow the partition ("" both when it is read whole).
	min, max string
	key      []byte // partition-key range
}

// pieces maps r onto the partitions of a cache, in partition order.
func (r Range) pieces(info store.CacheInfo) ([]piece, error) {
	ranges := store.FeedRanges(info)
	if r.hasPK {
		return []piece{{partition: info.PartitionOf([]byte(r.pk)), key: []byte(r.pk)}}, nil
	}
	min, max := r.Bounds()
	var out []piece
	for _, fr := range ranges {
		if fr.MinEPK >= max || min >= fr.MaxEPK {
			continue
		}
		p := piece{partition: fr.Partition}
		lo, hi := fr.MinEPK, fr.MaxEPK
		if min > lo {
			lo = min
		}
		if max < hi {
			hi = max
		}
		if lo != fr.MinEPK || hi != fr.MaxEPK {
			p.min, p.max = lo, hi
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errs.ErrInvalidRange.Withf("%s overlaps no partition", r.ToJSON())
	}
	return out, nil
}

// Ranges returns the FeedRanges of a cache, one per partition, as the SDKs'
// GetFeedRanges does.
func Ranges(ranges []store.FeedRange) []Range {
	out := make([]Range, len(ranges))
	for i, fr := range ranges {
		r, err := EPKRange(fr.MinEPK, fr.MaxEPK)
		if err != nil {
			panic(fmt.Sprintf("BUG: engine range %+v: %v", fr, err))
		}
		out[i] = r
	}
	return out
}
