package momento

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/broker"
	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// errTrailerSubscriptions is the "err" trailer of a refused subscription.
const errTrailerSubscriptions = "topic_subscriptions_limit_exceeded"

// DefaultHeartbeatInterval is how often an idle subscription gets a
// heartbeat (the SDKs treat any message as liveness).
const DefaultHeartbeatInterval = 5 * time.Second

// pollBatch is how many events a subscription takes from the broker at once.
const pollBatch = 64

// TopicOptions configure the topics surface.
type TopicOptions struct {
	// HeartbeatInterval between heartbeats of an idle stream; each one also
	// re-checks that the cache still exists. Default 5s.
	HeartbeatInterval time.Duration
	// MaxPayloadBytes and MaxSubscriptions are the broker's limits, which
	// ListCaches advertises to the SDKs as each cache's topic limits.
	MaxPayloadBytes  int
	MaxSubscriptions int
}

// topics is the Service's topics state.
type topics struct {
	broker    broker.Broker // nil: Pubsub answers UNIMPLEMENTED
	topicOpts TopicOptions
}

// EnableTopics serves cache_client.pubsub.Pubsub over b. Without it the
// Pubsub RPCs answer UNIMPLEMENTED. Call it before Register.
func (s *Service) EnableTopics(b broker.Broker, o TopicOptions) {
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	s.tp.broker, s.tp.topicOpts = b, o
}

// pubsubServer implements cache_client.pubsub.Pubsub.
type pubsubServer struct {
	pb.UnimplementedPubsubServer
	s *Service
}

var _ pb.PubsubServer = (*pubsubServer)(nil)

// registerPubsub is called by Register.
func (s *Service) registerPubsub(gs *grpc.Server) {
	pb.RegisterPubsubServer(gs, &pubsubServer{s: s})
}

// deleteCacheTopics fails the open subscriptions of a deleted cache.
func (s *Service) deleteCacheTopics(name string) {
	if s.tp.broker != nil {
		s.tp.broker.DeleteCache(name)
	}
}

func (p *pubsubServer) Publish(ctx context.Context, req *pb.PublishRequest) (*pb.Empty, error) {
	b := p.s.tp.broker
	if b == nil {
		return nil, status.Error(codes.Unimplemented, "topics are not enabled on this server")
	}
	if err := checkTopicRequest(req.CacheName, req.Topic); err != nil {
		return nil, err
	}
	var v broker.Value
	switch k := req.GetValue().GetKind().(type) {
	case *pb.TopicValue_Text:
		v = broker.Value{Data: []byte(k.Text)}
	case *pb.TopicValue_Binary:
		v = broker.Value{Data: k.Binary, Binary: true}
	default:
		return nil, invalidArg("topic value must be text or binary")
	}
	info, err := p.s.store.CacheInfo(ctx, req.CacheName)
	if err != nil {
		return nil, toStatus(ctx, p.s.log, "publish", err)
	}
	if _, _, err := b.Publish(ctx, broker.Topic{Cache: req.CacheName, Epoch: info.Epoch, Name: req.Topic}, v, publisherID(ctx)); err != nil {
		return nil, p.s.topicStatus(ctx, "publish", err)
	}
	return &pb.Empty{}, nil
}

// publisherID is the publishing token's token_id (Momento's "authenticated
// id from the publisher's disposable token"); empty in dev mode.
func publisherID(ctx context.Context) string {
	if pr := auth.FromContext(ctx); pr != nil {
		return pr.TokenID
	}
	return ""
}

func checkTopicRequest(cache, topic string) error {
	if err := validName(cache); err != nil {
		return err
	}
	if !broker.ValidTopicName(topic) {
		return invalidArg("invalid topic name %q: it must be 1-%d bytes of UTF-8 without control characters", truncate(topic), broker.MaxTopicNameLen)
	}
	return nil
}

