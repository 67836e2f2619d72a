// Package topics is the topics service and its hub. The hub turns an
// engine's topic log (store.TopicLog) into subscriptions the same way for
// every engine: subscriber cursors, bounded backlogs, discontinuities,
// encode-once frames, presence counts and the binding of topics to the
// epoch of their cache. The Service above it validates and authorizes.
//
// Semantics every subscriber gets:
//
//   - A subscription starts at a Position. Seq 0 means "new messages only";
//     otherwise Seq is the first sequence number to deliver. A page other
//     than the topic's (and not 0) yields a Discontinuity carrying the new
//     page, then what is still retained. A requested range that is gone
//     yields a Discontinuity, then the oldest message still retained.
//   - A Discontinuity{Last, New, Page} says: the sequence numbers in
//     (Last, New] are lost; the stream continues with New+1 in Page. A
//     client that resumes at "last seen + 1" after it loses nothing more.
//   - A subscriber whose backlog exceeds MaxLag gets a Discontinuity and
//     goes on with the newest message: no unbounded memory, no silent gap.
//   - When the cache is deleted (or re-created), its subscriptions end with
//     errs.ErrCacheNotFound; when the hub closes, with errs.ErrShuttingDown.
//
// How: per topic with local subscribers, one pump goroutine waits for the
// log's wake-up, reads new messages once and appends them to a window (a
// ring of the newest MaxLag messages) that every local subscriber reads
// from its own cursor. A subscriber behind the window reads the log
// directly until it catches up. So an engine is read once per message per
// node, however many subscribers there are, and a message is encoded once.
//
// Lock order: Hub.mu, then hubTopic.mu. Neither is held while calling the
// log.
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

// Defaults of HubOptions.
const (
	DefaultMaxLag                   = 4096
	DefaultMaxSubscriptionsPerCache = 10000
	readBatch                       = 256
	// touchEvery keeps topics with subscribers open in the log, well inside
	// the five minutes the log promises not to drop a used topic.
	touchEvery = time.Minute
	// revalidateEvery bounds how long a subscription outlives its cache when
	// the delete happened on another node.
	revalidateEvery = time.Second
)

// HubOptions configure a Hub. Zero fields take the defaults.
type HubOptions struct {
	// MaxLag bounds each subscriber's backlog, in messages.
	MaxLag int
	// MaxSubscriptionsPerCache bounds the open subscriptions of one cache.
	MaxSubscriptionsPerCache int
}

func (o *HubOptions) setDefaults() {
	if o.MaxLag <= 0 {
		o.MaxLag = DefaultMaxLag
	}
	if o.MaxSubscriptionsPerCache <= 0 {
		o.MaxSubscriptionsPerCache = DefaultMaxSubscriptionsPerCache
	}
}

// EpochFunc returns the current epoch of a cache, or errs.ErrCacheNotFound.
type EpochFunc func(ctx context.Context, cache string) (uint64, error)

// Hub fans topics out to subscribers.
type Hub struct {
	log    store.TopicLog
	epochs EpochFunc
	opts   HubOptions

	mu     sync.Mutex
	caches map[string]*hubCache
	closed bool

	discontinuities atomic.Uint64 // reported to subscribers, for Stats

	stop chan struct{}
	done chan struct{}

	// pres reports presence to engines that share it (presence.go).
	pres presence
}

// hubCache is what the hub knows of one cache. Guarded by Hub.mu.
type hubCache struct {
	epoch  uint64 // the epoch publishers and subscribers use (0: unknown)
	dead   uint64 // the newest epoch known to be deleted
	used   bool   // epoch used since the last sweep
	subs   int
	topics map[string]*hubTopic // topics with local subscribers, at epoch
}

// NewHub returns a running hub over log; epochs tells it the current epoch
// of a cache. Close it to end every subscription.
func NewHub(log store.TopicLog, epochs EpochFunc, opts HubOptions) *Hub {
	opts.setDefaults()
	h := &Hub{log: log, epochs: epochs, opts: opts, caches: map[string]*hubCache{}, stop: make(chan struct{}), done: make(chan struct{})}
	go h.janitor()
	return h
}

// Options returns the effective options.
func (h *Hub) Options() HubOptions { return h.opts }

