// Package feedrpc is Setsuna's native change-feed gRPC service
// (setsuna.feed.v1.Feed): GetFeedRanges, ReadFeed and the server-streaming
// TailFeed over package feed. Like the Momento data plane, it reads the
// cache name from the "cache" request header, where the Authorizer's rules
// (internal/momento/authz_rules.go) find it.
//
// Errors map to statuses as follows: an unknown cache is NOT_FOUND; a
// malformed continuation or range, a bad mode or an all-versions read from
// Beginning or a point in time is INVALID_ARGUMENT; a continuation of a
// deleted-and-recreated cache (another epoch) is FAILED_PRECONDITION; an
// all-versions position older than the retained log (or before a flush) is
// OUT_OF_RANGE: the reader must start again from Now.
package feedrpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/feedpb"
)

// PollInterval is how often TailFeed re-reads when the engine cannot
// notify it of changes (store.FeedNotifier).
const PollInterval = 50 * time.Millisecond

// Register adds the Feed service over st to gs.
func Register(gs *grpc.Server, st store.Store, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	pb.RegisterFeedServer(gs, &server{st: st, log: log})
}

type server struct {
	pb.UnimplementedFeedServer
	st  store.Store
	log *slog.Logger
}

func cacheName(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get("cache")
	if len(v) == 0 || v[0] == "" {
		return "", status.Error(codes.InvalidArgument, "missing cache name: set the \"cache\" request header")
	}
	if !store.ValidCacheName(v[0]) {
		return "", status.Error(codes.InvalidArgument, "invalid cache name")
	}
	return v[0], nil
}

func (s *server) GetFeedRanges(ctx context.Context, _ *pb.GetFeedRangesRequest) (*pb.GetFeedRangesResponse, error) {
	cache, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.st.CacheInfo(ctx, cache)
	if err != nil {
		return nil, s.toStatus("get feed ranges", err)
	}
	rs, err := s.st.FeedRanges(ctx, cache)
	if err != nil {
		return nil, s.toStatus("get feed ranges", err)
	}
	out := &pb.GetFeedRangesResponse{Epoch: info.Epoch}
	for i, r := range feed.Ranges(rs) {
		out.Ranges = append(out.Ranges, &pb.FeedRange{Id: rs[i].ID, MinEpk: rs[i].MinEPK, MaxEpk: rs[i].MaxEPK, Json: r.ToJSON()})
	}
	return out, nil
}

// request converts a ReadFeed request.
func request(ctx context.Context, req *pb.ReadFeedRequest) (feed.Request, error) {
	cache, err := cacheName(ctx)
	if err != nil {
		return feed.Request{}, err
	}
	r := feed.Request{Cache: cache, PageSizeHint: int(min(req.PageSizeHint, 1<<20))}
	switch st := req.Start.(type) {
	case nil, *pb.ReadFeedRequest_Now:
		r.Start = feed.StartNow
	case *pb.ReadFeedRequest_Beginning:
		r.Start = feed.StartBeginning
	case *pb.ReadFeedRequest_PointInTimeMs:
		r.Start, r.StartTime = feed.StartTime, time.UnixMilli(st.PointInTimeMs)
	case *pb.ReadFeedRequest_Continuation:
		if st.Continuation == "" {
			return feed.Request{}, status.Error(codes.InvalidArgument, "empty continuation")
		}
		r.Continuation = st.Continuation
	}
	switch {
	case req.RangeJson != "" && req.PartitionKey != "":
		return feed.Request{}, status.Error(codes.InvalidArgument, "set range_json or partition_key, not both")
	case req.RangeJson != "":
		if r.Range, err = feed.FromJSON(req.RangeJson); err != nil {
			return feed.Request{}, status.Error(codes.InvalidArgument, public(err))
		}
	case req.PartitionKey != "":
		if r.Range, err = feed.PartitionKey(req.PartitionKey); err != nil {
			return feed.Request{}, status.Error(codes.InvalidArgument, public(err))
		}
	}
	switch req.Mode {
	case pb.Mode_MODE_UNSPECIFIED:
		r.Mode = feed.ModeDefault
	case pb.Mode_MODE_LATEST_VERSION:
		r.Mode = feed.ModeLatestVersion
	case pb.Mode_MODE_ALL_VERSIONS_AND_DELETES:
		r.Mode = feed.ModeAllVersions
	default:
		return feed.Request{}, status.Errorf(codes.InvalidArgument, "unknown mode %d", req.Mode)
	}
	return r, nil
}

