package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

var _ store.Store = (*Store)(nil)

// Defaults applied by New for zero Options fields.
const (
	// DefaultPartitions: enough that one cache spreads over all the shards
	// of a cluster.
	DefaultPartitions     = 64
	DefaultFeedLogRecords = 4096
	DefaultExpiryGrace    = time.Minute
	DefaultSweepInterval  = time.Second
	DefaultWaitTimeout    = time.Second
	// catalogTTL is how long a node trusts its copy of a cache's catalog
	// record. Scripts check that the partition is alive, so a stale copy
	// never writes into a dead epoch; the TTL only bounds how long a node
	// keeps answering for a cache that another node deleted before a
	// script tells it.
	catalogTTL = 2 * time.Second
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Partitions of a new cache when its config gives none (default 64).
	Partitions int
	// FeedLogRecords bounds the all-versions stream of each partition
	// (default DefaultFeedLogRecords; negative: no all-versions log, every
	// all-versions read is out of retention).
	FeedLogRecords int
	// Now is the clock (default time.Now); scripts get it as Unix ms.
	Now func() time.Time
	// Logger receives engine events (default slog.Default()).
	Logger *slog.Logger
	// ExpiryGrace delays the native Redis expiry of an item after its own
	// expiry, so that the sweep records it in the feed first (default 1m).
	ExpiryGrace time.Duration
	// SweepInterval is the period of the expiry sweep and of the background
	// removal of flushed and deleted data (default 1s; negative: no
	// background work).
	SweepInterval time.Duration
	// WaitReplicas, when > 0, follows each mutation with WAIT WaitReplicas
	// WaitTimeout on the same connection; fewer acknowledgements make the
	// mutation errs.ErrOutcomeUnknown.
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Store is the redis engine. Create it with New.
type Store struct {
	c       redis.UniversalClient
	run     Runner
	cluster *redis.ClusterClient // nil for a single server
	parts   int
	logMax  int
	now     func() time.Time
	log     *slog.Logger
	grace   time.Duration
	cfgArg  string // ARGV[3] of partition scripts
	waitN   int
	waitT   time.Duration
	sweepIv time.Duration

	catMu sync.Mutex
	cat   map[string]catEntry

	notifyMu sync.Mutex
	notify   map[string]chan struct{}
	avOn     map[string]bool // partition bases known to log all versions (feed.go)

	bg        bg
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type catEntry struct {
	info store.CacheInfo
	at   time.Time
}

// New returns a Store on c, which it does not own (Close leaves it open).
func New(c redis.UniversalClient, o Options) (*Store, error) {
	if c == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if o.Partitions == 0 {
		o.Partitions = DefaultPartitions
	}
	if o.Partitions < 1 || o.Partitions > epk.MaxPartitions {
		return nil, fmt.Errorf("redisstore: Partitions %d outside [1, %d]", o.Partitions, epk.MaxPartitions)
	}
	switch {
	case o.FeedLogRecords == 0:
		o.FeedLogRecords = DefaultFeedLogRecords
	case o.FeedLogRecords < 0:
		o.FeedLogRecords = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ExpiryGrace <= 0 {
		o.ExpiryGrace = DefaultExpiryGrace
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	s := &Store{
		c: c, run: Runner{C: c}, parts: o.Partitions, logMax: o.FeedLogRecords, now: o.Now, log: o.Logger,
		grace: o.ExpiryGrace, waitN: max(o.WaitReplicas, 0), waitT: o.WaitTimeout, sweepIv: o.SweepInterval,
		cat: map[string]catEntry{}, notify: map[string]chan struct{}{}, avOn: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	s.cfgArg = strconv.Itoa(s.logMax) + " " + strconv.FormatInt(s.grace.Milliseconds(), 10)
	if cc, ok := c.(*redis.ClusterClient); ok {
		s.cluster = cc
	}
	s.startBackground()
	return s, nil
}

// Close stops the background work and waits for it. The client stays open.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// nowMs is the node's clock in Unix ms.
func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

// Catalog keys.
const (
	keyCaches = "sx:{sx}:caches"
	keyEpoch  = "sx:{sx}:epoch"
	keyDead   = "sx:{sx}:dead"
)

// cacheRecord is a cache's entry in sx:{sx}:caches.
type cacheRecord struct {
	Epoch      uint64            `json:"epoch"`
	Partitions int               `json:"partitions"`
	Scheme     store.KeyScheme   `json:"scheme"`
	Tiling     store.Tiling      `json:"tiling"`
	Attrs      map[string]string `json:"attrs,omitempty"`
}

func (r *cacheRecord) info(name string) store.CacheInfo {
	attrs := r.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return store.CacheInfo{Name: name, Epoch: r.Epoch, Partitions: r.Partitions, KeyScheme: r.Scheme, Tiling: r.Tiling, Attrs: attrs}
}

func errNoCache(name string) error { return errs.ErrCacheNotFound.Withf("%q", name) }

// partBase is the key prefix of partition idx of the cache incarnation epoch.
func partBase(epoch uint64, idx int) string {
	return "sx:{" + strconv.FormatUint(epoch, 10) + "." + strconv.Itoa(idx) + "}:"
}

// deadMember names a deleted incarnation in sx:{sx}:dead.
func deadMember(epoch uint64, parts int) string {
	return strconv.FormatUint(epoch, 10) + "/" + strconv.Itoa(parts)
}

var createScript = NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return redis.error_reply('SXERR cache_already_exists') end
return redis.call('INCR', KEYS[2])
`)

// publishScript adds the catalog record once the partitions exist; a name
// taken meanwhile sends the new incarnation to the dead list.
var publishScript = NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  return redis.error_reply('SXERR cache_already_exists')
end
return 1
`)

// CreateCache takes a new epoch, creates the state of every partition, then
// publishes the catalog record: a partition exists before any node can
// route to it, and a script that finds no partition state refuses.
func (s *Store) CreateCache(ctx context.Context, name string, cfg store.CacheConfig) (store.CacheInfo, error) {
	parts, attrs, err := store.CheckCacheConfig(name, cfg, s.parts)
	if err != nil {
		return store.CacheInfo{}, err
	}
	v, err := s.run.Eval(ctx, createScript, true, []string{keyCaches, keyEpoch}, name)
	if err != nil {
		return store.CacheInfo{}, s.catalogErr(err, name)
	}
	epoch := uint64(v.(int64))
	rec := cacheRecord{Epoch: epoch, Partitions: parts, Scheme: cfg.KeyScheme, Tiling: cfg.Tiling, Attrs: attrs}
	if err := s.initPartitions(ctx, epoch, parts); err != nil {
		s.buryAsync(epoch, parts)
		return store.CacheInfo{}, err
	}
	js, _ := json.Marshal(rec)
	if _, err := s.run.Eval(ctx, publishScript, true, []string{keyCaches, keyDead}, name, string(js),
		deadMember(epoch, parts), s.nowMs()); err != nil {
		if !errors.Is(err, errs.ErrCacheExists) && !errors.Is(err, errs.ErrOutcomeUnknown) {
			s.buryAsync(epoch, parts)
		}
		return store.CacheInfo{}, s.catalogErr(err, name)
	}
	info := rec.info(name)
	s.remember(info)
	s.log.Debug("redisstore: cache created", "cache", name, "epoch", epoch, "partitions", parts)
	return info, nil
}

func (s *Store) catalogErr(err error, name string) error {
	switch {
	case errors.Is(err, errs.ErrCacheExists):
		return errs.ErrCacheExists.Withf("%q", name)
	case errors.Is(err, errs.ErrCacheNotFound):
		return errNoCache(name)
	}
	return err
}

// buryAsync sends an incarnation that never got published to the dead
// list, so that the background removal deletes its partition state.
func (s *Store) buryAsync(epoch uint64, parts int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.run.Do(ctx, false, "zadd", keyDead, s.nowMs(), deadMember(epoch, parts)); err != nil {
		s.log.Warn("redisstore: cannot record an unpublished cache incarnation for removal", "epoch", epoch, "err", err)
	}
}

// initPartitions creates the state hash of every partition, one pipeline.
func (s *Store) initPartitions(ctx context.Context, epoch uint64, parts int) error {
	return s.pipeWrite(ctx, parts, func(p redis.Pipeliner, i int) {
		p.HSet(ctx, partBase(epoch, i)+"s", "lsn", 0, "gen", 0, "floor", 0, "ms", 0)
	})
}

// pipeWrite runs n idempotent writes in one pipeline (split per node by
// the cluster client). Idempotent: a failure is ErrUnavailable, a retry is
// safe and is done for errors that did nothing.
func (s *Store) pipeWrite(ctx context.Context, n int, add func(p redis.Pipeliner, i int)) error {
	if n == 0 {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	backoff := 10 * time.Millisecond
	for {
		p := s.c.Pipeline()
		for i := range n {
			add(p, i)
		}
		cmds, err := p.Exec(ctx)
		if err == nil {
			return nil
		}
		for _, c := range cmds {
			if c.Err() != nil {
				err = c.Err()
				break
			}
		}
		reloadOnFailure(s.c, err)
		if ctx.Err() != nil {
			return errs.ErrUnavailable.Because(err)
		}
		if !(refusedBeforeRun(err) || transient(err)) || time.Now().After(deadline) {
			return errs.ErrUnavailable.Because(err)
		}
		select {
		case <-ctx.Done():
			return errs.ErrUnavailable.Because(err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

// lookup reads a cache's record from Redis, not from the node's copy.
func (s *Store) lookup(ctx context.Context, name string) (store.CacheInfo, error) {
	v, err := s.run.Do(ctx, true, "hget", keyCaches, name)
	if errors.Is(err, redis.Nil) {
		s.forget(name, 0)
		return store.CacheInfo{}, errNoCache(name)
	}
	if err != nil {
		return store.CacheInfo{}, err
	}
	str, _ := v.(string)
	var rec cacheRecord
	if err := json.Unmarshal([]byte(str), &rec); err != nil {
		return store.CacheInfo{}, fmt.Errorf("redisstore: catalog record of %q: %w", name, err)
	}
	info := rec.info(name)
	s.remember(info)
	return info, nil
}

func (s *Store) remember(info store.CacheInfo) {
	s.catMu.Lock()
	s.cat[info.Name] = catEntry{info: info, at: time.Now()}
	s.catMu.Unlock()
}

// forget drops the node's copy of name (only of epoch, when not 0).
func (s *Store) forget(name string, epoch uint64) {
	s.catMu.Lock()
	if e, ok := s.cat[name]; ok && (epoch == 0 || e.info.Epoch == epoch) {
		delete(s.cat, name)
	}
	s.catMu.Unlock()
}

// cacheInfo is the node's copy of a cache's record, fresh within catalogTTL.
func (s *Store) cacheInfo(ctx context.Context, name string) (store.CacheInfo, error) {
	s.catMu.Lock()
	e, ok := s.cat[name]
	s.catMu.Unlock()
	if ok && time.Since(e.at) < catalogTTL {
		return e.info, nil
	}
	return s.lookup(ctx, name)
}

// CacheInfo describes one cache.
func (s *Store) CacheInfo(ctx context.Context, name string) (store.CacheInfo, error) {
	return s.lookup(ctx, name)
}

// ListCaches returns the caches sorted by name.
func (s *Store) ListCaches(ctx context.Context) ([]store.CacheInfo, error) {
	v, err := s.run.Do(ctx, true, "hgetall", keyCaches)
	if err != nil {
		return nil, err
	}
	var out []store.CacheInfo
	eachPair(v, func(name, js string) {
		var rec cacheRecord
		if json.Unmarshal([]byte(js), &rec) == nil {
			out = append(out, rec.info(name))
		}
	})
	slices.SortFunc(out, func(a, b store.CacheInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// partRef is the partition that holds a key, resolved from the node's
// catalog copy.
type partRef struct {
	info store.CacheInfo
	idx  int
	base string   // "sx:{E.P}:"
	keys []string // KEYS of a partition script: base+"s"
}

func (s *Store) partAt(info store.CacheInfo, idx int) partRef {
	base := partBase(info.Epoch, idx)
	return partRef{info: info, idx: idx, base: base, keys: []string{base + "s"}}
}

// part routes key of cache to its partition.
func (s *Store) part(ctx context.Context, cache string, key []byte) (p partRef, err error) {
	if len(key) == 0 {
		return p, errEmptyKey
	}
	info, err := s.cacheInfo(ctx, cache)
	if err != nil {
		return p, err
	}
	return s.partAt(info, info.PartitionOf(key)), nil
}

var errEmptyKey = errs.ErrInvalidArgument.Msgf("empty key")

// args prepends the prelude's ARGV[1..3] to a script's op arguments.
func (s *Store) args(p partRef, op []any) []any {
	out := make([]any, 0, 3+len(op))
	out = append(out, p.base, s.nowMs(), s.cfgArg)
	return append(out, op...)
}

// evalPart runs a prelude script on partition p.
func (s *Store) evalPart(ctx context.Context, p partRef, sc *Script, write bool, op ...any) (any, error) {
	if write && s.waitN > 0 {
		return s.evalWait(ctx, p, sc, s.args(p, op))
	}
	return s.run.Eval(ctx, sc, write, p.keys, s.args(p, op)...)
}

// runKey resolves key's partition and runs sc there. When the script finds
// the partition gone (the node's catalog copy is stale: the cache was
// deleted, perhaps re-created) it re-reads the catalog and, for a new
// incarnation, runs once more: the refusal did nothing.
func (s *Store) runKey(ctx context.Context, cache string, key []byte, sc *Script, write bool, op ...any) (any, partRef, error) {
	p, err := s.part(ctx, cache, key)
	if err != nil {
		return nil, p, err
	}
	v, err := s.evalPart(ctx, p, sc, write, op...)
	if err == nil || !errors.Is(err, errs.ErrCacheNotFound) {
		if err == nil && write {
			s.wake(cache)
			s.markDirty(p.base)
		}
		return v, p, err
	}
	s.forget(cache, p.info.Epoch)
	info, lerr := s.lookup(ctx, cache)
	if lerr != nil {
		return nil, p, lerr
	}
	if info.Epoch == p.info.Epoch {
		return nil, p, errNoCache(cache) // being deleted
	}
	p = s.partAt(info, info.PartitionOf(key))
	v, err = s.evalPart(ctx, p, sc, write, op...)
	if errors.Is(err, errs.ErrCacheNotFound) {
		s.forget(cache, info.Epoch)
		return nil, p, errNoCache(cache)
	}
	if err == nil && write {
		s.wake(cache)
		s.markDirty(p.base)
	}
	return v, p, err
}

// Set stores a scalar, replacing an item of any kind.
func (s *Store) Set(ctx context.Context, cache string, key, value []byte, ttl time.Duration) error {
	if err := checkItem(key, value, ttl); err != nil {
		return err
	}
	_, _, err := s.runKey(ctx, cache, key, setScript, true, key, value, ttlMs(ttl))
	return err
}

var setScript = NewScript(prelude + `
local key = A(1)
local ttl = tonumber(A(3))
local m = live(key)
local exp = 0
if ttl > 0 then exp = NOW + ttl end
local op = 1
if m then op = 2 end
local lsn, ms = commit(key, op, 0, exp, A(2), m)
return {lsn, ms}
`)

// Get returns the value of a live scalar.
func (s *Store) Get(ctx context.Context, cache string, key []byte) ([]byte, bool, error) {
	v, _, err := s.runKey(ctx, cache, key, getScript, false, key)
	if err != nil {
		return nil, false, err
	}
	a, _ := v.([]any)
	if len(a) == 0 {
		return nil, false, nil
	}
	str, _ := a[0].(string)
	return []byte(str), true, nil
}

var getScript = NewScript(prelude + `
local m = peek(A(1))
if not m then return {} end
if m.kind ~= 0 then return wrongtype(m) end
local v = redis.call('GET', ikey(A(1)))
if not v then return {} end
return {v}
`)

func checkTTL(ttl time.Duration) error {
	if !store.ValidTTL(ttl) {
		return errs.ErrInvalidArgument.Msgf("ttl %v outside [0, %v]", ttl, store.MaxTTL)
	}
	return nil
}

func checkItem(key, value []byte, ttl time.Duration) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if n := len(key) + len(value); n > store.MaxItemSize {
		return errs.ErrItemTooLarge.Withf("item of %d bytes exceeds %d", n, store.MaxItemSize)
	}
	return nil
}

// ttlMs is a TTL in whole milliseconds, rounded up so that a positive TTL
// never reads as "never expires".
func ttlMs(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// wake closes the cache's notification channel (FeedNotify).
func (s *Store) wake(cache string) {
	s.notifyMu.Lock()
	ch := s.notify[cache]
	delete(s.notify, cache)
	s.notifyMu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
