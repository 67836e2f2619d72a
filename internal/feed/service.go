package feed

import (
	"context"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Types a surface needs to speak about changes without importing the
// engine contracts.
type (
	Change    = store.Change
	CacheInfo = store.CacheInfo
	Kind      = store.Kind
	Op        = store.FeedOp
)

// Operations of a change.
const (
	OpCreate  = store.FeedCreate
	OpReplace = store.FeedReplace
	OpDelete  = store.FeedDelete
)

// tailSafetyNet bounds a Tail wait even when the engine's notification is
// lost, so that a reader is never stuck.
const tailSafetyNet = time.Minute

// Service is the change feed as every surface serves it: ranges, pages and
// tails of a cache, authorized as reads of the items they cover.
type Service struct {
	st store.Store

	closeOnce sync.Once
	closing   chan struct{}
}

// NewService returns the feed service over st.
func NewService(st store.Store) *Service {
	return &Service{st: st, closing: make(chan struct{})}
}

// Close ends every open Tail with errs.ErrShuttingDown, so that a server can
// stop without waiting for readers that never end by themselves.
func (s *Service) Close() { s.closeOnce.Do(func() { close(s.closing) }) }

// authorize checks a read of range r of cache: a partition-key range needs
// a grant on that key, anything else a grant on every item.
func authorize(ctx context.Context, name, cache string, r Range) error {
	op := auth.Op{Name: name, Resource: auth.ResourceCache, Access: auth.AccessRead, Cache: cache}
	if pk, ok := r.IsPartitionKey(); ok {
		op.Keys = [][]byte{[]byte(pk)}
	}
	return auth.Check(ctx, op)
}

func checkCache(name string) error {
	if !store.ValidCacheName(name) {
		return errs.ErrInvalidName.Msgf("invalid cache name %q", truncName(name))
	}
	return nil
}

func truncName(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// RangeInfo is one feed range of a cache: its partition, EPK bounds and the
// Range the SDKs hand around (its JSON form).
type RangeInfo struct {
	store.FeedRange
	Range Range
}

// Ranges returns the cache and its feed ranges, one per partition.
func (s *Service) Ranges(ctx context.Context, cache string) (CacheInfo, []RangeInfo, error) {
	if err := checkCache(cache); err != nil {
		return CacheInfo{}, nil, err
	}
	if err := authorize(ctx, "GetFeedRanges", cache, Whole()); err != nil {
		return CacheInfo{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return CacheInfo{}, nil, err
	}
	info, err := s.st.CacheInfo(ctx, cache)
	if err != nil {
		return CacheInfo{}, nil, err
	}
	frs := store.FeedRanges(info)
	out := make([]RangeInfo, len(frs))
	for i, r := range Ranges(frs) {
		out[i] = RangeInfo{FeedRange: frs[i], Range: r}
	}
	return info, out, nil
}

// Read reads the next page of a change feed.
func (s *Service) Read(ctx context.Context, r Request) (Page, error) {
	if err := s.check(ctx, "ReadFeed", r); err != nil {
		return Page{}, err
	}
	return Read(ctx, s.st, r)
}

func (s *Service) check(ctx context.Context, op string, r Request) error {
	if err := checkCache(r.Cache); err != nil {
		return err
	}
	if err := authorize(ctx, op, r.Cache, r.Range); err != nil {
		return err
	}
	return ctx.Err()
}

// Tail reads like Read in a loop and hands pages to send: every page with
// changes, and a NotModified page each time it catches up, then waits for
// the next change. It returns when send fails, ctx ends, the cache goes
// (errs.ErrCacheNotFound) or the service closes (errs.ErrShuttingDown).
func (s *Service) Tail(ctx context.Context, r Request, send func(Page) error) error {
	if err := s.check(ctx, "TailFeed", r); err != nil {
		return err
	}
	caughtUp := false
	for {
		changed, err := s.st.FeedNotify(ctx, r.Cache)
		if err != nil {
			return err
		}
		page, err := Read(ctx, s.st, r)
		if err != nil {
			return err
		}
		r.Continuation = page.Continuation
		if !page.NotModified || !caughtUp {
			if err := send(page); err != nil {
				return err
			}
		}
		caughtUp = page.NotModified
		if !caughtUp {
			continue
		}
		wait := time.NewTimer(tailSafetyNet)
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-s.closing:
			wait.Stop()
			return errs.ErrShuttingDown
		case <-changed:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// Partition-level reads, for surfaces whose protocol positions readers per
// partition itself (Cosmos: one etag per partition key range).
type (
	PartitionRead = store.FeedRead
	PartitionPage = store.FeedPage
	FeedRange     = store.FeedRange
)

// Starts and modes of a PartitionRead.
const (
	FromLSN         = store.FeedFromLSN
	FromNow         = store.FeedFromNow
	FromTime        = store.FeedFromTime
	LatestVersion   = store.FeedLatestVersion
	AllVersions     = store.FeedAllVersions
	DefaultPageSize = 100
)

// ReadPartition reads one page of one partition of a cache. It is
// authorized as a read of the item named by r.PartitionKey, or of every
// item.
func (s *Service) ReadPartition(ctx context.Context, cache string, r PartitionRead) (PartitionPage, error) {
	if err := checkCache(cache); err != nil {
		return PartitionPage{}, err
	}
	op := auth.Op{Name: "ReadFeed", Resource: auth.ResourceCache, Access: auth.AccessRead, Cache: cache, Key: r.PartitionKey}
	if err := auth.Check(ctx, op); err != nil {
		return PartitionPage{}, err
	}
	if err := ctx.Err(); err != nil {
		return PartitionPage{}, err
	}
	return s.st.ReadFeed(ctx, cache, r)
}
