// Package store defines Setsuna's data model and the engine contracts that
// every engine (memory, redis) implements: Store (caches, items, collections,
// the per-partition change log) and TopicLog (topics.go). Services call them;
// surfaces never do. The semantics are checked by the shared suite in
// storetest, which every engine runs unchanged.
//
// What every engine promises, beyond each method's own contract:
//
//   - Errors are *errs.Error values of the errs table (errs.ErrCacheNotFound,
//     errs.ErrInvalidArgument, ...), wrapped or not; anything else is an
//     internal error. An engine that cannot reach its data answers
//     errs.ErrUnavailable (nothing was done). When a mutation may or may not
//     have been applied (a timeout or a lost connection after the request was
//     sent), it answers errs.ErrOutcomeUnknown: never success, never a plain
//     failure. A moved slot, a failover or a timeout is retried inside the
//     engine only where a retry cannot apply a change twice.
//   - Contexts: a context that is already done when a call starts fails it
//     with the context's error and nothing is done (the services check this
//     before calling, so an in-process engine may ignore ctx). A call that
//     blocks (network) returns when ctx is done: a read with the context's
//     error, a mutation with errs.ErrOutcomeUnknown unless the engine knows
//     that nothing was sent.
//   - Atomicity: each call is atomic. A multi-key call (SetBatch) is atomic
//     per partition, never across partitions: a clustered engine keeps each
//     partition in one slot, and slots live on different servers. Items of
//     one partition get consecutive LSNs in request order and one BatchEnd.
//   - Expiry: an expired item is invisible at once (every read checks the
//     expiry) and is purged later by a sampled sweep or by a write that meets
//     it; the purge is a delete in the all-versions feed with TTLExpired and
//     the previous image. The memory engine records it exactly. A Redis
//     engine records the purges its own sweep makes (it keeps native expiry
//     a grace period later, only to reclaim memory if the sweep falls
//     behind): an expiry appears in the feed within that bounded delay, and
//     one reclaimed natively (sweep far behind) does not appear.
//   - Clocks: expiry instants are absolute (ExpiresAt). Nodes sharing an
//     engine must keep their clocks synchronised (NTP); a node whose clock
//     runs ahead sees items expire early by the skew.
//   - Eviction (memory bound): the memory engine evicts sampled-LRU items and
//     records each as a delete (TTLExpired false). Redis's own maxmemory
//     eviction is invisible to Setsuna; run Redis with maxmemory-policy
//     noeviction and bound memory with Setsuna's limits.
package store

import (
	"context"
	"crypto/sha256"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
)

// Limits every engine enforces.
const (
	MaxCacheNameLen = 255 // bytes
	// MaxItemSize bounds key + value: Momento's "5 MB", which its service
	// advertises as max_item_size_kb = 4883 (KiB).
	MaxItemSize    = 4883 * 1024
	MaxElementSize = 128 * 1024 // one collection element, bytes
	// MaxTTL bounds TTLs so that now+ttl never overflows; longer is INVALID_ARGUMENT.
	MaxTTL = 100 * 365 * 24 * time.Hour
)

// Kind is the type of an item.
type Kind uint8

const (
	KindScalar Kind = iota
	KindDictionary
	KindSet
	KindList
	KindSortedSet
)

func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "scalar"
	case KindDictionary:
		return "dictionary"
	case KindSet:
		return "set"
	case KindList:
		return "list"
	case KindSortedSet:
		return "sorted_set"
	}
	return "unknown"
}

// KeyScheme says how an item's key picks its partition.
type KeyScheme uint8

const (
	// KeyPlain: the whole key is the partition key; its EPK is the Cosmos V2
	// hash of the key as a string (Momento items).
	KeyPlain KeyScheme = iota
	// KeyCosmosV1, KeyCosmosV2, KeyCosmosMultiHash: a Cosmos container's
	// documents, whose keys are JSON arrays of the partition-key values and
	// the id (["p1","a1"]), placed by the EPK of those values under the
	// container's hash (epk.DocKeyComponents). Any other key (written by
	// another surface) falls back to KeyPlain.
	KeyCosmosV1
	KeyCosmosV2
	KeyCosmosMultiHash
)

