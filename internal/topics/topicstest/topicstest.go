// Package topicstest is the engine-neutral suite of the topics hub: every
// engine's topic log runs it unchanged, so subscribers get the same
// semantics on every engine. Deliveries are asynchronous (a pump reads the
// log), so the suite waits for events with a deadline and never assumes that
// a publish is visible the instant it returns.
package topicstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Run runs the suite over logs made by newLog.
func Run(t *testing.T, newLog storetest.NewTopicLog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"PublishSubscribe", testPublishSubscribe},
		{"TwoSubscribersShareMessages", testTwoSubscribers},
		{"NewMessagesOnly", testNewMessagesOnly},
		{"ResumeInsideWindow", testResumeInside},
		{"ResumeOutsideWindow", testResumeOutside},
		{"ResumeAhead", testResumeAhead},
		{"PageChange", testPageChange},
		{"SlowSubscriber", testSlowSubscriber},
		{"CacheDeleted", testCacheDeleted},
		{"CacheReplacedElsewhere", testCacheReplacedElsewhere},
		{"NewerEpochInTheLog", testNewerEpochInTheLog},
		{"SubscriptionLimit", testSubscriptionLimit},
		{"Presence", testPresence},
		{"Close", testClose},
		{"ConcurrentFanOut", testConcurrentFanOut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newEnv(t, newLog))
		})
	}
}

var nameSeq atomic.Uint64

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%08x", prefix, nameSeq.Add(1), rand.Uint32())
}

// catalog is the test's source of cache epochs.
type catalog struct {
	mu     sync.Mutex
	epochs map[string]uint64
}

func (c *catalog) epoch(_ context.Context, cache string) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.epochs[cache]; ok {
		return e, nil
	}
	return 0, errs.ErrCacheNotFound.Withf("%q", cache)
}

func (c *catalog) set(cache string, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch == 0 {
		delete(c.epochs, cache)
	} else {
		c.epochs[cache] = epoch
	}
}

type env struct {
	t      *testing.T
	newLog storetest.NewTopicLog
	cat    *catalog
	cache  string
	log    store.TopicLog
	hub    *topics.Hub
}

func newEnv(t *testing.T, newLog storetest.NewTopicLog) *env {
	e := &env{t: t, newLog: newLog, cat: &catalog{epochs: map[string]uint64{}}, cache: uniqueName("hub")}
	e.cat.set(e.cache, 1)
	return e
}

// start builds the hub (once per test) with a log of maxMessages.
func (e *env) start(maxMessages int, opts topics.HubOptions) *topics.Hub {
	e.t.Helper()
	e.log = e.newLog(e.t, storetest.TopicLimits{MaxMessages: maxMessages})
	e.hub = topics.NewHub(e.log, e.cat.epoch, opts)
	e.t.Cleanup(func() {
		e.hub.Close()
		_ = e.log.Close()
	})
	return e.hub
}

func text(s string) store.TopicValue { return store.TopicValue{Data: []byte(s)} }

func (e *env) publish(topic string, vals ...string) (page uint64) {
	e.t.Helper()
	for _, v := range vals {
		_, p, err := e.hub.Publish(context.Background(), e.cache, topic, text(v), "pub")
		if err != nil {
			e.t.Fatalf("publish %q: %v", v, err)
		}
		page = p
	}
	return page
}

func (e *env) publishN(topic string, from, to int) (page uint64) {
	e.t.Helper()
	for i := from; i <= to; i++ {
		page = e.publish(topic, fmt.Sprint("m", i))
	}
	return page
}

func (e *env) subscribe(topic string, from topics.Position) *topics.Subscription {
	e.t.Helper()
	s, err := e.hub.Subscribe(context.Background(), e.cache, topic, from)
	if err != nil {
		e.t.Fatalf("subscribe %s %+v: %v", topic, from, err)
	}
	e.t.Cleanup(s.Close)
	return s
}

const deadline = 20 * time.Second

