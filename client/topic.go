package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// eventBuffer bounds the events a subscription holds for its reader; a
// reader that falls further behind holds the stream back (gRPC flow
// control), and the server eventually reports a discontinuity.
const eventBuffer = 256

// DefaultResubscribeDelay is how long a subscription waits before it
// resubscribes after its stream broke (the Momento SDKs wait 500ms).
const DefaultResubscribeDelay = 500 * time.Millisecond

// TopicClient publishes to and subscribes to topics (Momento's
// cache_client.pubsub.Pubsub contract). It is safe for concurrent use.
type TopicClient struct {
	cc     *CacheClient
	pubsub pb.PubsubClient

	// resubscribeDelay is the pause before a broken subscription reconnects.
	resubscribeDelay time.Duration
}

// NewTopicClient validates cfg (as [NewCacheClient] does) and prepares the
// connection; the server is contacted on the first call.
func NewTopicClient(cfg Config) (*TopicClient, error) {
	cc, err := NewCacheClient(cfg)
	if err != nil {
		return nil, err
	}
	return &TopicClient{cc: cc, pubsub: pb.NewPubsubClient(cc.conn), resubscribeDelay: DefaultResubscribeDelay}, nil
}

// Close releases the connection; open subscriptions end.
func (c *TopicClient) Close() error { return c.cc.Close() }

// TopicValue is a message: [String] (sent as text) or [Bytes] (binary).
type TopicValue interface {
	topicValue()
}

func (String) topicValue() {}
func (Bytes) topicValue()  {}

// TopicPublishRequest publishes Value to TopicName in CacheName.
type TopicPublishRequest struct {
	CacheName string
	TopicName string
	Value     TopicValue
}

// TopicPublishResponse is *TopicPublishSuccess.
type TopicPublishResponse interface{ isTopicPublishResponse() }

// TopicPublishSuccess: the message was accepted.
type TopicPublishSuccess struct{}

func (*TopicPublishSuccess) isTopicPublishResponse() {}

func prepareTopic(cache, topic string) error {
	if err := prepareCacheName(cache, true); err != nil {
		return err
	}
	if topic == "" {
		return invalidArgument("topic name cannot be empty")
	}
	return nil
}

// Publish sends one message. Publishing is not retried: a failure is
// reported, never replayed. A missing cache is NotFoundError; an empty
// value InvalidArgumentError; a value over the server's limit (4 KB by
// default) LimitExceededError.
func (c *TopicClient) Publish(ctx context.Context, req *TopicPublishRequest) (TopicPublishResponse, error) {
	if req == nil {
		return nil, nilRequest("Publish")
	}
	if err := prepareTopic(req.CacheName, req.TopicName); err != nil {
		return nil, err
	}
	tv := &pb.TopicValue{}
	switch v := req.Value.(type) {
	case String:
		tv.Kind = &pb.TopicValue_Text{Text: string(v)}
	case Bytes:
		tv.Kind = &pb.TopicValue_Binary{Binary: v}
	default:
		return nil, invalidArgument("value must be client.String or client.Bytes")
	}
	ctx, cancel := c.cc.callContext(ctx, req.CacheName)
	defer cancel()
	if _, err := c.pubsub.Publish(ctx, &pb.PublishRequest{CacheName: req.CacheName, Topic: req.TopicName, Value: tv}); err != nil {
		return nil, convertError(err)
	}
	return &TopicPublishSuccess{}, nil
}

// TopicSubscribeRequest subscribes to TopicName in CacheName.
type TopicSubscribeRequest struct {
	CacheName string
	TopicName string
	// ResumeAtTopicSequenceNumber is the last sequence number already
	// received (0: start with new messages), in SequencePage, as in
	// Momento's Go SDK. The subscription starts right after it.
	ResumeAtTopicSequenceNumber uint64
	SequencePage                uint64
}

// TopicEvent is what [TopicSubscription.Event] returns: *TopicItem,
// *TopicHeartbeat or *TopicDiscontinuity.
type TopicEvent interface{ isTopicEvent() }

