// Package memstore is the embedded engine: sharded maps in process memory.
//
// Each cache has a fixed number of partitions chosen by the V2 effective
// partition key of the item key (package epk). A partition has its own
// RWMutex, item map and LSN counter, so the hot path takes no global lock:
// caches are found through an atomically swapped copy-on-write map.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

var _ store.Store = (*Store)(nil)

// Defaults applied by New for zero Options fields.
const (
	DefaultPartitions          = 4
	DefaultExpirySweepInterval = 100 * time.Millisecond
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Partitions per cache, fixed when the cache is created (default 4, at
	// most epk.MaxPartitions).
	Partitions int
	// MaxMemory bounds UsedMemory in bytes; 0 means unlimited. Writes that
	// would exceed it evict least recently used items first.
	MaxMemory int64
	// MaxItemSize bounds len(key)+len(value) (default store.MaxItemSize).
	MaxItemSize int
	// ExpirySweepInterval is the active-expiry period: 0 means the default,
	// negative disables the background sweep (expired items stay invisible).
	ExpirySweepInterval time.Duration
	// Now replaces the clock, for tests. Default: the monotonic time.Now.
	Now func() time.Time
	// Logger receives engine events (default slog.Default()).
	Logger *slog.Logger
	// FeedLogRecords and FeedLogBytes bound the all-versions change log of
	// each partition (defaults DefaultFeedLogRecords, DefaultFeedLogBytes;
	// a negative FeedLogRecords keeps no log). FeedLogRetention also drops
	// records older than it (0: no age limit). A partition keeps the log
	// from its first all-versions read, or from cache creation with
	// FeedLogAlways. See feed.go.
	FeedLogAlways    bool
	FeedLogRecords   int
	FeedLogBytes     int64
	FeedLogRetention time.Duration
	// FeedLogTotalBytes bounds the logs of all partitions together (0: an
	// eighth of MaxMemory when it is set, else none; negative: none).
	FeedLogTotalBytes int64
}

// Store is the in-memory engine. Create it with New.
type Store struct {
	partitions  int
	maxMemory   int64
	maxItemSize int
	clock       clock
	log         *slog.Logger
	feedCfg     feedConfig

	mu      sync.Mutex // serializes catalog changes; never taken by data ops
	catalog atomic.Pointer[catalog]
	used    atomic.Int64
	// The evictions and expirations of deleted caches (stats.go).
	retiredEvictions, retiredExpirations atomic.Uint64
	statsMu                              sync.Mutex
	lastEvictions, lastExpirations       uint64

	recMu sync.Mutex // guards recs
	recs  records

	ps *persister // persistence (persist.go); nil when off

	stop       chan struct{}
	done       chan struct{}
	closeOnce  sync.Once
	sweepEvery time.Duration
	sweeping   bool // startSweep ran
}

// catalog is an immutable snapshot of the caches, replaced on every change.
type catalog struct {
	byName map[string]*cache
	list   []*cache // for random picks by eviction
}

type cache struct {
	name   string
	epoch  uint64
	scheme store.KeyScheme
	tiling store.Tiling
	attrs  map[string]string // immutable
	parts  []partition
	notify atomic.Pointer[chan struct{}] // feed waiters (feed.go)
}

// epochs are process-wide and seeded by wall time so that a cache deleted
// and re-created, even across restarts, gets a new, larger epoch.
var epochs atomic.Uint64

func init() { epochs.Store(uint64(time.Now().UnixNano())) }

// New returns a running Store. It panics on an out-of-range Partitions,
// which is a configuration bug.
func New(opts Options) *Store {
	s := newStore(opts)
	s.startSweep()
	return s
}

// newStore returns a Store whose background expiry is not started.
func newStore(opts Options) *Store {
	if opts.Partitions == 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.Partitions < 1 || opts.Partitions > epk.MaxPartitions {
		panic(fmt.Sprintf("memstore: Partitions %d outside [1, %d]", opts.Partitions, epk.MaxPartitions))
	}
	if opts.MaxItemSize <= 0 {
		opts.MaxItemSize = store.MaxItemSize
	}
	if opts.ExpirySweepInterval == 0 {
		opts.ExpirySweepInterval = DefaultExpirySweepInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{
		partitions:  opts.Partitions,
		maxMemory:   max(opts.MaxMemory, 0),
		maxItemSize: opts.MaxItemSize,
		clock:       newClock(opts.Now),
		log:         opts.Logger,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	s.feedCfg.init(opts)
	s.catalog.Store(&catalog{byName: map[string]*cache{}})
	s.sweepEvery = opts.ExpirySweepInterval
	return s
}

func (s *Store) startSweep() {
	s.sweeping = true
	if s.sweepEvery > 0 {
		go s.sweepLoop(s.sweepEvery)
	} else {
		close(s.done)
	}
}

// Close stops the background expiry and waits for it, then closes the log
// (persistence: later writes fail). Data stays readable; Close is
// idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		if !s.sweeping {
			close(s.done)
		}
	})
	<-s.done
	if s.ps != nil {
		return s.ps.close()
	}
	return nil
}

