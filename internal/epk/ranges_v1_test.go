package epk

import (
	"fmt"
	"testing"
)

func TestRangesV1(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 64} {
		rs := RangesV1(n)
		if len(rs) != n || rs[0].Min != MinInclusive || rs[n-1].Max != MaxExclusive {
			t.Fatalf("RangesV1(%d) = %v", n, rs)
		}
		for i := 1; i < n; i++ {
			if rs[i].Min != rs[i-1].Max || rs[i].Min >= rs[i].Max {
				t.Fatalf("RangesV1(%d): ranges %d and %d are not contiguous: %v", n, i-1, i, rs)
			}
		}
		// Hashes land in the range that their share of 2^32 says.
		counts := make([]int, n)
		for k := 0; k < 2000; k++ {
			i := Find(rs, V1Value(String(fmt.Sprint("key-", k))))
			if i < 0 {
				t.Fatalf("RangesV1(%d): key-%d in no range", n, k)
			}
			counts[i]++
		}
		for i, c := range counts {
			if c < 2000/n/2 {
				t.Errorf("RangesV1(%d): range %d got %d of 2000 keys: %v", n, i, c, counts)
			}
		}
	}
}

func TestRangesV1Boundary(t *testing.T) {
	// Two ranges split the hashes at 2^31.
	if got := RangesV1(2)[0].Max; got != "05C1E0" {
		t.Errorf("RangesV1(2) boundary = %s, want 05C1E0", got)
	}
	// Three ranges cut at 2^32/3 and 2*2^32/3.
	if got := fmt.Sprint(RangesV1(3)); got != "[{ 05C1D5AB55AB54} {05C1D5AB55AB54 05C1E5AB55AB54} {05C1E5AB55AB54 FF}]" {
		t.Errorf("RangesV1(3) = %s", got)
	}
}