// TopicItem is one message.
type TopicItem struct {
	Value          TopicValue // String (text) or Bytes (binary)
	SequenceNumber uint64
	SequencePage   uint64
	// PublisherID is the token id of the publisher's token ("" without one).
	PublisherID string
}

// TopicHeartbeat: the stream is alive.
type TopicHeartbeat struct{}

// TopicDiscontinuity: the messages after LastSequenceNumber up to and
// including NewSequenceNumber are lost (buffer overrun, or the topic was
// re-created with page NewSequencePage). The next item follows
// NewSequenceNumber.
type TopicDiscontinuity struct {
	LastSequenceNumber uint64
	NewSequenceNumber  uint64
	NewSequencePage    uint64
}

func (*TopicItem) isTopicEvent()          {}
func (*TopicHeartbeat) isTopicEvent()     {}
func (*TopicDiscontinuity) isTopicEvent() {}

// TopicSubscription is an open subscription. Read it from one goroutine with
// Item or Event; Close it when done. When its stream breaks it resubscribes
// by itself, resuming after the last sequence number it delivered, so a
// reader sees each sequence number once. It ends for good (every later read
// returns the same error) when the cache is deleted (NotFoundError), the
// token is refused, or on Close.
type TopicSubscription struct {
	c      *TopicClient
	req    pb.SubscriptionRequest
	ctx    context.Context
	cancel context.CancelFunc
	events chan TopicEvent
	done   chan struct{}

	mu  sync.Mutex
	err error // final error, once done is closed

	// Position of the last event delivered; owned by the run goroutine.
	last, page uint64
}

// Subscribe opens a subscription. It returns once the server has accepted
// it (its first message, a heartbeat, arrived), so anything published after
// Subscribe returns is delivered. An unknown cache is NotFoundError.
func (c *TopicClient) Subscribe(ctx context.Context, req *TopicSubscribeRequest) (*TopicSubscription, error) {
	if req == nil {
		return nil, nilRequest("Subscribe")
	}
	if err := prepareTopic(req.CacheName, req.TopicName); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &TopicSubscription{
		c:      c,
		req:    pb.SubscriptionRequest{CacheName: req.CacheName, Topic: req.TopicName},
		ctx:    sctx,
		cancel: cancel,
		events: make(chan TopicEvent, eventBuffer),
		done:   make(chan struct{}),
		last:   req.ResumeAtTopicSequenceNumber,
		page:   req.SequencePage,
	}
	st, first, err := s.open(ctx, c.cc.timeout)
	if err != nil {
		cancel()
		return nil, err
	}
	go s.run(st, first)
	return s, nil
}

// open starts one stream and waits up to timeout (and ctx) for its first
// message.
func (s *TopicSubscription) open(ctx context.Context, timeout time.Duration) (stream, *pb.SubscriptionItem, error) {
	sctx, cancel := context.WithCancel(s.ctx)
	md := metadata.Pairs("authorization", s.c.cc.token, "cache", s.req.CacheName)
	sctx = metadata.NewOutgoingContext(sctx, md)
	req := &pb.SubscriptionRequest{CacheName: s.req.CacheName, Topic: s.req.Topic, SequencePage: s.page}
	if s.last > 0 {
		// The server's number is the first one to deliver.
		req.ResumeAtTopicSequenceNumber = s.last + 1
	}
	type result struct {
		stream grpc.ServerStreamingClient[pb.SubscriptionItem]
		first  *pb.SubscriptionItem
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		stream, err := s.c.pubsub.Subscribe(sctx, req)
		if err != nil {
			ch <- result{err: err}
			return
		}
		first, err := stream.Recv()
		ch <- result{stream: stream, first: first, err: err}
	}()
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		cancel()
		<-ch
		return stream{}, nil, convertError(ctx.Err())
	case <-timer:
		cancel()
		<-ch
		return stream{}, nil, newError(TimeoutError, fmt.Sprintf("subscription did not receive its first message within %v", timeout), nil)
	}
	if r.err != nil {
		cancel()
		return stream{}, nil, convertError(r.err)
	}
	return stream{r.stream, cancel}, r.first, nil
}

// stream is one Subscribe call and the cancel func of its context.
type stream struct {
	grpc.ServerStreamingClient[pb.SubscriptionItem]
	cancel context.CancelFunc
}

