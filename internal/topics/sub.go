package topics

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// hubTopic is one topic with local subscribers: its window of the newest
// messages, filled by one pump. The pump is the only writer; subscribers
// read under the read lock.
type hubTopic struct {
	h      *Hub
	ref    store.TopicRef
	maxWin int
	subs   int                        // guarded by Hub.mu
	set    map[*Subscription]struct{} // the subscriptions, for Stats; guarded by Hub.mu

	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}

	mu     sync.RWMutex
	page   uint64
	win    []*Message // ring: seq s in win[s % len(win)]
	first  uint64     // the window holds [first, last]; first == last+1 when empty
	last   uint64
	notify chan struct{} // closed when the window changes or the topic fails
	err    error
}

func newHubTopic(h *Hub, ref store.TopicRef) *hubTopic {
	maxWin := 1
	for maxWin < h.opts.MaxLag {
		maxWin <<= 1
	}
	return &hubTopic{h: h, ref: ref, maxWin: maxWin, set: map[*Subscription]struct{}{}, stop: make(chan struct{}), notify: make(chan struct{})}
}

// start sets the window at the log's state and starts the pump, once.
func (t *hubTopic) start(st store.TopicState) {
	t.startOnce.Do(func() {
		t.mu.Lock()
		t.page, t.first, t.last = st.Page, st.Last+1, st.Last
		t.win = make([]*Message, min(16, t.maxWin))
		t.mu.Unlock()
		go t.pump()
	})
}

func (t *hubTopic) stopPump() { t.stopOnce.Do(func() { close(t.stop) }) }

// wake tells subscribers the window changed. Under t.mu.
func (t *hubTopic) wake() {
	close(t.notify)
	t.notify = make(chan struct{})
}

// fail ends every subscription of t with err.
func (t *hubTopic) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
		t.wake()
	}
	t.mu.Unlock()
	t.stopPump()
}

// pump reads what the log appends and puts it in the window.
func (t *hubTopic) pump() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-t.stop
		cancel()
	}()
	log := t.h.log
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			select {
			case <-t.stop:
				return
			case <-time.After(backoff):
			}
		}
		ch, err := log.Notify(ctx, t.ref)
		if err == nil {
			var changed bool
			changed, err = t.readMore(ctx)
			if err == nil && changed {
				backoff = 0
				continue
			}
		}
		if err != nil {
			if t.stopped() {
				return
			}
			if errors.Is(err, errs.ErrCacheNotFound) || errors.Is(err, errs.ErrShuttingDown) {
				if errors.Is(err, errs.ErrCacheNotFound) {
					t.h.forget(t.ref.Cache, t.ref.Epoch)
				}
				t.fail(err)
				return
			}
			// Unreachable engine: keep the subscriptions, try again.
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
			continue
		}
		backoff = 0
		select {
		case <-t.stop:
			return
		case <-ch:
		}
	}
}

func (t *hubTopic) stopped() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// readMore reads the messages after the window from the log; changed says
// whether the window moved.
func (t *hubTopic) readMore(ctx context.Context) (changed bool, err error) {
	log := t.h.log
	t.mu.RLock()
	from, page := t.last+1, t.page
	t.mu.RUnlock()
	st, msgs, err := log.Read(ctx, t.ref, from, readBatch)
	if err != nil {
		return false, err
	}
	if st.Page == 0 {
		// Dropped or lost in the log: it comes back with a new page.
		if st, err = log.Open(ctx, t.ref); err != nil {
			return false, err
		}
		msgs = nil
	}
	if st.Page != page {
		t.reset(st)
		return true, nil
	}
	if len(msgs) > 0 {
		t.append(msgs)
		return true, nil
	}
	if st.Last >= from {
		// Gone from the log before the pump read them: the window skips
		// ahead and subscribers see a discontinuity.
		t.skip(st.First)
		return true, nil
	}
	return false, nil
}

// reset starts the window over on a new page.
func (t *hubTopic) reset(st store.TopicState) {
	t.mu.Lock()
	t.page, t.first, t.last = st.Page, st.First, st.First-1
	clear(t.win)
	t.wake()
	t.mu.Unlock()
}

// skip empties the window and moves it to start at first.
func (t *hubTopic) skip(first uint64) {
	t.mu.Lock()
	t.first, t.last = first, first-1
	t.wake()
	t.mu.Unlock()
}

func (t *hubTopic) append(msgs []*store.TopicMessage) {
	t.mu.Lock()
	for _, m := range msgs {
		if m.Seq <= t.last {
			continue
		}
		if m.Seq != t.last+1 {
			t.first = m.Seq // the log lost some: the window restarts here
		}
		if n := m.Seq - t.first + 1; n > uint64(len(t.win)) {
			if len(t.win) < t.maxWin {
				t.grow()
			} else {
				t.first = m.Seq - uint64(len(t.win)) + 1
			}
		}
		t.win[m.Seq%uint64(len(t.win))] = &Message{TopicMessage: m}
		t.last = m.Seq
	}
	t.wake()
	t.mu.Unlock()
}

