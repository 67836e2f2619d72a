package memstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// Defaults of TopicLogOptions.
const (
	DefaultTopicMessages = 4096
	DefaultTopicBytes    = 8 << 20
	DefaultIdleTopicTTL  = 10 * time.Minute
	// minIdleTopicTTL is the store.TopicLog promise: a topic used in the
	// last five minutes is never dropped as idle.
	minIdleTopicTTL = 5 * time.Minute
)

// topicMessageOverhead approximates what a retained message costs besides
// its payload (the message, its slot, the hub's encoded frame of it).
const topicMessageOverhead = 128

// TopicLogOptions bound the memory topic log. Zero fields take defaults.
type TopicLogOptions struct {
	// MaxMessages and MaxBytes bound each topic's retained window; the
	// newest message is always kept.
	MaxMessages int
	MaxBytes    int
	// IdleTopicTTL: a topic without Append or Open for this long is dropped
	// with its window (at least five minutes).
	IdleTopicTTL time.Duration
	// MaxTotalBytes bounds the windows of all topics together (0: none).
	// An append over it drops the appending topic's oldest messages, then
	// the least recently used other topics (their subscribers see a new
	// page: a discontinuity, never a silent gap).
	MaxTotalBytes int64
	// MaxIdempotencyKeys bounds the keys AppendOnce remembers (see
	// topic_extras.go).
	MaxIdempotencyKeys int
}

func (o *TopicLogOptions) setDefaults() {
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultTopicMessages
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultTopicBytes
	}
	if o.IdleTopicTTL <= 0 {
		o.IdleTopicTTL = DefaultIdleTopicTTL
	}
	o.IdleTopicTTL = max(o.IdleTopicTTL, minIdleTopicTTL)
}

// TopicLog is the memory engine's store.TopicLog. Appenders of a topic
// serialize on the topic's mutex; readers read its ring of messages without
// locks.
type TopicLog struct {
	opts  TopicLogOptions
	bytes atomic.Int64 // of every topic's window

	mu     sync.RWMutex
	caches map[string]*cacheTopics
	closed bool

	stop chan struct{}
	done chan struct{}

	// extras: presence and idempotency keys (topic_extras.go).
	extras topicExtras

	ps *persister // persistence (persist_topics.go); nil when off
}

var _ store.TopicLog = (*TopicLog)(nil)

// cacheTopics are the topics of one epoch of a cache. A dropped epoch stays
// as a tombstone (dead, no topics) so that late calls with it fail.
type cacheTopics struct {
	epoch  uint64
	dead   bool
	topics map[string]*topic // guarded by TopicLog.mu
}

// NewTopicLog returns a running log; Close stops its janitor.
func NewTopicLog(opts TopicLogOptions) *TopicLog {
	opts.setDefaults()
	l := &TopicLog{opts: opts, caches: map[string]*cacheTopics{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.janitor()
	return l
}

// Options returns the effective options.
func (l *TopicLog) Options() TopicLogOptions { return l.opts }

// Append implements store.TopicLog.
func (l *TopicLog) Append(_ context.Context, ref store.TopicRef, v store.TopicValue, publisherID string) (uint64, uint64, error) {
	if err := l.logErr(); err != nil {
		return 0, 0, err
	}
	for {
		t, err := l.topic(ref, true)
		if err != nil {
			return 0, 0, err
		}
		// A topic dropped between lookup and append is no longer in the
		// map: the next lookup finds its successor or the error.
		if seq, page, ok, b := t.append(v, publisherID, &l.opts, &l.bytes); ok {
			if l.opts.MaxTotalBytes > 0 && l.bytes.Load() > l.opts.MaxTotalBytes {
				l.shed(t)
			}
			return seq, page, waitLogged(b)
		}
	}
}

// Open implements store.TopicLog.
func (l *TopicLog) Open(_ context.Context, ref store.TopicRef) (store.TopicState, error) {
	t, err := l.topic(ref, true)
	if err != nil {
		return store.TopicState{}, err
	}
	return t.state(), nil
}

// Read implements store.TopicLog.
func (l *TopicLog) Read(_ context.Context, ref store.TopicRef, from uint64, max int) (store.TopicState, []*store.TopicMessage, error) {
	t, err := l.topic(ref, false)
	if err != nil || t == nil {
		return store.TopicState{}, nil, err
	}
	return t.read(from, max)
}

// Notify implements store.TopicLog.
func (l *TopicLog) Notify(_ context.Context, ref store.TopicRef) (<-chan struct{}, error) {
	t, err := l.topic(ref, true)
	if err != nil {
		return nil, err
	}
	return *t.notify.Load(), nil
}

// DropCache implements store.TopicLog.
func (l *TopicLog) DropCache(_ context.Context, cache string, epoch uint64) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errs.ErrShuttingDown
	}
	c := l.caches[cache]
	if c == nil || c.epoch <= epoch {
		l.caches[cache] = &cacheTopics{epoch: epoch, dead: true}
		l.journalDropCache(cache, epoch)
	}
	l.mu.Unlock()
	if c != nil && c.epoch <= epoch {
		c.drop()
	}
	return nil
}

