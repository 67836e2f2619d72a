package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

type storeOp uint8

// InstrumentStore wraps an engine so that every call the services make is
// counted in setsuna_engine_calls_total (an engine round trip: one call of
// the store contract, which a network engine turns into one or a few
// requests) and every failed call in setsuna_engine_errors_total by the
// error's reason. Feed reads also tell the feed-lag tracker how far readers
// got. The counters are created here, once, so a call costs one atomic add.
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	engine := m.engineName(st)
	s := &instrumentedStore{Store: st, m: m, engine: engine}
	for op := range numStoreOps {
		s.calls[op] = m.engineCalls.WithLabelValues(engine, storeOpNames[op])
	}
	return s
}

func (m *Metrics) engineName(st any) string {
	if sr, ok := st.(store.StatsReader); ok {
		if es, err := sr.Stats(context.Background()); err == nil && es.Engine != "" {
			return es.Engine
		}
	}
	return "engine"
}

type instrumentedStore struct {
	store.Store
	m      *Metrics
	engine string
	calls  [numStoreOps]prometheus.Counter
}

func (s *instrumentedStore) done(op storeOp, err error) {
	s.calls[op].Inc()
	if err != nil {
		s.m.engineError(s.engine, storeOpNames[op], err)
	}
}

// engineError counts a failed engine call by the reason of its error
// (bounded: the rows of the errs table, and "internal" for the rest).
func (m *Metrics) engineError(engine, op string, err error) {
	reason := "internal"
	if e := errs.As(err); e != nil && e.Reason != "" {
		reason = e.Reason
	}
	m.engineErrors.WithLabelValues(engine, op, reason).Inc()
}

// ReadFeed reads a page and records the position the reader reached.
func (s *instrumentedStore) ReadFeed(ctx context.Context, cache string, r store.FeedRead) (store.FeedPage, error) {
	page, err := s.Store.ReadFeed(ctx, cache, r)
	s.done(opReadFeed, err)
	if err == nil {
		s.m.feed.observe(cache, r.Partition, page.Epoch, page.LastLSN)
	}
	return page, err
}

func (s *instrumentedStore) FeedNotify(ctx context.Context, cache string) (<-chan struct{}, error) {
	ch, err := s.Store.FeedNotify(ctx, cache)
	s.done(opFeedNotify, err)
	return ch, err
}

// Stats passes through to the engine, uncounted (it is the scrape itself).
func (s *instrumentedStore) Stats(ctx context.Context) (store.EngineStats, error) {
	if sr, ok := s.Store.(store.StatsReader); ok {
		return sr.Stats(ctx)
	}
	return store.EngineStats{}, errs.ErrUnimplemented
}

