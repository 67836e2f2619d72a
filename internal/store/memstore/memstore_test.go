package memstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics/topicstest"
)

func TestSuite(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { return New(Options{Now: now}) })
	})
	// Limited memory and many partitions exercise eviction bookkeeping and
	// batches spanning partitions; the limit is far above what the suite uses.
	t.Run("bounded", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
			s := New(Options{Partitions: 16, MaxMemory: 1 << 30, ExpirySweepInterval: 5 * time.Millisecond, Now: now})
			t.Cleanup(func() { checkAccounting(t, s) })
			return s
		})
	})
}

func newTopicLog(t *testing.T, limits storetest.TopicLimits) store.TopicLog {
	return NewTopicLog(TopicLogOptions{MaxMessages: limits.MaxMessages})
}

func TestTopicLogSuite(t *testing.T) { storetest.RunTopicLog(t, newTopicLog) }

// The hub's suite over this engine's log: what subscribers get.
func TestHubSuite(t *testing.T) { topicstest.Run(t, newTopicLog) }

// newTest returns a store with cache "c" that is closed and checked when
// the test ends.
func newTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s := New(opts)
	t.Cleanup(func() { checkAccounting(t, s) })
	if _, err := s.CreateCache(context.Background(), "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkAccounting closes s, so that no sweep runs, then verifies the
// indexes of every partition and that UsedMemory equals the sum of the item
// sizes.
func checkAccounting(t *testing.T, s *Store) {
	t.Helper()
	s.Close()
	var sum int64
	for _, c := range s.catalog.Load().list {
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			withTTL := 0
			var psum int64
			for it := range p.items.all() {
				psum += it.size()
			}
			if p.bytes != psum {
				t.Errorf("cache %s partition %d: bytes = %d, its items account for %d", c.name, i, p.bytes, psum)
			}
			for it := range p.items.all() {
				k := it.key()
				if p.items.getStr(k) != it {
					t.Errorf("cache %s partition %d: %q is not found under its key", c.name, i, k)
				}
				if it.lsn != 0 && !indexed(p, it) && p.feed.cfg != nil {
					t.Errorf("cache %s partition %d: %q has no current index entry", c.name, i, k)
				}
				if it.expires != 0 {
					withTTL++
					if int(it.tidx) >= len(p.ttl) || p.ttl[it.tidx] != it {
						t.Errorf("cache %s partition %d: ttl index of %q is inconsistent", c.name, i, it.key())
					}
				}
				sum += it.size()
			}
			if withTTL != len(p.ttl) {
				t.Errorf("cache %s partition %d: %d items with TTL, %d in ttl", c.name, i, withTTL, len(p.ttl))
			}
			p.mu.RUnlock()
		}
	}
	if used := s.UsedMemory(); used != sum {
		t.Errorf("UsedMemory = %d, items account for %d", used, sum)
	}
}

var ctx = context.Background()

func TestLazyExpiry(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Now: clk.Now, ExpirySweepInterval: -1})
	k := []byte("k")
	if err := s.Set(ctx, "c", k, []byte("41"), time.Second); err != nil {
		t.Fatal(err)
	}
	m, _, _ := s.Meta(ctx, "c", k)
	if want := clk.Now().Add(time.Second); !m.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", m.ExpiresAt, want)
	}
	clk.Advance(time.Second - 1)
	if _, found, _ := s.Get(ctx, "c", k); !found {
		t.Fatal("expired 1ns early")
	}
	clk.Advance(1)
	if _, found, _ := s.Get(ctx, "c", k); found {
		t.Fatal("visible at its expiry")
	}
	if n, err := s.Increment(ctx, "c", k, 5, 0); err != nil || n != 5 {
		t.Fatalf("Increment over an expired item = %d, %v; want 5", n, err)
	}
	if r, _ := s.UpdateTTL(ctx, "c", k, store.TTLIncrease, time.Hour); r != store.TTLNotSet {
		t.Fatalf("UpdateTTL(increase) of a never-expiring item = %d, want TTLNotSet", r)
	}
	if r, _ := s.UpdateTTL(ctx, "c", k, store.TTLDecrease, time.Hour); r != store.TTLSet {
		t.Fatalf("UpdateTTL(decrease) of a never-expiring item = %d, want TTLSet", r)
	}
	clk.Advance(time.Hour)
	if r, _ := s.UpdateTTL(ctx, "c", k, store.TTLOverwrite, time.Hour); r != store.TTLMissing {
		t.Fatalf("UpdateTTL after expiry = %d, want TTLMissing", r)
	}
}

