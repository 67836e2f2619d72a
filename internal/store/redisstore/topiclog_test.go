package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics"
	"github.com/setsuna-io/setsuna/internal/topics/topicstest"
)

// The topic tests share one cluster: the package's when TestMain has one
// (redistest.Main hands it over only after m.Run, so it is nil while tests
// run), else one that TestTopicLog starts for all of its subtests.
func topicCluster(t testing.TB) *redistest.Cluster {
	t.Helper()
	if cluster != nil {
		return cluster
	}
	return redistest.Start(t, redistest.Options{Primaries: 3, Replicas: 1})
}

// topicClient is a node's client of c, closed when t ends.
func topicClient(t testing.TB, c *redistest.Cluster) redis.UniversalClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := Dial(ctx, ClientOptions{Addrs: c.Addrs()})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

// newTopicLogs is the suites' constructor: every log is a node of its
// own (its own client) over the shared cluster.
func newTopicLogs(c *redistest.Cluster, o TopicLogOptions) storetest.NewTopicLog {
	return func(t *testing.T, lim storetest.TopicLimits) store.TopicLog {
		o := o
		o.MaxMessages = lim.MaxMessages
		return NewTopicLog(topicClient(t, c), o)
	}
}

var topicNames atomic.Uint64

func topicRef(prefix string) store.TopicRef {
	return store.TopicRef{Cache: fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), topicNames.Add(1)), Epoch: 7, Name: "news"}
}

// topicWaitClosed fails t when ch is not closed in time; a missed wake-up
// would otherwise hang the test.
func topicWaitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the Notify channel was never closed", what)
	}
}

func topicMustAppend(t *testing.T, l store.TopicLog, ref store.TopicRef, data string) (seq, page uint64) {
	t.Helper()
	seq, page, err := l.Append(context.Background(), ref, store.TopicValue{Data: []byte(data)}, "pub")
	if err != nil {
		t.Fatalf("Append %q: %v", data, err)
	}
	return seq, page
}

func TestTopicLog(t *testing.T) {
	c := topicCluster(t)
	logs := newTopicLogs(c, TopicLogOptions{})
	t.Run("Suite", func(t *testing.T) { storetest.RunTopicLog(t, logs) })
	t.Run("Extras", func(t *testing.T) { storetest.RunTopicExtras(t, logs) })
	t.Run("Hub", func(t *testing.T) { topicstest.Run(t, logs) })
	t.Run("HubShared", func(t *testing.T) { topicstest.RunShared(t, logs) })
	t.Run("LostStream", func(t *testing.T) { testTopicLostStream(t, c) })
	t.Run("LostState", func(t *testing.T) { testTopicLostState(t, c) })
	t.Run("LostStreamHub", func(t *testing.T) { testTopicLostStreamHub(t, c) })
	t.Run("WakeAcrossLogs", func(t *testing.T) { testTopicWakeAcrossLogs(t, c) })
	t.Run("NewerEpochAcrossLogs", func(t *testing.T) { testTopicNewerEpochAcrossLogs(t, c) })
	t.Run("ConnectionDrop", func(t *testing.T) { testTopicConnectionDrop(t, c) })
	t.Run("QuietConnection", func(t *testing.T) { testTopicQuietConnection(t, c) })
	t.Run("SubscriptionsBounded", func(t *testing.T) { testTopicSubscriptionsBounded(t, c) })
	t.Run("DropCache", func(t *testing.T) { testTopicDropCache(t, c) })
	t.Run("IndexPruned", func(t *testing.T) { testTopicIndexPruned(t, c) })
	t.Run("MaxBytes", func(t *testing.T) { testTopicMaxBytes(t, c) })
	t.Run("IdempotencyBound", func(t *testing.T) { testTopicIdempotencyBound(t, c) })
	t.Run("PresenceClock", func(t *testing.T) { testTopicPresenceClock(t, c) })
	t.Run("BadInput", func(t *testing.T) { testTopicBadInput(t, c) })
	t.Run("Keys", testTopicKeys)
}

