package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/feed"
	feedpb "github.com/setsuna-io/setsuna/proto/feedpb"
)

// FeedClient reads the change feed of caches (Setsuna's setsuna.feed.v1
// service) with the pull model of Cosmos DB's change feed: a FeedIterator
// per reader, from the beginning, now, a point in time or a saved
// continuation token, over a whole cache, one partition key or one
// FeedRange.
type FeedClient struct {
	cc   *CacheClient
	feed feedpb.FeedClient
}

// NewFeedClient connects as NewCacheClient does, with the same Config.
func NewFeedClient(cfg Config) (*FeedClient, error) {
	cc, err := NewCacheClient(cfg)
	if err != nil {
		return nil, err
	}
	return &FeedClient{cc: cc, feed: feedpb.NewFeedClient(cc.conn)}, nil
}

// Close closes the connection.
func (c *FeedClient) Close() error { return c.cc.Close() }

// FeedRange is a range of a cache's items, as the Cosmos SDKs' FeedRange:
// one partition's range of effective partition keys from GetFeedRanges, or
// any range or partition key built from its JSON form.
type FeedRange struct {
	// ID is the partition id for ranges from GetFeedRanges, else "".
	ID     string
	MinEPK string
	MaxEPK string
	rng    feed.Range
}

// ToJSONString serializes the range, e.g. {"Range":{"min":"","max":"FF"}},
// so that an orchestrator can hand it to another machine.
func (r FeedRange) ToJSONString() string { return r.rng.ToJSON() }

func (r FeedRange) String() string { return r.ToJSONString() }

// FeedRangeFromJSONString parses a range made by ToJSONString or by the
// .NET/Java SDKs ({"Range":{"min","max"}}, {"PK":"value"}).
func FeedRangeFromJSONString(s string) (FeedRange, error) {
	rng, err := feed.FromJSON(s)
	if err != nil {
		return FeedRange{}, invalidArgument("%s", strings.TrimPrefix(err.Error(), "feed: "))
	}
	return rangeOf(rng), nil
}

// FeedRangeForPartitionKey is the range of one partition key (item key).
func FeedRangeForPartitionKey(key string) (FeedRange, error) {
	rng, err := feed.PartitionKey(key)
	if err != nil {
		return FeedRange{}, invalidArgument("%s", strings.TrimPrefix(err.Error(), "feed: "))
	}
	return rangeOf(rng), nil
}

func rangeOf(rng feed.Range) FeedRange {
	r := FeedRange{rng: rng}
	if _, ok := rng.IsPartitionKey(); !ok {
		r.MinEPK, r.MaxEPK = rng.Bounds()
	}
	return r
}

// GetFeedRanges returns one FeedRange per partition of the cache.
func (c *FeedClient) GetFeedRanges(ctx context.Context, cacheName string) ([]FeedRange, error) {
	if err := prepareCacheName(cacheName, true); err != nil {
		return nil, err
	}
	ctx, cancel := c.cc.callContext(ctx, cacheName)
	defer cancel()
	resp, err := c.feed.GetFeedRanges(ctx, &feedpb.GetFeedRangesRequest{})
	if err != nil {
		return nil, convertError(err)
	}
	out := make([]FeedRange, 0, len(resp.Ranges))
	for _, r := range resp.Ranges {
		fr, err := FeedRangeFromJSONString(r.Json)
		if err != nil {
			return nil, unexpected("GetFeedRanges", r)
		}
		fr.ID = r.Id
		out = append(out, fr)
	}
	return out, nil
}

// ChangeFeedMode selects what a feed returns.
type ChangeFeedMode int

const (
	// LatestVersion returns the current version of each changed item, once
	// per read however often it changed; deletes do not show. Its
	// continuation tokens never expire while the cache lives.
	LatestVersion ChangeFeedMode = iota
	// AllVersionsAndDeletes returns every change, with deletes (including
	// TTL expiries), previous images and metadata. It starts from Now or a
	// continuation, and its tokens are valid within the server's retention.
	AllVersionsAndDeletes
)

func (m ChangeFeedMode) String() string {
	if m == AllVersionsAndDeletes {
		return "AllVersionsAndDeletes"
	}
	return "LatestVersion"
}

// StartFrom is where a new iterator starts; see StartFromBeginning,
// StartFromNow, StartFromTime and StartFromContinuation.
type StartFrom struct {
	kind  int
	at    time.Time
	token string
}

const (
	startNow = iota
	startBeginning
	startTime
	startContinuation
)

// StartFromBeginning reads every change still in the feed.
func StartFromBeginning() StartFrom { return StartFrom{kind: startBeginning} }

// StartFromNow reads the changes made from the first ReadNext on.
func StartFromNow() StartFrom { return StartFrom{kind: startNow} }

// StartFromTime reads the changes committed at or after t.
func StartFromTime(t time.Time) StartFrom { return StartFrom{kind: startTime, at: t} }

