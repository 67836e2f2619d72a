package feed

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

// The change-feed benchmarks run in process on the memory engine (bench/
// drives the server binary, which does not serve the feed yet):
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/feed
//
// BenchmarkFeedRead reports changes/s read from 10^6 changes by one reader
// of the whole cache and by 4 parallel readers of one range each, in both
// modes; BenchmarkFeedWrite the rate Set can be made (the goal is reading
// at >= 5x it); BenchmarkFeedWriteToVisible the p50/p99 latency from just
// before a Set to a tailing reader seeing it, at a steady write rate.

const benchChanges = 1_000_000

var (
	benchOnce  sync.Once
	benchStore *memstore.Store
)

// loaded is a store with cache "c" holding 10^6 changes of 10^6 keys, all
// in the all-versions log too.
func loaded(b *testing.B) *memstore.Store {
	benchOnce.Do(func() {
		s := memstore.New(memstore.Options{FeedLogAlways: true, FeedLogRecords: benchChanges, FeedLogBytes: 1 << 30, ExpirySweepInterval: -1})
		s.CreateCache(ctx, "c", store.CacheConfig{})
		v := make([]byte, 16)
		for i := range benchChanges {
			if err := s.Set(ctx, "c", fmt.Appendf(nil, "key-%08d", i), v, 0); err != nil {
				panic(err)
			}
		}
		benchStore = s
	})
	return benchStore
}

// readAllFrom reads r's range from the beginning to NotModified and returns
// the number of changes.
func readAllFrom(b *testing.B, s store.Store, rng Range, mode Mode) int {
	tok := ""
	n := 0
	for {
		req := Request{Cache: "c", Start: StartBeginning, Range: rng, Continuation: tok, PageSizeHint: 1000}
		if mode == ModeAllVersions && tok == "" {
			// All versions start from a continuation: forge one at LSN 0
			// (the log holds every change of this store).
			page, err := Read(ctx, s, Request{Cache: "c", Start: StartBeginning, Range: rng, PageSizeHint: 1})
			if err != nil {
				b.Fatal(err)
			}
			st, _ := decodeToken(page.Continuation)
			for i := range st.Positions {
				st.Positions[i].LSN = 0
			}
			req.Continuation = st.encode()
		}
		req.Mode = mode
		page, err := Read(ctx, s, req)
		if err != nil {
			b.Fatal(err)
		}
		tok = page.Continuation
		if page.NotModified {
			return n
		}
		n += len(page.Changes)
	}
}

func BenchmarkFeedRead(b *testing.B) {
	s := loaded(b)
	frs := ranges(s)
	for _, mode := range []Mode{ModeLatestVersion, ModeAllVersions} {
		b.Run(fmt.Sprintf("%v/1reader", mode), func(b *testing.B) {
			total := 0
			for b.Loop() {
				if n := readAllFrom(b, s, Whole(), mode); n != benchChanges {
					b.Fatalf("read %d changes", n)
				} else {
					total += n
				}
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "changes/s")
		})
		b.Run(fmt.Sprintf("%v/4ranges", mode), func(b *testing.B) {
			total := 0
			for b.Loop() {
				var wg sync.WaitGroup
				counts := make([]int, len(frs))
				for i, fr := range frs {
					wg.Go(func() {
						r, _ := EPKRange(fr.MinEPK, fr.MaxEPK)
						counts[i] = readAllFrom(b, s, r, mode)
					})
				}
				wg.Wait()
				n := 0
				for _, c := range counts {
					n += c
				}
				if n != benchChanges {
					b.Fatalf("read %d changes", n)
				}
				total += n
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// BenchmarkFeedWrite is the write rate to compare reads with: Set of new
// and existing keys by 1 and by 2 (= cores) writers, feed index on.
func BenchmarkFeedWrite(b *testing.B) {
	for _, writers := range []int{1, 2} {
		b.Run(fmt.Sprintf("%dwriters", writers), func(b *testing.B) {
			s := memstore.New(memstore.Options{ExpirySweepInterval: -1})
			defer s.Close()
			s.CreateCache(ctx, "c", store.CacheConfig{})
			v := make([]byte, 16)
			b.SetParallelism(1)
			var wg sync.WaitGroup
			per := b.N/writers + 1
			b.ResetTimer()
			for w := range writers {
				wg.Go(func() {
					for i := range per {
						s.Set(ctx, "c", fmt.Appendf(nil, "k-%d-%d", w, i%500_000), v, 0)
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// BenchmarkFeedWriteToVisible writes at a steady rate while a reader tails
// the whole cache (woken by FeedNotify, as TailFeed is), and reports the
// latency from just before each Set to the reader holding the change.
func BenchmarkFeedWriteToVisible(b *testing.B) {
	for _, rate := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("%dwrites_per_s", rate), func(b *testing.B) {
			s := memstore.New(memstore.Options{ExpirySweepInterval: -1})
			defer s.Close()
			s.CreateCache(ctx, "c", store.CacheConfig{})
			page, err := Read(ctx, s, Request{Cache: "c"})
			if err != nil {
				b.Fatal(err)
			}
			n := max(b.N, 2000)
			lat := make([]time.Duration, 0, n)
			done := make(chan struct{})
			go func() {
				defer close(done)
				tok := page.Continuation
				for len(lat) < n {
					ch, _ := s.FeedNotify(ctx, "c")
					page, err := Read(ctx, s, Request{Cache: "c", Continuation: tok})
					if err != nil {
						panic(err)
					}
					tok = page.Continuation
					now := time.Now().UnixNano()
					for _, c := range page.Changes {
						lat = append(lat, time.Duration(now-int64(binary.LittleEndian.Uint64(c.Value))))
					}
					if page.NotModified {
						<-ch
					}
				}
			}()
			interval := time.Second / time.Duration(rate)
			start := time.Now()
			b.ResetTimer()
			for i := range n {
				if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
					time.Sleep(d)
				}
				var v [8]byte
				binary.LittleEndian.PutUint64(v[:], uint64(time.Now().UnixNano()))
				s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i), v[:], 0)
			}
			<-done
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_us")
		})
	}
}
