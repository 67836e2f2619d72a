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

// Issue 11, finding 3: 300 topics of 4 KB messages and no subscriber held
// 1.3 GB. The windows of all topics now keep within MaxTotalBytes.
func TestTopicWindowsShareABudget(t *testing.T) {
	const budget = 16 << 20
	l := NewTopicLog(TopicLogOptions{MaxTotalBytes: budget})
	defer l.Close()
	ctx := context.Background()
	payload := make([]byte, 4096)
	for i := range 300 * 200 {
		ref := store.TopicRef{Cache: "c", Epoch: 1, Name: fmt.Sprintf("t%d", i%300)}
		if _, _, err := l.Append(ctx, ref, store.TopicValue{Data: payload}, ""); err != nil {
			t.Fatal(err)
		}
		if n := l.bytes.Load(); n > budget+int64(len(payload))+topicMessageOverhead {
			t.Fatalf("after %d appends the windows hold %d bytes, the budget is %d", i+1, n, budget)
		}
	}
	var sum int64
	l.mu.RLock()
	for _, c := range l.caches {
		for _, tp := range c.topics {
			tp.mu.Lock()
			sum += int64(tp.bytes)
			tp.mu.Unlock()
		}
	}
	l.mu.RUnlock()
	if sum != l.bytes.Load() {
		t.Fatalf("topics hold %d bytes, the total says %d", sum, l.bytes.Load())
	}
	// The newest message of a topic is always there to read.
	st, msgs, err := l.Read(ctx, store.TopicRef{Cache: "c", Epoch: 1, Name: "t299"}, 1, 1<<20)
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].Seq != st.Last || st.Last != 200 {
		t.Fatalf("the last topic written: %+v, %d messages, %v", st, len(msgs), err)
	}
}
