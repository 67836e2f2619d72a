package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

var feedTests = []struct {
	name string
	fn   func(t *testing.T, e *env)
}{
	{"FeedRanges", testFeedRanges},
	{"FeedLatestVersion", testFeedLatestVersion},
	{"FeedAllVersions", testFeedAllVersions},
	{"FeedPaging", testFeedPaging},
	{"FeedBatchNotSplit", testFeedBatchNotSplit},
	{"FeedNow", testFeedNow},
	{"FeedPointInTime", testFeedPointInTime},
	{"FeedPartitionKey", testFeedPartitionKey},
	{"FeedEPKSubRange", testFeedEPKSubRange},
	{"FeedEpoch", testFeedEpoch},
	{"FeedFlush", testFeedFlush},
	{"FeedExpiry", testFeedExpiry},
	{"FeedCollections", testFeedCollections},
	{"FeedInvalid", testFeedInvalid},
}

func (e *env) ranges() []store.FeedRange {
	e.t.Helper()
	info, err := e.s.CacheInfo(e.ctx, e.cache)
	if err != nil {
		e.t.Fatalf("CacheInfo: %v", err)
	}
	return store.FeedRanges(info)
}

func (e *env) partitionOf(key string) int {
	return epk.PartitionOfKey([]byte(key), len(e.ranges()))
}

// readPart reads one partition to its end from after, in pages of size, and
// returns every change and the final position.
func (e *env) readPart(r store.FeedRead) ([]store.Change, uint64) {
	e.t.Helper()
	var out []store.Change
	for range 100000 {
		page, err := e.s.ReadFeed(e.ctx, e.cache, r)
		if err != nil {
			e.t.Fatalf("ReadFeed(%+v): %v", r, err)
		}
		if page.NotModified != (len(page.Changes) == 0) {
			e.t.Fatalf("NotModified = %v with %d changes", page.NotModified, len(page.Changes))
		}
		for _, c := range page.Changes {
			if c.LSN <= r.AfterLSN && r.Start == store.FeedFromLSN || c.LSN > page.LastLSN {
				e.t.Fatalf("change LSN %d outside (%d, %d]", c.LSN, r.AfterLSN, page.LastLSN)
			}
		}
		out = append(out, page.Changes...)
		r.Start, r.AfterLSN = store.FeedFromLSN, page.LastLSN
		if page.NotModified {
			return out, page.LastLSN
		}
	}
	e.t.Fatal("feed never ends")
	return nil, 0
}

// avadNow starts an all-versions reader at Now on every partition, as
// all-versions readers must start, and returns the positions.
func (e *env) avadNow() []uint64 {
	e.t.Helper()
	var pos []uint64
	for _, r := range e.ranges() {
		page, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: r.Partition, Mode: store.FeedAllVersions, Start: store.FeedFromNow})
		if err != nil || !page.NotModified {
			e.t.Fatalf("all versions from now: %+v, %v", page, err)
		}
		pos = append(pos, page.LastLSN)
	}
	return pos
}

// readAllParts reads every partition from the beginning.
func (e *env) readAllParts(mode store.FeedMode) []store.Change {
	e.t.Helper()
	var out []store.Change
	for _, r := range e.ranges() {
		cs, _ := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode})
		out = append(out, cs...)
	}
	return out
}

func summary(cs []store.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s=%s", c.Op, c.Key, c.Value)
		if c.HasPrevious {
			fmt.Fprintf(&b, " prev=%s", c.Previous)
		}
		if c.TTLExpired {
			b.WriteString(" ttl")
		}
		b.WriteString("; ")
	}
	return b.String()
}

func byKey(cs []store.Change) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s=%s", c.Op, c.Key, c.Value))
	}
	slices.Sort(out)
	return out
}

