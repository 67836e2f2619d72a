package memstore

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics/topicstest"
)

var quiet = slog.New(slog.DiscardHandler)

// openP opens a persistent store and topic log in dir.
func openP(t testing.TB, dir string, opts Options, popts PersistOptions) (*Store, *TopicLog) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	popts.Dir = dir
	s, tl, err := Open(opts, TopicLogOptions{}, popts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	checkPartitionBytes(t, s)
	return s, tl
}

// checkPartitionBytes verifies that a restore accounted each partition's
// bytes (stats.go) as the items it put back.
func checkPartitionBytes(t testing.TB, s *Store) {
	t.Helper()
	for _, c := range s.catalog.Load().list {
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			var sum int64
			for it := range p.items.all() {
				sum += it.size()
			}
			if p.bytes != sum {
				t.Errorf("after restore, cache %s partition %d: bytes = %d, its items account for %d", c.name, i, p.bytes, sum)
			}
			p.mu.RUnlock()
		}
	}
}

func closeP(t testing.TB, s *Store, tl *TopicLog) {
	t.Helper()
	tl.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// dump renders everything a restart must keep, with times as wall clock.
func dump(s *Store, tl *TopicLog) string {
	var b strings.Builder
	base := s.clock.base.UnixNano()
	w := func(n int64) int64 {
		if n == 0 {
			return 0
		}
		return base + n
	}
	at := func(n int64) int64 { return base + n }
	cat := s.catalog.Load()
	names := make([]string, 0, len(cat.byName))
	for n := range cat.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := cat.byName[n]
		fmt.Fprintf(&b, "cache %s epoch=%d parts=%d scheme=%d tiling=%d attrs=%v\n", c.name, c.epoch, len(c.parts), c.scheme, c.tiling, c.attrs)
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			fmt.Fprintf(&b, " part %d lsn=%d logOn=%v floor=%d\n", i, p.lsn, p.feed.logOn, p.logFloor())
			var keys []string
			for it := range p.items.all() {
				k := it.key()
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				it := p.items.getStr(k)
				fmt.Fprintf(&b, "  item %q kind=%v exp=%d lsn=%d %s\n", k, it.kind, w(it.expires), it.lsn, collString(it))
			}
			for k := range p.feed.n() {
				if e := p.feed.entry(k); e.current() && p.items.getStr(e.it.key()) == e.it {
					fmt.Fprintf(&b, "  idx %d at=%d span=%d op=%v %q\n", e.lsn, at(e.it.at), e.it.span, e.it.op, e.it.key())
				}
			}
			l := &p.feed.log
			for k := range l.n {
				r := l.at(k)
				fmt.Fprintf(&b, "  log %d prev=%d at=%d %q v=%q p=%q span=%d op=%v kind=%v pk=%v hp=%v ttl=%v\n",
					r.lsn, r.prevLSN, at(r.at), r.key, r.value, r.prev, r.span, r.op, r.kind, r.prevKind, r.hasPrev, r.ttl)
			}
			p.mu.RUnlock()
		}
	}
	s.recMu.Lock()
	var nss []string
	for ns := range s.recs.byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		var ks []string
		for k := range s.recs.byNS[ns] {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(&b, "record %s/%s=%q\n", ns, k, s.recs.byNS[ns][k])
		}
	}
	s.recMu.Unlock()
	if tl != nil {
		tl.mu.RLock()
		var cs []string
		for c := range tl.caches {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		for _, cn := range cs {
			c := tl.caches[cn]
			fmt.Fprintf(&b, "topics %s epoch=%d dead=%v\n", cn, c.epoch, c.dead)
			var ts []string
			for n := range c.topics {
				ts = append(ts, n)
			}
			sort.Strings(ts)
			for _, n := range ts {
				t := c.topics[n]
				st, msgs, _ := t.read(0, 1<<30)
				fmt.Fprintf(&b, " topic %s %+v\n", n, st)
				for _, m := range msgs {
					fmt.Fprintf(&b, "  msg %d %q bin=%v pub=%q\n", m.Seq, m.Value.Data, m.Value.Binary, m.PublisherID)
				}
			}
		}
		tl.mu.RUnlock()
	}
	return b.String()
}