// Close implements store.TopicLog.
func (l *TopicLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	caches := l.caches
	l.caches = nil
	l.mu.Unlock()
	for _, c := range caches {
		c.drop()
	}
	close(l.stop)
	<-l.done
	return nil
}

func (c *cacheTopics) drop() {
	for _, t := range c.topics {
		t.drop()
	}
}

// shed brings the windows back under MaxTotalBytes: first the appending
// topic keeps only its newest message, then the least recently used other
// topics go.
func (l *TopicLog) shed(keep *topic) {
	keep.trimTo(1, &l.bytes)
	for l.bytes.Load() > l.opts.MaxTotalBytes {
		l.mu.Lock()
		var lru *topic
		var lruCache *cacheTopics
		var lruName, lruCacheName string
		for cn, c := range l.caches {
			for name, t := range c.topics {
				if t != keep && (lru == nil || t.lastUsed.Load() < lru.lastUsed.Load()) {
					lru, lruCache, lruName, lruCacheName = t, c, name, cn
				}
			}
		}
		if lru != nil {
			delete(lruCache.topics, lruName)
			l.journalTopicDrop(lruCacheName, lruCache.epoch, lruName, lru)
		}
		l.mu.Unlock()
		if lru == nil {
			return
		}
		lru.drop()
	}
}

func errNoTopicCache(cache string) error { return errs.ErrCacheNotFound.Withf("%q", cache) }

// topic finds the topic of ref, creating it when create is set, and marks it
// used. A missing topic without create is nil.
func (l *TopicLog) topic(ref store.TopicRef, create bool) (*topic, error) {
	if !store.ValidTopicName(ref.Name) {
		return nil, errs.ErrInvalidTopic.Msgf("invalid topic name")
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, errs.ErrShuttingDown
	}
	c := l.caches[ref.Cache]
	switch {
	case c != nil && (c.epoch > ref.Epoch || c.dead && c.epoch == ref.Epoch):
		l.mu.RUnlock()
		return nil, errNoTopicCache(ref.Cache)
	case c != nil && c.epoch == ref.Epoch:
		if t := c.topics[ref.Name]; t != nil || !create {
			if t != nil && create {
				t.lastUsed.Store(time.Now().UnixNano())
			}
			l.mu.RUnlock()
			return t, nil
		}
	case !create:
		l.mu.RUnlock()
		return nil, nil
	}
	l.mu.RUnlock()

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errs.ErrShuttingDown
	}
	c = l.caches[ref.Cache]
	var stale *cacheTopics
	switch {
	case c != nil && (c.epoch > ref.Epoch || c.dead && c.epoch == ref.Epoch):
		l.mu.Unlock()
		return nil, errNoTopicCache(ref.Cache)
	case c != nil && c.epoch < ref.Epoch:
		stale, c = c, nil
	}
	if c == nil {
		c = &cacheTopics{epoch: ref.Epoch, topics: map[string]*topic{}}
		l.caches[ref.Cache] = c
	}
	t := c.topics[ref.Name]
	if t == nil {
		t = newTopic(l.opts.MaxMessages)
		t.total = &l.bytes
		c.topics[ref.Name] = t
		l.journalTopic(ref, t)
	}
	t.lastUsed.Store(time.Now().UnixNano())
	l.mu.Unlock()
	if stale != nil {
		stale.drop()
	}
	return t, nil
}

// janitor drops idle topics.
func (l *TopicLog) janitor() {
	defer close(l.done)
	tick := time.NewTicker(min(l.opts.IdleTopicTTL/2, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-tick.C:
			l.reap(now.Add(-l.opts.IdleTopicTTL).UnixNano())
		}
	}
}

