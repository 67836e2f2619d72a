package memstore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

// readAll reads partition p from after to its end.
func readAll(t *testing.T, s *Store, p int, mode store.FeedMode, after uint64) []store.Change {
	t.Helper()
	var out []store.Change
	for {
		page, err := s.ReadFeed(ctx, "c", store.FeedRead{Partition: p, Mode: mode, AfterLSN: after, PageSizeHint: 7})
		if err != nil {
			t.Fatal(err)
		}
		if page.NotModified {
			return out
		}
		out = append(out, page.Changes...)
		after = page.LastLSN
	}
}

func TestFeedRetentionByCount(t *testing.T) {
	s := newTest(t, Options{Partitions: 1, FeedLogAlways: true, FeedLogRecords: 10})
	for i := range 25 {
		s.Set(ctx, "c", []byte("k"), fmt.Appendf(nil, "%d", i), 0)
	}
	_, err := s.ReadFeed(ctx, "c", store.FeedRead{Mode: store.FeedAllVersions, AfterLSN: 14})
	if !errors.Is(err, errs.ErrFeedRetention) {
		t.Fatalf("read after 14 with 10 of 25 retained: %v", err)
	}
	cs := readAll(t, s, 0, store.FeedAllVersions, 15)
	if len(cs) != 10 || cs[0].LSN != 16 || cs[9].LSN != 25 {
		t.Fatalf("retained changes: %d, first %+v", len(cs), cs[0])
	}
	// Latest-version positions never expire.
	if cs := readAll(t, s, 0, store.FeedLatestVersion, 0); len(cs) != 1 || string(cs[0].Value) != "24" {
		t.Fatalf("latest version: %+v", cs)
	}
}

func TestFeedRetentionByBytesAndAge(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Partitions: 1, FeedLogAlways: true, FeedLogBytes: 10 * (feedRecordOverhead + 1 + 100), FeedLogRetention: time.Minute, Now: clk.Now, ExpirySweepInterval: -1})
	v := make([]byte, 100)
	for range 20 {
		s.Set(ctx, "c", []byte("k"), v, 0) // 1 B key, 100 B value, 100 B previous image
	}
	if cs := readAll(t, s, 0, store.FeedAllVersions, s.partFloor(t)); len(cs) > 10 || len(cs) < 5 {
		t.Fatalf("%d changes retained within the byte budget", len(cs))
	}
	clk.Advance(2 * time.Minute)
	s.Set(ctx, "c", []byte("x"), nil, 0)
	if cs := readAll(t, s, 0, store.FeedAllVersions, s.partFloor(t)); len(cs) != 1 || string(cs[0].Key) != "x" {
		t.Fatalf("after the age limit: %+v", cs)
	}
}

func (s *Store) partFloor(t *testing.T) uint64 {
	p := &s.catalog.Load().byName["c"].parts[0]
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.logFloor()
}

func TestFeedLogOnDemand(t *testing.T) {
	s := newTest(t, Options{Partitions: 1})
	s.Set(ctx, "c", []byte("a"), []byte("1"), 0)
	page, err := s.ReadFeed(ctx, "c", store.FeedRead{Mode: store.FeedAllVersions, Start: store.FeedFromNow})
	if err != nil || page.LastLSN != 1 {
		t.Fatalf("from now: %+v %v", page, err)
	}
	s.Set(ctx, "c", []byte("a"), []byte("2"), 0)
	cs := readAll(t, s, 0, store.FeedAllVersions, 1)
	if len(cs) != 1 || cs[0].Op != store.FeedReplace || string(cs[0].Previous) != "1" {
		t.Fatalf("after switching the log on: %+v", cs)
	}
	if _, err := s.ReadFeed(ctx, "c", store.FeedRead{Mode: store.FeedAllVersions}); !errors.Is(err, errs.ErrFeedRetention) {
		t.Fatalf("before the log started: %v", err)
	}
	off := newTest(t, Options{Partitions: 1, FeedLogRecords: -1})
	if _, err := off.ReadFeed(ctx, "c", store.FeedRead{Mode: store.FeedAllVersions, Start: store.FeedFromNow}); err != nil {
		t.Fatal(err)
	}
	off.Set(ctx, "c", []byte("a"), []byte("1"), 0)
	if _, err := off.ReadFeed(ctx, "c", store.FeedRead{Mode: store.FeedAllVersions}); !errors.Is(err, errs.ErrFeedRetention) {
		t.Fatalf("with no log: %v", err)
	}
}

