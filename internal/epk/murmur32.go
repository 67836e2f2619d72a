package epk

import "math/bits"

// sum32 is MurmurHash3 x86_32 with seed 0, the hash of V1 partition keys.
func sum32(data []byte) uint32 {
	const (
		m1 = 0xcc9e2d51
		m2 = 0x1b873593
	)
	var h uint32
	n := len(data) &^ 3
	for i := 0; i < n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m1
		k = bits.RotateLeft32(k, 15)
		k *= m2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	var k uint32
	switch len(data) & 3 {
	case 3:
		k ^= uint32(data[n+2]) << 16
		fallthrough
	case 2:
		k ^= uint32(data[n+1]) << 8
		fallthrough
	case 1:
		k ^= uint32(data[n])
		k *= m1
		k = bits.RotateLeft32(k, 15)
		k *= m2
		h ^= k
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
