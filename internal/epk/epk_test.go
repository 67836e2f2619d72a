package epk

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func TestSum128Foo(t *testing.T) {
	// The JS SDK prints the digest as h1LE ‖ h2LE.
	const want = "6145f501578671e2877dba2be487af7e"
	h1, h2 := Sum128([]byte("foo"))
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], h1)
	binary.LittleEndian.PutUint64(b[8:], h2)
	if got := hex.EncodeToString(b[:]); got != want {
		t.Fatalf("Sum128(foo) = %s, want %s", got, want)
	}
}

func TestV2Vectors(t *testing.T) {
	f := func(c Component, want string) {
		t.Helper()
		if got := V2Value(c); got != want {
			t.Errorf("V2Value(%+v) = %s, want %s", c, got, want)
		}
	}
	f(String(""), "32E9366E637A71B4E710384B2F4970A0")
	f(String("foo"), "0BFE3A4D7D3B479F768EB79E41B19309")
	f(String("redmond"), "22E342F38A486A088463DFF7838A5963")
	f(Number(1), "20CD98B339BA78A5D0CF6953B87070B0")
	f(Number(0), "155B95BEDAC4B1E9EC1CDC9BB0DDDE58")
	f(Number(5.5), "0E2EE47829D1AF775EEFB6540FD1D0ED")
	f(Number(-1), "19938E7A936C1C5B9E3AE842BBC16839")
	f(Bool(true), "0E711127C5B5A8E4726AC6DD306A3E59")
	f(Bool(false), "2FE1BE91E90A3439635E0E9E37361EF2")
	f(Null(), "378867E4430E67857ACE5C908374FE16")
	f(Undefined(), "11622DAA78F835834610ABE56EFF5CB5")

	if got, want := MultiHash(String("a"), String("b")),
		"3A5381E1114EB8D3FCC90795045B49B7195644569A78B1E22D200348AF9416CE"; got != want {
		t.Errorf("MultiHash(a, b) = %s, want %s", got, want)
	}
}

func TestV2StringForms(t *testing.T) {
	// V2, V2Bytes and V2Value(String) must agree at every length around the
	// 16-byte block boundaries.
	var buf []byte
	for n := 0; n < 70; n++ {
		s := string(buf)
		buf = append(buf, byte(n*31+7))
		want := V2Value(String(s))
		if got := V2(s); got != want {
			t.Fatalf("len %d: V2 = %s, V2Value = %s", n, got, want)
		}
		raw := V2Bytes([]byte(s))
		if got := raw.String(); got != want {
			t.Fatalf("len %d: V2Bytes = %s, V2Value = %s", n, got, want)
		}
		for _, parts := range []int{1, 3, 4, 64, MaxPartitions} {
			if got, want := PartitionOfKey([]byte(s), parts), PartitionOf(raw, parts); got != want {
				t.Fatalf("len %d, n %d: PartitionOfKey = %d, PartitionOf = %d", n, parts, got, want)
			}
		}
	}
}

func TestSum128Streaming(t *testing.T) {
	// Writing in pieces must equal hashing the whole input at once.
	data := make([]byte, 100)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for n := 0; n <= len(data); n++ {
		w1, w2 := Sum128(data[:n])
		for cut := 0; cut <= n; cut++ {
			var d digest
			write(&d, data[:cut])
			write(&d, string(data[cut:n]))
			if g1, g2 := d.sum(); g1 != w1 || g2 != w2 {
				t.Fatalf("len %d cut %d: streaming hash differs", n, cut)
			}
		}
	}
}

func TestRanges(t *testing.T) {
	f := func(n int, want ...string) {
		t.Helper()
		var got []string
		for _, r := range Ranges(n) {
			got = append(got, r.Min+".."+r.Max)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Ranges(%d) = %v, want %v", n, got, want)
		}
	}
	f(1, "..FF")
	f(2, "..2000", "2000..FF")
	f(3, "..1555", "1555..2AAA", "2AAA..FF")
	f(4, "..1000", "1000..2000", "2000..3000", "3000..FF")
}

