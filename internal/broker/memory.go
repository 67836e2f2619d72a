package broker

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxMessages              = 4096
	DefaultMaxBytes                 = 8 << 20
	DefaultMaxPayload               = 4096
	DefaultMaxSubscriptionsPerCache = 10000
	DefaultIdleTopicTTL             = 10 * time.Minute
)

// messageOverhead approximates what a buffered message costs besides its
// payload (the Message, its slot, its encoded frame's header).
const messageOverhead = 128

// Options configure a memory broker. Zero fields take the defaults.
type Options struct {
	// MaxMessages and MaxBytes bound each topic's replay buffer. The newest
	// message is always kept.
	MaxMessages int
	MaxBytes    int
	// MaxLag bounds each subscriber's backlog (messages published but not yet
	// taken by Poll). Past it the subscriber gets a discontinuity and goes on
	// with the newest message. Default and maximum: MaxMessages.
	MaxLag int
	// MaxPayload bounds a message's payload in bytes. Default 4096 (Momento's
	// documented 4 KB).
	MaxPayload int
	// MaxSubscriptionsPerCache bounds the open subscriptions of one cache.
	MaxSubscriptionsPerCache int
	// IdleTopicTTL: a topic without subscribers and without publishes for
	// this long is dropped with its buffer (a later resume at its page gets a
	// discontinuity with the new page).
	IdleTopicTTL time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxLag <= 0 || o.MaxLag > o.MaxMessages {
		o.MaxLag = o.MaxMessages
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxSubscriptionsPerCache <= 0 {
		o.MaxSubscriptionsPerCache = DefaultMaxSubscriptionsPerCache
	}
	if o.IdleTopicTTL <= 0 {
		o.IdleTopicTTL = DefaultIdleTopicTTL
	}
}

// Memory is the embedded broker. Publishers of a topic serialize on the
// topic's mutex; subscribers read the topic's ring of messages without locks,
// each from its own cursor, so fan-out costs no copy and no per-subscriber
// queue: a subscriber's queue is the window of the shared ring between its
// cursor and the head, bounded by MaxLag.
type Memory struct {
	opts Options

	mu     sync.RWMutex
	caches map[string]*cacheTopics
	closed bool

	stop chan struct{}
	done chan struct{}
}

var _ Broker = (*Memory)(nil)

type cacheTopics struct {
	epoch  uint64
	topics map[string]*topic // guarded by Memory.mu
	subs   atomic.Int64
}

// NewMemory returns a memory broker. Close it to stop its janitor.
func NewMemory(opts Options) *Memory {
	opts.setDefaults()
	b := &Memory{
		opts:   opts,
		caches: make(map[string]*cacheTopics),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go b.janitor()
	return b
}

// Options returns the effective options.
func (b *Memory) Options() Options { return b.opts }

// Publish implements Broker.
func (b *Memory) Publish(_ context.Context, t Topic, v Value, publisherID string) (uint64, uint64, error) {
	if !ValidTopicName(t.Name) {
		return 0, 0, ErrInvalidTopic
	}
	if len(v.Data) == 0 {
		return 0, 0, ErrEmptyPayload
	}
	if len(v.Data) > b.opts.MaxPayload {
		return 0, 0, fmt.Errorf("%w: %d bytes, the limit is %d bytes", ErrPayloadTooLarge, len(v.Data), b.opts.MaxPayload)
	}
	tp, err := b.topic(t, false)
	if err != nil {
		return 0, 0, err
	}
	return tp.publish(v, publisherID)
}

// Subscribe implements Broker.
func (b *Memory) Subscribe(_ context.Context, t Topic, from Position) (Subscription, error) {
	if !ValidTopicName(t.Name) {
		return nil, ErrInvalidTopic
	}
	tp, err := b.topic(t, true)
	if err != nil {
		return nil, err
	}
	s := &memSub{t: tp, maxLag: uint64(b.opts.MaxLag)}
	tp.start(s, from)
	return s, nil
}

// DeleteCache implements Broker.
func (b *Memory) DeleteCache(cache string) {
	b.mu.Lock()
	c := b.caches[cache]
	delete(b.caches, cache)
	b.mu.Unlock()
	if c != nil {
		c.close(ErrCacheDeleted)
	}
}

// Close implements Broker.
func (b *Memory) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	caches := b.caches
	b.caches = nil
	b.mu.Unlock()
	for _, c := range caches {
		c.close(ErrClosed)
	}
	close(b.stop)
	<-b.done
	return nil
}

// close fails every topic of c; the caller has removed c from the broker.
func (c *cacheTopics) close(err error) {
	for _, t := range c.topics {
		t.close(err)
	}
}

// topic finds or creates the topic of t and marks it used; with subscribe it
// also takes a subscription slot. Both happen under b.mu, so that the
// janitor never drops a topic that is in use.
func (b *Memory) topic(t Topic, subscribe bool) (*topic, error) {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, ErrClosed
	}
	if c := b.caches[t.Cache]; c != nil && c.epoch == t.Epoch {
		if tp := c.topics[t.Name]; tp != nil {
			err := b.use(c, tp, subscribe)
			b.mu.RUnlock()
			return tp, err
		}
	}
	b.mu.RUnlock()

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	c := b.caches[t.Cache]
	var stale *cacheTopics
	switch {
	case c != nil && c.epoch > t.Epoch:
		// The caller saw an older incarnation of the cache.
		b.mu.Unlock()
		return nil, ErrCacheDeleted
	case c != nil && c.epoch < t.Epoch:
		stale, c = c, nil
	}
	if c == nil {
		c = &cacheTopics{epoch: t.Epoch, topics: make(map[string]*topic)}
		b.caches[t.Cache] = c
	}
	tp := c.topics[t.Name]
	if tp == nil {
		tp = newTopic(t.Name, c, &b.opts)
		c.topics[t.Name] = tp
	}
	err := b.use(c, tp, subscribe)
	b.mu.Unlock()
	if stale != nil {
		stale.close(ErrCacheDeleted)
	}
	return tp, err
}