// epoch returns the cache's epoch, from the hub's memory when it can.
func (h *Hub) epoch(ctx context.Context, cache string) (uint64, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0, errs.ErrShuttingDown
	}
	if c := h.caches[cache]; c != nil && c.epoch != 0 {
		c.used = true
		e := c.epoch
		h.mu.Unlock()
		return e, nil
	}
	h.mu.Unlock()
	e, err := h.epochs(ctx, cache)
	if err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cache(cache)
	if e <= c.dead {
		return 0, errs.ErrCacheNotFound.Withf("%q", cache)
	}
	if e > c.epoch {
		h.retire(c, e)
	}
	c.used = true
	return c.epoch, nil
}

// cache returns the state of a cache, creating it. Under h.mu.
func (h *Hub) cache(name string) *hubCache {
	c := h.caches[name]
	if c == nil {
		c = &hubCache{topics: map[string]*hubTopic{}}
		h.caches[name] = c
	}
	return c
}

// retire moves c to epoch e, failing the topics of older epochs. Under h.mu.
func (h *Hub) retire(c *hubCache, e uint64) {
	for name, t := range c.topics {
		t.fail(errs.ErrCacheNotFound.Withf("%q", t.ref.Cache))
		delete(c.topics, name)
	}
	c.epoch = e
}

// CacheDeleted ends what the hub holds for epoch and older epochs of cache:
// their subscriptions end with errs.ErrCacheNotFound and later calls with
// such an epoch are refused. The cache service calls it after a delete.
func (h *Hub) CacheDeleted(ctx context.Context, cache string, epoch uint64) {
	h.mu.Lock()
	c := h.cache(cache)
	c.dead = max(c.dead, epoch)
	if c.epoch <= epoch {
		h.retire(c, 0)
	}
	h.mu.Unlock()
	// A failed drop only delays reclaiming the log's memory: the log refuses
	// the old epoch on its own once a newer one is used.
	_ = h.log.DropCache(ctx, cache, epoch)
}

// Publish appends a message to a topic of cache.
func (h *Hub) Publish(ctx context.Context, cache, topic string, v store.TopicValue, publisherID string) (seq, page uint64, err error) {
	for attempt := 0; ; attempt++ {
		e, err := h.epoch(ctx, cache)
		if err != nil {
			return 0, 0, err
		}
		seq, page, err = h.log.Append(ctx, store.TopicRef{Cache: cache, Epoch: e, Name: topic}, v, publisherID)
		if err == nil || attempt > 0 || !errors.Is(err, errs.ErrCacheNotFound) {
			return seq, page, err
		}
		// The epoch the hub remembered is gone: the cache was re-created
		// (on another node). Learn the new one and try once more.
		h.forget(cache, e)
	}
}

// forget drops a remembered epoch that the log refused.
func (h *Hub) forget(cache string, e uint64) {
	h.mu.Lock()
	if c := h.caches[cache]; c != nil && c.epoch == e {
		c.dead = max(c.dead, e)
		h.retire(c, 0)
	}
	h.mu.Unlock()
}

// Subscribers is the number of local subscriptions of a topic.
func (h *Hub) Subscribers(cache, topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.caches[cache]; c != nil {
		if t := c.topics[topic]; t != nil {
			return t.subs
		}
	}
	return 0
}

// Position is where a subscription starts.
type Position struct {
	Seq  uint64 // 0: new messages only; else the first sequence number to deliver
	Page uint64 // 0: the topic's current page
}

// Subscribe opens a subscription to a topic of cache.
func (h *Hub) Subscribe(ctx context.Context, cache, topic string, from Position) (*Subscription, error) {
	return h.subscribe(ctx, cache, topic, from, nil)
}

// subscribe opens a subscription; release, when not nil, runs once when it
// closes (or when opening it fails).
func (h *Hub) subscribe(ctx context.Context, cache, topic string, from Position, release func()) (*Subscription, error) {
	s, err := h.open(ctx, cache, topic, from)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	s.release = release
	return s, nil
}

func (h *Hub) open(ctx context.Context, cache, topic string, from Position) (*Subscription, error) {
	e, err := h.epoch(ctx, cache)
	if err != nil {
		return nil, err
	}
	ref := store.TopicRef{Cache: cache, Epoch: e, Name: topic}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errs.ErrShuttingDown
	}
	c := h.cache(cache)
	if e <= c.dead || e != c.epoch {
		h.mu.Unlock()
		return nil, errs.ErrCacheNotFound.Withf("%q", cache)
	}
	if c.subs >= h.opts.MaxSubscriptionsPerCache {
		h.mu.Unlock()
		return nil, errs.ErrTooManySubscriptions.Withf("the cache has %d open subscriptions, its limit", h.opts.MaxSubscriptionsPerCache)
	}
	t := c.topics[topic]
	if t == nil {
		t = newHubTopic(h, ref)
		c.topics[topic] = t
	}
	t.subs++
	c.subs++
	s := &Subscription{h: h, t: t, maxLag: uint64(h.opts.MaxLag)}
	t.set[s] = struct{}{}
	h.mu.Unlock()
	h.reportPresence(ctx, ref)

	st, err := h.log.Open(ctx, ref)
	if err != nil {
		s.Close()
		return nil, err
	}
	t.start(st)
	s.place(st, from)
	s.pos.Store(s.next)
	return s, nil
}

