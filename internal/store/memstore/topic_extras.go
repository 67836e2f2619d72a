package memstore

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The optional topic-log capabilities of the memory engine:
// store.TopicPresence and store.TopicAppendOnce. One process holds the whole
// engine, so presence here is what the hubs over this log report; it is
// implemented all the same so that several hubs over one log (tests of a
// cluster in one process) see each other's subscribers.

// DefaultMaxIdempotencyKeys bounds the keys AppendOnce remembers when
// TopicLogOptions.MaxIdempotencyKeys is 0: at ~200 bytes a key, about 20 MB.
const DefaultMaxIdempotencyKeys = 100_000

// maxPresenceEntries bounds the presence table (node × topic entries).
const maxPresenceEntries = 1 << 20

const dedupStripes = 32

var (
	_ store.TopicPresence   = (*TopicLog)(nil)
	_ store.TopicAppendOnce = (*TopicLog)(nil)
)

type topicExtras struct {
	seed    maphash.Seed
	once    sync.Once
	stripes [dedupStripes]dedupStripe

	presMu    sync.Mutex
	pres      map[presKey]map[string]presEntry
	presCount int
	presSwept int // presCount after the last sweep of expired entries
}

type presKey struct {
	cache string
	epoch uint64
	topic string
}

type presEntry struct {
	n       int
	expires int64 // unix nanos
}

func (x *topicExtras) init() {
	x.once.Do(func() {
		x.seed = maphash.MakeSeed()
		for i := range x.stripes {
			x.stripes[i].m = map[dedupKey]dedupEntry{}
		}
		x.pres = map[presKey]map[string]presEntry{}
	})
}

// SetPresence implements store.TopicPresence.
func (l *TopicLog) SetPresence(_ context.Context, node string, ref store.TopicRef, n int, ttl time.Duration) error {
	if n < 0 || ttl <= 0 {
		return errs.ErrInvalidArgument.Msgf("presence needs n >= 0 and a positive ttl")
	}
	x := &l.extras
	x.init()
	k := presKey{ref.Cache, ref.Epoch, ref.Name}
	now := time.Now().UnixNano()
	x.presMu.Lock()
	defer x.presMu.Unlock()
	nodes := x.pres[k]
	if n == 0 {
		if _, ok := nodes[node]; ok {
			delete(nodes, node)
			x.presCount--
			if len(nodes) == 0 {
				delete(x.pres, k)
			}
		}
		return nil
	}
	if _, ok := nodes[node]; !ok {
		if x.presCount >= x.presSwept*2+1024 {
			x.sweepPresence(now)
		}
		if x.presCount >= maxPresenceEntries {
			return errs.ErrTooManySubscriptions.Withf("the presence table holds %d entries, the limit", maxPresenceEntries)
		}
		if nodes == nil {
			nodes = map[string]presEntry{}
			x.pres[k] = nodes
		}
		x.presCount++
	}
	nodes[node] = presEntry{n: n, expires: now + int64(ttl)}
	return nil
}

// sweepPresence drops expired entries. Under presMu.
func (x *topicExtras) sweepPresence(now int64) {
	for k, nodes := range x.pres {
		for node, e := range nodes {
			if e.expires <= now {
				delete(nodes, node)
				x.presCount--
			}
		}
		if len(nodes) == 0 {
			delete(x.pres, k)
		}
	}
	x.presSwept = x.presCount
}

// Presence implements store.TopicPresence.
func (l *TopicLog) Presence(_ context.Context, ref store.TopicRef) (int, error) {
	x := &l.extras
	x.init()
	now := time.Now().UnixNano()
	x.presMu.Lock()
	defer x.presMu.Unlock()
	total := 0
	for _, e := range x.pres[presKey{ref.Cache, ref.Epoch, ref.Name}] {
		if e.expires > now {
			total += e.n
		}
	}
	return total, nil
}

