// Package brokertest is the semantics suite every Broker engine must pass.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/broker"
)

// Factory returns a fresh broker with opts; the suite closes it.
type Factory func(t *testing.T, opts broker.Options) broker.Broker

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"PublishSubscribe", testPublishSubscribe},
		{"TwoSubscribersSameSequence", testTwoSubscribers},
		{"NewMessagesOnly", testNewMessagesOnly},
		{"ResumeInsideBuffer", testResumeInside},
		{"ResumeOutsideBuffer", testResumeOutside},
		{"ResumeAhead", testResumeAhead},
		{"PageChange", testPageChange},
		{"SlowSubscriber", testSlowSubscriber},
		{"ByteBound", testByteBound},
		{"DeleteCache", testDeleteCache},
		{"Epochs", testEpochs},
		{"Limits", testLimits},
		{"SubscriptionLimit", testSubscriptionLimit},
		{"Close", testClose},
		{"ConcurrentFanOut", testConcurrentFanOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, f) })
	}
}

var bg = context.Background()

func tp(name string) broker.Topic { return broker.Topic{Cache: "c", Epoch: 1, Name: name} }

func text(s string) broker.Value { return broker.Value{Data: []byte(s)} }

func publish(t *testing.T, b broker.Broker, topic broker.Topic, vals ...string) (page uint64) {
	t.Helper()
	for _, v := range vals {
		_, p, err := b.Publish(bg, topic, text(v), "pub")
		if err != nil {
			t.Fatalf("publish %q: %v", v, err)
		}
		page = p
	}
	return page
}

func publishN(t *testing.T, b broker.Broker, topic broker.Topic, n int) uint64 {
	t.Helper()
	var page uint64
	for i := 0; i < n; i++ {
		page = publish(t, b, topic, fmt.Sprint("m", i+1))
	}
	return page
}

func subscribe(t *testing.T, b broker.Broker, topic broker.Topic, from broker.Position) broker.Subscription {
	t.Helper()
	s, err := b.Subscribe(bg, topic, from)
	if err != nil {
		t.Fatalf("subscribe %+v: %v", from, err)
	}
	t.Cleanup(s.Close)
	return s
}

// drain polls until nothing is left.
func drain(t *testing.T, s broker.Subscription) []broker.Event {
	t.Helper()
	var out []broker.Event
	for {
		evs, err := s.Poll(make([]broker.Event, 0, 7))
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
	}
}

// describe renders events as "gap(last,new,page) 3:m3 ..." with pages
// relative to page.
func describe(evs []broker.Event, page uint64) string {
	var sb strings.Builder
	for i, e := range evs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if e.Msg == nil {
			rel := "same"
			if e.Gap.Page != page {
				rel = fmt.Sprint(e.Gap.Page)
			}
			fmt.Fprintf(&sb, "gap(%d,%d,%s)", e.Gap.Last, e.Gap.New, rel)
			continue
		}
		fmt.Fprintf(&sb, "%d:%s", e.Msg.Seq, e.Msg.Value.Data)
	}
	return sb.String()
}

func expect(t *testing.T, evs []broker.Event, page uint64, want string) {
	t.Helper()
	if got := describe(evs, page); got != want {
		t.Fatalf("events:\n got  %s\n want %s", got, want)
	}
}

func testPublishSubscribe(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	s := subscribe(t, b, tp("t"), broker.Position{})
	if evs := drain(t, s); len(evs) != 0 {
		t.Fatalf("new subscription has events: %s", describe(evs, 0))
	}
	ready := s.Ready()
	seq, page, err := b.Publish(bg, tp("t"), text("hello"), "tok-1")
	if err != nil || seq != 1 || page == 0 {
		t.Fatalf("publish = %d, %d, %v; want seq 1 and a page", seq, page, err)
	}
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("Ready not closed by a publish")
	}
	if _, _, err := b.Publish(bg, tp("t"), broker.Value{Data: []byte{0, 1, 2}, Binary: true}, ""); err != nil {
		t.Fatal(err)
	}
	evs := drain(t, s)
	expect(t, evs, page, "1:hello 2:\x00\x01\x02")
	m1, m2 := evs[0].Msg, evs[1].Msg
	if m1.Page != page || m1.PublisherID != "tok-1" || m1.Value.Binary || !m2.Value.Binary || m2.PublisherID != "" {
		t.Fatalf("messages %+v %+v", m1, m2)
	}
	// Another topic of the cache is independent.
	if seq, _, _ := b.Publish(bg, tp("other"), text("x"), ""); seq != 1 {
		t.Fatalf("first message of another topic has seq %d", seq)
	}
}

