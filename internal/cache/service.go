// Package cache is the cache service: caches (create, delete, flush, list),
// items and collections, with their validation, their orchestration and
// their authorization written once for every surface. Each method takes the
// caller from the context (auth.NewContext; a context without a caller is
// refused), checks names and keys, asks the one Authorizer, then calls the
// engine. Surfaces only authenticate, decode, call and map errors.
//
// Validation happens in this order, so that a caller learns nothing it may
// not know: the cache name and the keys (they are needed to authorize), the
// authorization, then everything else (TTLs, conditions, sizes). A context
// that is already done fails before the engine is called.
package cache

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The data model, as surfaces see it (aliases of the engine contract's
// types, so that no surface imports an engine package).
type (
	CacheInfo     = store.CacheInfo
	CacheConfig   = store.CacheConfig
	Item          = store.Item
	Meta          = store.Meta
	Kind          = store.Kind
	Condition     = store.Condition
	CondKind      = store.CondKind
	TTLMode       = store.TTLMode
	TTLResult     = store.TTLResult
	CollectionTTL = store.CollectionTTL
	FieldValue    = store.FieldValue
	ScoredElement = store.ScoredElement
	ScoreBound    = store.ScoreBound
	IndexRange    = store.IndexRange
	Aggregate     = store.Aggregate
	UnionSource   = store.UnionSource
	KeyScheme     = store.KeyScheme
	Tiling        = store.Tiling
	WriteResult   = store.WriteResult
)

// Constants of the data model.
const (
	KindScalar     = store.KindScalar
	KindDictionary = store.KindDictionary
	KindSet        = store.KindSet
	KindList       = store.KindList
	KindSortedSet  = store.KindSortedSet

	CondAlways                 = store.CondAlways
	CondAbsent                 = store.CondAbsent
	CondPresent                = store.CondPresent
	CondEqual                  = store.CondEqual
	CondNotEqual               = store.CondNotEqual
	CondPresentAndNotEqual     = store.CondPresentAndNotEqual
	CondAbsentOrEqual          = store.CondAbsentOrEqual
	CondPresentAndHashEqual    = store.CondPresentAndHashEqual
	CondPresentAndHashNotEqual = store.CondPresentAndHashNotEqual
	CondAbsentOrHashEqual      = store.CondAbsentOrHashEqual
	CondAbsentOrHashNotEqual   = store.CondAbsentOrHashNotEqual
	CondLSNEqual               = store.CondLSNEqual

	TTLOverwrite = store.TTLOverwrite
	TTLIncrease  = store.TTLIncrease
	TTLDecrease  = store.TTLDecrease
	TTLSet       = store.TTLSet
	TTLNotSet    = store.TTLNotSet
	TTLMissing   = store.TTLMissing

	AggregateSum = store.AggregateSum
	AggregateMin = store.AggregateMin
	AggregateMax = store.AggregateMax

	KeyPlain           = store.KeyPlain
	KeyCosmosV1        = store.KeyCosmosV1
	KeyCosmosV2        = store.KeyCosmosV2
	KeyCosmosMultiHash = store.KeyCosmosMultiHash

	TilingV2 = store.TilingV2
	TilingV1 = store.TilingV1

	// Unbounded ends a slice at the end of a list or sorted set.
	Unbounded = store.Unbounded

	MaxCacheNameLen = store.MaxCacheNameLen
	MaxItemSize     = store.MaxItemSize
	MaxElementSize  = store.MaxElementSize
	MaxTTL          = store.MaxTTL
)

// FeedRange is one partition of a cache and the EPK range it owns.
type FeedRange = store.FeedRange

// FeedRanges are the partitions of a cache with their EPK ranges.
func FeedRanges(info CacheInfo) []FeedRange { return store.FeedRanges(info) }

// Hash is the value hash of GetWithHash and the hash conditions.
func Hash(value []byte) []byte { return store.Hash(value) }

// TTLFromMillis converts a wire TTL in milliseconds; values too large for a
// Duration saturate, so that validation reports them as over MaxTTL.
func TTLFromMillis(ms uint64) time.Duration {
	if ms > uint64(math.MaxInt64/int64(time.Millisecond)) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Now is the clock remaining TTLs are measured against; it must be the
	// engine's (default time.Now).
	Now func() time.Time
}

// Service is the cache service over one engine.
type Service struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	onDeleted []func(CacheInfo)
}

// New returns the cache service over st.
func New(st store.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{st: st, log: opts.Logger, now: opts.Now}
}

// Now is the service's clock: ExpiresAt of Meta is measured against it.
func (s *Service) Now() time.Time { return s.now() }

// OnCacheDeleted registers fn to run after a cache is deleted, with the
// info of the deleted epoch: the topics hub ends its subscriptions, the
// other services drop what they keep for the cache.
func (s *Service) OnCacheDeleted(fn func(CacheInfo)) {
	s.mu.Lock()
	s.onDeleted = append(s.onDeleted, fn)
	s.mu.Unlock()
}

func checkCache(name string) error {
	if !store.ValidCacheName(name) {
		return errs.ErrInvalidName.Msgf("invalid cache name %q: it must be 1-%d printable ASCII bytes without spaces", trunc(name), store.MaxCacheNameLen)
	}
	return nil
}

func checkKey(key []byte) error {
	if len(key) == 0 {
		return errs.ErrInvalidArgument.Msgf("cache key must not be empty")
	}
	if key[0] == 0 && bytes.HasPrefix(key, serviceKeyPrefix) {
		return errs.ErrInvalidArgument.Msgf("cache keys beginning with %q are reserved", store.ServiceKeyPrefix)
	}
	return nil
}