// epkScheme is the Cosmos hash of a KeyCosmos* scheme.
func (k KeyScheme) epkScheme() epk.Scheme {
	switch k {
	case KeyCosmosV1:
		return epk.SchemeV1
	case KeyCosmosV2:
		return epk.SchemeV2
	case KeyCosmosMultiHash:
		return epk.SchemeMultiHash
	}
	return 0
}

// Tiling says which EPK ranges a cache's partitions own.
type Tiling uint8

const (
	// TilingV2: epk.Ranges, even cuts of the V2 hash space (the default;
	// plain keys and Cosmos V2 and MultiHash containers).
	TilingV2 Tiling = iota
	// TilingV1: epk.RangesV1, even cuts of the 32-bit V1 hash space, for
	// Cosmos containers whose partition key is hashed with version 1 (their
	// EPKs all start with 05C1, so TilingV2 would put them in one range).
	TilingV1
)

// Ranges are the EPK ranges of n partitions under t. The slice is shared
// (computed once per tiling and count): do not modify it.
func (t Tiling) Ranges(n int) []epk.Range {
	k := uint64(t)<<32 | uint64(n)
	if rs, ok := tilings.Load(k); ok {
		return rs.([]epk.Range)
	}
	var rs []epk.Range
	if t == TilingV1 {
		rs = epk.RangesV1(n)
	} else {
		rs = epk.Ranges(n)
	}
	tilings.Store(k, rs)
	return rs
}

var tilings sync.Map // tiling<<32 | n → []epk.Range

// MaxAttrsSize bounds the total bytes of a cache's attributes.
const MaxAttrsSize = 64 << 10

// CacheConfig is what a new cache is created with.
type CacheConfig struct {
	// Partitions of the change log; 0 is the engine's default. Fixed for the
	// life of the cache.
	Partitions int
	KeyScheme  KeyScheme
	Tiling     Tiling
	// Attrs are surface metadata kept with the cache for its life (a Cosmos
	// container's _rid and partition-key definition, ...). Keys are
	// namespaced by their surface ("cosmos.rid"). Engines store them as
	// given and never interpret them.
	Attrs map[string]string
}

// CacheInfo describes a cache.
type CacheInfo struct {
	Name       string
	Epoch      uint64 // changes when the cache is deleted and re-created
	Partitions int
	KeyScheme  KeyScheme
	Tiling     Tiling
	Attrs      map[string]string // never nil; do not modify
}

// EPK is the effective partition key of an item of this cache, as
// uppercase hex (see KeyScheme).
func (c *CacheInfo) EPK(key []byte) string { return EPKOf(c.KeyScheme, key) }

// PartitionOf is the partition that holds key in this cache. Engines place
// items with it, so that every engine partitions alike.
func (c *CacheInfo) PartitionOf(key []byte) int {
	if c.KeyScheme == KeyPlain {
		return epk.PartitionOfKey(key, c.Partitions)
	}
	return epk.Find(c.Tiling.Ranges(c.Partitions), EPKOf(c.KeyScheme, key))
}

// EPKOf is the effective partition key of key under scheme, as uppercase hex.
func EPKOf(scheme KeyScheme, key []byte) string {
	if scheme != KeyPlain {
		if cs, ok := epk.DocKeyComponents(key); ok {
			if e, err := scheme.epkScheme().Of(cs...); err == nil {
				return e
			}
		}
	}
	return epk.V2Bytes(key).String()
}

// FeedRanges are the partitions of a cache with the EPK ranges they own:
// they follow from the partition count alone.
func FeedRanges(c CacheInfo) []FeedRange {
	rs := c.Tiling.Ranges(c.Partitions)
	out := make([]FeedRange, len(rs))
	for i, r := range rs {
		out[i] = FeedRange{ID: strconv.Itoa(i), MinEPK: r.Min, MaxEPK: r.Max, Partition: i}
	}
	return out
}

// Item is one scalar write of a batch. A zero TTL means the item never expires.
type Item struct {
	Key   []byte
	Value []byte
	TTL   time.Duration
}

// Meta is what an engine knows about a live item besides its value.
type Meta struct {
	Kind      Kind
	ExpiresAt time.Time // zero: never expires
	Partition int
	LSN       uint64    // LSN of the item's last change within its partition
	Modified  time.Time // commit time of that change
}