// grow doubles the ring. Under t.mu.
func (t *hubTopic) grow() {
	nw := make([]*Message, min(2*len(t.win), t.maxWin))
	for s := t.first; s <= t.last; s++ {
		nw[s%uint64(len(nw))] = t.win[s%uint64(len(t.win))]
	}
	t.win = nw
}

// Subscription is one subscriber's view of a topic. Use it from one
// goroutine:
//
//	for {
//		ready := sub.Ready()
//		evs, err := sub.Poll(ctx, buf[:0])
//		if err != nil { ... }          // errs.ErrCacheNotFound, errs.ErrShuttingDown
//		if len(evs) > 0 { deliver; continue }
//		select { case <-ready: case <-ctx.Done(): ... }
//	}
type Subscription struct {
	h      *Hub
	t      *hubTopic
	maxLag uint64

	next       uint64 // the next sequence number to deliver
	page       uint64
	pending    Discontinuity
	hasPending bool
	closed     atomic.Bool
	release    func() // the service's quota slot, if any
	// pos mirrors next for Stats, which reads it from other goroutines.
	pos atomic.Uint64
}

// place sets the cursor of a new subscription (see the package doc).
func (s *Subscription) place(st store.TopicState, from Position) {
	s.page = st.Page
	last := uint64(0)
	if from.Seq > 0 {
		last = from.Seq - 1
	}
	switch {
	case from.Page != 0 && from.Page != st.Page:
		s.gap(Discontinuity{Last: last, New: st.First - 1, Page: st.Page})
		s.next = st.First
	case from.Seq == 0 || from.Seq > st.Last+1:
		s.next = st.Last + 1
	case from.Seq < st.First:
		s.gap(Discontinuity{Last: last, New: st.First - 1, Page: st.Page})
		s.next = st.First
	default:
		s.next = from.Seq
	}
}

// gap records a discontinuity; one still pending keeps its Last.
func (s *Subscription) gap(d Discontinuity) {
	s.h.discontinuities.Add(1)
	if s.hasPending {
		d.Last = s.pending.Last
	}
	s.pending, s.hasPending = d, true
}

// Ready returns a channel that is closed when Poll may have something new.
// Take it before Poll, so that nothing published in between is missed.
func (s *Subscription) Ready() <-chan struct{} {
	s.t.mu.RLock()
	defer s.t.mu.RUnlock()
	return s.t.notify
}

var errSubscriptionClosed = errs.ErrUnavailable.Msgf("subscription closed")

// Poll appends to dst the events available now, at most cap(dst)-len(dst)
// of them (64 when cap(dst) is 0). It waits only for the log when the
// subscriber is behind the window. It fails once the topic is gone.
func (s *Subscription) Poll(ctx context.Context, dst []Event) ([]Event, error) {
	if s.closed.Load() {
		return dst, errSubscriptionClosed
	}
	defer func() { s.pos.Store(s.next) }()
	if cap(dst) == 0 {
		dst = make([]Event, 0, 64)
	}
	t := s.t
	for len(dst) < cap(dst) {
		if s.hasPending {
			dst = append(dst, Event{Gap: s.pending})
			s.hasPending = false
			continue
		}
		t.mu.RLock()
		if t.err != nil {
			err := t.err
			t.mu.RUnlock()
			return dst, err
		}
		page, first, last := t.page, t.first, t.last
		switch {
		case page != s.page:
			// The topic started over in the log: what this subscriber had
			// not seen of the old page is lost.
			s.gap(Discontinuity{Last: s.next - 1, New: first - 1, Page: page})
			s.page, s.next = page, first
			t.mu.RUnlock()
			continue
		case s.next > last:
			t.mu.RUnlock()
			return dst, nil
		case last-s.next >= s.maxLag:
			// Too far behind: skip to the newest message.
			s.gap(Discontinuity{Last: s.next - 1, New: last - 1, Page: page})
			s.next = last
			t.mu.RUnlock()
			continue
		case s.next >= first:
			for s.next <= last && len(dst) < cap(dst) {
				dst = append(dst, Event{Msg: t.win[s.next%uint64(len(t.win))]})
				s.next++
			}
			t.mu.RUnlock()
			continue
		}
		t.mu.RUnlock()
		// Behind the window: catch up from the log itself.
		n := int(min(uint64(cap(dst)-len(dst)), first-s.next))
		st, msgs, err := s.h.log.Read(ctx, t.ref, s.next, n)
		if err != nil {
			return dst, err
		}
		if st.Page != s.page || len(msgs) == 0 || msgs[0].Seq != s.next {
			resume := first
			if st.Page == s.page && len(msgs) > 0 {
				resume = min(msgs[0].Seq, first)
			}
			s.gap(Discontinuity{Last: s.next - 1, New: resume - 1, Page: s.page})
			s.next = resume
			continue
		}
		for _, m := range msgs {
			if m.Seq != s.next || m.Seq >= first {
				break
			}
			dst = append(dst, Event{Msg: &Message{TopicMessage: m}})
			s.next++
		}
	}
	return dst, nil
}

// Close ends the subscription and releases its slot. Idempotent.
func (s *Subscription) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.h.release(s)
	if s.release != nil {
		s.release()
	}
	s.h.reportPresence(context.Background(), s.t.ref)
}