func TestPartitionOfBoundaries(t *testing.T) {
	// Every 14-bit prefix, with the lowest and highest EPK sharing it, must
	// land in the range that contains it by string comparison.
	for _, n := range []int{1, 2, 3, 4, 7, 16, 100, 1000, MaxPartitions} {
		rs := Ranges(n)
		for v := 0; v < space; v++ {
			for _, fill := range []byte{0x00, 0xFF} {
				var e EPK
				for i := range e {
					e[i] = fill
				}
				e[0], e[1] = byte(v>>8), byte(v)
				i := PartitionOf(e, n)
				s := e.String()
				if i < 0 || i >= n || s < rs[i].Min || s >= rs[i].Max {
					t.Fatalf("n=%d %s: PartitionOf=%d, range %+v", n, s, i, rs[min(max(i, 0), n-1)])
				}
				if j := PartitionOfHex(s, n); j != i {
					t.Fatalf("n=%d %s: PartitionOfHex=%d, PartitionOf=%d", n, s, j, i)
				}
			}
		}
	}
}

func TestPartitionOfHexBounds(t *testing.T) {
	f := func(s string, n, want int) {
		t.Helper()
		if got := PartitionOfHex(s, n); got != want {
			t.Errorf("PartitionOfHex(%q, %d) = %d, want %d", s, n, got, want)
		}
	}
	f("", 4, 0)
	f("1000", 4, 1)
	f("0FFF", 4, 0)
	f("3FFF", 4, 3)
	f("FF", 4, 3)
}

func TestRangesPanics(t *testing.T) {
	for _, n := range []int{0, -1, MaxPartitions + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Ranges(%d) did not panic", n)
				}
			}()
			Ranges(n)
		}()
	}
}

func TestV2BytesNoAlloc(t *testing.T) {
	key := []byte("some-item-key-of-moderate-length")
	if n := testing.AllocsPerRun(100, func() { _ = PartitionOf(V2Bytes(key), 4) + PartitionOfKey(key, 4) }); n != 0 {
		t.Errorf("PartitionOf allocates %v times", n)
	}
}

func FuzzV2(f *testing.F) {
	for _, s := range []string{"", "foo", "redmond", "\x00", "\xff\xfe", strings.Repeat("k", 33)} {
		f.Add(s, uint16(4))
	}
	f.Add("x", uint16(MaxPartitions-1))
	f.Fuzz(func(t *testing.T, s string, n16 uint16) {
		n := 1 + int(n16)%MaxPartitions
		e := V2(s)
		if len(e) != 32 || e >= "40" {
			t.Fatalf("V2(%q) = %q: want 32 chars below \"40\"", s, e)
		}
		for _, c := range e {
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
				t.Fatalf("V2(%q) = %q: not uppercase hex", s, e)
			}
		}
		raw := V2Bytes([]byte(s))
		if raw.String() != e {
			t.Fatalf("V2Bytes(%q) = %s, V2 = %s", s, raw, e)
		}
		i := PartitionOf(raw, n)
		if i < 0 || i >= n {
			t.Fatalf("PartitionOf(%s, %d) = %d", e, n, i)
		}
		if lo, hi := bound(i, n), bound(i+1, n); e < lo || e >= hi {
			t.Fatalf("EPK %s in partition %d of %d outside [%q, %q)", e, i, n, lo, hi)
		}
		if j := PartitionOfHex(e, n); j != i {
			t.Fatalf("PartitionOfHex(%s, %d) = %d, PartitionOf = %d", e, n, j, i)
		}
		if j := PartitionOfKey([]byte(s), n); j != i {
			t.Fatalf("PartitionOfKey(%q, %d) = %d, PartitionOf = %d", s, n, j, i)
		}
	})
}