func (l *TopicLog) reap(before int64) {
	var dropped []*topic
	l.mu.Lock()
	for name, c := range l.caches {
		for tn, t := range c.topics {
			if t.lastUsed.Load() < before {
				delete(c.topics, tn)
				dropped = append(dropped, t)
				l.journalTopicDrop(name, c.epoch, tn, t)
			}
		}
		if len(c.topics) == 0 && !c.dead {
			delete(l.caches, name)
		}
	}
	l.mu.Unlock()
	for _, t := range dropped {
		t.drop()
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

// ring holds the retained messages, message seq in slot seq % len(slots).
type ring struct {
	slots []atomic.Pointer[store.TopicMessage]
}

func (r *ring) at(seq uint64) *store.TopicMessage {
	return r.slots[seq%uint64(len(r.slots))].Load()
}

// topic is one topic's log. Appenders hold mu; readers use the atomics.
// Invariants (under mu): head is the last sequence number (0: none), tail the
// oldest retained one (head+1 when none is), head-tail+1 <= len(ring).
type topic struct {
	page     uint64
	maxSlots int
	total    *atomic.Int64 // the log's bytes, which drop gives back

	mu    sync.Mutex
	bytes int
	// next is the last sequence number given out. head, what readers see,
	// equals it except while a message waits to be logged.
	next uint64
	jr   *topicJournal // persistence (persist_topics.go); nil when off

	ring     atomic.Pointer[ring]
	head     atomic.Uint64
	tail     atomic.Uint64
	notify   atomic.Pointer[chan struct{}]
	dropped  atomic.Bool
	lastUsed atomic.Int64 // unix nanos of the last Append or Open
}

func newTopic(maxMessages int) *topic {
	maxSlots := 1
	for maxSlots < maxMessages {
		maxSlots <<= 1
	}
	t := &topic{page: newPage(), maxSlots: maxSlots}
	t.ring.Store(&ring{slots: make([]atomic.Pointer[store.TopicMessage], min(16, maxSlots))})
	t.tail.Store(1)
	ch := make(chan struct{})
	t.notify.Store(&ch)
	return t
}

func messageSize(m *store.TopicMessage) int {
	return len(m.Value.Data) + len(m.PublisherID) + topicMessageOverhead
}

// append adds a message; ok is false when the topic was dropped. With
// persistence, readers see the message once it is logged: b is not nil
// and append returns after waiting for it.
func (t *topic) append(v store.TopicValue, publisherID string, opts *TopicLogOptions, total *atomic.Int64) (seq, page uint64, ok bool, b *wal.Batch) {
	m := &store.TopicMessage{Page: t.page, Value: store.TopicValue{Data: append([]byte(nil), v.Data...), Binary: v.Binary}, PublisherID: publisherID}
	size := messageSize(m)
	t.mu.Lock()
	if t.dropped.Load() {
		t.mu.Unlock()
		return 0, 0, false, nil
	}
	head, tail := t.next, t.tail.Load()
	seq = head + 1
	m.Seq = seq
	r := t.ring.Load()
	if int(seq-tail+1) > len(r.slots) && len(r.slots) < t.maxSlots {
		r = t.grow(r, tail, head)
	}
	// Evict by count (the ring and MaxMessages), then by bytes; the new
	// message always stays.
	for tail <= head && (int(seq-tail+1) > len(r.slots) || int(seq-tail+1) > opts.MaxMessages || t.bytes+size > opts.MaxBytes) {
		slot := &r.slots[tail%uint64(len(r.slots))]
		if old := slot.Load(); old != nil {
			t.bytes -= messageSize(old)
			total.Add(-int64(messageSize(old)))
			slot.Store(nil)
		}
		tail++
	}
	r.slots[seq%uint64(len(r.slots))].Store(m)
	t.bytes += size
	total.Add(int64(size))
	t.tail.Store(tail)
	t.next = seq
	if b = t.journal(m); b != nil {
		t.mu.Unlock()
		b.Wait()
		t.publish(seq)
		return seq, t.page, true, b
	}
	t.head.Store(seq)
	ch := make(chan struct{})
	old := t.notify.Swap(&ch)
	t.mu.Unlock()
	close(*old)
	return seq, t.page, true, nil
}

// grow doubles the ring; readers that loaded head after the new ring was
// stored see it (they load head before the ring).
func (t *topic) grow(r *ring, tail, head uint64) *ring {
	nr := &ring{slots: make([]atomic.Pointer[store.TopicMessage], min(2*len(r.slots), t.maxSlots))}
	for s := tail; s <= head; s++ {
		nr.slots[s%uint64(len(nr.slots))].Store(r.at(s))
	}
	t.ring.Store(nr)
	return nr
}

func (t *topic) state() store.TopicState {
	head := t.head.Load()
	return store.TopicState{Page: t.page, First: t.tail.Load(), Last: head}
}

// read collects messages from seq from on without locks; a message evicted
// while it reads ends the page early (the state tells the reader where the
// window starts now).
func (t *topic) read(from uint64, max int) (store.TopicState, []*store.TopicMessage, error) {
	if t.dropped.Load() {
		return store.TopicState{}, nil, nil
	}
	head := t.head.Load()
	r := t.ring.Load()
	tail := t.tail.Load()
	from = maxU64(from, tail)
	var out []*store.TopicMessage
	for s := from; s <= head && len(out) < max; s++ {
		m := r.at(s)
		if m == nil || m.Seq != s {
			break
		}
		out = append(out, m)
	}
	return store.TopicState{Page: t.page, First: t.tail.Load(), Last: head}, out, nil
}

func maxU64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// trimTo drops the oldest messages until at most n remain.
func (t *topic) trimTo(n int, total *atomic.Int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	head, tail := t.head.Load(), t.tail.Load()
	r := t.ring.Load()
	for tail <= head && int(head-tail+1) > n {
		slot := &r.slots[tail%uint64(len(r.slots))]
		if old := slot.Load(); old != nil {
			t.bytes -= messageSize(old)
			total.Add(-int64(messageSize(old)))
			slot.Store(nil)
		}
		tail++
	}
	t.tail.Store(tail)
}

func (t *topic) drop() {
	t.mu.Lock()
	if t.dropped.Swap(true) {
		t.mu.Unlock()
		return
	}
	ch := t.notify.Load()
	if t.total != nil {
		t.total.Add(-int64(t.bytes))
	}
	t.bytes = 0
	t.ring.Store(&ring{slots: make([]atomic.Pointer[store.TopicMessage], 1)})
	t.mu.Unlock()
	close(*ch) // no append swaps it any more
}