func testFeedRanges(t *testing.T, e *env) {
	info, _ := e.info(e.cache)
	rs := e.ranges()
	if len(rs) != info.Partitions || len(rs) == 0 {
		t.Fatalf("%d ranges for %d partitions", len(rs), info.Partitions)
	}
	if rs[0].MinEPK != "" || rs[len(rs)-1].MaxEPK != "FF" {
		t.Fatalf("ranges do not cover \"\"..FF: %+v", rs)
	}
	for i, r := range rs {
		if r.Partition != i || r.ID != fmt.Sprint(i) || r.MinEPK >= r.MaxEPK || i > 0 && rs[i-1].MaxEPK != r.MinEPK {
			t.Fatalf("range %d: %+v", i, r)
		}
	}
	// Every key's EPK falls in the range of the partition that owns it.
	for i := range 200 {
		k := fmt.Sprint("k", i)
		h := epk.V2(k)
		r := rs[e.partitionOf(k)]
		if h < r.MinEPK || h >= r.MaxEPK {
			t.Fatalf("EPK %s of %q outside its range %+v", h, k, r)
		}
	}
}

func testFeedLatestVersion(t *testing.T, e *env) {
	if cs := e.readAllParts(store.FeedLatestVersion); len(cs) != 0 {
		t.Fatalf("empty cache has changes: %s", summary(cs))
	}
	e.set("a", "1", 0)
	e.set("b", "1", 0)
	e.set("c", "1", 0)
	e.set("a", "2", 0)
	if err := e.s.Delete(e.ctx, e.cache, []byte("b")); err != nil {
		t.Fatal(err)
	}
	cs := e.readAllParts(store.FeedLatestVersion)
	want := []string{"create c=1", "replace a=2"}
	if got := byKey(cs); !slices.Equal(got, want) {
		t.Fatalf("latest version = %q, want %q", got, want)
	}
	for _, c := range cs {
		if m := e.meta(string(c.Key)); m.LSN != c.LSN || m.Partition != e.partitionOf(string(c.Key)) {
			t.Fatalf("change %+v, item meta %+v", c, m)
		}
		if c.HasPrevious || c.CommitTime.IsZero() || time.Since(c.CommitTime) > time.Minute {
			t.Fatalf("change %+v", c)
		}
	}
}

func testFeedAllVersions(t *testing.T, e *env) {
	e.set("before", "1", 0)
	p := e.partitionOf("a")
	// All versions cannot be read from the beginning.
	_, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: e.partitionOf("before"), Mode: store.FeedAllVersions})
	wantErr(t, "all versions from the beginning", err, errs.ErrFeedRetention)
	start := e.avadNow()[p]
	e.set("a", "1", 0)
	e.set("a", "2", 0)
	if err := e.s.Delete(e.ctx, e.cache, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Delete(e.ctx, e.cache, []byte("a")); err != nil { // no change
		t.Fatal(err)
	}
	e.set("a", "3", 0)
	cs, last := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: start})
	want := "create a=1; replace a=2 prev=1; delete a= prev=2; create a=3; "
	if got := summary(cs); got != want {
		t.Fatalf("all versions = %s, want %s", got, want)
	}
	for i, c := range cs {
		if c.LSN != start+uint64(i+1) {
			t.Fatalf("change %d has LSN %d after %d: LSNs must grow by one", i, c.LSN, start)
		}
		if i > 0 && c.HasPrevious && c.PreviousLSN != cs[i-1].LSN {
			t.Fatalf("change %d: previous image LSN %d, want %d", i, c.PreviousLSN, cs[i-1].LSN)
		}
	}
	if last != start+4 || e.meta("a").LSN != start+4 {
		t.Fatalf("last position %d, item LSN %d; want %d", last, e.meta("a").LSN, start+4)
	}
}