// UsedMemory is the accounted size of all live and not yet reclaimed items:
// len(key)+len(value)+ItemOverhead each.
func (s *Store) UsedMemory() int64 { return s.used.Load() }

func (s *Store) lookup(name string) (*cache, error) {
	if c := s.catalog.Load().byName[name]; c != nil {
		return c, nil
	}
	return nil, errNoCache(name)
}

func errNoCache(name string) error {
	return errs.ErrCacheNotFound.Withf("%q", name)
}

// CreateCache creates an empty cache with a fresh epoch.
func (s *Store) CreateCache(_ context.Context, name string, cfg store.CacheConfig) (store.CacheInfo, error) {
	parts, attrs, err := store.CheckCacheConfig(name, cfg, s.partitions)
	if err != nil {
		return store.CacheInfo{}, err
	}
	if err := s.logErr(); err != nil {
		return store.CacheInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.catalog.Load()
	if old.byName[name] != nil {
		return store.CacheInfo{}, errs.ErrCacheExists.Withf("%q", name)
	}
	c := &cache{name: name, epoch: epochs.Add(1), scheme: cfg.KeyScheme, tiling: cfg.Tiling, attrs: attrs, parts: make([]partition, parts)}
	for i := range c.parts {
		c.parts[i].items = newItemTable()
		c.parts[i].initFeed(&s.feedCfg, &c.notify)
	}
	next := &catalog{byName: make(map[string]*cache, len(old.byName)+1), list: append(slices.Clip(old.list), c)}
	for n, oc := range old.byName {
		next.byName[n] = oc
	}
	next.byName[name] = c
	b := s.journalCache(c) // persistence (persist.go)
	s.catalog.Store(next)
	s.log.Debug("memstore: cache created", "cache", name, "epoch", c.epoch, "partitions", len(c.parts))
	return c.info(), waitLogged(b)
}

// DeleteCache removes the cache; operations that raced with it and still
// hold the old cache see ErrCacheNotFound once they lock a partition.
func (s *Store) DeleteCache(_ context.Context, name string) error {
	if err := s.logErr(); err != nil {
		return err
	}
	s.mu.Lock()
	old := s.catalog.Load()
	c := old.byName[name]
	if c == nil {
		s.mu.Unlock()
		return errNoCache(name)
	}
	next := &catalog{byName: make(map[string]*cache, len(old.byName)), list: make([]*cache, 0, len(old.list))}
	for n, oc := range old.byName {
		if oc != c {
			next.byName[n] = oc
		}
	}
	for _, oc := range old.list {
		if oc != c {
			next.list = append(next.list, oc)
		}
	}
	s.catalog.Store(next)
	s.mu.Unlock()

	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		freed := p.clear()
		p.dead = true
		ev, ex := p.evictions, p.expirations
		p.mu.Unlock()
		s.used.Add(-freed)
		s.retire(ev, ex)
	}
	s.log.Debug("memstore: cache deleted", "cache", name, "epoch", c.epoch)
	return waitLogged(s.journalDrop(c))
}

// FlushCache drops every item, partition by partition. LSN counters keep
// counting so that they never go backwards while the cache lives.
func (s *Store) FlushCache(_ context.Context, name string) error {
	c, err := s.lookup(name)
	if err != nil {
		return err
	}
	if err := s.logErr(); err != nil {
		return err
	}
	var b *wal.Batch
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		dead := p.dead
		freed := p.clear()
		if !dead {
			p.journalFlush()
		}
		b = cmp.Or(p.takeBatch(), b)
		p.mu.Unlock()
		s.used.Add(-freed)
		if dead {
			return errNoCache(name)
		}
	}
	return waitLogged(b)
}

// CacheInfo describes one cache, or wraps ErrCacheNotFound.
func (s *Store) CacheInfo(_ context.Context, name string) (store.CacheInfo, error) {
	c, err := s.lookup(name)
	if err != nil {
		return store.CacheInfo{}, err
	}
	return c.info(), nil
}

func (c *cache) info() store.CacheInfo {
	return store.CacheInfo{Name: c.name, Epoch: c.epoch, Partitions: len(c.parts), KeyScheme: c.scheme, Tiling: c.tiling, Attrs: c.attrs}
}

// ListCaches returns the caches sorted by name.
func (s *Store) ListCaches(context.Context) ([]store.CacheInfo, error) {
	cat := s.catalog.Load()
	out := make([]store.CacheInfo, 0, len(cat.list))
	for _, c := range cat.list {
		out = append(out, c.info())
	}
	slices.SortFunc(out, func(a, b store.CacheInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// partitionIndex is the index of the partition owning key.
func (c *cache) partitionIndex(key []byte) int {
	if c.scheme == store.KeyPlain {
		return epk.PartitionOfKey(key, len(c.parts))
	}
	info := c.info()
	return info.PartitionOf(key)
}

// partition returns the partition owning key and its index.
func (c *cache) partition(key []byte) (*partition, int) {
	i := c.partitionIndex(key)
	return &c.parts[i], i
}