// TestTopicLogStandalone runs the contract suite on a single server (no
// cluster mode): the client is then a plain one.
func TestTopicLogStandalone(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	logs := newTopicLogs(single, TopicLogOptions{})
	t.Run("Suite", func(t *testing.T) { storetest.RunTopicLog(t, logs) })
	t.Run("Extras", func(t *testing.T) { storetest.RunTopicExtras(t, logs) })
}

func testTopicLostStream(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	l := NewTopicLog(rc, TopicLogOptions{})
	defer l.Close()
	ref := topicRef("lost")
	for i := 1; i <= 3; i++ {
		topicMustAppend(t, l, ref, fmt.Sprint("m", i))
	}
	st, _, err := l.Read(ctx, ref, 1, 10)
	if err != nil || st.Last != 3 {
		t.Fatalf("Read = %+v, %v", st, err)
	}
	if err := rc.Del(ctx, keysOfTopic(ref).stream).Err(); err != nil {
		t.Fatal(err)
	}
	// Lost: it reads as missing, never as an empty window of the old page.
	if got, msgs, err := l.Read(ctx, ref, 1, 10); err != nil || got.Page != 0 || len(msgs) != 0 {
		t.Fatalf("Read of a lost topic = %+v, %d messages, %v; want the zero state", got, len(msgs), err)
	}
	seq, page := topicMustAppend(t, l, ref, "again")
	if seq != 1 || page <= st.Page {
		t.Fatalf("Append to a lost topic = seq %d page %d; want seq 1 on a page after %d", seq, page, st.Page)
	}
	if got, msgs, err := l.Read(ctx, ref, 1, 10); err != nil || got.Page != page || got.First != 1 || got.Last != 1 || len(msgs) != 1 {
		t.Fatalf("Read after the new page = %+v, %d messages, %v", got, len(msgs), err)
	}
}

func testTopicLostState(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	l := NewTopicLog(rc, TopicLogOptions{})
	defer l.Close()
	ref := topicRef("loststate")
	_, old := topicMustAppend(t, l, ref, "m1")
	topicMustAppend(t, l, ref, "m2")
	if err := rc.Del(ctx, keysOfTopic(ref).state).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _, err := l.Read(ctx, ref, 1, 10); err != nil || got.Page != 0 {
		t.Fatalf("Read without state = %+v, %v", got, err)
	}
	st, err := l.Open(ctx, ref)
	if err != nil || st.Page <= old || st.First != 1 || st.Last != 0 {
		t.Fatalf("Open without state = %+v, %v; want an empty topic on a page after %d", st, err, old)
	}
	// The old stream went with it: nothing of the old page is served.
	if _, msgs, err := l.Read(ctx, ref, 1, 10); err != nil || len(msgs) != 0 {
		t.Fatalf("Read after re-creation: %d messages, %v", len(msgs), err)
	}
}

// topicPoll waits until s yields n events.
func topicPoll(t *testing.T, s *topics.Subscription, n int) []topics.Event {
	t.Helper()
	var out []topics.Event
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		ready := s.Ready()
		evs, err := s.Poll(context.Background(), nil)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		out = append(out, evs...)
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-timeout:
			t.Fatalf("%d of %d events", len(out), n)
		}
	}
	return out
}