func testTwoSubscribers(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	s1 := subscribe(t, b, tp("t"), broker.Position{})
	s2 := subscribe(t, b, tp("t"), broker.Position{})
	page := publishN(t, b, tp("t"), 5)
	e1, e2 := drain(t, s1), drain(t, s2)
	expect(t, e1, page, "1:m1 2:m2 3:m3 4:m4 5:m5")
	expect(t, e2, page, "1:m1 2:m2 3:m3 4:m4 5:m5")
	if e1[0].Msg != e2[0].Msg {
		t.Error("subscribers got different Message values: fan-out should share them")
	}
}

func testNewMessagesOnly(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	publishN(t, b, tp("t"), 3)
	s := subscribe(t, b, tp("t"), broker.Position{})
	page := publish(t, b, tp("t"), "m4")
	expect(t, drain(t, s), page, "4:m4")
}

func testResumeInside(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxMessages: 8})
	page := publishN(t, b, tp("t"), 10) // buffer holds 3..10
	expect(t, drain(t, subscribe(t, b, tp("t"), broker.Position{Seq: 4, Page: page})), page, "4:m4 5:m5 6:m6 7:m7 8:m8 9:m9 10:m10")
	expect(t, drain(t, subscribe(t, b, tp("t"), broker.Position{Seq: 3, Page: page})), page, "3:m3 4:m4 5:m5 6:m6 7:m7 8:m8 9:m9 10:m10")
	// Page 0 means the current page.
	expect(t, drain(t, subscribe(t, b, tp("t"), broker.Position{Seq: 9})), page, "9:m9 10:m10")
	// Node's convention (last+1) right after the newest: nothing to replay, then live.
	s := subscribe(t, b, tp("t"), broker.Position{Seq: 11, Page: page})
	publish(t, b, tp("t"), "m11")
	expect(t, drain(t, s), page, "11:m11")
}

func testResumeOutside(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxMessages: 4})
	page := publishN(t, b, tp("t"), 10) // buffer holds 7..10
	s := subscribe(t, b, tp("t"), broker.Position{Seq: 2, Page: page})
	expect(t, drain(t, s), page, "gap(1,6,same) 7:m7 8:m8 9:m9 10:m10")
}

func testResumeAhead(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	page := publishN(t, b, tp("t"), 3)
	s := subscribe(t, b, tp("t"), broker.Position{Seq: 50, Page: page})
	publish(t, b, tp("t"), "m4")
	expect(t, drain(t, s), page, "4:m4")
}

func testPageChange(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	page := publishN(t, b, tp("t"), 2)
	s := subscribe(t, b, tp("t"), broker.Position{Seq: 7, Page: page - 1})
	evs := drain(t, s)
	expect(t, evs, page, "gap(6,0,same) 1:m1 2:m2")

	// A topic without messages: the discontinuity carries the page, then live.
	_, emptyPage, _ := b.Publish(bg, tp("fresh"), text("x"), "")
	s2 := subscribe(t, b, tp("other"), broker.Position{Seq: 3, Page: 1})
	evs = drain(t, s2)
	if len(evs) != 1 || evs[0].Msg != nil || evs[0].Gap.Last != 2 || evs[0].Gap.New != 0 || evs[0].Gap.Page <= 1 {
		t.Fatalf("empty topic, old page: %s", describe(evs, 0))
	}
	if evs[0].Gap.Page < emptyPage {
		t.Fatalf("a later topic got an earlier page: %d < %d", evs[0].Gap.Page, emptyPage)
	}
}