// WriteResult is what a conditional write did.
type WriteResult struct {
	Stored bool
	// Created: no live item held the key before (valid when Stored).
	Created bool
	// LSN and Modified are the item's change when Stored.
	LSN      uint64
	Modified time.Time
}

// CondKind selects the precondition of a conditional write.
type CondKind uint8

const (
	CondAlways                 CondKind = iota // unconditional
	CondAbsent                                 // key does not exist
	CondPresent                                // key exists
	CondEqual                                  // exists and value == Value
	CondNotEqual                               // absent, or value != Value
	CondPresentAndNotEqual                     // exists and value != Value
	CondAbsentOrEqual                          // absent, or value == Value
	CondPresentAndHashEqual                    // exists and Hash(value) == Value
	CondPresentAndHashNotEqual                 // exists and Hash(value) != Value
	CondAbsentOrHashEqual                      // absent, or Hash(value) == Value
	CondAbsentOrHashNotEqual                   // absent, or Hash(value) != Value
	CondLSNEqual                               // exists (any kind) and its LSN == LSN
)

// Condition is a precondition for SetIf and DeleteIf. Value is the value
// or hash to compare; LSN the item's last change for CondLSNEqual (an
// optimistic-concurrency check: nobody wrote it since it was read).
type Condition struct {
	Kind  CondKind
	Value []byte
	LSN   uint64
}

// Holds reports whether the condition holds for the current value (nil when
// the key is absent or not a scalar) whose last change has LSN lsn.
func (c Condition) Holds(current []byte, present bool, lsn uint64) bool {
	switch c.Kind {
	case CondLSNEqual:
		return present && lsn == c.LSN
	case CondAlways:
		return true
	case CondAbsent:
		return !present
	case CondPresent:
		return present
	case CondEqual:
		return present && string(current) == string(c.Value)
	case CondNotEqual:
		return !present || string(current) != string(c.Value)
	case CondPresentAndNotEqual:
		return present && string(current) != string(c.Value)
	case CondAbsentOrEqual:
		return !present || string(current) == string(c.Value)
	case CondPresentAndHashEqual:
		return present && string(Hash(current)) == string(c.Value)
	case CondPresentAndHashNotEqual:
		return present && string(Hash(current)) != string(c.Value)
	case CondAbsentOrHashEqual:
		return !present || string(Hash(current)) == string(c.Value)
	case CondAbsentOrHashNotEqual:
		return !present || string(Hash(current)) != string(c.Value)
	}
	panic("BUG: unknown condition kind")
}

// Hash is the deterministic value hash used by GetWithHash and the SetIfHash
// family. It is stable across nodes and restarts.
func Hash(value []byte) []byte {
	sum := sha256.Sum256(value)
	return sum[:]
}

// TTLMode selects how UpdateTTL changes an item's TTL.
type TTLMode uint8

const (
	TTLOverwrite TTLMode = iota // always set
	TTLIncrease                 // set only if the new TTL is longer than the remaining one
	TTLDecrease                 // set only if the new TTL is shorter than the remaining one
)

// TTLResult is the outcome of UpdateTTL.
type TTLResult uint8

const (
	TTLSet TTLResult = iota
	TTLNotSet
	TTLMissing
)