// release gives back a subscriber's slot; the last one stops the pump.
func (h *Hub) release(s *Subscription) {
	t := s.t
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(t.set, s)
	c := h.caches[t.ref.Cache]
	if c == nil {
		return
	}
	c.subs--
	t.subs--
	if t.subs == 0 && c.topics[t.ref.Name] == t {
		delete(c.topics, t.ref.Name)
		t.stopPump()
	}
}

// Close ends every subscription with errs.ErrShuttingDown.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for _, c := range h.caches {
		for name, t := range c.topics {
			t.fail(errs.ErrShuttingDown)
			delete(c.topics, name)
		}
	}
	h.mu.Unlock()
	close(h.stop)
	<-h.done
}

// janitor keeps the topics of local subscribers open in the log and checks
// that their caches still exist (a delete on another node reaches this
// node's subscribers within revalidateEvery).
func (h *Hub) janitor() {
	defer close(h.done)
	tick := time.NewTicker(revalidateEvery)
	defer tick.Stop()
	lastTouch := time.Now()
	for {
		select {
		case <-h.stop:
			return
		case now := <-tick.C:
			touch := now.Sub(lastTouch) >= touchEvery
			if touch {
				lastTouch = now
			}
			h.sweep(touch)
			h.tickPresence(now)
		}
	}
}

// sweep revalidates the epochs the hub remembers: those of caches with
// local subscribers, and those used since the last sweep; the others are
// forgotten (and fetched again on next use). With touch it also keeps the
// subscribed topics open in the log.
func (h *Hub) sweep(touch bool) {
	type check struct {
		cache  string
		epoch  uint64
		topics []store.TopicRef
	}
	var checks []check
	h.mu.Lock()
	for name, c := range h.caches {
		if c.epoch != 0 && c.subs == 0 && !c.used {
			c.epoch = 0
		}
		c.used = false
		if c.epoch == 0 {
			if c.subs == 0 && c.dead == 0 {
				delete(h.caches, name)
			}
			continue
		}
		ck := check{cache: name, epoch: c.epoch}
		if touch {
			for _, t := range c.topics {
				ck.topics = append(ck.topics, t.ref)
			}
		}
		checks = append(checks, ck)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), revalidateEvery)
	defer cancel()
	for _, ck := range checks {
		e, err := h.epochs(ctx, ck.cache)
		switch {
		case errors.Is(err, errs.ErrCacheNotFound) || err == nil && e != ck.epoch:
			h.CacheDeleted(ctx, ck.cache, ck.epoch)
			continue
		case err != nil:
			continue // the engine is unreachable: keep serving, try again
		}
		for _, ref := range ck.topics {
			_, _ = h.log.Open(ctx, ref)
		}
	}
}

// Message is a topic message as the hub delivers it: shared by every local
// subscriber, with the surface's encoded frame built once.
type Message struct {
	*store.TopicMessage
	frame atomic.Pointer[frameBox]
}

type frameBox struct{ v any }

// Frame returns the surface's encoded form of m, building it with build the
// first time. Concurrent first callers may each build; one result wins and
// is returned to all later callers, so a message is encoded about once
// however many subscribers send it.
func (m *Message) Frame(build func(*Message) any) any {
	if b := m.frame.Load(); b != nil {
		return b.v
	}
	nb := &frameBox{v: build(m)}
	if m.frame.CompareAndSwap(nil, nb) {
		return nb.v
	}
	return m.frame.Load().v
}

// Discontinuity reports lost sequence numbers: (Last, New] in Page are gone
// and the next message is New+1.
type Discontinuity struct {
	Last uint64
	New  uint64
	Page uint64
}

// Event is what a subscription yields: a message, or (Msg == nil) a
// discontinuity.
type Event struct {
	Msg *Message
	Gap Discontinuity
}
