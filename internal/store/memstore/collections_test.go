package memstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

// TestCollectionAccounting checks that UsedMemory follows collection
// elements as they come and go (checkAccounting compares it with the sum of
// item sizes when the test ends).
func TestCollectionAccounting(t *testing.T) {
	s := newTest(t, Options{ExpirySweepInterval: -1})
	k := []byte("z")
	base := s.UsedMemory()
	var es []store.ScoredElement
	for i := range 1000 {
		es = append(es, store.ScoredElement{Value: fmt.Appendf(nil, "member-%04d", i), Score: float64(i)})
	}
	if err := s.SortedSetPut(ctx, "c", k, es, store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	grown := s.UsedMemory() - base
	if want := int64(1000 * (11 + zsetEntryOverhead)); grown < want {
		t.Fatalf("1000 elements account for %d bytes, want at least %d", grown, want)
	}
	vals := make([][]byte, 0, 1000)
	for _, e := range es {
		vals = append(vals, e.Value)
	}
	if err := s.SortedSetRemove(ctx, "c", k, vals[:500]); err != nil {
		t.Fatal(err)
	}
	if half := s.UsedMemory() - base; half > grown/2+ItemOverhead || half < grown/2-ItemOverhead {
		t.Fatalf("after removing half: %d bytes, want about %d", half, grown/2)
	}
	if err := s.SortedSetRemove(ctx, "c", k, vals[500:]); err != nil {
		t.Fatal(err)
	}
	if u := s.UsedMemory(); u != base {
		t.Fatalf("UsedMemory = %d after emptying the set, want %d", u, base)
	}
	// Lists, sets and dictionaries too.
	for i := range 200 {
		v := fmt.Appendf(nil, "v%d", i)
		s.ListPush(ctx, "c", []byte("l"), [][]byte{v}, i%2 == 0, 0, store.CollectionTTL{})
		s.SetAdd(ctx, "c", []byte("s"), [][]byte{v}, store.CollectionTTL{})
		s.DictionarySet(ctx, "c", []byte("d"), []store.FieldValue{{Field: v, Value: v}}, store.CollectionTTL{})
	}
	for range 200 {
		s.ListPop(ctx, "c", []byte("l"), true)
	}
	s.SetPop(ctx, "c", []byte("s"), 1000)
	s.Delete(ctx, "c", []byte("d"))
	if u := s.UsedMemory(); u != base {
		t.Fatalf("UsedMemory = %d after emptying every collection, want %d", u, base)
	}
}

// TestCollectionEviction fills a bounded store with collections: eviction
// removes whole collections and keeps UsedMemory under the limit.
func TestCollectionEviction(t *testing.T) {
	const limit = 256 << 10
	s := newTest(t, Options{MaxMemory: limit, ExpirySweepInterval: -1})
	for i := range 200 {
		key := fmt.Appendf(nil, "list-%d", i)
		vals := make([][]byte, 50)
		for j := range vals {
			vals[j] = make([]byte, 64)
		}
		if _, err := s.ListPush(ctx, "c", key, vals, false, 0, store.CollectionTTL{}); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		if u := s.UsedMemory(); u > limit {
			t.Fatalf("UsedMemory %d over the limit %d", u, limit)
		}
	}
	exists, _ := s.KeysExist(ctx, "c", [][]byte{[]byte("list-0"), []byte("list-199")})
	if exists[0] || !exists[1] {
		t.Fatalf("after filling: first list exists=%v, last exists=%v; want evicted, kept", exists[0], exists[1])
	}
}

// ---- benchmarks: per-op cost at n elements ----

var benchSizesColl = []int{1e5, 1e6}

func benchZSet(b *testing.B, n int) (*Store, []byte) {
	s := New(Options{ExpirySweepInterval: -1})
	b.Cleanup(func() { s.Close() })
	s.CreateCache(ctx, "c", store.CacheConfig{})
	k := []byte("z")
	batch := make([]store.ScoredElement, 0, 1000)
	for i := range n {
		batch = append(batch, store.ScoredElement{Value: fmt.Appendf(nil, "member-%09d", i), Score: float64(rand.IntN(n))})
		if len(batch) == cap(batch) {
			s.SortedSetPut(ctx, "c", k, batch, store.CollectionTTL{})
			batch = batch[:0]
		}
	}
	s.SortedSetPut(ctx, "c", k, batch, store.CollectionTTL{})
	return s, k
}

func BenchmarkSortedSet(b *testing.B) {
	for _, n := range benchSizesColl {
		if testing.Short() && n > 1e5 {
			continue
		}
		s, k := benchZSet(b, n)
		b.Run(fmt.Sprintf("put/n=%d", n), func(b *testing.B) {
			es := []store.ScoredElement{{}}
			for i := 0; b.Loop(); i++ {
				es[0] = store.ScoredElement{Value: fmt.Appendf(nil, "member-%09d", i%n), Score: float64(rand.IntN(n))}
				s.SortedSetPut(ctx, "c", k, es, store.CollectionTTL{})
			}
		})
		b.Run(fmt.Sprintf("rank/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, ok, _, _ := s.SortedSetGetRank(ctx, "c", k, fmt.Appendf(nil, "member-%09d", i%n), false); !ok {
					b.Fatal("missing member")
				}
			}
		})
		b.Run(fmt.Sprintf("range10/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				start := rand.IntN(n - 10)
				if es, _, _ := s.SortedSetFetchByRank(ctx, "c", k, start, start+10, false); len(es) != 10 {
					b.Fatal("short range")
				}
			}
		})
		b.Run(fmt.Sprintf("scorerange10/n=%d", n), func(b *testing.B) {
			lo := store.ScoreBound{Score: float64(n / 2)}
			hi := store.ScoreBound{Score: float64(n)}
			for b.Loop() {
				s.SortedSetFetchByScore(ctx, "c", k, lo, hi, false, rand.IntN(n/4), 10)
			}
		})
	}
}

func BenchmarkList(b *testing.B) {
	for _, n := range benchSizesColl {
		if testing.Short() && n > 1e5 {
			continue
		}
		s := New(Options{ExpirySweepInterval: -1})
		b.Cleanup(func() { s.Close() })
		s.CreateCache(ctx, "c", store.CacheConfig{})
		k := []byte("l")
		v := make([]byte, 32)
		batch := make([][]byte, 1000)
		for i := range batch {
			batch[i] = v
		}
		for range n / len(batch) {
			s.ListPush(ctx, "c", k, batch, false, 0, store.CollectionTTL{})
		}
		one := [][]byte{v}
		b.Run(fmt.Sprintf("pushpop/n=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				front := i%2 == 0
				s.ListPush(ctx, "c", k, one, front, 0, store.CollectionTTL{})
				s.ListPop(ctx, "c", k, !front)
			}
		})
		b.Run(fmt.Sprintf("fetch10/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				start := rand.IntN(n - 10)
				s.ListFetch(ctx, "c", k, start, start+10)
			}
		})
	}
}