// use runs under b.mu (either mode).
func (b *Memory) use(c *cacheTopics, tp *topic, subscribe bool) error {
	tp.lastUsed.Store(time.Now().UnixNano())
	if !subscribe {
		return nil
	}
	if n := c.subs.Add(1); n > int64(b.opts.MaxSubscriptionsPerCache) {
		c.subs.Add(-1)
		return fmt.Errorf("%w: the cache has %d subscribers, the limit", ErrTooManySubscriptions, b.opts.MaxSubscriptionsPerCache)
	}
	tp.subs.Add(1)
	return nil
}

// janitor drops idle topics.
func (b *Memory) janitor() {
	defer close(b.done)
	period := b.opts.IdleTopicTTL / 2
	if period > time.Minute {
		period = time.Minute
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-tick.C:
			b.reap(now.Add(-b.opts.IdleTopicTTL).UnixNano())
		}
	}
}

func (b *Memory) reap(before int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, c := range b.caches {
		for tn, t := range c.topics {
			if t.subs.Load() == 0 && t.lastUsed.Load() < before {
				delete(c.topics, tn)
			}
		}
		if len(c.topics) == 0 && c.subs.Load() == 0 {
			delete(b.caches, name)
		}
	}
}

// pages are chosen at topic creation: Unix milliseconds, strictly increasing
// within the process, so a re-created topic always gets a larger page.
var lastPage atomic.Uint64

func newPage() uint64 {
	now := uint64(time.Now().UnixMilli())
	for {
		last := lastPage.Load()
		p := max(now, last+1)
		if lastPage.CompareAndSwap(last, p) {
			return p
		}
	}
}

// ring holds the buffered messages, message seq in slot seq % len(slots).
type ring struct {
	slots []atomic.Pointer[Message]
}

func (r *ring) at(seq uint64) *Message {
	return r.slots[seq%uint64(len(r.slots))].Load()
}

// topic is one topic's log. Writers hold mu; readers use the atomics.
// Invariants (under mu): head is the last sequence number (0: none), tail the
// oldest buffered one (head+1 when nothing is), head-tail+1 <= len(ring).
type topic struct {
	cache    *cacheTopics
	name     string
	page     uint64
	opts     *Options
	maxSlots int

	mu    sync.Mutex
	bytes int

	ring   atomic.Pointer[ring]
	head   atomic.Uint64
	tail   atomic.Uint64
	notify atomic.Pointer[chan struct{}]
	err    atomic.Pointer[error]

	subs     atomic.Int64
	lastUsed atomic.Int64 // unix nanos of the last publish or subscribe
}

func newTopic(name string, c *cacheTopics, opts *Options) *topic {
	maxSlots := 1
	for maxSlots < opts.MaxMessages {
		maxSlots <<= 1
	}
	t := &topic{cache: c, name: name, page: newPage(), opts: opts, maxSlots: maxSlots}
	t.ring.Store(&ring{slots: make([]atomic.Pointer[Message], min(16, maxSlots))})
	t.tail.Store(1)
	ch := make(chan struct{})
	t.notify.Store(&ch)
	t.lastUsed.Store(time.Now().UnixNano())
	return t
}

func messageSize(m *Message) int {
	return 2*len(m.Value.Data) + len(m.PublisherID) + messageOverhead
}