// testTopicLostStreamHub: a subscriber of a topic whose stream is lost
// sees a discontinuity onto the new page, then the new messages.
func testTopicLostStreamHub(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	l := NewTopicLog(rc, TopicLogOptions{})
	defer l.Close()
	ref := topicRef("losthub")
	h := topics.NewHub(l, func(context.Context, string) (uint64, error) { return ref.Epoch, nil }, topics.HubOptions{})
	defer h.Close()
	s, err := h.Subscribe(ctx, ref.Cache, ref.Name, topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, page, err := h.Publish(ctx, ref.Cache, ref.Name, store.TopicValue{Data: []byte("m1")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if evs := topicPoll(t, s, 1); evs[0].Msg == nil || evs[0].Msg.Seq != 1 {
		t.Fatalf("first event %+v", evs[0])
	}
	if err := rc.Del(ctx, keysOfTopic(ref).stream).Err(); err != nil {
		t.Fatal(err)
	}
	_, page2, err := h.Publish(ctx, ref.Cache, ref.Name, store.TopicValue{Data: []byte("m2")}, "")
	if err != nil || page2 <= page {
		t.Fatalf("publish after the loss: page %d after %d, %v", page2, page, err)
	}
	evs := topicPoll(t, s, 2)
	if evs[0].Msg != nil || evs[0].Gap.Page != page2 || evs[1].Msg == nil || evs[1].Msg.Seq != 1 || string(evs[1].Msg.Value.Data) != "m2" {
		t.Fatalf("events after the loss: %+v %+v; want a discontinuity onto page %d, then 1:m2", evs[0], evs[1], page2)
	}
}

func testTopicWakeAcrossLogs(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer a.Close()
	b := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer b.Close()
	ref := topicRef("wake")
	for i := 1; i <= 3; i++ {
		ch, err := a.Notify(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
			t.Fatal("closed before any append")
		default:
		}
		if seq, _ := topicMustAppend(t, b, ref, "x"); seq != uint64(i) {
			t.Fatalf("seq %d, want %d", seq, i)
		}
		topicWaitClosed(t, ch, fmt.Sprintf("append %d on the other log", i))
	}
	// Many topics at once, over every primary.
	var chans []<-chan struct{}
	var refs []store.TopicRef
	for i := range 20 {
		r := ref
		r.Name = fmt.Sprint("t", i)
		ch, err := a.Notify(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		chans, refs = append(chans, ch), append(refs, r)
	}
	for i, r := range refs {
		topicMustAppend(t, b, r, "y")
		topicWaitClosed(t, chans[i], r.Name)
	}
	if _, conns := a.subscribed(); conns != 3 {
		t.Errorf("%d wake-up connections for 3 primaries", conns)
	}
}

// testTopicNewerEpochAcrossLogs: a newer epoch used on one node wakes and
// refuses the waiters of the older one on another.
func testTopicNewerEpochAcrossLogs(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer a.Close()
	b := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer b.Close()
	ref := topicRef("epochs")
	topicMustAppend(t, a, ref, "old")
	ch, err := a.Notify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	newer := ref
	newer.Epoch++
	topicMustAppend(t, b, newer, "new")
	topicWaitClosed(t, ch, "append at a newer epoch")
	if _, _, err := a.Read(ctx, ref, 1, 10); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("Read of the old epoch: %v", err)
	}
	if _, err := a.Notify(ctx, ref); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("Notify of the old epoch: %v", err)
	}
}

// testTopicConnectionDrop: when the wake-up connection drops, every waiter
// wakes, and new waiters subscribe again.
func testTopicConnectionDrop(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer a.Close()
	ref := topicRef("drop")
	var chans []<-chan struct{}
	for i := range 6 {
		r := ref
		r.Name = fmt.Sprint("t", i)
		ch, err := a.Notify(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	for _, s := range c.Servers {
		if out, err := c.CLI(s.Addr, "client", "kill", "type", "pubsub"); err != nil {
			t.Fatalf("client kill on %s: %v %s", s.Addr, err, out)
		}
	}
	for i, ch := range chans {
		topicWaitClosed(t, ch, fmt.Sprint("topic ", i, " after its connection dropped"))
	}
	ch, err := a.Notify(ctx, ref)
	if err != nil {
		t.Fatalf("Notify after the drop: %v", err)
	}
	topicMustAppend(t, a, ref, "x")
	topicWaitClosed(t, ch, "append after the drop")
}

// testTopicQuietConnection: a wake-up connection without traffic pings
// and stays, subscriptions and all.
func testTopicQuietConnection(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	pongs := make(chan struct{}, 16)
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{pingEvery: 5 * time.Millisecond, onPong: func() {
		select {
		case pongs <- struct{}{}:
		default:
		}
	}})
	defer a.Close()
	ref := topicRef("quiet")
	ch, err := a.Notify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case <-pongs:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d pongs", i)
		}
	}
	select {
	case <-ch:
		t.Fatal("pings woke the waiter: the connection was dropped")
	default:
	}
	if n, conns := a.subscribed(); n != 1 || conns != 1 {
		t.Fatalf("%d channels on %d connections after pings", n, conns)
	}
	topicMustAppend(t, a, ref, "x")
	topicWaitClosed(t, ch, "append after pings")
}

func testTopicSubscriptionsBounded(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{sweepEvery: time.Hour})
	defer a.Close()
	ref := topicRef("bounded")
	var chans []<-chan struct{}
	for i := range 5 {
		r := ref
		r.Name = fmt.Sprint("t", i)
		ch, err := a.Notify(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	if n, _ := a.subscribed(); n != 5 {
		t.Fatalf("%d channels subscribed, want 5", n)
	}
	a.sweep() // renewed since the last sweep: kept
	if n, _ := a.subscribed(); n != 5 {
		t.Fatalf("%d channels after one sweep, want 5", n)
	}
	r0 := ref
	r0.Name = "t0"
	ch0, err := a.Notify(ctx, r0) // renewed: kept by the next sweep
	if err != nil {
		t.Fatal(err)
	}
	a.sweep()
	if n, _ := a.subscribed(); n != 1 {
		t.Fatalf("%d channels after the second sweep, want 1", n)
	}
	for i, ch := range chans[1:] {
		topicWaitClosed(t, ch, fmt.Sprint("dropped subscription ", i+1)) // whoever still waits reads again
	}
	topicMustAppend(t, a, r0, "x")
	topicWaitClosed(t, ch0, "the renewed subscription")
	a.sweep()
	a.sweep()
	if n, conns := a.subscribed(); n != 0 || conns != 0 {
		t.Fatalf("%d channels on %d connections with no waiter left", n, conns)
	}
}

func testTopicDropCache(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	l := NewTopicLog(rc, TopicLogOptions{})
	defer l.Close()
	// More topics than one script hands back, at two epochs.
	const n = topicIndexBatch + 20
	older := topicRef("dropcache")
	newer := older
	newer.Epoch++
	topic := func(r store.TopicRef, i int) store.TopicRef { r.Name = fmt.Sprint("t", i); return r }
	gone := func(r store.TopicRef, why string) {
		t.Helper()
		if n := rc.Exists(ctx, keysOfTopic(r).stream).Val(); n != 0 {
			t.Fatalf("the stream of %+v survived %s", r, why)
		}
		if _, _, err := l.Read(ctx, r, 1, 1); !errors.Is(err, errs.ErrCacheNotFound) {
			t.Fatalf("Read of %+v after %s: %v", r, why, err)
		}
	}
	for i := range n {
		topicMustAppend(t, l, topic(older, i), "x")
	}
	ch, err := l.Notify(ctx, topic(older, 0))
	if err != nil {
		t.Fatal(err)
	}
	topicMustAppend(t, l, topic(newer, 0), "y") // drops every topic of the older epoch
	topicWaitClosed(t, ch, "the first append at a newer epoch")
	for i := range n {
		gone(topic(older, i), "the epoch change")
	}
	for i := 1; i < n; i++ {
		topicMustAppend(t, l, topic(newer, i), "y")
	}
	ck := keysOfTopicCache(older.Cache)
	if got := rc.ZCard(ctx, ck.byEpoch).Val(); got != n {
		t.Fatalf("the index lists %d topics, want the %d of the newer epoch", got, n)
	}
	ch, err = l.Notify(ctx, topic(newer, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DropCache(ctx, older.Cache, newer.Epoch); err != nil {
		t.Fatal(err)
	}
	topicWaitClosed(t, ch, "DropCache")
	for i := range n {
		gone(topic(newer, i), "DropCache")
	}
	if got := rc.ZCard(ctx, ck.byEpoch).Val() + rc.ZCard(ctx, ck.checked).Val(); got != 0 {
		t.Fatalf("the index keeps %d entries after DropCache", got)
	}
	// Without its tombstone, the cache's state still refuses the epoch.
	if err := rc.Del(ctx, keysOfTopic(topic(newer, 1)).state).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(ctx, topic(newer, 1), store.TopicValue{Data: []byte("z")}, ""); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("Append to a dropped epoch without its tombstone: %v", err)
	}
	next := newer
	next.Epoch++
	if seq, _ := topicMustAppend(t, l, next, "z"); seq != 1 {
		t.Fatalf("first append of the next epoch has seq %d", seq)
	}
}

// testTopicIndexPruned: index entries of topics that expired are removed
// by later registrations.
func testTopicIndexPruned(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	l := NewTopicLog(rc, TopicLogOptions{Now: now})
	ref := topicRef("prune")
	gone, live := ref, ref
	gone.Name, live.Name = "gone", "live"
	topicMustAppend(t, l, gone, "x")
	topicMustAppend(t, l, live, "x")
	k := keysOfTopic(gone)
	if err := rc.Del(ctx, k.state, k.stream).Err(); err != nil { // as if it had expired
		t.Fatal(err)
	}
	clock.Add(int64(l.o.IdleTTL + time.Minute))
	third := ref
	third.Name = "third"
	topicMustAppend(t, l, third, "x") // its registration finds the two stale entries
	l.Close()                         // waits for the re-check
	ck := keysOfTopicCache(ref.Cache)
	members := rc.ZRange(ctx, ck.byEpoch, 0, -1).Val()
	if strings.Join(members, ",") != "7:live,7:third" {
		t.Fatalf("index after the re-check: %v; want the live topics only", members)
	}
	if s := rc.ZScore(ctx, ck.checked, "7:live").Val(); s != float64(now().UnixMilli()) {
		t.Fatalf("the live entry's check time is %v, want %d", s, now().UnixMilli())
	}
}

func testTopicMaxBytes(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	l := NewTopicLog(topicClient(t, c), TopicLogOptions{MaxBytes: 1000})
	defer l.Close()
	ref := topicRef("bytes")
	data := strings.Repeat("a", 300) // 300 + 3 ("pub") + 128 per message
	for range 10 {
		topicMustAppend(t, l, ref, data)
	}
	st, msgs, err := l.Read(ctx, ref, 1, 100)
	if err != nil || st.Last != 10 || st.First != 9 || len(msgs) != 2 || msgs[0].Seq != 9 {
		t.Fatalf("window of 1000 bytes = %+v, %d messages, %v; want 9..10", st, len(msgs), err)
	}
	// A message larger than the bound is kept alone.
	topicMustAppend(t, l, ref, strings.Repeat("b", 2000))
	st, msgs, err = l.Read(ctx, ref, 1, 100)
	if err != nil || st.First != 11 || st.Last != 11 || len(msgs) != 1 {
		t.Fatalf("after a large message = %+v, %d messages, %v", st, len(msgs), err)
	}
	for range 3 {
		topicMustAppend(t, l, ref, data)
	}
	if st, _, _ := l.Read(ctx, ref, 1, 100); st.First != 13 || st.Last != 14 {
		t.Fatalf("after the large message left = %+v; want 13..14", st)
	}
}

func testTopicIdempotencyBound(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	rc := topicClient(t, c)
	l := NewTopicLog(rc, TopicLogOptions{MaxIdempotencyKeys: 3})
	defer l.Close()
	ref := topicRef("idem")
	for i := 1; i <= 5; i++ {
		if _, _, dup, err := l.AppendOnce(ctx, ref, store.TopicValue{Data: []byte("m")}, "p", fmt.Sprint("k", i), time.Hour); err != nil || dup {
			t.Fatalf("AppendOnce k%d: dup %v, %v", i, dup, err)
		}
	}
	for i := 1; i <= 5; i++ {
		seq, _, found, err := l.Appended(ctx, ref, fmt.Sprint("k", i))
		if err != nil || found != (i > 2) || (found && seq != uint64(i)) {
			t.Fatalf("Appended k%d = %d %v %v; the 3 newest keys are kept", i, seq, found, err)
		}
	}
	if n := rc.HLen(ctx, keysOfTopic(ref).idem).Val(); n != 3 {
		t.Fatalf("%d keys stored, bound 3", n)
	}
}

func testTopicPresenceClock(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	l := NewTopicLog(topicClient(t, c), TopicLogOptions{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	defer l.Close()
	ref := topicRef("presence")
	if err := l.SetPresence(ctx, "a", ref, 2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.SetPresence(ctx, "b", ref, 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Presence(ctx, ref); err != nil || n != 5 {
		t.Fatalf("Presence = %d, %v; want 5", n, err)
	}
	clock.Add(int64(11 * time.Second))
	if n, err := l.Presence(ctx, ref); err != nil || n != 3 {
		t.Fatalf("Presence after a's entry expired = %d, %v; want 3", n, err)
	}
	// AppendOnce's window follows the same clock.
	v := store.TopicValue{Data: []byte("m")}
	if _, _, _, err := l.AppendOnce(ctx, ref, v, "p", "k", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, dup, err := l.AppendOnce(ctx, ref, v, "p", "k", 10*time.Second); err != nil || !dup {
		t.Fatalf("inside the window: dup %v, %v", dup, err)
	}
	clock.Add(int64(11 * time.Second))
	if _, _, dup, err := l.AppendOnce(ctx, ref, v, "p", "k", 10*time.Second); err != nil || dup {
		t.Fatalf("after the window: dup %v, %v", dup, err)
	}
}

func testTopicBadInput(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	l := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer l.Close()
	good := topicRef("bad")
	v := store.TopicValue{Data: []byte("x")}
	var bads []store.TopicRef
	for _, name := range []string{"", "a\x00b", "a\nb", string([]byte{0xff}), strings.Repeat("n", store.MaxTopicNameLen+1)} {
		r := good
		r.Name = name
		bads = append(bads, r)
	}
	for _, cache := range []string{"", "a b", "caché", strings.Repeat("c", store.MaxCacheNameLen+1)} {
		r := good
		r.Cache = cache
		bads = append(bads, r)
	}
	for _, r := range bads {
		calls := map[string]error{}
		_, _, calls["Append"] = l.Append(ctx, r, v, "")
		_, calls["Open"] = l.Open(ctx, r)
		_, _, calls["Read"] = l.Read(ctx, r, 1, 1)
		_, calls["Notify"] = l.Notify(ctx, r)
		_, _, _, calls["AppendOnce"] = l.AppendOnce(ctx, r, v, "", "k", time.Minute)
		_, _, _, calls["Appended"] = l.Appended(ctx, r, "k")
		calls["SetPresence"] = l.SetPresence(ctx, "n", r, 1, time.Minute)
		_, calls["Presence"] = l.Presence(ctx, r)
		for call, err := range calls {
			if !errors.Is(err, errs.ErrInvalidArgument) {
				t.Errorf("%s(cache %q, topic %q): %v; want an invalid argument", call, r.Cache, r.Name, err)
			}
		}
	}
	if err := l.DropCache(ctx, "a b", 1); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Errorf("DropCache of an invalid cache name: %v", err)
	}
	checks := map[string]error{
		"negative count": l.SetPresence(ctx, "n", good, -1, time.Minute),
		"zero ttl":       l.SetPresence(ctx, "n", good, 1, 0),
		"empty node":     l.SetPresence(ctx, "", good, 1, time.Minute),
	}
	_, _, _, checks["zero window"] = l.AppendOnce(ctx, good, v, "", "k", 0)
	_, _, _, checks["empty key"] = l.AppendOnce(ctx, good, v, "", "", time.Minute)
	_, _, _, checks["long key"] = l.Appended(ctx, good, strings.Repeat("k", store.MaxIdempotencyKeyLen+1))
	for what, err := range checks {
		if !errors.Is(err, errs.ErrInvalidArgument) {
			t.Errorf("%s: %v; want an invalid argument", what, err)
		}
	}
	// Names that need care in a key: braces, spaces, colons, UTF-8.
	for _, name := range []string{"a{b}c", "}{", "with space", "x:y", "日本語", "{t.1.x}"} {
		r := good
		r.Name = name
		if seq, _ := topicMustAppend(t, l, r, "m"); seq != 1 {
			t.Fatalf("topic %q: first seq %d", name, seq)
		}
		if _, msgs, err := l.Read(ctx, r, 1, 10); err != nil || len(msgs) != 1 || string(msgs[0].Value.Data) != "m" {
			t.Fatalf("topic %q: Read = %v, %v", name, msgs, err)
		}
	}
	braced := good
	braced.Cache = "ca{che}"
	topicMustAppend(t, l, braced, "m")
	if err := l.DropCache(ctx, braced.Cache, braced.Epoch); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Read(ctx, braced, 1, 1); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("Read after dropping a braced cache: %v", err)
	}
}

func testTopicKeys(t *testing.T) {
	ref := store.TopicRef{Cache: "c", Epoch: 12, Name: "news"}
	if k := keysOfTopic(ref); k.stream != "sx:{t.12.c news}:l" || k.wake != "sx:{t.12.c news}:w" {
		t.Fatalf("keys %+v", k)
	}
	// Caches and names that share the characters between them do not
	// share keys.
	a := keysOfTopic(store.TopicRef{Cache: "a.b", Epoch: 1, Name: "c"})
	b := keysOfTopic(store.TopicRef{Cache: "a", Epoch: 1, Name: "b c"})
	if a.state == b.state {
		t.Fatalf("two topics share %s", a.state)
	}
	h := keysOfTopic(store.TopicRef{Cache: "c", Epoch: 1, Name: "x}y"})
	if strings.Count(h.state, "{") != 1 || strings.Count(h.state, "}") != 1 || !strings.HasPrefix(h.state, "sx:{t.1.#") {
		t.Fatalf("a braced name is not hashed: %s", h.state)
	}
	if k := keysOfTopicCache("ca{b"); !strings.HasPrefix(k.state, "sx:{tc.#") {
		t.Fatalf("a braced cache is not hashed: %s", k.state)
	}
}

// BenchmarkTopicAppend: appends of 100-byte messages, on one topic and
// spread over many, with a Notify waiter subscribed like a hub's pump.
func BenchmarkTopicAppend(b *testing.B) {
	c := topicCluster(b)
	l := NewTopicLog(topicClient(b, c), TopicLogOptions{})
	defer l.Close()
	v := store.TopicValue{Data: []byte(strings.Repeat("x", 100))}
	ctx := context.Background()
	b.Run("OneTopic", func(b *testing.B) {
		ref := topicRef("bench")
		if _, err := l.Notify(ctx, ref); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := l.Append(ctx, ref, v, "pub"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ManyTopics", func(b *testing.B) {
		ref := topicRef("bench")
		var next atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := ref
				r.Name = fmt.Sprint("t", next.Add(1)%64)
				if _, _, err := l.Append(ctx, r, v, "pub"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// TestTopicLogFailover: a primary dies; its waiters wake, and once a
// replica took over, subscribers get what is published after it. Its own
// cluster, since it changes the topology.
func TestTopicLogFailover(t *testing.T) {
	c := redistest.Start(t, redistest.Options{Primaries: 3, Replicas: 1})
	ctx := context.Background()
	a := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer a.Close()
	b := NewTopicLog(topicClient(t, c), TopicLogOptions{})
	defer b.Close()
	ref := topicRef("failover")
	epochs := func(context.Context, string) (uint64, error) { return ref.Epoch, nil }
	ha := topics.NewHub(a, epochs, topics.HubOptions{})
	defer ha.Close()
	hb := topics.NewHub(b, epochs, topics.HubOptions{})
	defer hb.Close()
	s, err := ha.Subscribe(ctx, ref.Cache, ref.Name, topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := hb.Publish(ctx, ref.Cache, ref.Name, store.TopicValue{Data: []byte("before")}, ""); err != nil {
		t.Fatal(err)
	}
	topicPoll(t, s, 1)
	other := ref
	other.Name = "other"
	ch, err := a.Notify(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Primary(keysOfTopic(ref).wake)
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Primary(keysOfTopic(other).wake)
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if op == p {
		topicWaitClosed(t, ch, "the waiter on the dead primary")
	}
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	var published bool
	for attempt := 0; attempt < 10 && !published; attempt++ {
		_, _, err := hb.Publish(ctx, ref.Cache, ref.Name, store.TopicValue{Data: []byte("after")}, "")
		switch {
		case err == nil:
			published = true
		case !errors.Is(err, errs.ErrUnavailable) && !errors.Is(err, errs.ErrOutcomeUnknown):
			t.Fatalf("publish after the failover: %v", err)
		}
	}
	if !published {
		t.Fatal("no publish succeeded after the failover")
	}
	timeout := time.After(60 * time.Second)
	for {
		ready := s.Ready()
		evs, err := s.Poll(ctx, nil)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		for _, ev := range evs {
			if ev.Msg != nil && string(ev.Msg.Value.Data) == "after" {
				return
			}
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-timeout:
			t.Fatal("the subscriber never got the message published after the failover")
		}
	}
}