// topicStatus maps broker errors.
func (s *Service) topicStatus(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, broker.ErrCacheDeleted):
		return status.Error(codes.NotFound, "cache not found")
	case errors.Is(err, broker.ErrClosed):
		return status.Error(codes.Unavailable, "server is shutting down")
	case errors.Is(err, broker.ErrInvalidTopic), errors.Is(err, broker.ErrEmptyPayload):
		return status.Error(codes.InvalidArgument, public(err))
	case errors.Is(err, broker.ErrPayloadTooLarge):
		// Momento documents a hard 4 KB payload limit; RESOURCE_EXHAUSTED with
		// the element-size keyword maps to "Element size limit exceeded" in
		// the Node SDK and the trailer to LimitExceededError in Go.
		return withErrTrailer(ctx, errTrailerElementSize, codes.ResourceExhausted, "topic message element size limit exceeded: "+publicBroker(err))
	case errors.Is(err, broker.ErrTooManySubscriptions):
		return withErrTrailer(ctx, errTrailerSubscriptions, codes.ResourceExhausted, "topic subscribers limit exceeded: "+publicBroker(err))
	}
	return toStatus(ctx, s.log, op, err)
}

func publicBroker(err error) string {
	msg := public(err)
	const prefix = "broker: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

// sharedFrames: a message's encoded SubscriptionItem is built once and sent
// as the same grpc.PreparedMsg on every stream. That is only valid while no
// stream compresses its responses, i.e. while no compressor is registered
// (the server imports none); otherwise each stream encodes for itself.
var sharedFrames = encoding.GetCompressor("gzip") == nil

var heartbeat = &pb.SubscriptionItem{Kind: &pb.SubscriptionItem_Heartbeat{Heartbeat: &pb.Heartbeat{}}}

func itemOf(m *broker.Message) *pb.SubscriptionItem {
	tv := &pb.TopicValue{}
	if m.Value.Binary {
		tv.Kind = &pb.TopicValue_Binary{Binary: m.Value.Data}
	} else {
		tv.Kind = &pb.TopicValue_Text{Text: string(m.Value.Data)}
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
	b := p.s.tp.broker
	if b == nil {
		return status.Error(codes.Unimplemented, "topics are not enabled on this server")
	}
	ctx := stream.Context()
	if err := checkTopicRequest(req.CacheName, req.Topic); err != nil {
		return err
	}
	info, err := p.s.store.CacheInfo(ctx, req.CacheName)
	if err != nil {
		return toStatus(ctx, p.s.log, "subscribe", err)
	}
	topic := broker.Topic{Cache: req.CacheName, Epoch: info.Epoch, Name: req.Topic}
	sub, err := b.Subscribe(ctx, topic, broker.Position{Seq: req.ResumeAtTopicSequenceNumber, Page: req.SequencePage})
	if err != nil {
		return p.s.topicStatus(ctx, "subscribe", err)
	}
	defer sub.Close()
	// A delete that ran between CacheInfo and Subscribe has not seen this
	// subscription: check again now that it is registered.
	if err := p.checkEpoch(ctx, topic); err != nil {
		return err
	}
	if err := stream.Send(heartbeat); err != nil {
		return err
	}

	w := subWriter{stream: stream}
	tick := time.NewTicker(p.s.tp.topicOpts.HeartbeatInterval)
	defer tick.Stop()
	buf := make([]broker.Event, 0, pollBatch)
	sent := false
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(buf[:0])
		if err != nil {
			return p.s.topicStatus(ctx, "subscribe", err)
		}
		if len(evs) > 0 {
			for i := range evs {
				if err := w.send(&evs[i]); err != nil {
					return err
				}
				evs[i] = broker.Event{}
			}
			sent = true
			continue
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return status.FromContextError(context.Cause(ctx)).Err()
		case <-tick.C:
			if err := p.checkEpoch(ctx, topic); err != nil {
				return err
			}
			if !sent {
				if err := stream.Send(heartbeat); err != nil {
					return err
				}
			}
			sent = false
		}
	}
}

// checkEpoch fails with NOT_FOUND when the cache of t was deleted (or
// re-created) since the subscription started.
func (p *pubsubServer) checkEpoch(ctx context.Context, t broker.Topic) error {
	info, err := p.s.store.CacheInfo(ctx, t.Cache)
	if errors.Is(err, store.ErrCacheNotFound) || (err == nil && info.Epoch != t.Epoch) {
		return status.Error(codes.NotFound, "cache not found")
	}
	if err != nil {
		return toStatus(ctx, p.s.log, "subscribe", err)
	}
	return nil
}

// subWriter sends events on one stream.
type subWriter struct {
	stream pb.Pubsub_SubscribeServer
}

func (w *subWriter) send(ev *broker.Event) error {
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
func (w *subWriter) encode(m *broker.Message) any {
	pm := &grpc.PreparedMsg{}
	if err := pm.Encode(w.stream, itemOf(m)); err != nil {
		return err
	}
	return pm
}
