package momento

import (
	"context"
	"time"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/topics"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// pollBatch is how many events a subscription takes from the hub at once.
const pollBatch = 64

// pubsubServer implements cache_client.pubsub.Pubsub.
type pubsubServer struct {
	pb.UnimplementedPubsubServer
	s *Service
}

var _ pb.PubsubServer = (*pubsubServer)(nil)

var errNoTopics = status.Error(codes.Unimplemented, "topics are not enabled on this server")

func (p *pubsubServer) Publish(ctx context.Context, req *pb.PublishRequest) (*pb.Empty, error) {
	if p.s.topics == nil {
		return nil, errNoTopics
	}
	var v topics.Value
	switch k := req.GetValue().GetKind().(type) {
	case *pb.TopicValue_Text:
		// A view, not a copy: the topic log copies what it keeps, and
		// nothing writes to a published value.
		v = topics.Value{Data: unsafe.Slice(unsafe.StringData(k.Text), len(k.Text))}
	case *pb.TopicValue_Binary:
		v = topics.Value{Data: k.Binary, Binary: true}
	default:
		return nil, invalidArg("topic value must be text or binary")
	}
	if _, _, err := p.s.topics.Publish(ctx, req.CacheName, req.Topic, v); err != nil {
		return nil, p.s.status(ctx, "publish", err)
	}
	return &pb.Empty{}, nil
}

// sharedFrames: a message's encoded SubscriptionItem is built once and sent
// as the same grpc.PreparedMsg on every stream. That is only valid while no
// stream compresses its responses, i.e. while no compressor is registered
// (the server imports none); otherwise each stream encodes for itself.
var sharedFrames = encoding.GetCompressor("gzip") == nil

var heartbeat = &pb.SubscriptionItem{Kind: &pb.SubscriptionItem_Heartbeat{Heartbeat: &pb.Heartbeat{}}}

func itemOf(m *topics.Message) *pb.SubscriptionItem {
	tv := &pb.TopicValue{}
	if m.Value.Binary {
		tv.Kind = &pb.TopicValue_Binary{Binary: m.Value.Data}
	} else {
		// The log's bytes are immutable: the text shares them.
		tv.Kind = &pb.TopicValue_Text{Text: unsafe.String(unsafe.SliceData(m.Value.Data), len(m.Value.Data))}
	}
	return &pb.SubscriptionItem{Kind: &pb.SubscriptionItem_Item{Item: &pb.TopicItem{
		TopicSequenceNumber: m.Seq,
		SequencePage:        m.Page,
		PublisherId:         m.PublisherID,
		Value:               tv,
	}}}
}

// Subscribe streams a topic: a heartbeat first, then items, discontinuities
// and periodic heartbeats. It never ends with OK (the Node SDK would
// resubscribe at once): it ends when the client cancels, with NOT_FOUND when
// the cache is deleted, or UNAVAILABLE on shutdown.
func (p *pubsubServer) Subscribe(req *pb.SubscriptionRequest, stream pb.Pubsub_SubscribeServer) error {
	if p.s.topics == nil {
		return errNoTopics
	}
	ctx := stream.Context()
	sub, err := p.s.topics.Subscribe(ctx, req.CacheName, req.Topic, topics.Position{Seq: req.ResumeAtTopicSequenceNumber, Page: req.SequencePage})
	if err != nil {
		return p.s.status(ctx, "subscribe", err)
	}
	defer sub.Close()
	if err := stream.Send(heartbeat); err != nil {
		return err
	}

	w := subWriter{stream: stream}
	tick := time.NewTicker(p.s.heartbeat)
	defer tick.Stop()
	buf := make([]topics.Event, 0, pollBatch)
	sent := false
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, buf[:0])
		if err != nil {
			return p.s.status(ctx, "subscribe", err)
		}
		if len(evs) > 0 {
			for i := range evs {
				if err := w.send(&evs[i]); err != nil {
					return err
				}
				evs[i] = topics.Event{}
			}
			sent = true
			continue
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return status.FromContextError(context.Cause(ctx)).Err()
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

// subWriter sends events on one stream.
type subWriter struct {
	stream pb.Pubsub_SubscribeServer
}

func (w *subWriter) send(ev *topics.Event) error {
	if ev.Msg == nil {
		return w.stream.Send(&pb.SubscriptionItem{Kind: &pb.SubscriptionItem_Discontinuity{Discontinuity: &pb.Discontinuity{
			LastTopicSequence: ev.Gap.Last,
			NewTopicSequence:  ev.Gap.New,
			NewSequencePage:   ev.Gap.Page,
		}}})
	}
	if !sharedFrames {
		return w.stream.Send(itemOf(ev.Msg))
	}
	f := ev.Msg.Frame(w.encode)
	if pm, ok := f.(*grpc.PreparedMsg); ok {
		return w.stream.SendMsg(pm)
	}
	return w.stream.Send(itemOf(ev.Msg))
}

// encode builds a message's shared frame; on failure the frame is the error
// and every stream encodes the message itself.
func (w *subWriter) encode(m *topics.Message) any {
	pm := &grpc.PreparedMsg{}
	if err := pm.Encode(w.stream, itemOf(m)); err != nil {
		return err
	}
	return pm
}
