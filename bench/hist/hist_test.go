package hist

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestBucketsAreContiguousAndOrdered(t *testing.T) {
	prevHi := int64(-1)
	for i := 0; i < numBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d] maps back to %d/%d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		prevHi = hi
		if hi == math.MaxInt64 {
			if i != numBuckets-1 {
				t.Fatalf("MaxInt64 reached at bucket %d of %d", i, numBuckets)
			}
			return
		}
	}
	t.Fatalf("buckets end at %d, want MaxInt64", prevHi)
}

func TestRelativeError(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 1e6, 1e9, 123456789012, math.MaxInt64} {
		lo, hi := bucketRange(bucketOf(v))
		if v < lo || v > hi {
			t.Fatalf("%d not in its bucket [%d,%d]", v, lo, hi)
		}
		if float64(hi-lo) > float64(v)/subCount+1 {
			t.Fatalf("bucket of %d is [%d,%d], wider than 1/%d", v, lo, hi, subCount)
		}
	}
}

func TestEmpty(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatalf("empty histogram not zero: %+v", h.Quantile(0.5))
	}
}

func TestExactSmallValues(t *testing.T) {
	h := New()
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	cases := map[float64]int64{0: 1, 0.01: 1, 0.5: 50, 0.99: 99, 0.999: 100, 1: 100}
	for q, want := range cases {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %d, want %d", q, got, want)
		}
	}
	if h.Mean() != 50.5 {
		t.Errorf("Mean = %v, want 50.5", h.Mean())
	}
}

func TestNegativeRecordedAsZero(t *testing.T) {
	h := New()
	h.Record(-5)
	if h.Min() != 0 || h.Max() != 0 || h.Count() != 1 {
		t.Fatalf("got min %d max %d count %d", h.Min(), h.Max(), h.Count())
	}
}

// Quantiles of random data agree with the exact sorted answer within the
// bucket precision.
func TestQuantilesMatchSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := New()
	vals := make([]int64, 100000)
	for i := range vals {
		v := int64(r.ExpFloat64() * 200000) // exponential, mean 200 µs in ns
		vals[i] = v
		h.Record(v)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("q%v: got %d, exact %d", q, got, exact)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestMerge(t *testing.T) {
	a, b, all := New(), New(), New()
	for i := int64(0); i < 1000; i++ {
		v := i * i * 37
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
		all.Record(v)
	}
	a.Merge(b)
	a.Merge(nil)
	a.Merge(New())
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged summary differs")
	}
	for _, q := range []float64{0.1, 0.5, 0.99, 0.999} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Fatalf("q%v: merged %d, direct %d", q, a.Quantile(q), all.Quantile(q))
		}
	}
	a.Reset()
	if a.Count() != 0 {
		t.Fatal("Reset left counts")
	}
}