func collString(it *item) string {
	switch c := it.collection().(type) {
	case nil:
		return fmt.Sprintf("%q", it.value())
	case *dict:
		var kv []string
		for k, v := range c.m {
			kv = append(kv, fmt.Sprintf("%q:%q", k, v))
		}
		sort.Strings(kv)
		return fmt.Sprintf("dict{%s} mem=%d", strings.Join(kv, ","), c.bytes)
	case *set:
		var es []string
		for e := range c.m {
			es = append(es, e)
		}
		sort.Strings(es)
		return fmt.Sprintf("set%q mem=%d", es, c.bytes)
	case *list:
		return fmt.Sprintf("list%q mem=%d", c.values(), c.bytes)
	case *zset:
		var es []string
		for x := c.head.lv[0].next; x != nil; x = x.lv[0].next {
			es = append(es, fmt.Sprintf("%q=%g", x.val, x.score))
		}
		return fmt.Sprintf("zset%v mem=%d", es, c.bytes)
	}
	return "?"
}

// testClock is a manual clock shared by a store and its reopenings.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_800_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// workload runs a random mix of every kind of change against s and tl.
func workload(t testing.TB, rng *rand.Rand, s *Store, tl *TopicLog, clk *testClock, n int) {
	t.Helper()
	ctx := context.Background()
	caches := []string{"a", "b"}
	for _, c := range caches {
		if _, err := s.CreateCache(ctx, c, store.CacheConfig{Attrs: map[string]string{"cosmos.rid": "r-" + c}}); err != nil && !strings.Contains(err.Error(), "exists") {
			t.Fatal(err)
		}
	}
	key := func() []byte { return fmt.Appendf(nil, "k%d", rng.IntN(24)) }
	val := func() []byte { return fmt.Appendf(nil, "v%d", rng.IntN(1000)) }
	ttl := func() time.Duration {
		if rng.IntN(3) == 0 {
			return time.Duration(1+rng.IntN(20)) * time.Second
		}
		return 0
	}
	cttl := store.CollectionTTL{TTL: ttl(), Refresh: rng.IntN(2) == 0}
	for range n {
		c := caches[rng.IntN(len(caches))]
		info, _ := s.CacheInfo(ctx, c)
		var err error
		switch rng.IntN(26) {
		case 0, 1, 2:
			err = s.Set(ctx, c, key(), val(), ttl())
		case 3:
			err = s.Delete(ctx, c, key())
		case 4:
			items := make([]store.Item, 1+rng.IntN(5))
			for i := range items {
				items[i] = store.Item{Key: key(), Value: val(), TTL: ttl()}
			}
			err = s.SetBatch(ctx, c, items)
		case 5:
			_, err = s.SetIf(ctx, c, key(), val(), ttl(), store.Condition{Kind: store.CondAbsent})
		case 6:
			_, err = s.Increment(ctx, c, []byte("counter"), int64(rng.IntN(9)), ttl())
		case 7:
			_, err = s.UpdateTTL(ctx, c, key(), store.TTLOverwrite, time.Duration(1+rng.IntN(30))*time.Second)
		case 8:
			err = s.DictionarySet(ctx, c, []byte("d"+string(key())), []store.FieldValue{{Field: val(), Value: val()}}, cttl)
		case 9:
			err = s.DictionaryDelete(ctx, c, []byte("d"+string(key())), [][]byte{val(), val()})
		case 10:
			_, err = s.DictionaryIncrement(ctx, c, []byte("dc"), []byte("f"), 3, cttl)
		case 11:
			err = s.SetAdd(ctx, c, []byte("s"+string(key())), [][]byte{val(), val()}, cttl)
		case 12:
			_, _, err = s.SetPop(ctx, c, []byte("s"+string(key())), 1)
		case 13:
			_, err = s.ListPush(ctx, c, []byte("l"+string(key())), [][]byte{val(), val()}, rng.IntN(2) == 0, rng.IntN(6), cttl)
		case 14:
			_, _, _, err = s.ListPop(ctx, c, []byte("l"+string(key())), rng.IntN(2) == 0)
		case 15:
			_, _, err = s.ListRemove(ctx, c, []byte("l"+string(key())), val())
		case 16:
			_, _, err = s.ListRetain(ctx, c, []byte("l"+string(key())), 0, 2, store.CollectionTTL{})
		case 17:
			err = s.SortedSetPut(ctx, c, []byte("z"+string(key())), []store.ScoredElement{{Value: val(), Score: rng.Float64()}}, cttl)
		case 18:
			err = s.SortedSetRemove(ctx, c, []byte("z"+string(key())), [][]byte{val()})
		case 19:
			_, err = s.SortedSetUnionStore(ctx, c, []byte("zu"), []store.UnionSource{{Key: []byte("z" + string(key())), Weight: 2}}, store.AggregateSum, ttl())
		case 20:
			clk.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			s.sweep()
		case 21:
			_, err = s.ReadFeed(ctx, c, store.FeedRead{Partition: rng.IntN(info.Partitions), Mode: store.FeedAllVersions, Start: store.FeedFromNow})
		case 22:
			err = s.PutRecord(ctx, "ns", string(key()), val())
		case 23:
			if rng.IntN(10) == 0 {
				err = s.FlushCache(ctx, c)
			} else {
				err = s.DeleteRecord(ctx, "ns", string(key()))
			}
		case 24:
			if rng.IntN(20) == 0 {
				if err = s.DeleteCache(ctx, c); err == nil {
					tl.DropCache(ctx, c, info.Epoch)
					_, err = s.CreateCache(ctx, c, store.CacheConfig{Partitions: 1 + rng.IntN(3), KeyScheme: store.KeyCosmosV2, Tiling: store.Tiling(rng.IntN(2))})
				}
			}
		case 25:
			_, _, err = tl.Append(ctx, store.TopicRef{Cache: c, Epoch: info.Epoch, Name: "t" + string(key())}, store.TopicValue{Data: val(), Binary: rng.IntN(2) == 0}, "pub")
		}
		if err != nil && !isExpected(err) {
			t.Fatalf("workload: %v", err)
		}
	}
}