// collect waits until s has yielded n events and returns them.
func collect(t *testing.T, s *topics.Subscription, n int) []topics.Event {
	t.Helper()
	var out []topics.Event
	timeout := time.After(deadline)
	for len(out) < n {
		ready := s.Ready()
		evs, err := s.Poll(context.Background(), make([]topics.Event, 0, n-len(out)))
		if err != nil {
			t.Fatalf("poll after %d of %d events: %v", len(out), n, err)
		}
		out = append(out, evs...)
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-timeout:
			t.Fatalf("only %d of %d events after %v: %s", len(out), n, deadline, describe(out, 0))
		}
	}
	return out
}

// failure waits until s fails and returns the error.
func failure(t *testing.T, s *topics.Subscription) error {
	t.Helper()
	timeout := time.After(deadline)
	for {
		ready := s.Ready()
		if _, err := s.Poll(context.Background(), nil); err != nil {
			return err
		}
		select {
		case <-ready:
		case <-timeout:
			t.Fatalf("subscription still alive after %v", deadline)
		}
	}
}

// describe renders events as "gap(last,new,page) 3:m3 ..." with pages
// relative to page.
func describe(evs []topics.Event, page uint64) string {
	var sb strings.Builder
	for i, ev := range evs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if ev.Msg == nil {
			rel := "same"
			if ev.Gap.Page != page {
				rel = "other"
			}
			fmt.Fprintf(&sb, "gap(%d,%d,%s)", ev.Gap.Last, ev.Gap.New, rel)
			continue
		}
		fmt.Fprintf(&sb, "%d:%s", ev.Msg.Seq, ev.Msg.Value.Data)
	}
	return sb.String()
}

func expect(t *testing.T, evs []topics.Event, page uint64, want string) {
	t.Helper()
	if got := describe(evs, page); got != want {
		t.Fatalf("events:\n got  %s\n want %s", got, want)
	}
}

func testPublishSubscribe(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{})
	s := e.subscribe("t", topics.Position{})
	seq, page, err := h.Publish(context.Background(), e.cache, "t", text("hello"), "tok-1")
	if err != nil || seq != 1 || page == 0 {
		t.Fatalf("publish = %d, %d, %v; want seq 1 and a page", seq, page, err)
	}
	if _, _, err := h.Publish(context.Background(), e.cache, "t", store.TopicValue{Data: []byte{0, 1, 2}, Binary: true}, ""); err != nil {
		t.Fatal(err)
	}
	evs := collect(t, s, 2)
	expect(t, evs, page, "1:hello 2:\x00\x01\x02")
	m1, m2 := evs[0].Msg, evs[1].Msg
	if m1.Page != page || m1.PublisherID != "tok-1" || m1.Value.Binary || !m2.Value.Binary || m2.PublisherID != "" {
		t.Fatalf("messages %+v %+v", m1.TopicMessage, m2.TopicMessage)
	}
	// Another topic of the cache is independent.
	if seq, _, _ := h.Publish(context.Background(), e.cache, "other", text("x"), ""); seq != 1 {
		t.Fatalf("first message of another topic has seq %d", seq)
	}
}

func testTwoSubscribers(t *testing.T, e *env) {
	e.start(64, topics.HubOptions{})
	s1 := e.subscribe("t", topics.Position{})
	s2 := e.subscribe("t", topics.Position{})
	page := e.publishN("t", 1, 5)
	e1, e2 := collect(t, s1, 5), collect(t, s2, 5)
	expect(t, e1, page, "1:m1 2:m2 3:m3 4:m4 5:m5")
	expect(t, e2, page, "1:m1 2:m2 3:m3 4:m4 5:m5")
	if e1[0].Msg != e2[0].Msg {
		t.Error("live subscribers got different Message values: the hub should share them (encode once)")
	}
	built := 0
	for range 2 {
		e1[0].Msg.Frame(func(*topics.Message) any { built++; return "frame" })
	}
	if f := e2[0].Msg.Frame(func(*topics.Message) any { built++; return "other" }); f != "frame" || built != 1 {
		t.Errorf("frame built %d times, shared value %v", built, f)
	}
}

