package memstore

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/setsuna-io/setsuna/internal/store"
)

// BenchmarkLiveBytesPerKey loads 1,000,000 × 100 B items the way the
// memory-1m bench scenario does (11 B keys, 1 h TTL, SetBatch of 100) and
// reports the live heap per key after a GC: the engine's footprint without
// the GC headroom and allocator slack that RSS adds. Not load-sensitive.
func BenchmarkLiveBytesPerKey(b *testing.B) {
	const n = 1_000_000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%07d", i)
	}
	value := make([]byte, 100)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for b.Loop() {
		before := heap()
		s := New(Options{ExpirySweepInterval: -1})
		s.CreateCache(ctx, "c", store.CacheConfig{})
		items := make([]store.Item, 0, 100)
		for i := 0; i < n; i += 100 {
			items = items[:0]
			for _, k := range keys[i : i+100] {
				items = append(items, store.Item{Key: k, Value: value, TTL: time.Hour})
			}
			if err := s.SetBatch(ctx, "c", items); err != nil {
				b.Fatal(err)
			}
		}
		after := heap()
		b.ReportMetric(float64(after-before)/n, "B/key")
		runtime.KeepAlive(s)
		s.Close()
	}
}

// TestItemStructSize keeps the item struct within its 64 B size class: every
// byte over it costs 16 B per item (the next class is 80 B).
func TestItemStructSize(t *testing.T) {
	if n := unsafe.Sizeof(item{}); n > 64 {
		t.Fatalf("item is %d B, want ≤ 64", n)
	}
}