func isExpected(err error) bool {
	s := err.Error()
	return strings.Contains(s, "another type") || strings.Contains(s, "not a base-10")
}

// TestPersistRoundTrip: after a clean close, a reopen holds exactly what
// the store held, with and without snapshots in between.
func TestPersistRoundTrip(t *testing.T) {
	for _, snapEvery := range []int{0, 150} {
		t.Run(fmt.Sprintf("snapshot-every-%d", snapEvery), func(t *testing.T) {
			dir := t.TempDir()
			clk := newTestClock()
			opts := Options{Now: clk.Now, ExpirySweepInterval: -1, FeedLogRecords: 64}
			popts := PersistOptions{Fsync: wal.FsyncNo, SnapshotAfter: -1}
			rng := rand.New(rand.NewPCG(1, uint64(snapEvery)))
			var want string
			for round := range 4 {
				s, tl := openP(t, dir, opts, popts)
				if got := dump(s, tl); round > 0 && got != want {
					t.Fatalf("round %d: restored state differs:\n%s", round, diff(want, got))
				}
				for range 3 {
					workload(t, rng, s, tl, clk, 200)
					if snapEvery > 0 {
						if err := s.Snapshot(); err != nil {
							t.Fatal(err)
						}
					}
				}
				want = dump(s, tl)
				closeP(t, s, tl)
			}
			if snapEvery > 0 {
				segs, _ := wal.ListSegments(dir)
				snaps, _ := listSnapshots(dir)
				if len(snaps) != 1 || len(segs) > 2 {
					t.Fatalf("compaction left snapshots %v and segments %v", snaps, segs)
				}
			}
		})
	}
}