func TestActiveExpiry(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Now: clk.Now, ExpirySweepInterval: time.Millisecond})
	var keep int64
	for i := range 2000 {
		k, v := fmt.Appendf(nil, "k%d", i), []byte("value")
		ttl := time.Second
		if i%10 == 0 {
			ttl = 0
			keep += int64(len(k)+len(v)) + ItemOverhead
		}
		if err := s.Set(ctx, "c", k, v, ttl); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Second)
	// No reads: only the background sweep can reclaim the expired items.
	deadline := time.Now().Add(10 * time.Second)
	for s.UsedMemory() != keep {
		if time.Now().After(deadline) {
			t.Fatalf("UsedMemory = %d after expiry, want %d", s.UsedMemory(), keep)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSweepOnceBounded(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Now: clk.Now, Partitions: 1, ExpirySweepInterval: -1})
	for i := range 1000 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i), nil, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	p := &s.catalog.Load().byName["c"].parts[0]
	p.mu.Lock()
	freed, more := p.sweepOnce(s.clock.nanos())
	p.bytes -= freed
	left := len(p.ttl)
	p.mu.Unlock()
	s.used.Add(-freed)
	if !more || left < 1000-sweepSample {
		t.Fatalf("one sample removed %d items, more=%v; want at most %d and more", 1000-left, more, sweepSample)
	}
	s.sweep() // bounded rounds, so some may remain; the next ticks finish
	for range 100 {
		s.sweep()
	}
	if u := s.UsedMemory(); u != 0 {
		t.Fatalf("UsedMemory = %d after sweeping, want 0", u)
	}
}