func testNewMessagesOnly(t *testing.T, e *env) {
	e.start(64, topics.HubOptions{})
	e.publishN("t", 1, 3)
	s := e.subscribe("t", topics.Position{})
	page := e.publish("t", "m4")
	expect(t, collect(t, s, 1), page, "4:m4")
}

func testResumeInside(t *testing.T, e *env) {
	e.start(8, topics.HubOptions{})
	page := e.publishN("t", 1, 10) // the log keeps 3..10
	expect(t, collect(t, e.subscribe("t", topics.Position{Seq: 4, Page: page}), 7), page, "4:m4 5:m5 6:m6 7:m7 8:m8 9:m9 10:m10")
	expect(t, collect(t, e.subscribe("t", topics.Position{Seq: 3, Page: page}), 8), page, "3:m3 4:m4 5:m5 6:m6 7:m7 8:m8 9:m9 10:m10")
	// Page 0 means the current page.
	expect(t, collect(t, e.subscribe("t", topics.Position{Seq: 9}), 2), page, "9:m9 10:m10")
	// Node's convention (last+1) right after the newest: nothing to replay, then live.
	s := e.subscribe("t", topics.Position{Seq: 11, Page: page})
	e.publish("t", "m11")
	expect(t, collect(t, s, 1), page, "11:m11")
}

func testResumeOutside(t *testing.T, e *env) {
	e.start(4, topics.HubOptions{})
	page := e.publishN("t", 1, 10) // the log keeps 7..10
	s := e.subscribe("t", topics.Position{Seq: 2, Page: page})
	expect(t, collect(t, s, 5), page, "gap(1,6,same) 7:m7 8:m8 9:m9 10:m10")
}

func testResumeAhead(t *testing.T, e *env) {
	e.start(64, topics.HubOptions{})
	page := e.publishN("t", 1, 3)
	s := e.subscribe("t", topics.Position{Seq: 50, Page: page})
	e.publish("t", "m4")
	expect(t, collect(t, s, 1), page, "4:m4")
}

func testPageChange(t *testing.T, e *env) {
	e.start(64, topics.HubOptions{})
	page := e.publishN("t", 1, 2)
	s := e.subscribe("t", topics.Position{Seq: 7, Page: page - 1})
	expect(t, collect(t, s, 3), page, "gap(6,0,same) 1:m1 2:m2")

	// A topic without messages: the discontinuity carries its page, then live.
	_, earlier, _ := e.hub.Publish(context.Background(), e.cache, "fresh", text("x"), "")
	s2 := e.subscribe("other", topics.Position{Seq: 3, Page: 1})
	evs := collect(t, s2, 1)
	if evs[0].Msg != nil || evs[0].Gap.Last != 2 || evs[0].Gap.New != 0 || evs[0].Gap.Page <= earlier {
		t.Fatalf("empty topic, old page: %s (a later topic must get a later page than %d)", describe(evs, 0), earlier)
	}
	newPage := e.publish("other", "first")
	if newPage != evs[0].Gap.Page {
		t.Fatalf("the discontinuity named page %d, the topic's messages are on %d", evs[0].Gap.Page, newPage)
	}
	expect(t, collect(t, s2, 1), newPage, "1:first")
}