// Store is the engine interface. Every method is safe for concurrent use.
// Keys and values are bytes; the engine copies what it keeps, so callers may
// reuse their buffers. Values returned must not be modified by the caller.
// A TTL of zero means "never expires"; a negative or over-MaxTTL TTL is
// errs.ErrInvalidArgument. See the package documentation for errors,
// contexts and atomicity.
type Store interface {
	// CreateCache creates an empty cache with a new epoch, larger than any
	// epoch the name had before. An existing name is errs.ErrCacheExists.
	CreateCache(ctx context.Context, name string, cfg CacheConfig) (CacheInfo, error)
	// DeleteCache removes the cache, its items and its change log; the epoch
	// ends. A missing cache is errs.ErrCacheNotFound.
	DeleteCache(ctx context.Context, name string) error
	ListCaches(ctx context.Context) ([]CacheInfo, error)
	// CacheInfo describes one cache; a missing cache is errs.ErrCacheNotFound.
	CacheInfo(ctx context.Context, name string) (CacheInfo, error)
	// FlushCache drops every item of the cache and keeps the cache.
	FlushCache(ctx context.Context, name string) error

	// Get returns the value of a live scalar item; found is false for a
	// missing or expired key. A collection under key is errs.errs.ErrWrongType.
	Get(ctx context.Context, cache string, key []byte) (value []byte, found bool, err error)
	// GetBatch is Get of many keys in one engine call (one round trip per
	// partition at most), in request order. It is not a snapshot across
	// partitions. A collection under a key is errs.errs.ErrWrongType.
	GetBatch(ctx context.Context, cache string, keys [][]byte) (values [][]byte, found []bool, err error)
	Set(ctx context.Context, cache string, key, value []byte, ttl time.Duration) error
	// SetBatch writes items, atomically per partition (see the package
	// documentation); an invalid item fails the whole batch before anything
	// is written. A later duplicate key wins.
	SetBatch(ctx context.Context, cache string, items []Item) error
	// SetIf writes the item only when cond holds, and says what it did:
	// whether it stored, whether that created the item, and the LSN and
	// commit time of the write (so a caller can hand out an etag that is
	// exactly this write's).
	SetIf(ctx context.Context, cache string, key, value []byte, ttl time.Duration, cond Condition) (WriteResult, error)
	// Delete removes an item of any kind; a missing key is not an error.
	Delete(ctx context.Context, cache string, key []byte) error
	// DeleteIf removes a scalar item only when cond holds for it (as in
	// SetIf); deleted says whether it did. A collection under key is
	// errs.errs.ErrWrongType for value conditions.
	DeleteIf(ctx context.Context, cache string, key []byte, cond Condition) (deleted bool, err error)
	// DeleteKind removes the item under key if it is of kind ("delete all
	// fields / elements" of a collection, in one change); found says whether
	// there was one. An item of another kind is errs.errs.ErrWrongType.
	DeleteKind(ctx context.Context, cache string, key []byte, kind Kind) (found bool, err error)
	// GetWithMeta is Get with the item's Meta, read atomically: the value
	// and the LSN belong to the same change.
	GetWithMeta(ctx context.Context, cache string, key []byte) (value []byte, meta Meta, found bool, err error)
	// KeysExist reports, in request order, which keys hold a live item, in
	// one engine call.
	KeysExist(ctx context.Context, cache string, keys [][]byte) ([]bool, error)
	// Increment adds amount to a base-10 integer value, creating it (as
	// amount) when missing. errs.ErrNotInteger / errs.ErrOverflow leave the value as it was.
	Increment(ctx context.Context, cache string, key []byte, amount int64, ttl time.Duration) (int64, error)
	UpdateTTL(ctx context.Context, cache string, key []byte, mode TTLMode, ttl time.Duration) (TTLResult, error)
	// Meta returns the kind, expiry and LSN of a live item of any kind.
	Meta(ctx context.Context, cache string, key []byte) (meta Meta, found bool, err error)

	// Collections: see collections.go.
	Collections

	// Change feed: see the Feed* types.
	Feed

	// Records: small system data kept by the engine (see Records).
	Records

	Close() error
}

// Record is one entry of Records.
type Record struct {
	Key   string
	Value []byte
}

// MaxRecordSize bounds a record's value.
const MaxRecordSize = 1 << 20

// Records are a small namespaced key-value space for what a node must share
// with the other nodes of its engine besides caches: Cosmos databases,
// signing keys, revocations, the node registry. Namespaces and keys are
// 1..255 printable ASCII bytes. They are not part of any cache, have no
// change feed and no expiry, and are meant for at most thousands of entries
// per namespace.
type Records interface {
	PutRecord(ctx context.Context, ns, key string, value []byte) error
	// GetRecord returns a record's value; found is false when it is missing.
	GetRecord(ctx context.Context, ns, key string) (value []byte, found bool, err error)
	// DeleteRecord removes a record; a missing one is not an error.
	DeleteRecord(ctx context.Context, ns, key string) error
	// ListRecords returns the records of ns in key order.
	ListRecords(ctx context.Context, ns string) ([]Record, error)
}