var serviceKeyPrefix = []byte(store.ServiceKeyPrefix)

func checkKeys(keys [][]byte) error {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < 0 || ttl > store.MaxTTL {
		return errs.ErrInvalidArgument.Msgf("ttl of %d ms is outside [0, %d] ms", ttl.Milliseconds(), store.MaxTTL.Milliseconds())
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// one authorizes an operation on one key of cache, after checking both.
func one(ctx context.Context, name string, a auth.Access, cache string, key []byte) error {
	if err := checkCache(cache); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := auth.Check(ctx, auth.Op{Name: name, Resource: auth.ResourceCache, Access: a, Cache: cache, Key: key}); err != nil {
		return err
	}
	return ctx.Err()
}

// many authorizes an operation on several keys of cache.
func many(ctx context.Context, name string, a auth.Access, cache string, keys [][]byte) error {
	if err := checkCache(cache); err != nil {
		return err
	}
	if err := checkKeys(keys); err != nil {
		return err
	}
	// An empty key list is authorized like a whole-cache operation: it is
	// the strictest reading, and no SDK sends one.
	op := auth.Op{Name: name, Resource: auth.ResourceCache, Access: a, Cache: cache, Keys: keys}
	if err := auth.Check(ctx, op); err != nil {
		return err
	}
	return ctx.Err()
}

// control authorizes a control-plane operation on cache ("" for all).
func control(ctx context.Context, name, cache string) error {
	if cache != "" {
		if err := checkCache(cache); err != nil {
			return err
		}
	}
	if err := auth.Check(ctx, auth.Op{Name: name, Access: auth.AccessControl, Cache: cache}); err != nil {
		return err
	}
	return ctx.Err()
}

const (
	read  = auth.AccessRead
	write = auth.AccessWrite
	cond  = auth.AccessConditional
)

// ---- control ----

// CreateCache creates a cache; a name in use is errs.ErrCacheExists.
func (s *Service) CreateCache(ctx context.Context, name string, cfg CacheConfig) (CacheInfo, error) {
	if err := control(ctx, "CreateCache", name); err != nil {
		return CacheInfo{}, err
	}
	info, err := s.st.CreateCache(ctx, name, cfg)
	if err != nil {
		return CacheInfo{}, err
	}
	s.log.Info("cache created", "cache", name, "epoch", info.Epoch, "partitions", info.Partitions)
	return info, nil
}

// DeleteCache deletes a cache with everything that belongs to it: items,
// change feed, topics and their subscriptions.
func (s *Service) DeleteCache(ctx context.Context, name string) error {
	if err := control(ctx, "DeleteCache", name); err != nil {
		return err
	}
	info, err := s.st.CacheInfo(ctx, name)
	if err != nil {
		return err
	}
	if err := s.st.DeleteCache(ctx, name); err != nil {
		return err
	}
	s.mu.Lock()
	fns := slices.Clone(s.onDeleted)
	s.mu.Unlock()
	for _, fn := range fns {
		fn(info)
	}
	s.log.Info("cache deleted", "cache", name, "epoch", info.Epoch)
	return nil
}

// FlushCache drops every item of a cache and keeps the cache.
func (s *Service) FlushCache(ctx context.Context, name string) error {
	if err := control(ctx, "FlushCache", name); err != nil {
		return err
	}
	return s.st.FlushCache(ctx, name)
}

// ListCaches returns every cache, sorted by name.
func (s *Service) ListCaches(ctx context.Context) ([]CacheInfo, error) {
	if err := control(ctx, "ListCaches", ""); err != nil {
		return nil, err
	}
	infos, err := s.st.ListCaches(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(infos, func(a, b CacheInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos, nil
}

// CacheInfo describes one cache to a caller who may read all of it.
func (s *Service) CacheInfo(ctx context.Context, name string) (CacheInfo, error) {
	if err := checkCache(name); err != nil {
		return CacheInfo{}, err
	}
	if err := auth.Check(ctx, auth.Op{Name: "CacheInfo", Resource: auth.ResourceCache, Access: read, Cache: name}); err != nil {
		return CacheInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return CacheInfo{}, err
	}
	return s.st.CacheInfo(ctx, name)
}

// Record is one entry of the engine's shared records (store.Records).
type Record = store.Record

// Records are small system data shared by every node of an engine (Cosmos
// databases, ...). Writing them is a control operation; reading them needs
// only an authenticated caller (they hold names, not data).

// PutRecord writes a record.
func (s *Service) PutRecord(ctx context.Context, ns, key string, value []byte) error {
	if err := control(ctx, "PutRecord", ""); err != nil {
		return err
	}
	return s.st.PutRecord(ctx, ns, key, value)
}

// DeleteRecord removes a record; a missing one is not an error.
func (s *Service) DeleteRecord(ctx context.Context, ns, key string) error {
	if err := control(ctx, "DeleteRecord", ""); err != nil {
		return err
	}
	return s.st.DeleteRecord(ctx, ns, key)
}

// GetRecord reads a record.
func (s *Service) GetRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	if err := anyCaller(ctx, "GetRecord"); err != nil {
		return nil, false, err
	}
	return s.st.GetRecord(ctx, ns, key)
}

// ListRecords reads the records of a namespace in key order.
func (s *Service) ListRecords(ctx context.Context, ns string) ([]Record, error) {
	if err := anyCaller(ctx, "ListRecords"); err != nil {
		return nil, err
	}
	return s.st.ListRecords(ctx, ns)
}

func anyCaller(ctx context.Context, name string) error {
	if err := auth.Check(ctx, auth.Op{Name: name, Access: auth.AccessAny}); err != nil {
		return err
	}
	return ctx.Err()
}