func testFeedPaging(t *testing.T, e *env) {
	pos := e.avadNow()
	for i := range 60 {
		e.set(fmt.Sprint("k", i%25), fmt.Sprint(i), 0)
	}
	for _, mode := range []store.FeedMode{store.FeedLatestVersion, store.FeedAllVersions} {
		for _, r := range e.ranges() {
			whole, wl := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode, PageSizeHint: 1000, AfterLSN: pos[r.Partition]})
			paged, pl := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode, PageSizeHint: 3, AfterLSN: pos[r.Partition]})
			if summary(whole) != summary(paged) || wl != pl {
				t.Fatalf("%v partition %d: pages of 3 = %s (%d), one page = %s (%d)", mode, r.Partition, summary(paged), pl, summary(whole), wl)
			}
			page, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: r.Partition, Mode: mode, PageSizeHint: 3, AfterLSN: pos[r.Partition]})
			if err != nil || len(page.Changes) > 3 {
				t.Fatalf("page of hint 3: %d changes, %v", len(page.Changes), err)
			}
		}
	}
}

func testFeedBatchNotSplit(t *testing.T, e *env) {
	pos := e.avadNow()
	e.set("before", "x", 0)
	var items []store.Item
	for i := range 40 {
		items = append(items, store.Item{Key: fmt.Appendf(nil, "batch-%d", i), Value: []byte("v")})
	}
	if err := e.s.SetBatch(e.ctx, e.cache, items); err != nil {
		t.Fatal(err)
	}
	e.set("after", "y", 0)
	perPart := map[int]int{}
	for _, it := range items {
		perPart[e.partitionOf(string(it.Key))]++
	}
	for _, mode := range []store.FeedMode{store.FeedLatestVersion, store.FeedAllVersions} {
		for _, r := range e.ranges() {
			read := store.FeedRead{Partition: r.Partition, Mode: mode, PageSizeHint: 1, AfterLSN: pos[r.Partition]}
			seen := 0
			for {
				page, err := e.s.ReadFeed(e.ctx, e.cache, read)
				if err != nil {
					t.Fatal(err)
				}
				if page.NotModified {
					break
				}
				n := 0
				for _, c := range page.Changes {
					if strings.HasPrefix(string(c.Key), "batch-") {
						n++
					}
				}
				if n > 0 && n != perPart[r.Partition] {
					t.Fatalf("%v partition %d: a page holds %d of the batch's %d changes: %s", mode, r.Partition, n, perPart[r.Partition], summary(page.Changes))
				}
				if n > 1 && page.Changes[0].BatchEnd != page.Changes[len(page.Changes)-1].LSN {
					t.Fatalf("BatchEnd %d, last LSN %d", page.Changes[0].BatchEnd, page.Changes[len(page.Changes)-1].LSN)
				}
				seen += n
				read.AfterLSN = page.LastLSN
			}
			if seen != perPart[r.Partition] {
				t.Fatalf("%v partition %d: saw %d batch changes, want %d", mode, r.Partition, seen, perPart[r.Partition])
			}
		}
	}
}

func testFeedNow(t *testing.T, e *env) {
	e.set("old", "1", 0)
	p := e.partitionOf("old")
	page, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: p, Start: store.FeedFromNow, Mode: store.FeedAllVersions})
	if err != nil || !page.NotModified || page.LastLSN != e.meta("old").LSN {
		t.Fatalf("from now: %+v, %v", page, err)
	}
	e.set("old", "2", 0)
	for _, mode := range []store.FeedMode{store.FeedLatestVersion, store.FeedAllVersions} {
		cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: mode, AfterLSN: page.LastLSN})
		if got := byKey(cs); !slices.Equal(got, []string{"replace old=2"}) {
			t.Fatalf("%v after now: %q", mode, got)
		}
	}
}

func testFeedPointInTime(t *testing.T, e *env) {
	e.set("a", "1", 0)
	e.clock.Advance(time.Second)
	at := e.clock.Now()
	e.clock.Advance(time.Second)
	e.set("b", "1", 0)
	var got []store.Change
	for _, r := range e.ranges() {
		cs, _ := e.readPart(store.FeedRead{Partition: r.Partition, Start: store.FeedFromTime, StartTime: at})
		got = append(got, cs...)
	}
	if s := byKey(got); !slices.Equal(s, []string{"create b=1"}) {
		t.Fatalf("from %v: %q", at, s)
	}
	got = got[:0]
	for _, r := range e.ranges() {
		cs, _ := e.readPart(store.FeedRead{Partition: r.Partition, Start: store.FeedFromTime, StartTime: at.Add(-time.Hour)})
		got = append(got, cs...)
	}
	if s := byKey(got); !slices.Equal(s, []string{"create a=1", "create b=1"}) {
		t.Fatalf("from an hour ago: %q", s)
	}
}