func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, w, g)
		}
	}
	return "equal"
}

// newPersistentStore is the engine suites' factory: a persistent store in
// a temporary directory that, when the test ends, is closed, reopened and
// must hold exactly what it held.
func newPersistentStore(t *testing.T, now func() time.Time) store.Store {
	dir := t.TempDir()
	opts := Options{Now: now, Logger: quiet}
	s, tl := openP(t, dir, opts, PersistOptions{Fsync: wal.FsyncNo})
	t.Cleanup(func() {
		want := dump(s, nil)
		closeP(t, s, tl)
		s2, tl2 := openP(t, dir, Options{Now: now, Logger: quiet, ExpirySweepInterval: -1}, PersistOptions{Fsync: wal.FsyncNo})
		defer closeP(t, s2, tl2)
		if got := dump(s2, nil); got != want {
			t.Errorf("reopened store differs:\n%s", diff(want, got))
		}
	})
	return s
}

func TestSuitePersistent(t *testing.T) {
	storetest.Run(t, newPersistentStore)
}

func newPersistentTopicLog(t *testing.T, limits storetest.TopicLimits) store.TopicLog {
	s, tl := openP(t, t.TempDir(), Options{}, PersistOptions{Fsync: wal.FsyncNo})
	t.Cleanup(func() { s.Close() })
	tl.opts.MaxMessages = limits.MaxMessages
	if limits.MaxMessages <= 0 {
		tl.opts.MaxMessages = DefaultTopicMessages
	}
	return tl
}

func TestTopicLogSuitePersistent(t *testing.T) { storetest.RunTopicLog(t, newPersistentTopicLog) }

func TestHubSuitePersistent(t *testing.T) { topicstest.Run(t, newPersistentTopicLog) }

var _ = []any{os.Remove, filepath.Join, reflect.DeepEqual, slices.Sort[[]int]}

// Snapshots taken while writers run lose nothing: the reopened store is
// the closed one.
func TestPersistConcurrentSnapshots(t *testing.T) {
	dir := t.TempDir()
	s, tl := openP(t, dir, Options{FeedLogAlways: true}, PersistOptions{Fsync: wal.FsyncEverySec, SnapshotAfter: -1})
	info, err := s.CreateCache(bg, "c", store.CacheConfig{Partitions: 4})
	must(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range 400 {
				k := fmt.Appendf(nil, "w%d-%d", w, rng.IntN(40))
				var err error
				switch i % 5 {
				case 0:
					err = s.Set(bg, "c", k, fmt.Appendf(nil, "%d", i), 0)
				case 1:
					_, err = s.ListPush(bg, "c", append([]byte("l"), k...), [][]byte{fmt.Appendf(nil, "%d", i)}, false, 5, store.CollectionTTL{})
				case 2:
					err = s.DictionarySet(bg, "c", append([]byte("d"), k...), []store.FieldValue{{Field: k, Value: []byte("v")}}, store.CollectionTTL{})
				case 3:
					err = s.Delete(bg, "c", k)
				case 4:
					_, _, err = tl.Append(bg, store.TopicRef{Cache: "c", Epoch: info.Epoch, Name: fmt.Sprint("t", w)}, store.TopicValue{Data: k}, "")
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	snaps := make(chan error)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				snaps <- nil
				return
			default:
			}
			if err := s.Snapshot(); err != nil {
				snaps <- err
				return
			}
			n++
		}
	}()
	wg.Wait()
	close(stop)
	must(t, <-snaps)
	want := dump(s, tl)
	closeP(t, s, tl)
	s, tl = openP(t, dir, Options{FeedLogAlways: true}, noSnap)
	defer closeP(t, s, tl)
	if got := dump(s, tl); got != want {
		t.Fatalf("reopened after concurrent snapshots:\n%s", diff(want, got))
	}
}
