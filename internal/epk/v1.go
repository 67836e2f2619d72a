package epk

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"unicode/utf8"
)

// v1MaxChars is how much of a string V1 hashes and encodes: 100 UTF-16
// code units, as the SDKs cut it.
const v1MaxChars = 100

// V1Value returns the hex V1 EPK of one typed value (hash V1, the
// service's default for single-path containers that state no version):
// the V1 number encoding of the 32-bit MurmurHash3 of the value, followed
// by the value's own binary encoding.
func V1Value(c Component) string {
	s := truncUTF16(c.str, v1MaxChars)

	// Hash input: the marker, then the value; strings end with 0x00 here
	// (V2 ends them with 0xFF).
	in := []byte{c.mark}
	switch c.mark {
	case markString:
		in = append(in, s...)
		in = append(in, markUndefined)
	case markNumber:
		in = binary.LittleEndian.AppendUint64(in, math.Float64bits(c.num))
	}
	out := appendNumberV1(make([]byte, 0, 16+len(s)), float64(sum32(in)))

	switch c.mark {
	case markString:
		out = append(out, markString)
		for i := 0; i < len(s); i++ {
			b := s[i]
			if b < 0xFF {
				b++ // keeps 0x00 free as the terminator
			}
			out = append(out, b)
		}
		out = append(out, markUndefined)
	case markNumber:
		out = appendNumberV1(out, c.num)
	default:
		out = append(out, c.mark)
	}
	return strings.ToUpper(hex.EncodeToString(out))
}

// appendNumberV1 appends the order-preserving variable-length encoding of
// a float64 used by V1 EPKs: the marker, the top byte of the sign-flipped
// bits, then 7 bits per byte with the low bit set on all but the last.
func appendNumberV1(dst []byte, v float64) []byte {
	raw := math.Float64bits(v)
	var p uint64
	if raw < 1<<63 {
		p = raw ^ 1<<63
	} else {
		p = ^raw + 1
	}
	dst = append(dst, markNumber, byte(p>>56))
	p <<= 8
	var b byte
	for first := true; ; first = false {
		if !first {
			dst = append(dst, b)
		}
		b = byte(p>>56) | 1
		p <<= 7
		if p == 0 {
			break
		}
	}
	if b &^= 1; b != 0 {
		dst = append(dst, b)
	}
	return dst
}

// truncUTF16 cuts s to at most n UTF-16 code units, as JavaScript's
// substring does; a surrogate pair cut in half leaves a lone surrogate,
// which UTF-8 encoding turns into U+FFFD.
func truncUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			if units < n {
				return s[:i] + string(utf8.RuneError)
			}
			return s[:i]
		}
		units += w
	}
	return s
}