// Idempotency keys: striped by key, each stripe a map and the keys in the
// order they were recorded, so that the oldest go first when a stripe is
// full or their window has passed. Lock order: dedupStripe.mu, then the
// log's own locks (AppendOnce appends under the stripe's lock).

type dedupKey struct {
	cache string
	epoch uint64
	topic string
	key   string
}

type dedupEntry struct {
	seq, page uint64
	expires   int64 // unix nanos
}

type dedupStripe struct {
	mu    sync.Mutex
	m     map[dedupKey]dedupEntry
	order []dedupKey // recording order; order[head:] are live or expired keys
	head  int
}

func (x *topicExtras) stripe(k *dedupKey) *dedupStripe {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteString(k.cache)
	h.WriteString(k.topic)
	h.WriteString(k.key)
	return &x.stripes[h.Sum64()%dedupStripes]
}

// get returns the live entry of k. Under s.mu.
func (s *dedupStripe) get(k dedupKey, now int64) (dedupEntry, bool) {
	e, ok := s.m[k]
	if !ok || e.expires <= now {
		return dedupEntry{}, false
	}
	return e, true
}

// put records k, dropping expired keys and, beyond capacity, the oldest.
// Under s.mu.
func (s *dedupStripe) put(k dedupKey, e dedupEntry, capacity int, now int64) {
	for s.head < len(s.order) {
		old := s.order[s.head]
		oe, ok := s.m[old]
		if ok && oe.expires > now && len(s.m) < capacity {
			break
		}
		if ok {
			delete(s.m, old)
		}
		s.order[s.head] = dedupKey{}
		s.head++
	}
	if s.head > len(s.order)/2 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
	if _, ok := s.m[k]; !ok {
		s.order = append(s.order, k)
	}
	s.m[k] = e
}

func checkIdempotencyKey(key string) error {
	if key == "" || len(key) > store.MaxIdempotencyKeyLen {
		return errs.ErrInvalidIdempotencyKey.Withf("it must be 1-%d bytes", store.MaxIdempotencyKeyLen)
	}
	return nil
}

func (l *TopicLog) dedupCapacity() int {
	n := l.opts.MaxIdempotencyKeys
	if n <= 0 {
		n = DefaultMaxIdempotencyKeys
	}
	return max(1, n/dedupStripes)
}

// AppendOnce implements store.TopicAppendOnce.
func (l *TopicLog) AppendOnce(ctx context.Context, ref store.TopicRef, v store.TopicValue, publisherID, key string, window time.Duration) (seq, page uint64, dup bool, err error) {
	if err := checkIdempotencyKey(key); err != nil {
		return 0, 0, false, err
	}
	if window <= 0 {
		return 0, 0, false, errs.ErrInvalidArgument.Msgf("the idempotency window must be positive")
	}
	x := &l.extras
	x.init()
	k := dedupKey{ref.Cache, ref.Epoch, ref.Name, key}
	s := x.stripe(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UnixNano()
	if e, ok := s.get(k, now); ok {
		return e.seq, e.page, true, nil
	}
	seq, page, err = l.Append(ctx, ref, v, publisherID)
	if err != nil {
		return 0, 0, false, err
	}
	e := dedupEntry{seq: seq, page: page, expires: now + int64(window)}
	s.put(k, e, l.dedupCapacity(), now)
	if err := waitLogged(l.journalDedup(k, e)); err != nil { // persistence (persist_topics.go)
		return 0, 0, false, err
	}
	return seq, page, false, nil
}

// Appended implements store.TopicAppendOnce.
func (l *TopicLog) Appended(_ context.Context, ref store.TopicRef, key string) (seq, page uint64, found bool, err error) {
	if err := checkIdempotencyKey(key); err != nil {
		return 0, 0, false, err
	}
	x := &l.extras
	x.init()
	k := dedupKey{ref.Cache, ref.Epoch, ref.Name, key}
	s := x.stripe(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.get(k, time.Now().UnixNano())
	return e.seq, e.page, ok, nil
}
