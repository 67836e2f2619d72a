package epk

import (
	"strings"
	"testing"
)

// The vectors of the @azure/cosmos SDK's own hashing tests
// (test/internal/unit/hashing/v1.spec.ts), and more computed with the
// SDK's hashV1PartitionKey (4.10.1) for multi-byte text, a surrogate pair
// cut by the 100-unit limit, and extreme numbers.
func TestV1Vectors(t *testing.T) {
	f := func(c Component, want string) {
		t.Helper()
		if got := V1Value(c); got != want {
			t.Errorf("V1Value(%+v) = %s, want %s", c, got, want)
		}
	}
	// The SDK's spec.
	f(String("partitionKey"), "05C1E1B3D9CD2608716273756A756A706F4C667A00")
	f(String("redmond"), "05C1EFE313830C087366656E706F6500")
	f(String(strings.Repeat("a", 110)), "05C1EB5921F70608"+strings.Repeat("62", 100)+"00")
	f(String(""), "05C1CF33970FF80800")
	f(String("aa"), "05C1C7B7270FE008626200")
	f(Null(), "05C1ED45D7475601")
	f(Bool(true), "05C1D7C5A903D803")
	f(Bool(false), "05C1DB857D857C02")
	f(Undefined(), "05C1D529E345DC00")
	f(Number(5), "05C1D9C1C5517C05C014")
	f(Number(5.5), "05C1D7A771716C05C016")
	f(Number(12313.1221), "05C1ED154D592E05C0C90723F50FC925D8")
	f(Number(123456789), "05C1D9E1A5311C05C19DB7CD8B40")
	// The protocol brief's table.
	f(String("foo"), "05C1A5296159400867707000")
	f(Number(1), "05C1ED172B6B2605BFF0")
	f(Number(0), "05C1BF6DA115600580")
	f(Number(-1), "05C1D1A5BDDF9C054010")
	// Computed with the SDK.
	f(String("é"), "05C1B3CD91912008C4AA00")
	f(String("日本語"), "05C1E31DE9C91E08E798A6E79DADE9AB9F00")
	f(String(strings.Repeat("a", 99)+"😀"), "05C1E153DB455808"+strings.Repeat("62", 99)+"F0C0BE00")
	f(String(strings.Repeat("😀", 60)), "05C1DDEBD72DF008"+strings.Repeat("F1A09981", 50)+"00")
	f(String(strings.Repeat("é", 120)), "05C1D9C91DF1D808"+strings.Repeat("C4AA", 100)+"00")
	f(Number(1e308), "05C145CFAE05FFE1E73D715F5F2340")
	f(Number(-123.5), "05C1EF55511FB2053FA190")
	f(Number(1<<53), "05C1E53167392405C340")
	f(Number(5e-324), "05C1E5C91F4D3005800101010101010102")
	f(Number(-1e-300), "05C1E11D9B5504057E5B497907D139334E")
}

func TestSum32(t *testing.T) {
	// Reference values of MurmurHash3 x86_32, seed 0.
	f := func(in string, want uint32) {
		t.Helper()
		if got := sum32([]byte(in)); got != want {
			t.Errorf("sum32(%q) = %#x, want %#x", in, got, want)
		}
	}
	f("", 0)
	f("a", 0x3c2569b2)
	f("abc", 0xb3dd93fa)
	f("abcd", 0x43ed676a)
	f("Hello, world!", 0xc0363e43)
}

func TestTruncUTF16(t *testing.T) {
	f := func(in string, n int, want string) {
		t.Helper()
		if got := truncUTF16(in, n); got != want {
			t.Errorf("truncUTF16(%q, %d) = %q, want %q", in, n, got, want)
		}
	}
	f("", 3, "")
	f("abc", 3, "abc")
	f("abcd", 3, "abc")
	f("ab😀", 3, "ab\uFFFD")
	f("ab😀", 4, "ab😀")
	f("a😀b", 3, "a😀")
	f("日本語", 2, "日本")
}

func FuzzV1(f *testing.F) {
	for _, s := range []string{"", "a", "redmond", strings.Repeat("x", 101), "😀", "\xff"} {
		f.Add(s, 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, x float64) {
		for _, c := range []Component{String(s), Number(x)} {
			e := V1Value(c)
			if !strings.HasPrefix(e, "05") || !validHex(e) {
				t.Fatalf("V1Value(%+v) = %q: want uppercase hex starting 05", c, e)
			}
		}
	})
}

func validHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
