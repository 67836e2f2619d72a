// Package hist is a small log-linear latency histogram in the style of
// HdrHistogram: values below 128 get one bucket each, and every power of two
// above is split into 128 equal buckets, so a recorded value is known to
// within 1/128 (< 0.8 %) of itself. Recording is an index computation and an
// increment; a histogram is not safe for concurrent use (give each worker its
// own and Merge them).
package hist

import (
	"math"
	"math/bits"
	"time"
)

const (
	subBits  = 7
	subCount = 1 << subBits
	// numBuckets covers every non-negative int64: the largest value has
	// bits.Len64 == 63, shift 55, index 56*128+127.
	numBuckets = (64 - subBits) * subCount
)

// Histogram counts non-negative int64 values (nanoseconds, by convention).
// The zero value is empty and ready to use.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	min    int64
	max    int64
	sum    float64
}

// New returns an empty histogram.
func New() *Histogram { return &Histogram{} }

// bucketOf returns the index of the bucket that holds v (v >= 0).
func bucketOf(v int64) int {
	u := uint64(v)
	if u < subCount {
		return int(u)
	}
	shift := bits.Len64(u) - subBits - 1
	top := u >> uint(shift) // in [subCount, 2*subCount)
	return (shift+1)*subCount + int(top-subCount)
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := i/subCount - 1
	top := uint64(i%subCount + subCount)
	lo = int64(top << uint(shift))
	return lo, lo + int64(uint64(1)<<uint(shift)) - 1
}

// Record adds one value. Negative values are recorded as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
}

// RecordDuration records d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() int64 { return h.min }

// Max is the largest recorded value, exactly (0 when empty).
func (h *Histogram) Max() int64 { return h.max }

// Mean is the average of the recorded values (0 when empty).
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile returns the value at quantile q in [0, 1]: the upper bound of the
// bucket holding the ceil(q*n)-th smallest value, clamped to [Min, Max]. So
// it never understates a latency by more than a bucket width (< 0.8 %).
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			if hi > h.max {
				hi = h.max
			}
			if hi < h.min {
				hi = h.min
			}
			return hi
		}
	}
	return h.max
}

// QuantileDuration is Quantile as a time.Duration.
func (h *Histogram) QuantileDuration(q float64) time.Duration { return time.Duration(h.Quantile(q)) }
