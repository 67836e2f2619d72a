package epk

import "fmt"

// V2 EPKs are below "40", so their first 14 bits pick the partition.
const (
	space = 0x4000
	// MaxPartitions is the most partitions Ranges can tile without empty ranges.
	MaxPartitions = space
)

// Full-range bounds used by Cosmos clients.
const (
	MinInclusive = ""
	MaxExclusive = "FF"
)

// Range is a half-open EPK range [Min, Max) compared as plain strings.
type Range struct {
	Min string // inclusive
	Max string // exclusive
}

// Ranges splits ""…"FF" into n contiguous ranges; range i owns the EPKs whose
// first 14 bits fall in [i*0x4000/n, (i+1)*0x4000/n). It panics when n is
// outside [1, MaxPartitions].
func Ranges(n int) []Range {
	checkN(n)
	rs := make([]Range, n)
	for i := range rs {
		rs[i] = Range{Min: bound(i, n), Max: bound(i+1, n)}
	}
	return rs
}

// bound is the boundary before range i: "" for the first, "FF" after the
// last, otherwise the 4-hex-digit start of range i.
func bound(i, n int) string {
	switch i {
	case 0:
		return MinInclusive
	case n:
		return MaxExclusive
	}
	b := hex4(start(i, n))
	return string(b[:])
}

func start(i, n int) int { return i * space / n }

func hex4(v int) [4]byte {
	const digits = "0123456789ABCDEF"
	return [4]byte{digits[v>>12&0xF], digits[v>>8&0xF], digits[v>>4&0xF], digits[v&0xF]}
}

// PartitionOf returns the index of the range of Ranges(n) that holds e. n
// must be in [1, MaxPartitions].
func PartitionOf(e EPK, n int) int {
	return partition(int(e[0]&0x3F)<<8|int(e[1]), n)
}

// PartitionOfKey is PartitionOf(V2Bytes(key), n) without building the EPK:
// the first 14 bits of the EPK are bits 61..48 of h2.
func PartitionOfKey(key []byte, n int) int {
	_, h2 := sumV2(key)
	return partition(int(h2>>48)&(space-1), n)
}

// partition returns the largest i with start(i, n) <= v, i.e. i*space < (v+1)*n.
func partition(v, n int) int { return ((v+1)*n - 1) / space }

// PartitionOfHex returns the index of the range of Ranges(n) whose bounds
// contain the hex EPK s by string comparison. Strings at or past "FF" map to
// the last range.
func PartitionOfHex(s string, n int) int {
	checkN(n)
	lo, hi := 0, n-1 // answer in [lo, hi]
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if b := hex4(start(mid+1, n)); s < string(b[:]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func checkN(n int) {
	if n < 1 || n > MaxPartitions {
		panic(fmt.Sprintf("epk: partition count %d outside [1, %d]", n, MaxPartitions))
	}
}