func (t *topic) publish(v Value, publisherID string) (uint64, uint64, error) {
	t.mu.Lock()
	if err := t.err.Load(); err != nil {
		t.mu.Unlock()
		return 0, 0, *err
	}
	head, tail := t.head.Load(), t.tail.Load()
	seq := head + 1
	m := &Message{Seq: seq, Page: t.page, Value: v, PublisherID: publisherID}
	size := messageSize(m)
	r := t.ring.Load()
	if int(seq-tail+1) > len(r.slots) && len(r.slots) < t.maxSlots {
		r = t.grow(r, tail, head)
	}
	// Evict by count (the ring and MaxMessages), then by bytes; the new
	// message always stays.
	for tail <= head && (int(seq-tail+1) > len(r.slots) || int(seq-tail+1) > t.opts.MaxMessages || t.bytes+size > t.opts.MaxBytes) {
		slot := &r.slots[tail%uint64(len(r.slots))]
		if old := slot.Load(); old != nil {
			t.bytes -= messageSize(old)
			slot.Store(nil)
		}
		tail++
	}
	r.slots[seq%uint64(len(r.slots))].Store(m)
	t.bytes += size
	t.tail.Store(tail)
	t.head.Store(seq)
	ch := make(chan struct{})
	old := t.notify.Swap(&ch)
	t.mu.Unlock()
	close(*old)
	return seq, t.page, nil
}

// grow doubles the ring; readers that loaded head after the new ring was
// stored see it (they load head before the ring).
func (t *topic) grow(r *ring, tail, head uint64) *ring {
	nr := &ring{slots: make([]atomic.Pointer[Message], min(2*len(r.slots), t.maxSlots))}
	for s := tail; s <= head; s++ {
		nr.slots[s%uint64(len(nr.slots))].Store(r.at(s))
	}
	t.ring.Store(nr)
	return nr
}

func (t *topic) close(err error) {
	t.mu.Lock()
	if t.err.Load() != nil {
		t.mu.Unlock()
		return
	}
	t.err.Store(&err)
	ch := t.notify.Load()
	t.mu.Unlock()
	close(*ch) // no publish swaps it any more
}

// start places a new subscription (see the package documentation).
func (t *topic) start(s *memSub, from Position) {
	t.mu.Lock()
	head, tail := t.head.Load(), t.tail.Load()
	t.mu.Unlock()
	last := uint64(0)
	if from.Seq > 0 {
		last = from.Seq - 1
	}
	switch {
	case from.Page != 0 && from.Page != t.page:
		s.gap(Discontinuity{Last: last, New: tail - 1, Page: t.page})
		s.next = tail
	case from.Seq == 0 || from.Seq > head+1:
		s.next = head + 1
	case from.Seq < tail:
		s.gap(Discontinuity{Last: last, New: tail - 1, Page: t.page})
		s.next = tail
	default:
		s.next = from.Seq
	}
}

// memSub is one subscription; its cursor next is the next sequence number to
// deliver.
type memSub struct {
	t      *topic
	next   uint64
	maxLag uint64

	pending    Discontinuity
	hasPending bool
	closed     atomic.Bool
}

func (s *memSub) gap(d Discontinuity) {
	if s.hasPending {
		d.Last = s.pending.Last
	}
	s.pending, s.hasPending = d, true
}

func (s *memSub) Ready() <-chan struct{} { return *s.t.notify.Load() }

func (s *memSub) Poll(dst []Event) ([]Event, error) {
	if err := s.t.err.Load(); err != nil {
		return dst, *err
	}
	if s.closed.Load() {
		return dst, ErrClosed
	}
	if cap(dst) == 0 {
		dst = make([]Event, 0, 64)
	}
	t := s.t
	head := t.head.Load()
	r := t.ring.Load()
	for s.next <= head || s.hasPending {
		if len(dst) == cap(dst) {
			return dst, nil
		}
		if s.next <= head && head-s.next >= s.maxLag {
			// Too far behind: skip to the newest message.
			s.gap(Discontinuity{Last: s.next - 1, New: head - 1, Page: t.page})
			s.next = head
		}
		if s.hasPending {
			dst = append(dst, Event{Gap: s.pending})
			s.hasPending = false
			continue
		}
		m := r.at(s.next)
		if m == nil || m.Seq != s.next {
			// Evicted while we lagged: skip to the newest message.
			head = t.head.Load()
			r = t.ring.Load()
			s.gap(Discontinuity{Last: s.next - 1, New: head - 1, Page: t.page})
			s.next = head
			continue
		}
		dst = append(dst, Event{Msg: m})
		s.next++
	}
	return dst, nil
}

func (s *memSub) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.t.subs.Add(-1)
	s.t.cache.subs.Add(-1)
	s.t.lastUsed.Store(time.Now().UnixNano())
}
