// Package feedrpc is Setsuna's native change-feed gRPC surface
// (setsuna.feed.v1.Feed): GetFeedRanges, ReadFeed and the server-streaming
// TailFeed over the feed service. Like the Momento data plane, it reads the
// cache name from the "cache" request header. Callers are authenticated by
// the listener; the feed service authorizes.
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
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	pb "github.com/setsuna-io/setsuna/proto/feedpb"
)

// Register adds the Feed service over svc to gs.
func Register(gs *grpc.Server, svc *feed.Service, log *slog.Logger) {
	pb.RegisterFeedServer(gs, &server{svc: svc, rep: errs.NewReporter(log)})
}

type server struct {
	pb.UnimplementedFeedServer
	svc *feed.Service
	rep *errs.Reporter
}

func cacheName(ctx context.Context) (string, error) {
	name := grpcx.Header(ctx, "cache")
	if name == "" {
		return "", errs.ErrInvalidArgument.Msgf("missing cache name: set the \"cache\" request header")
	}
	return name, nil
}

func (s *server) GetFeedRanges(ctx context.Context, _ *pb.GetFeedRangesRequest) (*pb.GetFeedRangesResponse, error) {
	cache, err := cacheName(ctx)
	if err != nil {
		return nil, s.toStatus("get feed ranges", err)
	}
	info, rs, err := s.svc.Ranges(ctx, cache)
	if err != nil {
		return nil, s.toStatus("get feed ranges", err)
	}
	out := &pb.GetFeedRangesResponse{Epoch: info.Epoch}
	for _, r := range rs {
		out.Ranges = append(out.Ranges, &pb.FeedRange{Id: r.ID, MinEpk: r.MinEPK, MaxEpk: r.MaxEPK, Json: r.Range.ToJSON()})
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
			return feed.Request{}, errs.ErrInvalidArgument.Msgf("empty continuation")
		}
		r.Continuation = st.Continuation
	}
	switch {
	case req.RangeJson != "" && req.PartitionKey != "":
		return feed.Request{}, errs.ErrInvalidArgument.Msgf("set range_json or partition_key, not both")
	case req.RangeJson != "":
		if r.Range, err = feed.FromJSON(req.RangeJson); err != nil {
			return feed.Request{}, err
		}
	case req.PartitionKey != "":
		if r.Range, err = feed.PartitionKey(req.PartitionKey); err != nil {
			return feed.Request{}, err
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
		return feed.Request{}, errs.ErrInvalidArgument.Msgf("unknown mode %d", req.Mode)
	}
	return r, nil
}

func (s *server) ReadFeed(ctx context.Context, req *pb.ReadFeedRequest) (*pb.ReadFeedResponse, error) {
	r, err := request(ctx, req)
	if err != nil {
		return nil, s.toStatus("read the feed", err)
	}
	page, err := s.svc.Read(ctx, r)
	if err != nil {
		return nil, s.toStatus("read the feed", err)
	}
	return response(page), nil
}

// TailFeed streams what the feed service's Tail yields: every page with
// changes, and a NotModified page each time it catches up.
func (s *server) TailFeed(req *pb.ReadFeedRequest, stream grpc.ServerStreamingServer[pb.ReadFeedResponse]) error {
	ctx := stream.Context()
	r, err := request(ctx, req)
	if err != nil {
		return s.toStatus("tail the feed", err)
	}
	var sendErr error
	err = s.svc.Tail(ctx, r, func(page feed.Page) error {
		sendErr = stream.Send(response(page))
		return sendErr
	})
	if sendErr != nil {
		return sendErr // the stream is gone; its own error says why
	}
	return s.toStatus("tail the feed", err)
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

func change(c *feed.Change, mode feed.Mode, partition int) *pb.Change {
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
	if c.Op != feed.OpDelete {
		out.Current = &pb.ItemImage{Kind: pb.ItemKind(c.Kind), Value: c.Value}
	}
	if mode == feed.ModeAllVersions && c.HasPrevious {
		out.Previous = &pb.ItemImage{Kind: pb.ItemKind(c.PreviousKind), Value: c.Previous}
		out.Metadata.PreviousImageLsn = c.PreviousLSN
	}
	return out
}

// toStatus maps errors: an all-versions position out of retention adds
// what the reader must do.
func (s *server) toStatus(op string, err error) error {
	if err == nil {
		return nil
	}
	e := s.rep.Public(op, err)
	if e.Reason == errs.ErrFeedRetention.Reason {
		return status.Error(codes.OutOfRange, e.Msg+"; start again from now")
	}
	return grpcx.Status(e)
}
