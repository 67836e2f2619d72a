package epk

import (
	"strings"
	"testing"
)

// MultiHash vectors computed with the @azure/cosmos SDK's
// hashMultiHashPartitionKey (4.10.1): two and three levels, undefined ({})
// components anywhere, and non-string levels.
func TestMultiHashVectors(t *testing.T) {
	const (
		a     = "3A5381E1114EB8D3FCC90795045B49B7"
		b     = "195644569A78B1E22D200348AF9416CE"
		undef = "11622DAA78F835834610ABE56EFF5CB5"
	)
	f := func(want string, cs ...Component) {
		t.Helper()
		got, err := SchemeMultiHash.Of(cs...)
		if err != nil || got != want {
			t.Errorf("MultiHash(%+v) = %s, %v; want %s", cs, got, err, want)
		}
	}
	f(a+b, String("a"), String("b"))
	f(a+undef, String("a"), Undefined())
	f(undef+b, Undefined(), String("b"))
	f(a+undef+undef, String("a"), Undefined(), Undefined())
	f(a, String("a")) // a prefix
	f("3B67F777541374F849FC7793DE5DF915"+"0B6EF6150874C10CFFB0A77F53F6B0A3"+"3B1E49B1E77F500C7135E98044336BAA",
		String("tenant"), String("user"), String("session"))
	f("20CD98B339BA78A5D0CF6953B87070B0"+"0E711127C5B5A8E4726AC6DD306A3E59"+"378867E4430E67857ACE5C908374FE16",
		Number(1), Bool(true), Null())
	f("11E3F358618BE9AA5BAFF4C7C74F0716"+"0E2EE47829D1AF775EEFB6540FD1D0ED", String("x"), Number(5.5))
}

// The rest of the SDK's v2.spec.ts vectors (the others are in epk_test.go),
// including one hash over several components.
func TestV2SpecVectors(t *testing.T) {
	f := func(want string, cs ...Component) {
		t.Helper()
		if got := V2Values(cs...); got != want {
			t.Errorf("V2Values(%+v) = %s, want %s", cs, got, want)
		}
	}
	f("0BA3E9CA8EE4C14538828D1612A4B652", String(strings.Repeat("a", 110)))
	f("05033626483AE80D00E44FBD35362B19", String("aa"))
	f("19C08621B135968252FB34B4CF66F811", Number(5))
	f("27E7ECA8F2EE3E53424DE8D5220631C6", Number(12313.1221))
	f("1F56D2538088EBA82CCF988F36E16760", Number(123456789))
	f("1A5E512F591E980E07A6D8AD5BD5AB2F", String("redmond"), Number(50), Number(5.5), Bool(true),
		Bool(false), Null(), String(""), Number(12313.1221))
	f("007199F104E04116EE25AF912CA4889B", String("é"))
}

func TestSchemeOf(t *testing.T) {
	f := func(s Scheme, n int, ok bool) {
		t.Helper()
		cs := make([]Component, n)
		for i := range cs {
			cs[i] = String("k")
		}
		got, err := s.Of(cs...)
		if (err == nil) != ok {
			t.Errorf("%s.Of(%d values) = %q, %v; want ok=%v", s, n, got, err, ok)
		}
	}
	f(SchemeV1, 1, true)
	f(SchemeV1, 0, false)
	f(SchemeV1, 2, false)
	f(SchemeV2, 1, true)
	f(SchemeV2, 2, false)
	f(SchemeMultiHash, 0, false)
	f(SchemeMultiHash, 1, true)
	f(SchemeMultiHash, 3, true)
	f(SchemeMultiHash, 4, false)
	f(Scheme(0), 1, false)

	if got, _ := SchemeV2.Of(String("foo")); got != V2("foo") {
		t.Errorf("SchemeV2.Of(foo) = %s, want %s", got, V2("foo"))
	}
	if got, _ := SchemeV1.Of(String("redmond")); got != "05C1EFE313830C087366656E706F6500" {
		t.Errorf("SchemeV1.Of(redmond) = %s", got)
	}
}

func TestFind(t *testing.T) {
	f := func(n int, s string, want int) {
		t.Helper()
		if got := Find(Ranges(n), s); got != want {
			t.Errorf("Find(Ranges(%d), %q) = %d, want %d", n, s, got, want)
		}
	}
	f(1, "", 0)
	f(1, "FE", 0)
	f(1, "FF", -1)
	f(4, "", 0)
	f(4, "0FFFFFFF", 0)
	f(4, "1000", 1)
	f(4, "10", 0) // "10" < "1000" as strings
	f(4, "05C1D529E345DC00", 0)
	f(4, "3FFF", 3)
	f(4, "40", 3)
	f(4, "FEFF", 3)
	f(4, "FF", -1)
	if got := Find(nil, "00"); got != -1 {
		t.Errorf("Find(nil) = %d", got)
	}
	// A gap or a custom tiling: strings outside every range are -1.
	rs := []Range{{Min: "05C1D", Max: "05C1E"}, {Min: "05C1E", Max: "05C1F"}}
	for s, want := range map[string]int{"05C1C": -1, "05C1D0": 0, "05C1E": 1, "05C1EFFF": 1, "05C1F": -1} {
		if got := Find(rs, s); got != want {
			t.Errorf("Find(custom, %q) = %d, want %d", s, got, want)
		}
	}
}

// Find and PartitionOfHex agree wherever an EPK can fall.
func FuzzFind(f *testing.F) {
	f.Add("05C1D529E345DC00", uint16(3))
	f.Add("", uint16(0))
	f.Add("3FFF", uint16(100))
	f.Fuzz(func(t *testing.T, s string, n16 uint16) {
		n := 1 + int(n16)%MaxPartitions
		got := Find(Ranges(n), s)
		if s >= MaxExclusive {
			if got != -1 {
				t.Fatalf("Find(%q) = %d past FF", s, got)
			}
			return
		}
		if want := PartitionOfHex(s, n); got != want {
			t.Fatalf("Find(Ranges(%d), %q) = %d, PartitionOfHex = %d", n, s, got, want)
		}
	})
}

func TestDocKeyComponents(t *testing.T) {
	f := func(key string, want string, wantOK bool) {
		t.Helper()
		cs, ok := DocKeyComponents([]byte(key))
		if ok != wantOK {
			t.Fatalf("DocKeyComponents(%s) ok = %v, want %v", key, ok, wantOK)
		}
		if !ok {
			return
		}
		if got := MultiHash(cs...); got != want {
			t.Fatalf("DocKeyComponents(%s) hashes to %s, want %s", key, got, want)
		}
	}
	f(`["p1","a1"]`, MultiHash(String("p1")), true)
	f(`["t",42,"a1"]`, MultiHash(String("t"), Number(42)), true)
	f(`[null,true,{},"id"]`, MultiHash(Null(), Bool(true), Undefined()), true)
	f(`[ "p1" , "a1" ]`, MultiHash(String("p1")), true)
	for _, bad := range []string{``, `[]`, `["only-id"]`, `["p",1]`, `["a","b","c","d","id"]`, `[["x"],"id"]`, `[{"a":1},"id"]`, `plain`, `["p","id"] x`, `["p","id"`} {
		f(bad, "", false)
	}
}