func testFeedPartitionKey(t *testing.T, e *env) {
	pos := e.avadNow()
	for i := range 30 {
		e.set(fmt.Sprint("k", i%6), fmt.Sprint(i), 0)
	}
	p := e.partitionOf("k3")
	cs, last := e.readPart(store.FeedRead{Partition: p, PartitionKey: []byte("k3")})
	if got := byKey(cs); !slices.Equal(got, []string{"replace k3=27"}) {
		t.Fatalf("latest for k3: %q", got)
	}
	if cs, _ := e.readPart(store.FeedRead{Partition: p, PartitionKey: []byte("k3"), AfterLSN: last}); len(cs) != 0 {
		t.Fatalf("k3 after %d: %s", last, summary(cs))
	}
	cs, _ = e.readPart(store.FeedRead{Partition: p, PartitionKey: []byte("k3"), Mode: store.FeedAllVersions, PageSizeHint: 2, AfterLSN: pos[p]})
	if len(cs) != 5 || string(cs[4].Value) != "27" || string(cs[4].Previous) != "21" {
		t.Fatalf("all versions for k3: %s", summary(cs))
	}
	e.set("k3", "x", 0)
	if cs, _ := e.readPart(store.FeedRead{Partition: p, PartitionKey: []byte("k3"), AfterLSN: last}); len(cs) != 1 {
		t.Fatalf("k3 after %d: %s", last, summary(cs))
	}
	// A key of another partition is refused.
	for i := range 100 {
		k := fmt.Sprint("other", i)
		if e.partitionOf(k) != p {
			_, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: p, PartitionKey: []byte(k)})
			wantErr(t, "key of another partition", err, errs.ErrInvalidArgument)
			break
		}
	}
}

func testFeedEPKSubRange(t *testing.T, e *env) {
	pos := e.avadNow()
	for i := range 200 {
		e.set(fmt.Sprint("k", i), "v", 0)
	}
	for _, r := range e.ranges() {
		// Split the range at the median EPK of its items.
		whole, _ := e.readPart(store.FeedRead{Partition: r.Partition})
		var hs []string
		for _, c := range whole {
			hs = append(hs, epk.V2(string(c.Key)))
		}
		if len(hs) < 2 {
			continue
		}
		slices.Sort(hs)
		mid := hs[len(hs)/2]
		for _, mode := range []store.FeedMode{store.FeedLatestVersion, store.FeedAllVersions} {
			at := pos[r.Partition]
			whole, _ := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode, AfterLSN: at})
			lo, _ := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode, MinEPK: r.MinEPK, MaxEPK: mid, PageSizeHint: 7, AfterLSN: at})
			hi, _ := e.readPart(store.FeedRead{Partition: r.Partition, Mode: mode, MinEPK: mid, MaxEPK: r.MaxEPK, PageSizeHint: 7, AfterLSN: at})
			for _, c := range lo {
				if h := epk.V2(string(c.Key)); h >= mid {
					t.Fatalf("EPK %s in [%s, %s)", h, r.MinEPK, mid)
				}
			}
			if got, want := byKey(append(lo, hi...)), byKey(whole); !slices.Equal(got, want) || len(lo) == 0 || len(hi) == 0 {
				t.Fatalf("%v partition %d: halves %d+%d changes, whole %d", mode, r.Partition, len(lo), len(hi), len(whole))
			}
		}
	}
}