// TestFeedIndexCompaction overwrites few keys many times: the index stays
// small and the feed keeps exactly the final state.
func TestFeedIndexCompaction(t *testing.T) {
	s := newTest(t, Options{Partitions: 2})
	const keys = 50
	for i := range 20000 {
		s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i%keys), fmt.Appendf(nil, "%d", i), 0)
	}
	c := s.catalog.Load().byName["c"]
	total := 0
	for i := range c.parts {
		p := &c.parts[i]
		if p.feed.n() > 2*p.items.len()+minCompact {
			t.Fatalf("partition %d: index of %d entries for %d items", i, p.feed.n(), p.items.len())
		}
		cs := readAll(t, s, i, store.FeedLatestVersion, 0)
		for j := 1; j < len(cs); j++ {
			if cs[j].LSN <= cs[j-1].LSN {
				t.Fatal("latest version not in LSN order")
			}
		}
		total += len(cs)
	}
	if total != keys {
		t.Fatalf("%d changes for %d keys", total, keys)
	}
}

func TestFeedEvictionIsADelete(t *testing.T) {
	s := newTest(t, Options{Partitions: 1, FeedLogAlways: true, MaxMemory: 40 * (ItemOverhead + 110), FeedLogTotalBytes: 1 << 20})
	for i := range 100 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%03d", i), make([]byte, 100), 0); err != nil {
			t.Fatal(err)
		}
	}
	creates, deletes := 0, 0
	for _, c := range readAll(t, s, 0, store.FeedAllVersions, 0) {
		switch {
		case c.Op == store.FeedCreate:
			creates++
		case c.Op == store.FeedDelete && !c.TTLExpired && c.HasPrevious:
			deletes++
		default:
			t.Fatalf("change %+v", c)
		}
	}
	n := 0
	for range readAll(t, s, 0, store.FeedLatestVersion, 0) {
		n++
	}
	if creates != 100 || deletes == 0 || creates-deletes != n {
		t.Fatalf("%d creates, %d deletes (evictions), %d live", creates, deletes, n)
	}
}

func TestFeedActiveExpiry(t *testing.T) {
	s := newTest(t, Options{Partitions: 1, FeedLogAlways: true, ExpirySweepInterval: 2 * time.Millisecond})
	s.Set(ctx, "c", []byte("t"), []byte("v"), 10*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs := readAll(t, s, 0, store.FeedAllVersions, 0)
		if len(cs) == 2 {
			if c := cs[1]; c.Op != store.FeedDelete || !c.TTLExpired || string(c.Previous) != "v" {
				t.Fatalf("expiry %+v", c)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no expiry record: %+v", cs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFeedBatchAcrossExpired(t *testing.T) {
	clk := storetest.NewClock()
	s := newTest(t, Options{Partitions: 1, FeedLogAlways: true, Now: clk.Now, ExpirySweepInterval: -1})
	s.Set(ctx, "c", []byte("a"), []byte("old"), time.Second)
	clk.Advance(2 * time.Second)
	err := s.SetBatch(ctx, "c", []store.Item{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("2")}})
	if err != nil {
		t.Fatal(err)
	}
	cs := readAll(t, s, 0, store.FeedAllVersions, 0)
	// create a(old) 1; expiry 2; batch 3..5.
	if len(cs) != 5 || !cs[1].TTLExpired || cs[2].BatchEnd != 5 || cs[4].BatchEnd != 5 || cs[1].BatchEnd != 0 {
		t.Fatalf("changes %+v", cs)
	}
	page, err := s.ReadFeed(ctx, "c", store.FeedRead{PageSizeHint: 1})
	if err != nil || len(page.Changes) != 2 || page.LastLSN != 5 {
		t.Fatalf("latest page with hint 1: %+v, %v", page, err)
	}
}

// TestFeedIndexShrinksOnDeletes: deleting most items compacts the index, so
// that it does not keep the removed items alive.
func TestFeedIndexShrinksOnDeletes(t *testing.T) {
	s := newTest(t, Options{Partitions: 1})
	for i := range 10000 {
		s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i), []byte("v"), 0)
	}
	for i := range 9900 {
		s.Delete(ctx, "c", fmt.Appendf(nil, "k%d", i))
	}
	p := &s.catalog.Load().byName["c"].parts[0]
	if n := p.feed.n(); n > 2*p.items.len()+minCompact {
		t.Fatalf("index of %d entries for %d items", n, p.items.len())
	}
	if cs := readAll(t, s, 0, store.FeedLatestVersion, 0); len(cs) != 100 {
		t.Fatalf("%d changes for 100 live items", len(cs))
	}
}

