// Package epk computes Cosmos DB effective partition keys (hash V2) and maps
// them onto a fixed number of contiguous partitions. It is a leaf package:
// the memory engine routes every item with it, and the Cosmos surface uses
// the same ranges, so both agree on which partition owns an item.
package epk

import (
	"encoding/binary"
	"math"
)

// EPK is a raw V2 effective partition key: BE64(h2) ‖ BE64(h1) with the two
// top bits cleared. Its uppercase hex form is what Cosmos clients compare.
type EPK [16]byte

// String returns the 32-character uppercase hex form.
func (e EPK) String() string {
	const digits = "0123456789ABCDEF"
	var out [32]byte
	for i, b := range e {
		out[2*i] = digits[b>>4]
		out[2*i+1] = digits[b&0x0F]
	}
	return string(out[:])
}

// Component type markers of the V2 encoding.
const (
	markUndefined = 0x00
	markNull      = 0x01
	markFalse     = 0x02
	markTrue      = 0x03
	markNumber    = 0x05
	markString    = 0x08
	stringEnd     = 0xFF
)

// V2 returns the hex EPK of a single string partition-key value.
func V2(partitionKey string) string {
	return toEPK(sumV2(partitionKey)).String()
}

// V2Bytes is V2 for a key held in bytes, returning the raw EPK without
// allocating; the engines call it on every operation.
func V2Bytes(partitionKey []byte) EPK {
	return toEPK(sumV2(partitionKey))
}

func toEPK(h1, h2 uint64) EPK {
	var e EPK
	binary.BigEndian.PutUint64(e[:8], h2)
	binary.BigEndian.PutUint64(e[8:], h1)
	e[0] &= 0x3F
	return e
}

// Component is one typed partition-key value. The zero value is "undefined"
// (a missing value or {}).
type Component struct {
	mark byte
	str  string
	num  float64
}

// String, Number, Bool and Null build components of the matching JSON type.
func String(s string) Component  { return Component{mark: markString, str: s} }
func Number(f float64) Component { return Component{mark: markNumber, num: f} }
func Null() Component            { return Component{mark: markNull} }

func Bool(b bool) Component {
	if b {
		return Component{mark: markTrue}
	}
	return Component{mark: markFalse}
}

// Undefined is the component of a missing partition-key value.
func Undefined() Component { return Component{mark: markUndefined} }

func (c Component) encode(d *digest) {
	d.writeByte(c.mark)
	switch c.mark {
	case markString:
		write(d, c.str)
		d.writeByte(stringEnd)
	case markNumber:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(c.num))
		write(d, b[:])
	}
}

// V2Value returns the hex EPK of a single typed partition-key value.
func V2Value(c Component) string {
	var d digest
	c.encode(&d)
	return toEPK(d.sum()).String()
}

// MultiHash returns the hierarchical EPK: the V2 hash of each level, concatenated.
func MultiHash(cs ...Component) string {
	out := make([]byte, 0, 32*len(cs))
	for _, c := range cs {
		out = append(out, V2Value(c)...)
	}
	return string(out)
}