// ValidCacheName reports whether name is a usable cache name: 1..255 bytes of
// printable ASCII without spaces.
func ValidCacheName(name string) bool {
	if len(name) == 0 || len(name) > MaxCacheNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// ValidRecordName reports whether s is a usable record namespace or key.
func ValidRecordName(s string) bool { return ValidCacheName(s) }

// ValidTTL reports whether ttl is acceptable (zero means no expiry).
func ValidTTL(ttl time.Duration) bool { return ttl >= 0 && ttl <= MaxTTL }

// CollectionTTL is the TTL of a write to a collection. A write that creates
// the collection gives it TTL (zero: never expires); a write to an existing
// collection replaces its expiry only when Refresh is set.
type CollectionTTL struct {
	TTL     time.Duration
	Refresh bool
}

// FieldValue is one dictionary entry.
type FieldValue struct {
	Field []byte
	Value []byte
}

// ScoredElement is one sorted-set element.
type ScoredElement struct {
	Value []byte
	Score float64
}

// ScoreBound is one end of a score range. An unbounded end is an inclusive
// ±Inf bound (see Unbounded).
type ScoreBound struct {
	Score     float64
	Exclusive bool
}

// Unbounded is the end index of a slice that runs to the end of a list or
// sorted set. Slice indexes follow Python: a negative index counts from the
// end, out-of-range indexes are clamped and start >= end selects nothing.
const Unbounded = math.MaxInt

// IndexRange is a range of list positions for ListErase.
type IndexRange struct {
	Start int // first index, >= 0
	Count int // positions from Start, >= 0
}

// Aggregate combines the weighted scores of an element present in several
// sources of SortedSetUnionStore.
type Aggregate uint8

const (
	AggregateSum Aggregate = iota
	AggregateMin
	AggregateMax
)

// UnionSource is one input of SortedSetUnionStore: every score is multiplied
// by Weight.
type UnionSource struct {
	Key    []byte
	Weight float64
}

// Collections are the operations on dictionaries, sets, lists and sorted
// sets. They share the key space with scalars: an item of another kind is
// errs.ErrWrongType, an element (field, value or member) over MaxElementSize is
// errs.ErrElementTooLarge. A read of a missing or expired collection reports
// found == false. A collection that becomes empty is deleted. Every call
// that changes a collection is one change with the next LSN of its
// partition, however many elements it touches.
type Collections interface {
	// DictionarySet writes fields (a later duplicate wins).
	DictionarySet(ctx context.Context, cache string, key []byte, items []FieldValue, ttl CollectionTTL) error
	// DictionaryGet returns, per field, its value and whether it is present.
	DictionaryGet(ctx context.Context, cache string, key []byte, fields [][]byte) (values [][]byte, present []bool, found bool, err error)
	// DictionaryFetch returns every entry, in no particular order.
	DictionaryFetch(ctx context.Context, cache string, key []byte) (items []FieldValue, found bool, err error)
	// DictionaryIncrement adds amount to a base-10 int64 field, creating the
	// dictionary and the field (as amount) when missing. errs.ErrNotInteger and
	// errs.ErrOverflow leave it as it was.
	DictionaryIncrement(ctx context.Context, cache string, key, field []byte, amount int64, ttl CollectionTTL) (int64, error)
	// DictionaryDelete removes fields; missing ones are ignored.
	DictionaryDelete(ctx context.Context, cache string, key []byte, fields [][]byte) error
	DictionaryLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error)

	// SetAdd adds elements.
	SetAdd(ctx context.Context, cache string, key []byte, elements [][]byte, ttl CollectionTTL) error
	// SetRemove removes elements; found reports whether the set existed.
	SetRemove(ctx context.Context, cache string, key []byte, elements [][]byte) (found bool, err error)
	SetFetch(ctx context.Context, cache string, key []byte) (elements [][]byte, found bool, err error)
	SetContains(ctx context.Context, cache string, key []byte, elements [][]byte) (contains []bool, found bool, err error)
	// SetSample returns up to limit distinct random elements.
	SetSample(ctx context.Context, cache string, key []byte, limit int) (elements [][]byte, found bool, err error)
	// SetPop removes and returns up to count random elements.
	SetPop(ctx context.Context, cache string, key []byte, count int) (elements [][]byte, found bool, err error)
	SetLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error)

	// ListPush adds values at the front (in reverse order, so that values
	// keep their order at the head) or at the back, then, when truncateTo > 0,
	// drops elements from the other end until at most truncateTo remain.
	ListPush(ctx context.Context, cache string, key []byte, values [][]byte, front bool, truncateTo int, ttl CollectionTTL) (length int, err error)
	// ListPop removes the first (front) or last element.
	ListPop(ctx context.Context, cache string, key []byte, front bool) (value []byte, length int, found bool, err error)
	// ListFetch returns the slice [start, end) (see Unbounded).
	ListFetch(ctx context.Context, cache string, key []byte, start, end int) (values [][]byte, found bool, err error)
	// ListRetain keeps only the slice [start, end).
	ListRetain(ctx context.Context, cache string, key []byte, start, end int, ttl CollectionTTL) (length int, found bool, err error)
	// ListRemove removes every element equal to value.
	ListRemove(ctx context.Context, cache string, key []byte, value []byte) (length int, found bool, err error)
	// ListErase removes the positions of ranges (nil: every element).
	ListErase(ctx context.Context, cache string, key []byte, ranges []IndexRange) (length int, found bool, err error)
	ListLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error)

	// SortedSetPut sets the scores of elements (a later duplicate wins).
	SortedSetPut(ctx context.Context, cache string, key []byte, elements []ScoredElement, ttl CollectionTTL) error
	// SortedSetFetchByRank returns the slice [start, end) of the set in
	// ascending or descending order of (score, element bytes).
	SortedSetFetchByRank(ctx context.Context, cache string, key []byte, start, end int, descending bool) (elements []ScoredElement, found bool, err error)
	// SortedSetFetchByScore returns the elements with scores within
	// [min, max] in order, skipping offset of them and returning at most
	// count (count < 0: all).
	SortedSetFetchByScore(ctx context.Context, cache string, key []byte, min, max ScoreBound, descending bool, offset, count int) (elements []ScoredElement, found bool, err error)
	SortedSetGetScores(ctx context.Context, cache string, key []byte, values [][]byte) (scores []float64, present []bool, found bool, err error)
	// SortedSetGetRank returns the 0-based rank of value in the given order.
	SortedSetGetRank(ctx context.Context, cache string, key []byte, value []byte, descending bool) (rank int, present, found bool, err error)
	// SortedSetIncrement adds amount to the score of value (created as amount).
	SortedSetIncrement(ctx context.Context, cache string, key []byte, value []byte, amount float64, ttl CollectionTTL) (float64, error)
	// SortedSetRemove removes values; missing ones are ignored.
	SortedSetRemove(ctx context.Context, cache string, key []byte, values [][]byte) error
	SortedSetLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error)
	SortedSetLengthByScore(ctx context.Context, cache string, key []byte, min, max ScoreBound) (n int, found bool, err error)
	// SortedSetUnionStore replaces key with the weighted union of sources
	// (missing sources are empty) and returns its length; an empty union
	// deletes key. The destination gets ttl (zero: never expires).
	SortedSetUnionStore(ctx context.Context, cache string, key []byte, sources []UnionSource, agg Aggregate, ttl time.Duration) (length int, err error)
}

