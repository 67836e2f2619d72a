// Package pubsubrpc is the publish API's gRPC surface (setsuna.pubsub.v1):
// Publish answered with a status, Subscribe with resume and snapshots, and
// the server list, over the publish service. Its methods authenticate
// themselves with auth.Entitlement (a Setsuna token or the basic
// entitlement's allow token, in the "authorization" header), so the
// listener's authenticator lists them as public.
package pubsubrpc

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	"github.com/setsuna-io/setsuna/internal/publish"
	pb "github.com/setsuna-io/setsuna/proto/pubsubpb"
)

// PublicMethods authenticate themselves (see the package doc).
var PublicMethods = []string{
	pb.PubSub_Publish_FullMethodName,
	pb.PubSub_Subscribe_FullMethodName,
	pb.PubSub_Servers_FullMethodName,
}

// DefaultHeartbeat is how often an idle subscription gets a heartbeat.
const DefaultHeartbeat = 5 * time.Second

// pollBatch is how many events a stream takes from its subscription at once.
const pollBatch = 64

// Options configure the surface.
type Options struct {
	Publish     *publish.Service
	Entitlement auth.Entitlement
	// Heartbeat: 0 is DefaultHeartbeat.
	Heartbeat time.Duration
	// Servers returns this node's id, the gRPC addresses clients may use
	// (this node's first) and its HTTP address.
	Servers func() (node string, grpcAddrs []string, httpAddr string)
	Logger  *slog.Logger
}

// Register adds the PubSub service to gs.
func Register(gs *grpc.Server, o Options) {
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	pb.RegisterPubSubServer(gs, &server{o: o, rep: errs.NewReporter(o.Logger)})
}

type server struct {
	pb.UnimplementedPubSubServer
	o   Options
	rep *errs.Reporter
}

var statuses = map[publish.Status]pb.PublishStatus{
	publish.StatusOK:           pb.PublishStatus_PUBLISH_STATUS_OK,
	publish.StatusFailed:       pb.PublishStatus_PUBLISH_STATUS_FAILED,
	publish.StatusDenied:       pb.PublishStatus_PUBLISH_STATUS_DENIED,
	publish.StatusNoSubscriber: pb.PublishStatus_PUBLISH_STATUS_NO_SUBSCRIBER,
}

func (s *server) authenticate(ctx context.Context) (context.Context, error) {
	p, err := s.o.Entitlement.Principal(grpcx.Header(ctx, "authorization"))
	if err != nil {
		return ctx, err
	}
	return auth.NewContext(ctx, p), nil
}

func (s *server) Publish(ctx context.Context, req *pb.PublishRequest) (*pb.PublishResponse, error) {
	var r publish.Result
	actx, err := s.authenticate(ctx)
	if err != nil {
		// Not entitled: a status like any other refusal.
		e := errs.As(err)
		if e == nil {
			e = errs.ErrUnauthenticated
		}
		r = publish.Result{Status: publish.StatusDenied, Err: e, Closure: req.Closure}
	} else {
		r = s.o.Publish.Publish(actx, publish.Message{
			Subject:        req.Subject,
			Content:        req.Content,
			Binary:         req.Binary,
			Closure:        req.Closure,
			Retained:       req.Retained,
			RetainFor:      time.Duration(min(req.RetainMs, uint64(publish.MaxRetainedTTL/time.Millisecond)+1)) * time.Millisecond,
			IdempotencyKey: req.IdempotencyKey,
		})
	}
	out := &pb.PublishResponse{Status: statuses[r.Status], Closure: r.Closure, Seq: r.Seq, Epoch: r.Epoch, Duplicate: r.Duplicate}
	if r.Err != nil {
		out.Reason, out.Message = r.Err.Reason, r.Err.Msg
	}
	return out, nil
}

func (s *server) Servers(context.Context, *pb.ServersRequest) (*pb.ServersResponse, error) {
	if s.o.Servers == nil {
		return &pb.ServersResponse{}, nil
	}
	node, addrs, httpAddr := s.o.Servers()
	return &pb.ServersResponse{NodeId: node, Servers: addrs, Http: httpAddr}, nil
}

func (s *server) status(op string, err error) error {
	return grpcx.Status(s.rep.Public(op, err))
}

var heartbeat = &pb.SubscribeEvent{Kind: &pb.SubscribeEvent_Heartbeat{Heartbeat: &pb.Heartbeat{}}}

// Subscribe streams one subject; see the proto.
func (s *server) Subscribe(req *pb.SubscribeRequest, stream pb.PubSub_SubscribeServer) error {
	ctx, err := s.authenticate(stream.Context())
	if err != nil {
		return s.status("subscribe", err)
	}
	ctx, stop := s.o.Entitlement.Watch(ctx, auth.FromContext(ctx))
	defer stop()
	sub, err := s.o.Publish.Subscribe(ctx, req.Subject, req.Epoch, req.Seq)
	if err != nil {
		return s.status("subscribe", err)
	}
	defer sub.Close()
	st := sub.Start
	if err := stream.Send(&pb.SubscribeEvent{Kind: &pb.SubscribeEvent_Subscribed{Subscribed: &pb.Subscribed{
		Epoch: st.Epoch, Seq: st.Seq, Resumed: st.Resumed, InSync: st.InSync,
	}}}); err != nil {
		return err
	}
	tick := time.NewTicker(s.o.Heartbeat)
	defer tick.Stop()
	buf := make([]publish.Event, 0, pollBatch)
	sent := false
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, buf[:0])
		for i := range evs {
			if err := stream.Send(eventOf(sub.Subject, &evs[i])); err != nil {
				return err
			}
			evs[i] = publish.Event{}
			sent = true
		}
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				if e := errs.As(cause); e != nil && e.Code == errs.CodeUnauthenticated {
					return grpcx.Status(e)
				}
				return status.FromContextError(cause).Err()
			}
			return s.status("subscribe", err)
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ready:
		case <-ctx.Done():
			if e := errs.As(context.Cause(ctx)); e != nil && e.Code == errs.CodeUnauthenticated {
				return grpcx.Status(e)
			}
			return status.Error(codes.Canceled, "subscription ended")
		case <-tick.C:
			if !sent {
				if err := stream.Send(heartbeat); err != nil {
					return err
				}
			}
			sent = false
		}
	}
}

func eventOf(subject string, ev *publish.Event) *pb.SubscribeEvent {
	if ev.Msg == nil {
		return &pb.SubscribeEvent{Kind: &pb.SubscribeEvent_Discontinuity{Discontinuity: &pb.Discontinuity{
			LastSeq: ev.Gap.Last, NewSeq: ev.Gap.New, Epoch: ev.Gap.Page,
		}}}
	}
	m := ev.Msg
	return &pb.SubscribeEvent{Kind: &pb.SubscribeEvent_Message{Message: &pb.Message{
		Subject: subject, Content: m.Value.Data, Binary: m.Value.Binary, Seq: m.Seq, Epoch: m.Epoch,
		Snapshot: m.Snapshot, PublisherId: m.PublisherID,
	}}}
}