func (s *server) ReadFeed(ctx context.Context, req *pb.ReadFeedRequest) (*pb.ReadFeedResponse, error) {
	r, err := request(ctx, req)
	if err != nil {
		return nil, err
	}
	page, err := feed.Read(ctx, s.st, r)
	if err != nil {
		return nil, s.toStatus("read the feed", err)
	}
	return response(page), nil
}

// TailFeed reads like ReadFeed in a loop: it sends every page with
// changes, and a NotModified page each time it catches up, then waits for
// the next change.
func (s *server) TailFeed(req *pb.ReadFeedRequest, stream grpc.ServerStreamingServer[pb.ReadFeedResponse]) error {
	ctx := stream.Context()
	r, err := request(ctx, req)
	if err != nil {
		return err
	}
	notifier, _ := s.st.(store.FeedNotifier)
	caughtUp := false
	for {
		var changed <-chan struct{}
		if notifier != nil {
			if changed, err = notifier.FeedNotify(ctx, r.Cache); err != nil {
				return s.toStatus("tail the feed", err)
			}
		}
		page, err := feed.Read(ctx, s.st, r)
		if err != nil {
			return s.toStatus("tail the feed", err)
		}
		r.Continuation = page.Continuation
		if !page.NotModified || !caughtUp {
			if err := stream.Send(response(page)); err != nil {
				return err
			}
		}
		caughtUp = page.NotModified
		if !caughtUp {
			continue
		}
		wait := time.NewTimer(PollInterval)
		if changed != nil {
			wait.Reset(time.Minute) // a safety net only
		}
		select {
		case <-ctx.Done():
			wait.Stop()
			return s.toStatus("tail the feed", ctx.Err())
		case <-changed:
		case <-wait.C:
		}
		wait.Stop()
	}
}

func response(page feed.Page) *pb.ReadFeedResponse {
	out := &pb.ReadFeedResponse{Continuation: page.Continuation, NotModified: page.NotModified}
	if len(page.Changes) > 0 {
		out.Changes = make([]*pb.Change, len(page.Changes))
		for i := range page.Changes {
			out.Changes[i] = change(&page.Changes[i], page.Mode, page.Partition)
		}
	}
	return out
}

func change(c *store.Change, mode feed.Mode, partition int) *pb.Change {
	out := &pb.Change{
		Key: c.Key,
		Metadata: &pb.ChangeMetadata{
			OperationType:     pb.OperationType(c.Op),
			Lsn:               c.LSN,
			CommitTimeMs:      c.CommitTime.UnixMilli(),
			TimeToLiveExpired: c.TTLExpired,
			BatchEndLsn:       c.BatchEnd,
			Partition:         uint32(partition),
		},
	}
	if c.Op != store.FeedDelete {
		out.Current = &pb.ItemImage{Kind: pb.ItemKind(c.Kind), Value: c.Value}
	}
	if mode == feed.ModeAllVersions && c.HasPrevious {
		out.Previous = &pb.ItemImage{Kind: pb.ItemKind(c.PreviousKind), Value: c.Previous}
		out.Metadata.PreviousImageLsn = c.PreviousLSN
	}
	return out
}

func (s *server) toStatus(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrCacheNotFound):
		return status.Error(codes.NotFound, "cache not found")
	case errors.Is(err, store.ErrFeedEpoch):
		return status.Error(codes.FailedPrecondition, public(err))
	case errors.Is(err, store.ErrFeedRetention):
		return status.Error(codes.OutOfRange, public(err)+"; start again from now")
	case errors.Is(err, store.ErrInvalidArgument), errors.Is(err, store.ErrInvalidName):
		return status.Error(codes.InvalidArgument, public(err))
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "request deadline exceeded")
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	s.log.Error("internal error", "op", op, "err", err)
	return status.Error(codes.Internal, fmt.Sprintf("cannot %s: internal error", op))
}

// public strips package prefixes from an error message.
func public(err error) string {
	parts := strings.Split(err.Error(), ": ")
	out := parts[:0]
	for _, p := range parts {
		switch p {
		case "memstore", "store", "feed":
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}