func testSlowSubscriber(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxMessages: 64, MaxLag: 8})
	s := subscribe(t, b, tp("t"), broker.Position{})
	fast := subscribe(t, b, tp("t"), broker.Position{})
	var fastSeen []broker.Event
	for i := 0; i < 100; i++ {
		publish(t, b, tp("t"), fmt.Sprint("m", i+1))
		fastSeen = append(fastSeen, drain(t, fast)...)
	}
	if len(fastSeen) != 100 {
		t.Fatalf("a subscriber that keeps up got %d events: %s", len(fastSeen), describe(fastSeen, 0))
	}
	page := fastSeen[0].Msg.Page
	// Lagging by 100 > 8: one discontinuity, then the newest message, then live.
	expect(t, drain(t, s), page, "gap(0,99,same) 100:m100")
	publish(t, b, tp("t"), "m101")
	expect(t, drain(t, s), page, "101:m101")
	// Within the bound nothing is skipped.
	for i := 102; i <= 109; i++ {
		publish(t, b, tp("t"), fmt.Sprint("m", i))
	}
	evs := drain(t, s)
	if len(evs) != 8 || evs[0].Msg == nil || evs[0].Msg.Seq != 102 {
		t.Fatalf("8 behind with MaxLag 8: %s", describe(evs, page))
	}
}

func testByteBound(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxBytes: 8192, MaxPayload: 1000})
	big := strings.Repeat("x", 1000)
	s := subscribe(t, b, tp("t"), broker.Position{})
	var page uint64
	for i := 0; i < 20; i++ {
		_, p, err := b.Publish(bg, tp("t"), text(big), "")
		if err != nil {
			t.Fatal(err)
		}
		page = p
	}
	evs := drain(t, s)
	if len(evs) == 0 || evs[0].Msg != nil || evs[0].Gap.Last != 0 {
		t.Fatalf("byte-bounded buffer overrun should start with a discontinuity: %s", describe(evs, page))
	}
	last := evs[len(evs)-1]
	if last.Msg == nil || last.Msg.Seq != 20 || len(evs) > 4 {
		t.Fatalf("after an overrun: %s", describe(evs, page))
	}
	// Resume from the start: what is gone is reported, the rest replayed.
	evs = drain(t, subscribe(t, b, tp("t"), broker.Position{Seq: 1, Page: page}))
	if len(evs) < 2 || evs[0].Msg != nil || evs[0].Gap.Last != 0 || evs[1].Msg == nil || evs[1].Msg.Seq != evs[0].Gap.New+1 || evs[len(evs)-1].Msg.Seq != 20 {
		t.Fatalf("resume at 1 over a byte-bounded buffer: %s", describe(evs, page))
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Ready not closed")
	}
}

func testDeleteCache(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	s := subscribe(t, b, tp("t"), broker.Position{})
	page := publish(t, b, tp("t"), "m1")
	ready := s.Ready()
	b.DeleteCache("c")
	waitClosed(t, ready)
	if _, err := s.Poll(nil); !errors.Is(err, broker.ErrCacheDeleted) {
		t.Fatalf("poll after delete: %v", err)
	}
	// The re-created cache (new epoch) has new topics with a new page.
	newer := broker.Topic{Cache: "c", Epoch: 2, Name: "t"}
	_, page2, err := b.Publish(bg, newer, text("again"), "")
	if err != nil || page2 <= page {
		t.Fatalf("publish to re-created cache: page %d after %d, %v", page2, page, err)
	}
	b.DeleteCache("missing") // no-op
}

func testEpochs(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	s := subscribe(t, b, tp("t"), broker.Position{})
	// A newer epoch means the cache was deleted and re-created.
	newer := broker.Topic{Cache: "c", Epoch: 5, Name: "t"}
	if _, _, err := b.Publish(bg, newer, text("x"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Poll(nil); !errors.Is(err, broker.ErrCacheDeleted) {
		t.Fatalf("subscription of the old epoch: %v", err)
	}
	// An older epoch is a stale caller.
	if _, _, err := b.Publish(bg, tp("t"), text("x"), ""); !errors.Is(err, broker.ErrCacheDeleted) {
		t.Fatalf("publish with an older epoch: %v", err)
	}
	if _, err := b.Subscribe(bg, tp("t"), broker.Position{}); !errors.Is(err, broker.ErrCacheDeleted) {
		t.Fatalf("subscribe with an older epoch: %v", err)
	}
}

func testLimits(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxPayload: 10})
	cases := []struct {
		topic string
		v     broker.Value
		want  error
	}{
		{"t", broker.Value{}, broker.ErrEmptyPayload},
		{"t", broker.Value{Data: []byte{}, Binary: true}, broker.ErrEmptyPayload},
		{"t", text("12345678901"), broker.ErrPayloadTooLarge},
		{"", text("x"), broker.ErrInvalidTopic},
		{strings.Repeat("t", broker.MaxTopicNameLen+1), text("x"), broker.ErrInvalidTopic},
		{"bad\xff", text("x"), broker.ErrInvalidTopic},
		{"ctl\n", text("x"), broker.ErrInvalidTopic},
		{"t", text("1234567890"), nil},
		{"ü-topic", text("x"), nil},
	}
	for _, c := range cases {
		_, _, err := b.Publish(bg, tp(c.topic), c.v, "")
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("publish(%q, %q) = %v, want %v", c.topic, c.v.Data, err, c.want)
		}
	}
	if _, err := b.Subscribe(bg, tp(""), broker.Position{}); !errors.Is(err, broker.ErrInvalidTopic) {
		t.Errorf("subscribe to empty topic: %v", err)
	}
}

