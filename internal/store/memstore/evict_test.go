package memstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

func TestEvictionPrefersColdKeys(t *testing.T) {
	clk := storetest.NewClock()
	const (
		itemSize = 10 + 90 + ItemOverhead // keys are 10 bytes, values 90
		fits     = 1000
	)
	s := newTest(t, Options{Now: clk.Now, MaxMemory: fits * itemSize, Partitions: 8, ExpirySweepInterval: -1})
	key := func(prefix string, i int) []byte { return fmt.Appendf(nil, "%s-%06d", prefix, i) }
	value := make([]byte, 90)
	for i := range fits {
		if err := s.Set(ctx, "c", key("old", i), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	if used := s.UsedMemory(); used != fits*itemSize {
		t.Fatalf("UsedMemory = %d, want %d", used, fits*itemSize)
	}
	clk.Advance(time.Second)
	const hot = 100
	for i := range hot {
		if _, found, _ := s.Get(ctx, "c", key("old", i)); !found {
			t.Fatalf("old-%d evicted before any pressure", i)
		}
	}
	clk.Advance(time.Second)
	for i := range fits / 2 {
		if err := s.Set(ctx, "c", key("new", i), value, 0); err != nil {
			t.Fatal(err)
		}
		if used := s.UsedMemory(); used > fits*itemSize {
			t.Fatalf("UsedMemory = %d over MaxMemory %d", used, fits*itemSize)
		}
	}
	survivors := 0
	for i := range hot {
		if ok, _ := s.KeysExist(ctx, "c", [][]byte{key("old", i)}); ok[0] {
			survivors++
		}
	}
	// Half of the items went; a random policy would keep about half the
	// hot ones, sampled LRU nearly all.
	if survivors < hot*9/10 {
		t.Fatalf("%d of %d recently read keys survived eviction", survivors, hot)
	}
}

func TestOutOfMemory(t *testing.T) {
	s := newTest(t, Options{MaxMemory: 1000, ExpirySweepInterval: -1})
	s.Set(ctx, "c", []byte("k"), []byte("small"), 0)
	big := make([]byte, 1000)
	if err := s.Set(ctx, "c", []byte("big"), big, 0); !errors.Is(err, errs.ErrOutOfMemory) {
		t.Fatalf("Set larger than MaxMemory: %v, want ErrOutOfMemory", err)
	}
	err := s.SetBatch(ctx, "c", []store.Item{{Key: []byte("a"), Value: big[:500]}, {Key: []byte("b"), Value: big[:500]}})
	if !errors.Is(err, errs.ErrOutOfMemory) {
		t.Fatalf("SetBatch larger than MaxMemory: %v, want ErrOutOfMemory", err)
	}
	if v, _, _ := s.Get(ctx, "c", []byte("k")); string(v) != "small" {
		t.Fatalf("a rejected write evicted other data: %q", v)
	}
	// Items that fit one at a time push the others out.
	for i := range 20 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i), big[:500], 0); err != nil {
			t.Fatal(err)
		}
		if s.UsedMemory() > 1000 {
			t.Fatalf("UsedMemory = %d over 1000", s.UsedMemory())
		}
	}
}

func TestEvictionAcrossCaches(t *testing.T) {
	s := newTest(t, Options{MaxMemory: 50 * (ItemOverhead + 12), ExpirySweepInterval: -1})
	for _, name := range []string{"a", "b", "d", "e"} {
		s.CreateCache(ctx, name, store.CacheConfig{})
	}
	for i := range 500 {
		name := []string{"a", "b", "c", "d", "e"}[i%5]
		if err := s.Set(ctx, name, fmt.Appendf(nil, "key-%04d", i), []byte("val"), 0); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
	}
	if s.UsedMemory() > s.maxMemory {
		t.Fatalf("UsedMemory = %d over %d", s.UsedMemory(), s.maxMemory)
	}
}

func TestConcurrentOps(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Now: clk.Now, MaxMemory: 64 << 10, Partitions: 8, ExpirySweepInterval: time.Millisecond})
	s.CreateCache(ctx, "d", store.CacheConfig{})
	const workers, ops = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				cache := []string{"c", "d"}[r.IntN(2)]
				k := fmt.Appendf(nil, "k%d", r.IntN(300))
				v := make([]byte, r.IntN(200))
				ttl := time.Duration(r.IntN(3)) * time.Second
				var err error
				switch r.IntN(12) {
				case 0:
					_, _, err = s.Get(ctx, cache, k)
				case 1:
					err = s.Set(ctx, cache, k, v, ttl)
				case 2:
					_, err = s.SetIf(ctx, cache, k, v, ttl, store.Condition{Kind: store.CondAbsent})
				case 3:
					err = s.Delete(ctx, cache, k)
				case 4:
					_, err = s.Increment(ctx, cache, k, 1, ttl)
					if errors.Is(err, errs.ErrNotInteger) {
						err = nil
					}
				case 5:
					_, err = s.UpdateTTL(ctx, cache, k, store.TTLMode(r.IntN(3)), time.Second)
				case 6:
					_, _, err = s.Meta(ctx, cache, k)
				case 7:
					_, err = s.KeysExist(ctx, cache, [][]byte{k, []byte("k1")})
				case 8:
					err = s.SetBatch(ctx, cache, []store.Item{{Key: k, Value: v}, {Key: []byte("k7"), Value: v, TTL: ttl}})
				case 9:
					clk.Advance(100 * time.Millisecond)
				case 10:
					if r.IntN(20) == 0 {
						err = s.FlushCache(ctx, cache)
					}
				case 11:
					if r.IntN(50) == 0 && cache == "d" {
						// Recreate "d" while others use it.
						s.DeleteCache(ctx, "d")
						s.CreateCache(ctx, "d", store.CacheConfig{})
					}
				}
				if err != nil && !errors.Is(err, errs.ErrCacheNotFound) {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if used := s.UsedMemory(); used > 2*s.maxMemory {
					t.Errorf("UsedMemory = %d far over %d", used, s.maxMemory)
					return
				}
			}
		})
	}
	wg.Wait()
	checkAccounting(t, s) // stops the sweep
	if s.UsedMemory() > s.maxMemory {
		t.Errorf("UsedMemory = %d over %d when idle", s.UsedMemory(), s.maxMemory)
	}
	for _, name := range []string{"c", "d"} {
		s.DeleteCache(ctx, name)
	}
	if u := s.UsedMemory(); u != 0 {
		t.Fatalf("UsedMemory = %d with no caches", u)
	}
}

// TestItemOverhead checks that ItemOverhead is close to what an item costs
// the Go heap beyond its key and value bytes.
func TestItemOverhead(t *testing.T) {
	const n = 200_000
	s := New(Options{Partitions: 4, ExpirySweepInterval: -1})
	defer s.Close()
	s.CreateCache(ctx, "c", store.CacheConfig{})
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%011d", i) // 15 bytes
	}
	value := make([]byte, 16)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for _, k := range keys {
		s.Set(ctx, "c", k, value, 0)
	}
	after := heap()
	runtime.KeepAlive(keys)
	perItem := float64(after-before)/n - float64(len(keys[0])+len(value))
	t.Logf("measured overhead %.0f B/item, ItemOverhead %d", perItem, ItemOverhead)
	if perItem < ItemOverhead*3/4 || perItem > ItemOverhead*5/4 {
		t.Fatalf("measured overhead %.0f B/item is far from ItemOverhead %d", perItem, ItemOverhead)
	}
}