func testFeedEpoch(t *testing.T, e *env) {
	info, _ := e.info(e.cache)
	e.set("a", "1", 0)
	page, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: e.partitionOf("a"), Epoch: info.Epoch})
	if err != nil || len(page.Changes) != 1 || page.Epoch != info.Epoch {
		t.Fatalf("read at the current epoch: %+v, %v", page, err)
	}
	if err := e.s.DeleteCache(e.ctx, e.cache); err != nil {
		t.Fatal(err)
	}
	if err := e.create(e.cache); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: 0, Epoch: info.Epoch})
	wantErr(t, "read at the old epoch", err, errs.ErrFeedEpoch)
	_, err = e.s.ReadFeed(e.ctx, "no-such-cache-"+e.cache, store.FeedRead{})
	wantErr(t, "missing cache", err, errs.ErrCacheNotFound)
}

func testFeedFlush(t *testing.T, e *env) {
	p := e.partitionOf("a")
	pos := e.avadNow()
	e.set("a", "1", 0)
	if err := e.s.FlushCache(e.ctx, e.cache); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: pos[p]})
	wantErr(t, "all versions across a flush", err, errs.ErrFeedRetention)
	if cs := e.readAllParts(store.FeedLatestVersion); len(cs) != 0 {
		t.Fatalf("latest version after flush: %s", summary(cs))
	}
	now, err := e.s.ReadFeed(e.ctx, e.cache, store.FeedRead{Partition: p, Start: store.FeedFromNow, Mode: store.FeedAllVersions})
	if err != nil {
		t.Fatal(err)
	}
	e.set("a", "2", 0)
	cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: now.LastLSN})
	if summary(cs) != "create a=2; " {
		t.Fatalf("after flush: %s", summary(cs))
	}
	if e.meta("a").LSN <= 1 {
		t.Fatalf("LSN went back after a flush: %d", e.meta("a").LSN)
	}
}

func testFeedExpiry(t *testing.T, e *env) {
	p := e.partitionOf("gone")
	pos := e.avadNow()
	e.set("gone", "1", time.Minute)
	e.set("kept", "1", 0)
	e.clock.Advance(time.Minute)
	// Invisible to latest-version reads at once.
	for _, c := range e.readAllParts(store.FeedLatestVersion) {
		if string(c.Key) == "gone" {
			t.Fatalf("expired item in the latest-version feed: %+v", c)
		}
	}
	// A delete with TTLExpired once purged: actively, or by this write.
	e.set("gone", "2", 0)
	cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, PartitionKey: []byte("gone"), AfterLSN: pos[p]})
	if got := summary(cs); got != "create gone=1; delete gone= prev=1 ttl; create gone=2; " {
		t.Fatalf("expiry in all versions: %s", got)
	}
}

func testFeedCollections(t *testing.T, e *env) {
	k := []byte("d")
	p := e.partitionOf("d")
	pos := e.avadNow()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, store.CollectionTTL{}))
	must(e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("g"), Value: []byte("v")}, {Field: []byte("h"), Value: []byte("v")}}, store.CollectionTTL{}))
	must(e.s.DictionaryDelete(e.ctx, e.cache, k, [][]byte{[]byte("f"), []byte("g"), []byte("h")}))
	cs, _ := e.readPart(store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: pos[p]})
	if got := summary(cs); got != "create d=; replace d= prev=; delete d= prev=; " {
		t.Fatalf("dictionary changes: %s", got)
	}
	for _, c := range cs {
		if c.Kind != store.KindDictionary || c.HasPrevious && c.PreviousKind != store.KindDictionary {
			t.Fatalf("change %+v", c)
		}
	}
}

func testFeedInvalid(t *testing.T, e *env) {
	n := len(e.ranges())
	for _, r := range []store.FeedRead{
		{Partition: -1},
		{Partition: n},
		{AfterLSN: 1 << 60},
		{Mode: 9},
	} {
		_, err := e.s.ReadFeed(e.ctx, e.cache, r)
		wantErr(t, fmt.Sprintf("ReadFeed(%+v)", r), err, errs.ErrInvalidArgument)
	}
	_, err := e.s.ReadFeed(e.ctx, "missing-"+e.cache, store.FeedRead{})
	wantErr(t, "ReadFeed(missing)", err, errs.ErrCacheNotFound)
}