// The change feed (DESIGN.md, "Change log"). Every committed mutation of an
// item gets the next LSN of its partition. A partition owns a contiguous
// effective-partition-key range (package epk), fixed when the cache is
// created. Two views exist per partition:
//
//   - latest version: the live items ordered by the LSN of their last
//     change. A key changed twice shows once, at its latest LSN; deletes do
//     not show. Positions never expire while the cache lives.
//   - all versions and deletes: a bounded log of every change (create,
//     replace, delete, with the previous image and whether a delete was a
//     TTL expiry). Reading before its retention is errs.ErrFeedRetention.
//
// A position is an LSN: reading "after" LSN n returns changes with LSN > n.
// Positions are only meaningful within one epoch of a cache.

// FeedMode selects the view of a feed read.
type FeedMode uint8

const (
	FeedLatestVersion FeedMode = iota
	FeedAllVersions
)

func (m FeedMode) String() string {
	switch m {
	case FeedLatestVersion:
		return "latest_version"
	case FeedAllVersions:
		return "all_versions_and_deletes"
	}
	return "unknown"
}

// FeedOp is the operation of one change.
type FeedOp uint8

const (
	FeedCreate  FeedOp = iota + 1 // the key held no live item before
	FeedReplace                   // the key held a live item (of any kind) before
	FeedDelete                    // explicit delete, eviction, TTL expiry, emptied collection
)

func (o FeedOp) String() string {
	switch o {
	case FeedCreate:
		return "create"
	case FeedReplace:
		return "replace"
	case FeedDelete:
		return "delete"
	}
	return "unknown"
}