func TestLSNPerPartition(t *testing.T) {
	const parts = 4
	s := newTest(t, Options{Partitions: parts})
	count := make([]uint64, parts)
	for i := range 500 {
		k := fmt.Appendf(nil, "k%d", i%300) // overwrites too
		if err := s.Set(ctx, "c", k, []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		m, _, _ := s.Meta(ctx, "c", k)
		count[m.Partition]++
		// Single writer: the partition's n-th change has LSN n.
		if m.LSN != count[m.Partition] {
			t.Fatalf("%s: LSN %d, want %d in partition %d", k, m.LSN, count[m.Partition], m.Partition)
		}
	}
	for p, n := range count {
		if n == 0 {
			t.Errorf("partition %d got no keys", p)
		}
	}
}

func TestSetBatchConsecutiveLSNs(t *testing.T) {
	s := newTest(t, Options{Partitions: 8})
	// Interleave single writes so that batches start mid-sequence.
	for round := range 5 {
		for i := range 10 {
			s.Set(ctx, "c", fmt.Appendf(nil, "single-%d-%d", round, i), nil, 0)
		}
		var items []store.Item
		for i := range 40 {
			items = append(items, store.Item{Key: fmt.Appendf(nil, "batch-%d-%d", round, i)})
		}
		if err := s.SetBatch(ctx, "c", items); err != nil {
			t.Fatal(err)
		}
		byPart := map[int][]uint64{}
		for _, it := range items {
			m, _, _ := s.Meta(ctx, "c", it.Key)
			byPart[m.Partition] = append(byPart[m.Partition], m.LSN)
		}
		for p, lsns := range byPart {
			for j := 1; j < len(lsns); j++ {
				if lsns[j] != lsns[j-1]+1 {
					t.Fatalf("round %d partition %d: LSNs %v not consecutive", round, p, lsns)
				}
			}
			if last := s.catalog.Load().byName["c"].parts[p].lsn; last != lsns[len(lsns)-1] {
				t.Fatalf("partition %d: batch ends at %d, counter at %d", p, lsns[len(lsns)-1], last)
			}
		}
	}
}

func TestPartitionMatchesEPK(t *testing.T) {
	const parts = 7
	s := newTest(t, Options{Partitions: parts})
	ranges := epk.Ranges(parts)
	for i := range 200 {
		k := fmt.Appendf(nil, "key-%d", i)
		s.Set(ctx, "c", k, nil, 0)
		m, _, _ := s.Meta(ctx, "c", k)
		e := epk.V2(string(k))
		if r := ranges[m.Partition]; e < r.Min || e >= r.Max {
			t.Fatalf("%s: EPK %s outside partition %d %+v", k, e, m.Partition, r)
		}
	}
}

func TestEpochs(t *testing.T) {
	s := newTest(t, Options{})
	var last uint64
	for range 3 {
		if _, err := s.CreateCache(ctx, "e", store.CacheConfig{}); err != nil {
			t.Fatal(err)
		}
		caches, _ := s.ListCaches(ctx)
		if len(caches) != 2 || caches[0].Name != "c" || caches[1].Name != "e" {
			t.Fatalf("ListCaches = %+v", caches)
		}
		if caches[1].Epoch <= last || caches[1].Partitions != DefaultPartitions {
			t.Fatalf("cache %+v after epoch %d", caches[1], last)
		}
		last = caches[1].Epoch
		if err := s.DeleteCache(ctx, "e"); err != nil {
			t.Fatal(err)
		}
	}
}

// putCollection stands in for the collections issue: a non-scalar item.
func putCollection(s *Store, key string) {
	c := s.catalog.Load().byName["c"]
	p, _ := c.partition([]byte(key))
	p.mu.Lock()
	d := newCollection(store.KindDictionary).(*dict)
	d.put("f", []byte("v"))
	it := newItem(key, nil, store.KindDictionary, 0)
	it.setCollection(d)
	it.lsn = p.nextLSN()
	p.insert(it)
	p.bytes += it.size()
	p.mu.Unlock()
	s.used.Add(it.size())
}

func TestWrongType(t *testing.T) {
	s := newTest(t, Options{})
	k := []byte("dict")
	putCollection(s, "dict")
	if _, _, err := s.Get(ctx, "c", k); !errors.Is(err, errs.ErrWrongType) {
		t.Fatalf("Get(collection): %v, want ErrWrongType", err)
	}
	if _, err := s.Increment(ctx, "c", k, 1, 0); !errors.Is(err, errs.ErrWrongType) {
		t.Fatalf("Increment(collection): %v, want ErrWrongType", err)
	}
	f := func(kind store.CondKind, wantStored bool, wantErr error) {
		t.Helper()
		res, err := s.SetIf(ctx, "c", k, []byte("v"), 0, store.Condition{Kind: kind, Value: []byte("v")})
		if res.Stored != wantStored || !errors.Is(err, wantErr) {
			t.Fatalf("SetIf(kind %d) on a collection = %+v, %v; want %v, %v", kind, res, err, wantStored, wantErr)
		}
	}
	f(store.CondAbsent, false, nil)
	for kind := store.CondEqual; kind <= store.CondAbsentOrHashNotEqual; kind++ {
		f(kind, false, errs.ErrWrongType)
	}
	if ok, _ := s.KeysExist(ctx, "c", [][]byte{k}); !ok[0] {
		t.Fatal("KeysExist(collection) = false")
	}
	if m, found, _ := s.Meta(ctx, "c", k); !found || m.Kind != store.KindDictionary {
		t.Fatalf("Meta(collection) = %+v, %v", m, found)
	}
	if r, _ := s.UpdateTTL(ctx, "c", k, store.TTLOverwrite, time.Hour); r != store.TTLSet {
		t.Fatalf("UpdateTTL(collection) = %d", r)
	}
	f(store.CondPresent, true, nil) // a write of any kind replaces it
	if v, _, err := s.Get(ctx, "c", k); err != nil || string(v) != "v" {
		t.Fatalf("Get after replacing the collection = %q, %v", v, err)
	}
	putCollection(s, "dict2")
	if err := s.Delete(ctx, "c", []byte("dict2")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.KeysExist(ctx, "c", [][]byte{[]byte("dict2")}); ok[0] {
		t.Fatal("collection survived Delete")
	}
}

func TestCloseNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 10 {
		s := New(Options{ExpirySweepInterval: time.Millisecond})
		s.Close()
		s.Close() // idempotent
	}
	New(Options{ExpirySweepInterval: -1}).Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewOptions(t *testing.T) {
	for _, n := range []int{-1, epk.MaxPartitions + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(Partitions: %d) did not panic", n)
				}
			}()
			New(Options{Partitions: n, ExpirySweepInterval: -1})
		}()
	}
	s := newTest(t, Options{MaxItemSize: 10, ExpirySweepInterval: -1})
	if err := s.Set(ctx, "c", []byte("key"), []byte("1234567"), 0); err != nil {
		t.Fatalf("Set at MaxItemSize: %v", err)
	}
	if err := s.Set(ctx, "c", []byte("key"), []byte("12345678"), 0); !errors.Is(err, errs.ErrItemTooLarge) {
		t.Fatalf("Set over MaxItemSize: %v", err)
	}
}

func TestGetSetAllocs(t *testing.T) {
	s := newTest(t, Options{MaxMemory: 1 << 30})
	k, v := []byte("key"), []byte("value")
	s.Set(ctx, "c", k, v, time.Hour)
	if n := testing.AllocsPerRun(100, func() { s.Get(ctx, "c", k) }); n != 0 {
		t.Errorf("Get allocates %v times", n)
	}
	// Overwriting allocates only the value copy.
	if n := testing.AllocsPerRun(100, func() { s.Set(ctx, "c", k, v, time.Hour) }); n != 1 {
		t.Errorf("Set overwrite allocates %v times, want 1", n)
	}
}
