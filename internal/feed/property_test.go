package feed

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

func partitionOfKey(key []byte, n int) int { return epk.PartitionOfKey(key, n) }

func sortByLSN(cs []store.Change) {
	slices.SortFunc(cs, func(a, b store.Change) int {
		switch {
		case a.LSN < b.LSN:
			return -1
		case a.LSN > b.LSN:
			return 1
		}
		return 0
	})
}

// TestPropertyConcurrentReaders runs writers (sets, deletes, batches,
// short TTLs, increments) against range readers in both modes, each range
// read by its own goroutine while the writes happen, then checks:
//
//   - all versions: per partition, the LSNs seen are consecutive from the
//     reader's start to the partition's last LSN (every change, in order, no
//     duplicate, no gap), and replaying them gives exactly the final items;
//   - latest version: per key, the last version the readers saw is the
//     item's final value and LSN, and no reader saw a key twice at one LSN.
func TestPropertyConcurrentReaders(t *testing.T) {
	const (
		writers     = 4
		opsPerWrite = 1500
		keys        = 200
	)
	s := memstore.New(memstore.Options{Partitions: 4, ExpirySweepInterval: time.Millisecond})
	defer s.Close()
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	frs := ranges(s)
	// Four reader ranges that do not follow the partition boundaries, so
	// that some read parts of partitions.
	bounds := []string{"", "0800", "1C00", "3000", "FF"}
	var ranges []Range
	for i := 0; i+1 < len(bounds); i++ {
		r, err := EPKRange(bounds[i], bounds[i+1])
		if err != nil {
			t.Fatal(err)
		}
		ranges = append(ranges, r)
	}

	// Readers start from Now before any write.
	type reader struct {
		mode Mode
		tok  string
		seen []store.Change
	}
	var readers []*reader
	for _, mode := range []Mode{ModeLatestVersion, ModeAllVersions} {
		for _, r := range ranges {
			page, err := Read(ctx, s, Request{Cache: "c", Range: r, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			readers = append(readers, &reader{mode: mode, tok: page.Continuation})
		}
	}

	var done atomic.Bool
	var wg sync.WaitGroup
	for _, rd := range readers {
		wg.Go(func() {
			for {
				finished := done.Load()
				page, err := Read(ctx, s, Request{Cache: "c", Continuation: rd.tok, PageSizeHint: 1 + rand.IntN(20)})
				if err != nil {
					t.Error(err)
					return
				}
				rd.tok = page.Continuation
				rd.seen = append(rd.seen, page.Changes...)
				if page.NotModified && finished {
					return
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			key := func() []byte { return fmt.Appendf(nil, "key-%d", rng.IntN(keys)) }
			for i := range opsPerWrite {
				var err error
				switch op := rng.IntN(10); {
				case op < 5:
					err = s.Set(ctx, "c", key(), fmt.Appendf(nil, "w%d-%d", w, i), 0)
				case op < 6:
					err = s.Set(ctx, "c", key(), fmt.Appendf(nil, "ttl%d-%d", w, i), time.Duration(rng.IntN(3))*time.Millisecond+time.Microsecond)
				case op < 8:
					err = s.Delete(ctx, "c", key())
				case op < 9:
					items := make([]store.Item, 1+rng.IntN(8))
					for j := range items {
						items[j] = store.Item{Key: key(), Value: fmt.Appendf(nil, "b%d-%d-%d", w, i, j)}
					}
					err = s.SetBatch(ctx, "c", items)
				default:
					_, err = s.Increment(ctx, "c", fmt.Appendf(nil, "ctr-%d", rng.IntN(10)), 1, 0)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writersWG.Wait()
	// Let the sweep purge what expired, so that the final state is stable,
	// then stop it (Close) and let the readers catch up.
	time.Sleep(20 * time.Millisecond)
	s.Close()
	done.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	// The final state, from the engine itself.
	final := map[string]store.Change{}
	lastLSN := map[int]uint64{}
	for _, fr := range frs {
		for after := uint64(0); ; {
			page, err := s.ReadFeed(ctx, "c", store.FeedRead{Partition: fr.Partition, AfterLSN: after, PageSizeHint: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Changes {
				final[string(c.Key)] = c
			}
			after = page.LastLSN
			if page.NotModified {
				break
			}
		}
		now, _ := s.ReadFeed(ctx, "c", store.FeedRead{Partition: fr.Partition, Start: store.FeedFromNow})
		lastLSN[fr.Partition] = now.LastLSN
	}
	for k, c := range final {
		v, found, err := s.Get(ctx, "c", []byte(k))
		if err != nil || !found || string(v) != string(c.Value) {
			t.Fatalf("latest-version feed says %s=%s, Get says %s %v %v", k, c.Value, v, found, err)
		}
	}

	// All versions: every change once, in order, replaying to the final state.
	byPart := map[int][]store.Change{}
	state := map[string]string{}
	for _, rd := range readers {
		if rd.mode != ModeAllVersions {
			continue
		}
		for _, c := range rd.seen {
			p := partitionOfKey(c.Key, len(frs))
			byPart[p] = append(byPart[p], c)
		}
	}
	for p, cs := range byPart {
		// Readers of different ranges share a partition: merge by LSN.
		sortByLSN(cs)
		for i, c := range cs {
			if i > 0 && c.LSN != cs[i-1].LSN+1 {
				t.Fatalf("partition %d: LSN %d after %d (gap or duplicate)", p, c.LSN, cs[i-1].LSN)
			}
			switch c.Op {
			case store.FeedCreate, store.FeedReplace:
				if _, ok := state[string(c.Key)]; ok != (c.Op == store.FeedReplace) {
					t.Fatalf("partition %d LSN %d: %v of %s, which existed=%v", p, c.LSN, c.Op, c.Key, ok)
				}
				if c.Op == store.FeedReplace && c.Kind == store.KindScalar && string(c.Previous) != state[string(c.Key)] {
					t.Fatalf("LSN %d: previous image %q, replayed %q", c.LSN, c.Previous, state[string(c.Key)])
				}
				state[string(c.Key)] = string(c.Value)
			case store.FeedDelete:
				prev, ok := state[string(c.Key)]
				if !ok || string(c.Previous) != prev {
					t.Fatalf("LSN %d: delete of %s (existed=%v, previous %q vs %q)", c.LSN, c.Key, ok, c.Previous, prev)
				}
				delete(state, string(c.Key))
			}
		}
		if last := cs[len(cs)-1].LSN; last != lastLSN[p] {
			t.Fatalf("partition %d: all-versions readers ended at LSN %d, the partition at %d", p, last, lastLSN[p])
		}
	}
	for k, v := range state {
		if _, live := final[k]; !live {
			// Expired but not purged yet: invisible, no delete recorded.
			if _, found, _ := s.Get(ctx, "c", []byte(k)); found || !strings.HasPrefix(v, "ttl") {
				t.Fatalf("replayed %s=%s, which the cache does not hold", k, v)
			}
			continue
		}
		if string(final[k].Value) != v {
			t.Fatalf("replayed %s=%s, final %s", k, v, final[k].Value)
		}
	}
	for k := range final {
		if _, ok := state[k]; !ok {
			t.Fatalf("%s is live but replaying all versions deleted it", k)
		}
	}

	// Latest version: the last version seen of every live key is its final one.
	lastSeen := map[string]store.Change{}
	type seenAt struct {
		key string
		lsn uint64
	}
	dup := map[seenAt]bool{}
	for _, rd := range readers {
		if rd.mode != ModeLatestVersion {
			continue
		}
		for _, c := range rd.seen {
			k := seenAt{string(c.Key), c.LSN}
			if dup[k] {
				t.Fatalf("%s at LSN %d delivered twice", c.Key, c.LSN)
			}
			dup[k] = true
			if c.LSN > lastSeen[string(c.Key)].LSN {
				lastSeen[string(c.Key)] = c
			}
		}
	}
	for k, c := range final {
		if got := lastSeen[k]; got.LSN != c.LSN || string(got.Value) != string(c.Value) {
			t.Fatalf("%s: last seen %s at %d, final %s at %d", k, got.Value, got.LSN, c.Value, c.LSN)
		}
	}
	if len(final) == 0 || len(byPart) != len(frs) {
		t.Fatalf("degenerate run: %d live items, %d partitions with changes", len(final), len(byPart))
	}
}
