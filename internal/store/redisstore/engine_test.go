package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

var cacheSeq atomic.Int64

func newCacheName() string {
	return fmt.Sprintf("engine-%d-%d", time.Now().UnixNano(), cacheSeq.Add(1))
}

// engine is one node on a cluster with a test clock.
type engine struct {
	t     *testing.T
	rc    redis.UniversalClient
	s     *Store
	clock *storetest.Clock
	ctx   context.Context
}

func newEngine(t *testing.T, c *redistest.Cluster, o Options) *engine {
	t.Helper()
	clock := storetest.NewClock()
	if o.Now == nil {
		o.Now = clock.Now
	}
	rc, s := dialOpts(t, c, o)
	t.Cleanup(func() { s.Close() })
	return &engine{t: t, rc: rc, s: s, clock: clock, ctx: context.Background()}
}

func (e *engine) cache(cfg store.CacheConfig) store.CacheInfo {
	e.t.Helper()
	info, err := e.s.CreateCache(e.ctx, newCacheName(), cfg)
	if err != nil {
		e.t.Fatalf("CreateCache: %v", err)
	}
	return info
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 20s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKeyLayout checks that items are where doc.go says, as native types.
func TestKeyLayout(t *testing.T) {
	e := newEngine(t, testCluster(t), Options{})
	info := e.cache(store.CacheConfig{Partitions: 4})
	ctx := e.ctx
	js, err := e.rc.HGet(ctx, "sx:{sx}:caches", info.Name).Result()
	if err != nil || !strings.Contains(js, `"epoch":`+strconv.FormatUint(info.Epoch, 10)) || !strings.Contains(js, `"partitions":4`) {
		t.Fatalf("catalog record %q, %v", js, err)
	}
	key := []byte("item")
	if err := e.s.Set(ctx, info.Name, key, []byte("value"), time.Hour); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.s.Meta(ctx, info.Name, key)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("sx:{%d.%d}:", info.Epoch, info.PartitionOf(key))
	ik := base + "i0:item"
	if typ, _ := e.rc.Type(ctx, ik).Result(); typ != "string" {
		t.Fatalf("TYPE %s = %q, want string", ik, typ)
	}
	if v, _ := e.rc.Get(ctx, ik).Result(); v != "value" {
		t.Fatalf("GET %s = %q", ik, v)
	}
	exp := m.ExpiresAt.UnixMilli()
	wantMeta := fmt.Sprintf("0 %d %d %d 1 0", m.LSN, exp, m.Modified.UnixMilli())
	if got, _ := e.rc.HGet(ctx, base+"m", "item").Result(); got != wantMeta {
		t.Fatalf("meta %q, want %q", got, wantMeta)
	}
	if sc, _ := e.rc.ZScore(ctx, base+"x", "item").Result(); uint64(sc) != m.LSN {
		t.Fatalf("index score %v, want LSN %d", sc, m.LSN)
	}
	if sc, _ := e.rc.ZScore(ctx, base+"e", "item").Result(); int64(sc) != exp {
		t.Fatalf("expiry score %v, want %d", sc, exp)
	}
	if at, _ := e.rc.PExpireTime(ctx, ik).Result(); at.Milliseconds() != exp+DefaultExpiryGrace.Milliseconds() {
		t.Fatalf("native expiry %v, want %d", at.Milliseconds(), exp+DefaultExpiryGrace.Milliseconds())
	}
	if lsn, _ := e.rc.HGet(ctx, base+"s", "lsn").Result(); lsn != strconv.FormatUint(m.LSN, 10) {
		t.Fatalf("state lsn %q, want %d", lsn, m.LSN)
	}
	// The all-versions stream exists from the first all-versions read on.
	if n, _ := e.rc.Exists(ctx, base+"l").Result(); n != 0 {
		t.Fatal("a stream before any all-versions read")
	}
	if _, err := e.s.ReadFeed(ctx, info.Name, store.FeedRead{Partition: info.PartitionOf(key), Mode: store.FeedAllVersions, Start: store.FeedFromNow}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Set(ctx, info.Name, key, []byte("v2"), 0); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.rc.XRange(ctx, base+"l", "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].ID != fmt.Sprintf("%d-0", m.LSN+1) || msgs[0].Values["v"] != "v2" || msgs[0].Values["pv"] != "value" {
		t.Fatalf("stream %+v, %v", msgs, err)
	}
	if ttl, _ := e.rc.PTTL(ctx, ik).Result(); ttl != -1 {
		t.Fatalf("PTTL after a write without TTL = %v, want none", ttl)
	}
	// Records.
	if err := e.s.PutRecord(ctx, "ns-"+info.Name, "k", []byte("r")); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.rc.HGet(ctx, "sx:{r}:ns-"+info.Name, "k").Result(); v != "r" {
		t.Fatalf("record %q", v)
	}
}

// TestBadInput checks the refusals before anything is sent.
func TestBadInput(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("New(nil client) succeeded")
	}
	single := redistest.Start(t, redistest.Options{})
	rc := redis.NewClient(&redis.Options{Addr: single.Addrs()[0]})
	defer rc.Close()
	if _, err := New(rc, Options{Partitions: -1}); err == nil {
		t.Fatal("New(Partitions -1) succeeded")
	}
	e := newEngine(t, single, Options{})
	c := e.cache(store.CacheConfig{}).Name
	ctx := e.ctx
	big := make([]byte, store.MaxItemSize)
	checks := map[string]struct {
		err  error
		want error
	}{
		"Set empty key":       {e.s.Set(ctx, c, nil, []byte("v"), 0), errs.ErrInvalidArgument},
		"Set negative TTL":    {e.s.Set(ctx, c, []byte("k"), nil, -time.Second), errs.ErrInvalidArgument},
		"Set over MaxTTL":     {e.s.Set(ctx, c, []byte("k"), nil, store.MaxTTL+1), errs.ErrInvalidArgument},
		"Set too large":       {e.s.Set(ctx, c, []byte("k"), big, 0), errs.ErrItemTooLarge},
		"SetBatch too large":  {e.s.SetBatch(ctx, c, []store.Item{{Key: []byte("a")}, {Key: []byte("k"), Value: big}}), errs.ErrItemTooLarge},
		"CreateCache bad":     {second(e.s.CreateCache(ctx, "bad name", store.CacheConfig{})), errs.ErrInvalidName},
		"CreateCache parts":   {second(e.s.CreateCache(ctx, newCacheName(), store.CacheConfig{Partitions: 1 << 20})), errs.ErrInvalidArgument},
		"Record bad name":     {e.s.PutRecord(ctx, "a b", "k", nil), errs.ErrInvalidArgument},
		"UpdateTTL zero":      {second(e.s.UpdateTTL(ctx, c, []byte("k"), store.TTLOverwrite, 0)), errs.ErrInvalidArgument},
		"DeleteKind bad kind": {second(e.s.DeleteKind(ctx, c, []byte("k"), 9)), errs.ErrInvalidArgument},
		"SetIf bad cond":      {second(e.s.SetIf(ctx, c, []byte("k"), nil, 0, store.Condition{Kind: 50})), errs.ErrInvalidArgument},
		"Get missing cache":   {third(e.s.Get(ctx, "missing-"+c, []byte("k"))), errs.ErrCacheNotFound},
	}
	for name, ch := range checks {
		if !errors.Is(ch.err, ch.want) {
			t.Errorf("%s: %v, want %v", name, ch.err, ch.want)
		}
	}
	// Nothing of the refused batch was written.
	if _, found, _ := e.s.Get(ctx, c, []byte("a")); found {
		t.Fatal("an invalid batch wrote an item")
	}
	// A done context fails a call before it is sent.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.s.Set(done, c, []byte("k"), []byte("v"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a done context: %v", err)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }

// TestSweepRecordsExpiry: the sweep purges an expired item that nobody
// touches and records it as a TTL-expiry delete with its previous image.
func TestSweepRecordsExpiry(t *testing.T) {
	e := newEngine(t, testCluster(t), Options{SweepInterval: 20 * time.Millisecond})
	info := e.cache(store.CacheConfig{Partitions: 2})
	key := []byte("soon")
	p := info.PartitionOf(key)
	now, err := e.s.ReadFeed(e.ctx, info.Name, store.FeedRead{Partition: p, Mode: store.FeedAllVersions, Start: store.FeedFromNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.Set(e.ctx, info.Name, key, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	var got []store.Change
	eventually(t, "the sweep records the expiry", func() bool {
		page, err := e.s.ReadFeed(e.ctx, info.Name, store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: now.LastLSN})
		if err != nil {
			t.Fatal(err)
		}
		got = page.Changes
		return len(got) == 2
	})
	d := got[1]
	if d.Op != store.FeedDelete || !d.TTLExpired || !d.HasPrevious || string(d.Previous) != "v" || d.PreviousLSN != got[0].LSN {
		t.Fatalf("expiry change %+v", d)
	}
	base := partBase(info.Epoch, p)
	if n, _ := e.rc.Exists(e.ctx, base+"i0:soon").Result(); n != 0 {
		t.Fatal("the swept item's key is still there")
	}
}

// TestSweepScheduledExpiry: an item that expires after the tick that swept
// its write is found through the schedule (sx:{sx}:sweep) at a later tick,
// by this node or another, and its expiry is recorded.
func TestSweepScheduledExpiry(t *testing.T) {
	c := testCluster(t)
	writer := newEngine(t, c, Options{SweepInterval: 20 * time.Millisecond})
	info := writer.cache(store.CacheConfig{Partitions: 2})
	key := []byte("later")
	p := info.PartitionOf(key)
	now, err := writer.s.ReadFeed(writer.ctx, info.Name, store.FeedRead{Partition: p, Mode: store.FeedAllVersions, Start: store.FeedFromNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.s.Set(writer.ctx, info.Name, key, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	base := partBase(info.Epoch, p)
	expiry := writer.clock.Now().Add(time.Minute).UnixMilli()
	eventually(t, "the writer's tick schedules the partition", func() bool {
		score, err := writer.rc.ZScore(writer.ctx, keySweep, base).Result()
		return err == nil && int64(score) == expiry
	})
	writer.clock.Advance(time.Minute)
	eventually(t, "a later tick records the expiry", func() bool {
		page, err := writer.s.ReadFeed(writer.ctx, info.Name, store.FeedRead{Partition: p, Mode: store.FeedAllVersions, AfterLSN: now.LastLSN})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Changes) == 2 && page.Changes[1].TTLExpired
	})
	if _, err := writer.rc.ZScore(writer.ctx, keySweep, base).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("the swept partition is still scheduled: %v", err)
	}
}

// TestScheduledReply: the schedule's WITHSCORES reply in both protocols.
func TestScheduledReply(t *testing.T) {
	want := map[string]string{"sx:{1.0}:": "1700000000123", "sx:{1.1}:": "5"}
	resp2 := []any{"sx:{1.0}:", "1700000000123", "sx:{1.1}:", "5"}
	resp3 := []any{[]any{"sx:{1.0}:", float64(1700000000123)}, []any{"sx:{1.1}:", float64(5)}}
	for name, v := range map[string]any{"RESP2": resp2, "RESP3": resp3} {
		got := scheduled(v)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := scheduled([]any{[]any{}, "odd"}); len(got) != 0 {
		t.Errorf("malformed reply: %v", got)
	}
}

// TestFlushAndDeleteReclaim: a flush leaves the old generation to the
// background, which removes it; a deleted cache's keys all go, and a node
// whose catalog copy is stale cannot write into the dead incarnation.
func TestFlushAndDeleteReclaim(t *testing.T) {
	c := testCluster(t)
	e := newEngine(t, c, Options{SweepInterval: 20 * time.Millisecond})
	other := newEngine(t, c, Options{SweepInterval: -1}) // a second node, no background work
	info := e.cache(store.CacheConfig{Partitions: 3})
	var items []store.Item
	for i := range 600 {
		items = append(items, store.Item{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	if err := e.s.SetBatch(e.ctx, info.Name, items); err != nil {
		t.Fatal(err)
	}
	itemKey := func(epoch uint64, gen int, key []byte) string {
		return fmt.Sprintf("%si%d:%s", partBase(epoch, info.PartitionOf(key)), gen, key)
	}
	if n, _ := e.rc.Exists(e.ctx, itemKey(info.Epoch, 0, items[0].Key)).Result(); n != 1 {
		t.Fatal("item key missing before the flush")
	}
	if err := e.s.FlushCache(e.ctx, info.Name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the flushed generation is removed", func() bool {
		for _, it := range items {
			if n, _ := e.rc.Exists(e.ctx, itemKey(info.Epoch, 0, it.Key)).Result(); n != 0 {
				return false
			}
		}
		return true
	})
	if err := e.s.Set(e.ctx, info.Name, []byte("after"), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	// The other node caches the catalog record, then the cache is deleted
	// and re-created under it.
	if err := other.s.Set(e.ctx, info.Name, []byte("seen"), []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteCache(e.ctx, info.Name); err != nil {
		t.Fatal(err)
	}
	if err := other.s.Set(e.ctx, info.Name, []byte("stale"), []byte("x"), 0); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("write through a stale catalog copy: %v, want cache not found", err)
	}
	eventually(t, "the deleted incarnation is removed", func() bool {
		for i := range 3 {
			base := partBase(info.Epoch, i)
			n, _ := e.rc.Exists(e.ctx, base+"s", base+"m", base+"x", base+"e", base+"l").Result()
			if n != 0 {
				return false
			}
		}
		n, _ := e.rc.Exists(e.ctx, itemKey(info.Epoch, 1, []byte("after"))).Result()
		dead, _ := e.rc.ZScore(e.ctx, "sx:{sx}:dead", deadMember(info.Epoch, 3)).Result()
		return n == 0 && dead == 0
	})
	again, err := e.s.CreateCache(e.ctx, info.Name, store.CacheConfig{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.s.DeleteCache(context.Background(), info.Name) })
	// The stale node finds the new incarnation by itself.
	if err := other.s.Set(e.ctx, info.Name, []byte("new"), []byte("y"), 0); err != nil {
		t.Fatalf("write after re-creation through a stale copy: %v", err)
	}
	if v, found, err := e.s.Get(e.ctx, info.Name, []byte("new")); err != nil || !found || string(v) != "y" {
		t.Fatalf("Get = %q, %v, %v", v, found, err)
	}
	if m, _, _ := e.s.Meta(e.ctx, info.Name, []byte("new")); m.LSN != 1 || again.Epoch <= info.Epoch {
		t.Fatalf("new incarnation: meta %+v, epoch %d after %d", m, again.Epoch, info.Epoch)
	}
}

// TestOutcomeUnknown: a write whose answer does not come back (the
// primary is paused, the context ends) may have been applied: it is
// errs.ErrOutcomeUnknown, never a failure.
func TestOutcomeUnknown(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	e := newEngine(t, single, Options{SweepInterval: -1})
	info := e.cache(store.CacheConfig{Partitions: 1})
	if err := e.s.Set(e.ctx, info.Name, []byte("k"), []byte("v0"), 0); err != nil {
		t.Fatal(err)
	}
	if out, err := single.CLI("", "client", "pause", "1500", "write"); err != nil {
		t.Fatalf("client pause: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	defer cancel()
	err := e.s.Set(ctx, info.Name, []byte("k"), []byte("v1"), 0)
	if !errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("Set during a pause ended by its context: %v, want outcome unknown", err)
	}
	// Either outcome is possible (here Redis drops the paused command of a
	// client that went away); the engine recovers by itself once the
	// server answers again.
	eventually(t, "reads work again", func() bool {
		v, _, err := e.s.Get(e.ctx, info.Name, []byte("k"))
		if err == nil && string(v) != "v0" && string(v) != "v1" {
			t.Fatalf("Get = %q, want v0 or v1", v)
		}
		return err == nil
	})
	if err := e.s.Set(e.ctx, info.Name, []byte("k"), []byte("v2"), 0); err != nil {
		t.Fatalf("Set after the pause: %v", err)
	}
}

// TestWaitReplicas: with WaitReplicas a write is acknowledged by replicas;
// when fewer acknowledge, it is errs.ErrOutcomeUnknown (applied on the
// primary, maybe lost in a failover).
func TestWaitReplicas(t *testing.T) {
	c := testCluster(t)
	e := newEngine(t, c, Options{WaitReplicas: 1})
	info := e.cache(store.CacheConfig{Partitions: 8})
	for i := range 20 {
		if err := e.s.Set(e.ctx, info.Name, fmt.Appendf(nil, "k%d", i), []byte("v"), 0); err != nil {
			t.Fatalf("Set with WAIT 1: %v", err)
		}
	}
	if err := e.s.SetBatch(e.ctx, info.Name, []store.Item{{Key: []byte("a")}, {Key: []byte("b")}}); err != nil {
		t.Fatalf("SetBatch with WAIT 1: %v", err)
	}
	two := newEngine(t, c, Options{WaitReplicas: 2, WaitTimeout: 50 * time.Millisecond})
	err := two.s.Set(e.ctx, info.Name, []byte("k0"), []byte("w"), 0)
	if !errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("Set with WAIT 2 on one replica: %v, want outcome unknown", err)
	}
	if v, _, _ := e.s.Get(e.ctx, info.Name, []byte("k0")); string(v) != "w" {
		t.Fatalf("Get after an unacknowledged write = %q, want it applied on the primary", v)
	}
}

// TestFailover kills the primary of a partition's slot: calls meanwhile
// answer success, ErrUnavailable or ErrOutcomeUnknown (never a plain
// failure), and once a replica has taken over the engine works again by
// itself.
func TestFailover(t *testing.T) {
	c := redistest.Start(t, redistest.Options{Primaries: 3, Replicas: 1})
	e := newEngine(t, c, Options{SweepInterval: -1})
	info := e.cache(store.CacheConfig{Partitions: 4})
	key := []byte("k")
	if err := e.s.Set(e.ctx, info.Name, key, []byte("v0"), 0); err != nil {
		t.Fatal(err)
	}
	base := partBase(info.Epoch, info.PartitionOf(key))
	primary, err := c.Primary(base + "s")
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.Item
	for i := range 4 {
		batch = append(batch, store.Item{Key: fmt.Appendf(nil, "b%d", i), Value: []byte("v")})
	}
	primary.Kill()
	t.Cleanup(func() {
		if err := primary.Start(); err != nil {
			t.Errorf("restart: %v", err)
		}
		c.WaitHealthy(60 * time.Second)
	})
	ok := func(what string, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, errs.ErrOutcomeUnknown) {
			t.Fatalf("%s during failover: %v, want success, unavailable or outcome unknown", what, err)
		}
	}
	for i := range 3 {
		ok("Set", e.s.Set(e.ctx, info.Name, key, fmt.Appendf(nil, "v%d", i+1), 0))
		_, _, err := e.s.Get(e.ctx, info.Name, key)
		ok("Get", err)
		ok("SetBatch", e.s.SetBatch(e.ctx, info.Name, batch))
		_, _, err = e.s.GetBatch(e.ctx, info.Name, [][]byte{[]byte("b0"), []byte("b1"), []byte("b2"), []byte("b3")})
		ok("GetBatch", err)
	}
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "writes work again after the failover", func() bool {
		err := e.s.Set(e.ctx, info.Name, key, []byte("after"), 0)
		if err != nil {
			t.Logf("Set after failover: %v (%v)", err, errors.Unwrap(err))
		}
		ok("Set", err)
		return err == nil
	})
	if v, _, err := e.s.Get(e.ctx, info.Name, key); err != nil || string(v) != "after" {
		t.Fatalf("Get after failover = %q, %v", v, err)
	}
}

func BenchmarkSetGet(b *testing.B) {
	c := cluster
	if c == nil {
		c = redistest.Start(b, redistest.Options{})
	}
	_, s := dialOpts(b, c, Options{SweepInterval: -1})
	defer s.Close()
	ctx := context.Background()
	name := newCacheName()
	if _, err := s.CreateCache(ctx, name, store.CacheConfig{}); err != nil {
		b.Fatal(err)
	}
	defer s.DeleteCache(ctx, name)
	value := make([]byte, 100)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			key := strconv.AppendInt([]byte("k"), int64(i%1000), 10)
			if err := s.Set(ctx, name, key, value, 0); err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.Get(ctx, name, key); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestFeedAllVersionsFromTime: an all-versions read from a point in time
// starts at the first retained change at or after it, and one before the
// retention is refused.
func TestFeedAllVersionsFromTime(t *testing.T) {
	e := newEngine(t, testCluster(t), Options{SweepInterval: -1})
	info := e.cache(store.CacheConfig{Partitions: 1})
	set := func(k string) {
		t.Helper()
		if err := e.s.Set(e.ctx, info.Name, []byte(k), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	read := func(at time.Time) ([]store.Change, error) {
		page, err := e.s.ReadFeed(e.ctx, info.Name, store.FeedRead{Mode: store.FeedAllVersions, Start: store.FeedFromTime, StartTime: at})
		return page.Changes, err
	}
	set("before") // not logged: the partition has no all-versions reader yet
	if _, err := e.s.ReadFeed(e.ctx, info.Name, store.FeedRead{Mode: store.FeedAllVersions, Start: store.FeedFromNow}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	set("a")
	e.clock.Advance(time.Second)
	at := e.clock.Now()
	e.clock.Advance(time.Second)
	set("b")
	set("c")
	cs, err := read(at)
	if err != nil || len(cs) != 2 || string(cs[0].Key) != "b" || string(cs[1].Key) != "c" {
		t.Fatalf("from %v: %+v, %v", at, cs, err)
	}
	if cs, err := read(e.clock.Now().Add(time.Hour)); err != nil || len(cs) != 0 {
		t.Fatalf("from the future: %+v, %v", cs, err)
	}
	if _, err := read(at.Add(-time.Hour)); !errors.Is(err, errs.ErrFeedRetention) {
		t.Fatalf("from before the retention: %v", err)
	}
}

// TestUnavailable: with the server down, a write is errs.ErrUnavailable
// (refused before anything was sent) and a read ends with its context;
// once the server is back the engine works again by itself.
func TestUnavailable(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	e := newEngine(t, single, Options{SweepInterval: -1})
	info := e.cache(store.CacheConfig{Partitions: 1})
	if err := e.s.Set(e.ctx, info.Name, []byte("k"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	single.Servers[0].Kill()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if err := e.s.Set(short(), info.Name, []byte("k"), []byte("w"), 0); !errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("Set with the server down: %v (%v), want unavailable", err, errors.Unwrap(err))
	}
	if err := e.s.PutRecord(short(), "ns", "k", nil); !errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("PutRecord with the server down: %v, want unavailable", err)
	}
	if err := e.s.SetBatch(short(), info.Name, []store.Item{{Key: []byte("a")}, {Key: []byte("b")}}); !errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("SetBatch with the server down: %v, want unavailable", err)
	}
	if _, _, err := e.s.Get(short(), info.Name, []byte("k")); err == nil {
		t.Fatal("Get with the server down succeeded")
	}
	if err := single.Servers[0].Start(); err != nil {
		t.Fatal(err)
	}
	if err := single.WaitHealthy(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The server restarted empty (no persistence in tests): the cache is gone.
	eventually(t, "the engine answers again", func() bool {
		_, _, err := e.s.Get(e.ctx, info.Name, []byte("k"))
		return errors.Is(err, errs.ErrCacheNotFound)
	})
}
