package epk

import "math/bits"

// MurmurHash3 x64_128 constants (Austin Appleby's reference algorithm).
const (
	c1 = 0x87c37b91114253d5
	c2 = 0x4cf5ad432745937f
)

// Sum128 returns MurmurHash3 x64_128 of data with seed 0 as (h1, h2). The
// conventional 16-byte digest is h1 then h2, each little-endian.
func Sum128(data []byte) (h1, h2 uint64) {
	var d digest
	write(&d, data)
	return d.sum()
}

// digest hashes a stream in 16-byte blocks so that the V2 encoding
// (prefix ‖ key ‖ suffix) is hashed without building the byte string.
type digest struct {
	h1, h2 uint64
	buf    [16]byte // pending bytes of an incomplete block
	nbuf   int
	total  int
}

func (d *digest) block(k1, k2 uint64) {
	k1 *= c1
	k1 = bits.RotateLeft64(k1, 31)
	k1 *= c2
	d.h1 ^= k1
	d.h1 = bits.RotateLeft64(d.h1, 27)
	d.h1 += d.h2
	d.h1 = d.h1*5 + 0x52dce729

	k2 *= c2
	k2 = bits.RotateLeft64(k2, 33)
	k2 *= c1
	d.h2 ^= k2
	d.h2 = bits.RotateLeft64(d.h2, 31)
	d.h2 += d.h1
	d.h2 = d.h2*5 + 0x38495ab5
}

func (d *digest) writeByte(c byte) {
	d.buf[d.nbuf] = c
	d.nbuf++
	d.total++
	if d.nbuf == 16 {
		d.block(le64(d.buf[:], 0), le64(d.buf[:], 8))
		d.nbuf = 0
	}
}

// write is generic so that string and []byte keys share one allocation-free path.
func write[T ~string | ~[]byte](d *digest, p T) {
	d.total += len(p)
	i := 0
	if d.nbuf > 0 {
		i = copy(d.buf[d.nbuf:], p)
		d.nbuf += i
		if d.nbuf < 16 {
			return
		}
		d.block(le64(d.buf[:], 0), le64(d.buf[:], 8))
		d.nbuf = 0
	}
	for ; len(p)-i >= 16; i += 16 {
		d.block(le64(p, i), le64(p, i+8))
	}
	d.nbuf = copy(d.buf[:], p[i:])
}

// sumV2 hashes markString ‖ s ‖ stringEnd, the V2 encoding of a string. It
// is write() unrolled for the one-byte prefix so that a key costs about as
// much as hashing it alone.
func sumV2[T ~string | ~[]byte](s T) (h1, h2 uint64) {
	var d digest
	d.total = len(s) + 2
	i := 0
	if len(s) >= 15 {
		d.block(markString|le64(s, 0)<<8, le64(s, 7))
		for i = 15; len(s)-i >= 16; i += 16 {
			d.block(le64(s, i), le64(s, i+8))
		}
	} else {
		d.buf[0] = markString
		d.nbuf = 1
	}
	d.nbuf += copy(d.buf[d.nbuf:], s[i:])
	d.buf[d.nbuf] = stringEnd
	d.nbuf++
	if d.nbuf == 16 {
		d.block(le64(d.buf[:], 0), le64(d.buf[:], 8))
		d.nbuf = 0
	}
	return d.sum()
}

func (d *digest) sum() (h1, h2 uint64) {
	// The tail is the pending bytes padded with zeros, which XOR in as nothing.
	for i := d.nbuf; i < 16; i++ {
		d.buf[i] = 0
	}
	h1, h2 = d.h1, d.h2
	if d.nbuf > 8 {
		k2 := le64(d.buf[:], 8) * c2
		k2 = bits.RotateLeft64(k2, 33)
		h2 ^= k2 * c1
	}
	if d.nbuf > 0 {
		k1 := le64(d.buf[:], 0) * c1
		k1 = bits.RotateLeft64(k1, 31)
		h1 ^= k1 * c2
	}
	h1 ^= uint64(d.total)
	h2 ^= uint64(d.total)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// le64 reads 8 little-endian bytes at i; the compiler merges it into one load.
func le64[T ~string | ~[]byte](b T, i int) uint64 {
	_ = b[i+7]
	return uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
		uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
}