// Ping passes through to the engine; an engine without Ping is reachable.
func (s *instrumentedStore) Ping(ctx context.Context) error {
	if p, ok := s.Store.(store.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// The topic log's calls, counted likewise.
const (
	opTopicAppend = iota
	opTopicOpen
	opTopicRead
	opTopicNotify
	opTopicDropCache
	opTopicAppendOnce
	opTopicAppended
	opTopicSetPresence
	opTopicPresence
	numTopicOps
)

var topicOpNames = [numTopicOps]string{
	opTopicAppend:      "topic_append",
	opTopicOpen:        "topic_open",
	opTopicRead:        "topic_read",
	opTopicNotify:      "topic_notify",
	opTopicDropCache:   "topic_drop_cache",
	opTopicAppendOnce:  "topic_append_once",
	opTopicAppended:    "topic_appended",
	opTopicSetPresence: "topic_set_presence",
	opTopicPresence:    "topic_presence",
}

// InstrumentTopicLog wraps a topic log like InstrumentStore; engine names
// the engine in the labels.
//
// The wrapper has exactly the optional capabilities of l (TopicPresence,
// TopicAppendOnce), since the hub probes for them.
func (m *Metrics) InstrumentTopicLog(l store.TopicLog, engine string) store.TopicLog {
	t := &instrumentedLog{TopicLog: l, m: m, engine: engine}
	for op := range numTopicOps {
		t.calls[op] = m.engineCalls.WithLabelValues(engine, topicOpNames[op])
	}
	o, hasOnce := l.(store.TopicAppendOnce)
	p, hasPresence := l.(store.TopicPresence)
	switch {
	case hasOnce && hasPresence:
		return struct {
			*instrumentedLog
			onceCaps
			presenceCaps
		}{t, onceCaps{t, o}, presenceCaps{t, p}}
	case hasOnce:
		return struct {
			*instrumentedLog
			onceCaps
		}{t, onceCaps{t, o}}
	case hasPresence:
		return struct {
			*instrumentedLog
			presenceCaps
		}{t, presenceCaps{t, p}}
	}
	return t
}

// onceCaps and presenceCaps pass the optional capabilities through,
// counted.
type onceCaps struct {
	t *instrumentedLog
	o store.TopicAppendOnce
}

func (c onceCaps) AppendOnce(ctx context.Context, ref store.TopicRef, v store.TopicValue, publisherID, key string, window time.Duration) (seq, page uint64, dup bool, err error) {
	seq, page, dup, err = c.o.AppendOnce(ctx, ref, v, publisherID, key, window)
	c.t.done(opTopicAppendOnce, err)
	return
}

func (c onceCaps) Appended(ctx context.Context, ref store.TopicRef, key string) (seq, page uint64, found bool, err error) {
	seq, page, found, err = c.o.Appended(ctx, ref, key)
	c.t.done(opTopicAppended, err)
	return
}

type presenceCaps struct {
	t *instrumentedLog
	p store.TopicPresence
}

func (c presenceCaps) SetPresence(ctx context.Context, node string, ref store.TopicRef, n int, ttl time.Duration) error {
	err := c.p.SetPresence(ctx, node, ref, n, ttl)
	c.t.done(opTopicSetPresence, err)
	return err
}

func (c presenceCaps) Presence(ctx context.Context, ref store.TopicRef) (int, error) {
	n, err := c.p.Presence(ctx, ref)
	c.t.done(opTopicPresence, err)
	return n, err
}

type instrumentedLog struct {
	store.TopicLog
	m      *Metrics
	engine string
	calls  [numTopicOps]prometheus.Counter
}

func (t *instrumentedLog) done(op int, err error) {
	t.calls[op].Inc()
	if err != nil {
		t.m.engineError(t.engine, topicOpNames[op], err)
	}
}

func (t *instrumentedLog) Append(ctx context.Context, ref store.TopicRef, v store.TopicValue, publisherID string) (seq, page uint64, err error) {
	seq, page, err = t.TopicLog.Append(ctx, ref, v, publisherID)
	t.done(opTopicAppend, err)
	return
}

func (t *instrumentedLog) Open(ctx context.Context, ref store.TopicRef) (store.TopicState, error) {
	st, err := t.TopicLog.Open(ctx, ref)
	t.done(opTopicOpen, err)
	return st, err
}

func (t *instrumentedLog) Read(ctx context.Context, ref store.TopicRef, from uint64, max int) (store.TopicState, []*store.TopicMessage, error) {
	st, msgs, err := t.TopicLog.Read(ctx, ref, from, max)
	t.done(opTopicRead, err)
	return st, msgs, err
}

func (t *instrumentedLog) Notify(ctx context.Context, ref store.TopicRef) (<-chan struct{}, error) {
	ch, err := t.TopicLog.Notify(ctx, ref)
	t.done(opTopicNotify, err)
	return ch, err
}

func (t *instrumentedLog) DropCache(ctx context.Context, cache string, epoch uint64) error {
	err := t.TopicLog.DropCache(ctx, cache, epoch)
	t.done(opTopicDropCache, err)
	return err
}

// Feed lag. The server keeps no reader state (continuation tokens carry the
// positions), so "what readers have read" is what it sees them read: every
// feed page served (pull reads, tails, Cosmos change feeds, the console)
// reports the LSN its reader reached in that partition. Per partition the
// tracker keeps the furthest such position of the current epoch; lag is the
// partition's newest LSN minus it. A position not advanced for
// FeedReaderWindow is forgotten: a partition nobody has read lately has no
// lag series, rather than one that grows for ever. It shows the most
// advanced reader of a partition: a stuck reader beside a healthy one does
// not show (each reader knows its own lag from its continuation token).

// FeedReaderWindow is how long a reader's position counts without a read.
const FeedReaderWindow = 5 * time.Minute

type feedKey struct {
	cache     string
	partition int
}

type feedPos struct {
	epoch uint64
	lsn   uint64
	at    time.Time
}

type feedTracker struct {
	now func() time.Time
	mu  sync.Mutex
	pos map[feedKey]feedPos
}

// maxFeedPositions bounds the tracker (caches × partitions read lately).
const maxFeedPositions = 1 << 16

func (f *feedTracker) observe(cache string, partition int, epoch, lsn uint64) {
	now := f.now()
	k := feedKey{cache, partition}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pos[k]
	if !ok && len(f.pos) >= maxFeedPositions {
		f.expireLocked(now)
		if len(f.pos) >= maxFeedPositions {
			return
		}
	}
	if p.epoch != epoch {
		p = feedPos{epoch: epoch}
	}
	p.lsn, p.at = max(p.lsn, lsn), now
	f.pos[k] = p
}

func (f *feedTracker) expireLocked(now time.Time) {
	for k, p := range f.pos {
		if now.Sub(p.at) > FeedReaderWindow {
			delete(f.pos, k)
		}
	}
}

// positions returns the live positions of cache's epoch, by partition.
func (f *feedTracker) snapshot() map[feedKey]feedPos {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireLocked(now)
	out := make(map[feedKey]feedPos, len(f.pos))
	for k, p := range f.pos {
		out[k] = p
	}
	return out
}