func testSlowSubscriber(t *testing.T, e *env) {
	e.start(256, topics.HubOptions{MaxLag: 8})
	slow := e.subscribe("t", topics.Position{})
	fast := e.subscribe("t", topics.Position{})
	var page uint64
	for i := 1; i <= 100; i++ {
		page = e.publish("t", fmt.Sprint("m", i))
		if evs := collect(t, fast, 1); evs[0].Msg == nil || evs[0].Msg.Seq != uint64(i) {
			t.Fatalf("a subscriber that keeps up got %s at %d", describe(evs, page), i)
		}
	}
	// Lagging by 100 > 8: one discontinuity, then the newest message, then live.
	expect(t, collect(t, slow, 2), page, "gap(0,99,same) 100:m100")
	e.publish("t", "m101")
	expect(t, collect(t, slow, 1), page, "101:m101")
	// Within the bound nothing is skipped.
	e.publishN("t", 102, 109)
	evs := collect(t, slow, 8)
	if evs[0].Msg == nil || evs[0].Msg.Seq != 102 || evs[7].Msg == nil || evs[7].Msg.Seq != 109 {
		t.Fatalf("8 behind with MaxLag 8: %s", describe(evs, page))
	}
}

func testCacheDeleted(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{})
	s := e.subscribe("t", topics.Position{})
	page := e.publish("t", "m1")
	collect(t, s, 1)
	e.cat.set(e.cache, 0)
	h.CacheDeleted(context.Background(), e.cache, 1)
	if err := failure(t, s); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("poll after delete: %v", err)
	}
	if _, _, err := h.Publish(context.Background(), e.cache, "t", text("x"), ""); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("publish to a deleted cache: %v", err)
	}
	// The re-created cache has new topics with a new page.
	e.cat.set(e.cache, 2)
	seq, page2, err := h.Publish(context.Background(), e.cache, "t", text("again"), "")
	if err != nil || seq != 1 || page2 <= page {
		t.Fatalf("publish to the re-created cache: seq %d page %d after %d, %v", seq, page2, page, err)
	}
	h.CacheDeleted(context.Background(), uniqueName("missing"), 1) // no-op
}

// testCacheReplacedElsewhere: the cache was deleted and re-created through
// another node, so nothing told this hub; it finds out by itself.
func testCacheReplacedElsewhere(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{})
	s := e.subscribe("t", topics.Position{})
	e.publish("t", "m1")
	collect(t, s, 1)
	e.cat.set(e.cache, 7)
	if err := failure(t, s); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("subscription of the replaced epoch: %v", err)
	}
	seq, _, err := h.Publish(context.Background(), e.cache, "t", text("new epoch"), "")
	if err != nil || seq != 1 {
		t.Fatalf("publish after the replacement = %d, %v; want seq 1 of a new topic", seq, err)
	}
}

// testNewerEpochInTheLog: another node already writes the newer epoch to
// the shared log; this hub's pump meets it and ends the old subscriptions.
func testNewerEpochInTheLog(t *testing.T, e *env) {
	e.start(64, topics.HubOptions{})
	s := e.subscribe("t", topics.Position{})
	e.publish("t", "m1")
	collect(t, s, 1)
	e.cat.set(e.cache, 3)
	if _, _, err := e.log.Append(context.Background(), store.TopicRef{Cache: e.cache, Epoch: 3, Name: "t"}, text("x"), ""); err != nil {
		t.Fatal(err)
	}
	if err := failure(t, s); !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("subscription of the old epoch: %v", err)
	}
	if seq, _, err := e.hub.Publish(context.Background(), e.cache, "t", text("y"), ""); err != nil || seq != 2 {
		t.Fatalf("publish after the hub learnt the new epoch = %d, %v; want seq 2", seq, err)
	}
}

func testSubscriptionLimit(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{MaxSubscriptionsPerCache: 2})
	s1 := e.subscribe("a", topics.Position{})
	e.subscribe("b", topics.Position{})
	_, err := h.Subscribe(context.Background(), e.cache, "a", topics.Position{})
	if !errors.Is(err, errs.ErrTooManySubscriptions) || !strings.Contains(err.Error(), "subscribers") {
		t.Fatalf("third subscription: %v", err)
	}
	// Another cache has its own budget.
	other := uniqueName("other")
	e.cat.set(other, 1)
	s3, err := h.Subscribe(context.Background(), other, "a", topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	s1.Close()
	s1.Close() // idempotent: frees one slot, not two
	e.subscribe("a", topics.Position{})
	if _, err := h.Subscribe(context.Background(), e.cache, "a", topics.Position{}); !errors.Is(err, errs.ErrTooManySubscriptions) {
		t.Fatalf("after close and resubscribe: %v", err)
	}
}