// TestFeedIndexIncrementalCompaction reads the latest-version feed at every
// step of a running compaction: the gap it leaves must be invisible (same
// changes, same positions, lookups by item and by time still exact) and no
// commit moves more than compactStep entries.
func TestFeedIndexIncrementalCompaction(t *testing.T) {
	s := newTest(t, Options{Partitions: 1})
	const keys = 100
	for i := range 3 * minCompact {
		s.Set(ctx, "c", fmt.Appendf(nil, "k%d", i%keys), fmt.Appendf(nil, "%d", i), 0)
	}
	p := &s.catalog.Load().byName["c"].parts[0]
	want := map[string]string{}
	for i := range keys {
		v, _, _ := s.Get(ctx, "c", fmt.Appendf(nil, "k%d", i))
		want[fmt.Sprintf("k%d", i)] = string(v)
	}
	check := func(step int) {
		t.Helper()
		cs := readAll(t, s, 0, store.FeedLatestVersion, 0)
		if len(cs) != keys {
			t.Fatalf("step %d: %d changes for %d keys", step, len(cs), keys)
		}
		for j, c := range cs {
			if want[string(c.Key)] != string(c.Value) || j > 0 && cs[j-1].LSN >= c.LSN {
				t.Fatalf("step %d: change %d %q=%q (LSN %d), want %q in LSN order", step, j, c.Key, c.Value, c.LSN, want[string(c.Key)])
			}
		}
		p.mu.RLock()
		for it := range p.items.all() {
			if !indexed(p, it) {
				t.Fatalf("step %d: %q is not found in the index", step, it.key())
			}
		}
		p.mu.RUnlock()
	}
	sawGap := false
	for step := 0; step < 4*minCompact; step++ {
		p.mu.Lock()
		before, gapBefore := p.feed.n(), p.feed.cr-p.feed.cw
		compacting := p.feed.compacting
		p.mu.Unlock()
		k := fmt.Sprintf("k%d", step%keys)
		v := fmt.Sprintf("s%d", step)
		s.Set(ctx, "c", []byte(k), []byte(v), 0)
		want[k] = v
		p.mu.Lock()
		after, gapAfter := p.feed.n(), p.feed.cr-p.feed.cw
		p.mu.Unlock()
		if compacting && gapAfter > 0 && gapAfter-gapBefore > compactStep {
			t.Fatalf("step %d: one commit dropped %d entries", step, gapAfter-gapBefore)
		}
		if before-after > compactStep {
			t.Fatalf("step %d: index shrank by %d entries in one commit", step, before-after)
		}
		if gapAfter > 0 {
			sawGap = true
		}
		if step%97 == 0 || gapAfter > 0 && step%7 == 0 {
			check(step)
		}
	}
	if !sawGap {
		t.Fatal("no compaction ran")
	}
	check(-1)
}