// StartFromContinuation resumes from a token of an earlier response. It
// wins over any other start, and it carries its range and mode.
func StartFromContinuation(token string) StartFrom {
	return StartFrom{kind: startContinuation, token: token}
}

// FeedOptions are the optional settings of an iterator.
type FeedOptions struct {
	// Range limits the feed to a FeedRange (nil: the whole cache).
	Range *FeedRange
	// PageSizeHint bounds the items per page (0: the server's default).
	// Changes of one batch are never split, so a page may hold more.
	PageSizeHint int
}

// FeedIterator reads a change feed page by page. It is not safe for
// concurrent use.
type FeedIterator struct {
	c     *FeedClient
	cache string
	req   *feedpb.ReadFeedRequest
	err   error
}

// NewFeedIterator returns an iterator over the changes of cacheName.
func (c *FeedClient) NewFeedIterator(cacheName string, start StartFrom, mode ChangeFeedMode, opts *FeedOptions) *FeedIterator {
	it := &FeedIterator{c: c, cache: cacheName, req: &feedpb.ReadFeedRequest{}}
	if err := prepareCacheName(cacheName, true); err != nil {
		it.err = err
		return it
	}
	switch start.kind {
	case startBeginning:
		it.req.Start = &feedpb.ReadFeedRequest_Beginning{Beginning: &feedpb.Beginning{}}
	case startTime:
		it.req.Start = &feedpb.ReadFeedRequest_PointInTimeMs{PointInTimeMs: start.at.UnixMilli()}
	case startContinuation:
		if start.token == "" {
			it.err = invalidArgument("continuation token must not be empty")
		}
		it.req.Start = &feedpb.ReadFeedRequest_Continuation{Continuation: start.token}
	default:
		it.req.Start = &feedpb.ReadFeedRequest_Now{Now: &feedpb.Now{}}
	}
	switch {
	case start.kind == startContinuation:
		// The token's mode and range, unless asked otherwise.
		if mode == AllVersionsAndDeletes {
			it.req.Mode = feedpb.Mode_MODE_ALL_VERSIONS_AND_DELETES
		}
	case mode == AllVersionsAndDeletes:
		it.req.Mode = feedpb.Mode_MODE_ALL_VERSIONS_AND_DELETES
	default:
		it.req.Mode = feedpb.Mode_MODE_LATEST_VERSION
	}
	if opts != nil {
		if opts.PageSizeHint < 0 {
			it.err = invalidArgument("page size hint must not be negative, got %d", opts.PageSizeHint)
		}
		it.req.PageSizeHint = uint32(min(opts.PageSizeHint, 1<<20))
		if opts.Range != nil {
			if pk, ok := opts.Range.rng.IsPartitionKey(); ok {
				it.req.PartitionKey = pk // a key-scoped grant can authorize it
			} else {
				it.req.RangeJson = opts.Range.ToJSONString()
			}
		}
	}
	return it
}

// HasMoreResults is always true: the change feed never ends. Stop on
// NotModified, or wait and read again.
func (it *FeedIterator) HasMoreResults() bool { return true }

// ReadNext reads the next page: changes, or a NotModified response when
// there is nothing new. Both carry the continuation token to resume from.
func (it *FeedIterator) ReadNext(ctx context.Context) (*FeedResponse, error) {
	if it.err != nil {
		return nil, it.err
	}
	ctx, cancel := it.c.cc.callContext(ctx, it.cache)
	defer cancel()
	resp, err := it.c.feed.ReadFeed(ctx, it.req)
	if err != nil {
		return nil, convertError(err)
	}
	return it.advance(resp), nil
}

// advance moves the iterator past resp.
func (it *FeedIterator) advance(resp *feedpb.ReadFeedResponse) *FeedResponse {
	it.req.Start = &feedpb.ReadFeedRequest_Continuation{Continuation: resp.Continuation}
	it.req.RangeJson = "" // carried by the token; a partition key stays for authorization
	return newFeedResponse(resp)
}

