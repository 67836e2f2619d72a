package memstore

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// Issue 11, finding 2: with --max-memory 64 MiB, writing 1 GiB of 1 MiB
// values kept most of them reachable through the change feed's index.
// Evicted and deleted items now let their values go: the live heap stays
// near the bound however much is written.
func TestLargeValuesStayWithinMaxMemory(t *testing.T) {
	const maxMemory = 64 << 20
	before := heapInUse()
	s := New(Options{MaxMemory: maxMemory, Partitions: 16, ExpirySweepInterval: -1})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 1<<20)
	for i := range 1024 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := s.Delete(ctx, "c", fmt.Appendf(nil, "k%d", i-1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if used := s.UsedMemory(); used > maxMemory {
		t.Fatalf("accounted memory %d over the bound %d", used, maxMemory)
	}
	if grown := heapInUse() - before; grown > 2*maxMemory {
		t.Fatalf("live heap grew by %d MiB writing 1 GiB under a %d MiB bound", grown>>20, maxMemory>>20)
	}
	runtime.KeepAlive(s)
}

// The all-versions logs of every partition together stay within their own
// budget (an eighth of MaxMemory): pushing past it drops the pushing
// partition's oldest records, which its readers then see as out of
// retention.
func TestFeedLogsShareABudget(t *testing.T) {
	const maxMemory = 8 << 20
	s := New(Options{MaxMemory: maxMemory, Partitions: 8, FeedLogAlways: true, ExpirySweepInterval: -1})
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 10<<10)
	for i := range 2000 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i%300), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	if total := s.feedCfg.total.Load(); total > maxMemory/8 || total <= 0 {
		t.Fatalf("all-versions logs hold %d bytes, their budget is %d", total, maxMemory/8)
	}
	var sum int64
	for _, c := range s.catalog.Load().list {
		for i := range c.parts {
			sum += c.parts[i].feed.log.bytes
		}
	}
	if sum != s.feedCfg.total.Load() {
		t.Fatalf("partitions hold %d log bytes, the total says %d", sum, s.feedCfg.total.Load())
	}
	if err := s.FlushCache(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if total := s.feedCfg.total.Load(); total != 0 {
		t.Fatalf("logs hold %d bytes after a flush", total)
	}
}