// permanent reports whether a stream error ends the subscription (the Node
// SDK's rule: not found, permission, authentication, cancellation; plus
// requests the server will never accept).
func permanent(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.PermissionDenied, codes.Unauthenticated, codes.Canceled,
		codes.InvalidArgument, codes.Unimplemented:
		return true
	}
	return false
}

// run reads streams until the subscription ends, resubscribing after
// transient failures.
func (s *TopicSubscription) run(st stream, first *pb.SubscriptionItem) {
	var final error
	defer func() {
		st.cancel()
		if s.ctx.Err() != nil && final == nil {
			final = newError(CanceledError, "subscription closed", nil)
		}
		s.mu.Lock()
		s.err = final
		s.mu.Unlock()
		close(s.done)
	}()
	msg := first
	for {
		if msg != nil && !s.deliver(msg) {
			return
		}
		var err error
		msg, err = st.Recv()
		if err == nil {
			continue
		}
		if s.ctx.Err() != nil {
			return
		}
		if permanent(err) {
			final = convertError(err)
			return
		}
		// Transient: resubscribe after the last delivered position.
		st.cancel()
		st = stream{cancel: func() {}}
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(s.c.resubscribeDelay):
			}
			var first *pb.SubscriptionItem
			var next stream
			next, first, err = s.open(s.ctx, 0)
			if err == nil {
				st = next
				msg = first
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			var ce *Error
			if errors.As(err, &ce) && permanent(ce.cause) {
				final = err
				return
			}
		}
	}
}

// deliver hands one message to the reader; false once the subscription is
// closed.
func (s *TopicSubscription) deliver(m *pb.SubscriptionItem) bool {
	var ev TopicEvent
	switch k := m.Kind.(type) {
	case *pb.SubscriptionItem_Item:
		it := k.Item
		if it.SequencePage == s.page && it.TopicSequenceNumber <= s.last {
			return true // already delivered (a server that resumed inclusively)
		}
		s.last, s.page = it.TopicSequenceNumber, it.SequencePage
		item := &TopicItem{SequenceNumber: it.TopicSequenceNumber, SequencePage: it.SequencePage, PublisherID: it.PublisherId}
		switch v := it.GetValue().GetKind().(type) {
		case *pb.TopicValue_Text:
			item.Value = String(v.Text)
		case *pb.TopicValue_Binary:
			item.Value = Bytes(v.Binary)
		default:
			item.Value = Bytes(nil)
		}
		ev = item
	case *pb.SubscriptionItem_Discontinuity:
		d := k.Discontinuity
		s.last, s.page = d.NewTopicSequence, d.NewSequencePage
		ev = &TopicDiscontinuity{LastSequenceNumber: d.LastTopicSequence, NewSequenceNumber: d.NewTopicSequence, NewSequencePage: d.NewSequencePage}
	case *pb.SubscriptionItem_Heartbeat:
		ev = &TopicHeartbeat{}
	default:
		return true
	}
	select {
	case s.events <- ev:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// Event returns the next event: an item, a heartbeat or a discontinuity.
// Events that arrived before the subscription ended are returned before its
// error; after Close it fails with CanceledError.
func (s *TopicSubscription) Event(ctx context.Context) (TopicEvent, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.ctx.Err() != nil {
		return nil, newError(CanceledError, "subscription closed", nil)
	}
	select {
	case ev := <-s.events:
		return ev, nil
	case <-s.done:
		select {
		case ev := <-s.events:
			return ev, nil
		default:
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return nil, s.err
	case <-ctx.Done():
		return nil, convertError(ctx.Err())
	}
}

// Item returns the next message's value (String or Bytes), skipping
// heartbeats and discontinuities.
func (s *TopicSubscription) Item(ctx context.Context) (TopicValue, error) {
	for {
		ev, err := s.Event(ctx)
		if err != nil {
			return nil, err
		}
		if it, ok := ev.(*TopicItem); ok {
			return it.Value, nil
		}
	}
}

// Close ends the subscription and waits for its goroutines. Idempotent.
func (s *TopicSubscription) Close() {
	s.cancel()
	<-s.done
}