func testSubscriptionLimit(t *testing.T, f Factory) {
	b := f(t, broker.Options{MaxSubscriptionsPerCache: 2})
	s1 := subscribe(t, b, tp("a"), broker.Position{})
	subscribe(t, b, tp("b"), broker.Position{})
	_, err := b.Subscribe(bg, tp("a"), broker.Position{})
	if !errors.Is(err, broker.ErrTooManySubscriptions) || !strings.Contains(err.Error(), "subscribers") {
		t.Fatalf("third subscription: %v", err)
	}
	// Another cache has its own budget.
	subscribe(t, b, broker.Topic{Cache: "d", Epoch: 1, Name: "a"}, broker.Position{})
	s1.Close()
	s1.Close() // idempotent: frees one slot, not two
	subscribe(t, b, tp("a"), broker.Position{})
	if _, err := b.Subscribe(bg, tp("a"), broker.Position{}); !errors.Is(err, broker.ErrTooManySubscriptions) {
		t.Fatalf("after close and resubscribe: %v", err)
	}
}

func testClose(t *testing.T, f Factory) {
	b := f(t, broker.Options{})
	s := subscribe(t, b, tp("t"), broker.Position{})
	ready := s.Ready()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ready)
	if _, err := s.Poll(nil); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("poll after close: %v", err)
	}
	if _, _, err := b.Publish(bg, tp("t"), text("x"), ""); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
	if _, err := b.Subscribe(bg, tp("t"), broker.Position{}); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// testConcurrentFanOut: 1,000 subscribers, 4 concurrent publishers; every
// subscriber sees every sequence number once, in order, with the same value.
func testConcurrentFanOut(t *testing.T, f Factory) {
	const subs, pubs, perPub = 1000, 4, 50
	const total = pubs * perPub
	b := f(t, broker.Options{})
	ss := make([]broker.Subscription, subs)
	for i := range ss {
		ss[i] = subscribe(t, b, tp("fan"), broker.Position{})
	}
	values := make([]string, total+1) // by seq
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, subs+pubs)
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := uint64(1)
			seen := make([]string, 0, total)
			buf := make([]broker.Event, 0, 16)
			deadline := time.After(60 * time.Second)
			for next <= total {
				ready := s.Ready()
				evs, err := s.Poll(buf[:0])
				if err != nil {
					errs <- err
					return
				}
				for _, e := range evs {
					if e.Msg == nil || e.Msg.Seq != next {
						errs <- fmt.Errorf("subscriber %d: want seq %d, got %s", i, next, describe([]broker.Event{e}, 0))
						return
					}
					seen = append(seen, string(e.Msg.Value.Data))
					next++
				}
				if len(evs) > 0 {
					continue
				}
				select {
				case <-ready:
				case <-deadline:
					errs <- fmt.Errorf("subscriber %d: stuck at seq %d", i, next)
					return
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for j, v := range seen {
				if values[j+1] == "" {
					values[j+1] = v
				} else if values[j+1] != v {
					errs <- fmt.Errorf("subscriber %d: seq %d is %q, another saw %q", i, j+1, v, values[j+1])
					return
				}
			}
		}()
	}
	var pwg sync.WaitGroup
	for p := 0; p < pubs; p++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := 0; i < perPub; i++ {
				if _, _, err := b.Publish(bg, tp("fan"), text(fmt.Sprintf("p%d-%d", p, i)), ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	pwg.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
