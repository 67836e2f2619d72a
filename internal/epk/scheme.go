package epk

import "fmt"

// Scheme is how a container turns its partition-key values into an EPK:
// the partition key definition's kind and version.
type Scheme uint8

const (
	SchemeV1        Scheme = iota + 1 // kind Hash, version 1 (or none given)
	SchemeV2                          // kind Hash, version 2
	SchemeMultiHash                   // kind MultiHash: one V2 hash per path
)

func (s Scheme) String() string {
	switch s {
	case SchemeV1:
		return "Hash/V1"
	case SchemeV2:
		return "Hash/V2"
	case SchemeMultiHash:
		return "MultiHash"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// MaxLevels is the most paths a hierarchical partition key may have.
const MaxLevels = 3

// Of returns the EPK of a partition-key value. Hash schemes take exactly
// one component. MultiHash takes 1..MaxLevels: fewer than the container's
// paths is a prefix, whose items are the EPK range [Of(prefix),
// Of(prefix)+"FF").
func (s Scheme) Of(cs ...Component) (string, error) {
	switch s {
	case SchemeV1, SchemeV2:
		if len(cs) != 1 {
			return "", fmt.Errorf("epk: %s takes one partition-key value, not %d", s, len(cs))
		}
		if s == SchemeV1 {
			return V1Value(cs[0]), nil
		}
		return V2Value(cs[0]), nil
	case SchemeMultiHash:
		if len(cs) < 1 || len(cs) > MaxLevels {
			return "", fmt.Errorf("epk: MultiHash takes 1..%d partition-key values, not %d", MaxLevels, len(cs))
		}
		return MultiHash(cs...), nil
	}
	return "", fmt.Errorf("epk: unknown scheme %d", uint8(s))
}

// V2Values returns one V2 hash over several components encoded back to
// back (what the SDKs' V2 function computes for an array; a container's
// Hash key has one path, so this is for completeness and the test vectors).
func V2Values(cs ...Component) string {
	var d digest
	for _, c := range cs {
		c.encode(&d)
	}
	return toEPK(d.sum()).String()
}

// Find returns the index of the range of rs that holds the hex EPK s by
// string comparison, or -1. rs must be sorted and contiguous, as Ranges
// returns them; strings at or past the last Max map to -1.
func Find(rs []Range, s string) int {
	lo, hi := 0, len(rs) // first range whose Max > s
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s < rs[mid].Max {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == len(rs) || s < rs[lo].Min {
		return -1
	}
	return lo
}
