package epk

import (
	"encoding/hex"
	"strings"
)

// RangesV1 splits ""…"FF" into n contiguous ranges for a V1 container.
// V1 EPKs start with the order-preserving encoding of a 32-bit hash, so
// they all fall in "05C0".."05C2" and Ranges(n) would put them in one
// range; here range i owns the hashes in [i*2^32/n, (i+1)*2^32/n), the
// way the service tiles V1 containers. n must be in [1, MaxPartitions].
func RangesV1(n int) []Range {
	checkN(n)
	rs := make([]Range, n)
	prev := MinInclusive
	for i := range rs {
		next := MaxExclusive
		if i+1 < n {
			h := uint64(i+1) << 32 / uint64(n)
			next = strings.ToUpper(hex.EncodeToString(appendNumberV1(nil, float64(h))))
		}
		rs[i] = Range{Min: prev, Max: next}
		prev = next
	}
	return rs
}