// Tail streams pages to fn as changes arrive (server push instead of
// polling) until ctx ends or fn returns an error, which Tail returns. A
// NotModified page is passed each time the reader catches up. The iterator
// then continues from the last page passed to fn.
func (it *FeedIterator) Tail(ctx context.Context, fn func(*FeedResponse) error) error {
	if it.err != nil {
		return it.err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// No default timeout: the stream runs until ctx ends.
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", it.c.cc.token, "cache", it.cache)
	stream, err := it.c.feed.TailFeed(ctx, it.req)
	if err != nil {
		return convertError(err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return convertError(err)
		}
		if err := fn(it.advance(resp)); err != nil {
			return err
		}
	}
}

// FeedResponse is one page of a change feed.
type FeedResponse struct {
	Items        []ChangeFeedItem
	notModified  bool
	continuation string
}

func newFeedResponse(resp *feedpb.ReadFeedResponse) *FeedResponse {
	out := &FeedResponse{notModified: resp.NotModified, continuation: resp.Continuation}
	if len(resp.Changes) > 0 {
		out.Items = make([]ChangeFeedItem, len(resp.Changes))
		for i, c := range resp.Changes {
			out.Items[i] = changeFeedItem(c)
		}
	}
	return out
}

// NotModified reports that there was nothing new (HTTP 304 in Cosmos DB).
func (r *FeedResponse) NotModified() bool { return r.notModified }

// ContinuationToken resumes a feed right after this response, with
// StartFromContinuation. It is opaque and bound to this incarnation of the
// cache: after the cache is deleted and re-created it is refused.
func (r *FeedResponse) ContinuationToken() string { return r.continuation }

// Count is the number of items.
func (r *FeedResponse) Count() int { return len(r.Items) }

// OperationType is the kind of change of an item.
type OperationType string

const (
	OperationCreate  OperationType = "create"
	OperationReplace OperationType = "replace"
	OperationDelete  OperationType = "delete"
)

// ItemKind is the type of an item.
type ItemKind string

const (
	ItemScalar     ItemKind = "scalar"
	ItemDictionary ItemKind = "dictionary"
	ItemSet        ItemKind = "set"
	ItemList       ItemKind = "list"
	ItemSortedSet  ItemKind = "sorted_set"
)

// ItemVersion is the state of an item in a change. Value is set for
// scalars; a collection's content is read with the collection calls.
type ItemVersion struct {
	Kind  ItemKind
	Value []byte
}

// ValueString is Value as a string.
func (v *ItemVersion) ValueString() string { return string(v.Value) }

// ChangeFeedMetadata describes one change.
type ChangeFeedMetadata struct {
	OperationType OperationType
	LSN           uint64
	CommitTime    time.Time // millisecond precision
	// TimeToLiveExpired marks the delete of an item whose TTL ran out.
	TimeToLiveExpired bool
	// BatchEndLSN is the LSN of the last change of this change's batch (a
	// SetBatch), or 0; a batch is always in one page.
	BatchEndLSN uint64
	Partition   int
	// PreviousImageLSN is the LSN of Previous (all-versions mode).
	PreviousImageLSN uint64
}

// ChangeFeedItem is one change. In latest-version mode Current is the
// item's current version and Previous is nil; in all-versions mode a
// delete has no Current, and Previous is the version it replaced or
// deleted, when there was one.
type ChangeFeedItem struct {
	Key      []byte
	Current  *ItemVersion
	Previous *ItemVersion
	Metadata ChangeFeedMetadata
}

var kinds = map[feedpb.ItemKind]ItemKind{
	feedpb.ItemKind_ITEM_KIND_SCALAR:     ItemScalar,
	feedpb.ItemKind_ITEM_KIND_DICTIONARY: ItemDictionary,
	feedpb.ItemKind_ITEM_KIND_SET:        ItemSet,
	feedpb.ItemKind_ITEM_KIND_LIST:       ItemList,
	feedpb.ItemKind_ITEM_KIND_SORTED_SET: ItemSortedSet,
}

var ops = map[feedpb.OperationType]OperationType{
	feedpb.OperationType_OPERATION_TYPE_CREATE:  OperationCreate,
	feedpb.OperationType_OPERATION_TYPE_REPLACE: OperationReplace,
	feedpb.OperationType_OPERATION_TYPE_DELETE:  OperationDelete,
}

func version(v *feedpb.ItemImage) *ItemVersion {
	if v == nil {
		return nil
	}
	k, ok := kinds[v.Kind]
	if !ok {
		k = ItemKind(fmt.Sprintf("kind_%d", v.Kind))
	}
	return &ItemVersion{Kind: k, Value: v.Value}
}

func changeFeedItem(c *feedpb.Change) ChangeFeedItem {
	md := c.GetMetadata()
	op, ok := ops[md.GetOperationType()]
	if !ok {
		op = OperationType(fmt.Sprintf("op_%d", md.GetOperationType()))
	}
	return ChangeFeedItem{
		Key:      c.Key,
		Current:  version(c.Current),
		Previous: version(c.Previous),
		Metadata: ChangeFeedMetadata{
			OperationType:     op,
			LSN:               md.GetLsn(),
			CommitTime:        time.UnixMilli(md.GetCommitTimeMs()),
			TimeToLiveExpired: md.GetTimeToLiveExpired(),
			BatchEndLSN:       md.GetBatchEndLsn(),
			Partition:         int(md.GetPartition()),
			PreviousImageLSN:  md.GetPreviousImageLsn(),
		},
	}
}

// IsFeedRetentionError reports an all-versions position the server no
// longer retains (or from before a flush): start again from now.
func IsFeedRetentionError(err error) bool { return grpcCode(err) == codes.OutOfRange }

// IsFeedEpochError reports a continuation token of a cache that was deleted
// and re-created since.
func IsFeedEpochError(err error) bool { return grpcCode(err) == codes.FailedPrecondition }

func grpcCode(err error) codes.Code {
	var e *Error
	if errors.As(err, &e) && e.cause != nil {
		err = e.cause
	}
	if st, ok := status.FromError(err); ok {
		return st.Code()
	}
	return codes.Unknown
}