// FeedStart says where a feed read starts in its partition.
type FeedStart uint8

const (
	// FeedFromLSN reads the changes after FeedRead.AfterLSN (0: from the
	// beginning).
	FeedFromLSN FeedStart = iota
	// FeedFromNow reads nothing and returns the partition's current LSN as
	// the position (a NotModified page).
	FeedFromNow
	// FeedFromTime reads from the first change whose commit time is at or
	// after FeedRead.StartTime.
	FeedFromTime
)

// FeedRange is one partition of a cache and the EPK range it owns:
// [MinEPK, MaxEPK), uppercase hex compared as strings; the ranges of a cache
// tile "" .. "FF". ID is the partition index in decimal (the Cosmos
// partition-key-range id).
type FeedRange struct {
	ID        string
	MinEPK    string
	MaxEPK    string
	Partition int
}

// FeedRead is one page read from one partition.
type FeedRead struct {
	Partition int
	// Epoch, when not zero, must be the cache's current epoch, else
	// errs.ErrFeedEpoch. It is checked atomically with the read.
	Epoch     uint64
	Mode      FeedMode
	Start     FeedStart
	AfterLSN  uint64    // FeedFromLSN
	StartTime time.Time // FeedFromTime
	// PageSizeHint bounds the changes of the page (<= 0: the engine's
	// default). A batch is never split by it, so a page may hold more.
	PageSizeHint int
	// MaxBytes bounds the bytes of the page's keys and values (<= 0: no
	// bound): the page ends before the change that would cross it, even
	// inside a batch (a reader must always be able to receive a page), but
	// always holds at least one change.
	MaxBytes int
	// MinEPK and MaxEPK narrow the read to the items whose EPK is in
	// [MinEPK, MaxEPK); "" for MaxEPK means no upper bound.
	MinEPK, MaxEPK string
	// PartitionKey, when not nil, narrows the read to the item with this
	// key (it must belong to Partition).
	PartitionKey []byte
}

// Change is one entry of a feed page.
type Change struct {
	Op         FeedOp // latest-version reads report create or replace
	LSN        uint64
	CommitTime time.Time
	Key        []byte
	Kind       Kind
	// Value is the current scalar value (nil for deletes and collections:
	// a collection's content is read with the collection calls).
	Value []byte
	// HasPrevious says whether a live item was replaced or deleted;
	// PreviousKind and Previous are then its kind and, for a scalar, its
	// value. Latest-version reads never carry a previous image.
	HasPrevious  bool
	PreviousKind Kind
	Previous     []byte
	// PreviousLSN is the LSN of the previous image (Cosmos DB's
	// previousImageLSN), when the engine knows it.
	PreviousLSN uint64
	// TTLExpired marks the delete that purged an expired item.
	TTLExpired bool
	// BatchEnd is the LSN of the last change of the batch this change
	// belongs to, or 0 when it is not part of a multi-change batch.
	BatchEnd uint64
}

// FeedPage is the result of a feed read.
type FeedPage struct {
	Changes []Change
	// LastLSN is the position to continue from: every change of the
	// partition up to it (within the read's filter) has been delivered.
	LastLSN uint64
	// NotModified is set when the page is empty.
	NotModified bool
	Epoch       uint64
}

// Feed is the change-feed part of the Store interface. The partitions of a
// cache and their ranges follow from CacheInfo (FeedRanges).
type Feed interface {
	// ReadFeed reads one page of one partition.
	ReadFeed(ctx context.Context, cache string, r FeedRead) (FeedPage, error)
	// FeedNotify returns a channel that is closed at the next change of the
	// cache (or when it is flushed or deleted), to wake a reader that found
	// nothing. Take it before the read, then wait on it. An engine that
	// cannot notify may close it after a short interval instead; waiters
	// then poll.
	FeedNotify(ctx context.Context, cache string) (<-chan struct{}, error)
}

// ServiceKeyPrefix starts the item keys that services keep inside a cache
// for data of their own (the leaderboard service's sorted sets). It is part
// of the data model, not of the engine contract: engines store such keys
// like any other, and the cache service refuses them from clients, so that
// no client item can collide with a service's.
const ServiceKeyPrefix = "\x00setsuna\x00"