func testPresence(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{})
	if n := h.Subscribers(e.cache, "t"); n != 0 {
		t.Fatalf("subscribers before any: %d", n)
	}
	s1 := e.subscribe("t", topics.Position{})
	s2 := e.subscribe("t", topics.Position{})
	e.subscribe("u", topics.Position{})
	if n := h.Subscribers(e.cache, "t"); n != 2 {
		t.Fatalf("subscribers of t: %d, want 2", n)
	}
	s1.Close()
	s2.Close()
	if n := h.Subscribers(e.cache, "t"); n != 0 {
		t.Fatalf("subscribers after both closed: %d", n)
	}
}

func testClose(t *testing.T, e *env) {
	h := e.start(64, topics.HubOptions{})
	s := e.subscribe("t", topics.Position{})
	h.Close()
	if err := failure(t, s); !errors.Is(err, errs.ErrShuttingDown) {
		t.Fatalf("poll after close: %v", err)
	}
	if _, _, err := h.Publish(context.Background(), e.cache, "t", text("x"), ""); !errors.Is(err, errs.ErrShuttingDown) {
		t.Fatalf("publish after close: %v", err)
	}
	if _, err := h.Subscribe(context.Background(), e.cache, "t", topics.Position{}); !errors.Is(err, errs.ErrShuttingDown) {
		t.Fatalf("subscribe after close: %v", err)
	}
	h.Close() // idempotent
}

// testConcurrentFanOut: 1,000 subscribers, 4 concurrent publishers; every
// subscriber sees every sequence number once, in order, with the same value.
func testConcurrentFanOut(t *testing.T, e *env) {
	const subs, pubs, perPub = 1000, 4, 50
	const total = pubs * perPub
	e.start(4096, topics.HubOptions{})
	ss := make([]*topics.Subscription, subs)
	for i := range ss {
		ss[i] = e.subscribe("fan", topics.Position{})
	}
	values := make([]string, total+1) // by seq
	var mu sync.Mutex
	var wg sync.WaitGroup
	failures := make(chan error, subs+pubs)
	for i, s := range ss {
		wg.Go(func() {
			next := uint64(1)
			seen := make([]string, 0, total)
			buf := make([]topics.Event, 0, 16)
			timeout := time.After(60 * time.Second)
			for next <= total {
				ready := s.Ready()
				evs, err := s.Poll(context.Background(), buf[:0])
				if err != nil {
					failures <- err
					return
				}
				for _, ev := range evs {
					if ev.Msg == nil || ev.Msg.Seq != next {
						failures <- fmt.Errorf("subscriber %d: want seq %d, got %s", i, next, describe([]topics.Event{ev}, 0))
						return
					}
					seen = append(seen, string(ev.Msg.Value.Data))
					next++
				}
				if len(evs) > 0 {
					continue
				}
				select {
				case <-ready:
				case <-timeout:
					failures <- fmt.Errorf("subscriber %d: stuck at seq %d", i, next)
					return
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for j, v := range seen {
				if values[j+1] == "" {
					values[j+1] = v
				} else if values[j+1] != v {
					failures <- fmt.Errorf("subscriber %d: seq %d is %q, another saw %q", i, j+1, v, values[j+1])
					return
				}
			}
		})
	}
	var pwg sync.WaitGroup
	for p := range pubs {
		pwg.Go(func() {
			for i := range perPub {
				if _, _, err := e.hub.Publish(context.Background(), e.cache, "fan", text(fmt.Sprintf("p%d-%d", p, i)), ""); err != nil {
					failures <- err
					return
				}
			}
		})
	}
	pwg.Wait()
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Fatal(err)
	}
}
