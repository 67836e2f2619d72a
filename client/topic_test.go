package client_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// topicServer is a server with topics whose Subscribe streams can be made
// to break after a number of messages (like momento-local's stream errors).
type topicServer struct {
	addr       string
	breakAfter atomic.Int64 // 0: never
}

func newTopicServer(t *testing.T, heartbeat time.Duration) *topicServer {
	t.Helper()
	ts := &topicServer{}
	breaker := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if n := ts.breakAfter.Load(); n > 0 {
			ss = &breakingStream{ServerStream: ss, left: n}
		}
		return h(srv, ss)
	}
	n := testnode.Start(t, embed.Config{TopicHeartbeat: heartbeat, StreamInterceptors: []grpc.StreamServerInterceptor{breaker}})
	ts.addr = n.Addr()
	return ts
}

type breakingStream struct {
	grpc.ServerStream
	left int64
}

func (s *breakingStream) SendMsg(m any) error {
	if s.left == 0 {
		return status.Error(codes.Unavailable, "injected stream error")
	}
	s.left--
	return s.ServerStream.SendMsg(m)
}

func newTopicClients(t *testing.T, addr string) (*client.TopicClient, *client.CacheClient) {
	t.Helper()
	tc, err := client.NewTopicClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	cc, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return tc, cc
}

func createCache(t *testing.T, cc *client.CacheClient, name string) {
	t.Helper()
	if _, err := cc.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatal(err)
	}
}

func mustPublish(t *testing.T, tc *client.TopicClient, cache, topic string, v client.TopicValue) {
	t.Helper()
	if _, err := tc.Publish(context.Background(), &client.TopicPublishRequest{CacheName: cache, TopicName: topic, Value: v}); err != nil {
		t.Fatalf("publish %v: %v", v, err)
	}
}

func mustSubscribe(t *testing.T, tc *client.TopicClient, req *client.TopicSubscribeRequest) *client.TopicSubscription {
	t.Helper()
	sub, err := tc.Subscribe(context.Background(), req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(sub.Close)
	return sub
}

func nextItem(t *testing.T, sub *client.TopicSubscription) *client.TopicItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ev, err := sub.Event(ctx)
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		if it, ok := ev.(*client.TopicItem); ok {
			return it
		}
	}
}

func TestTopicPublishSubscribeKinds(t *testing.T) {
	ts := newTopicServer(t, 0)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	sub := mustSubscribe(t, tc, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
	mustPublish(t, tc, "c", "t", client.String("hello"))
	mustPublish(t, tc, "c", "t", client.Bytes{1, 2, 3})

	it := nextItem(t, sub)
	if v, ok := it.Value.(client.String); !ok || v != "hello" || it.SequenceNumber != 1 || it.SequencePage == 0 || it.PublisherID != "" {
		t.Fatalf("first item %+v", it)
	}
	page := it.SequencePage
	v, err := sub.Item(context.Background())
	if b, ok := v.(client.Bytes); err != nil || !ok || string(b) != "\x01\x02\x03" {
		t.Fatalf("second item %#v, %v", v, err)
	}

	// Resuming after a known sequence number (Momento Go SDK's convention:
	// the last one received) delivers the next ones, not the last again.
	mustPublish(t, tc, "c", "t", client.String("third"))
	again := mustSubscribe(t, tc, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t", ResumeAtTopicSequenceNumber: 1, SequencePage: page})
	for want := uint64(2); want <= 3; want++ {
		if it := nextItem(t, again); it.SequenceNumber != want || it.SequencePage != page {
			t.Fatalf("resume after 1: got %d, want %d", it.SequenceNumber, want)
		}
	}
}

func TestTopicErrorsGo(t *testing.T) {
	ts := newTopicServer(t, 0)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	ctx := context.Background()
	_, err := tc.Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: "missing", TopicName: "t"})
	if !errors.Is(err, client.ErrCacheNotFound) {
		t.Fatalf("subscribe to a missing cache: %v", err)
	}
	cases := []struct {
		req  *client.TopicPublishRequest
		want error
	}{
		{&client.TopicPublishRequest{CacheName: "missing", TopicName: "t", Value: client.String("x")}, client.ErrCacheNotFound},
		{&client.TopicPublishRequest{CacheName: "c", TopicName: "t", Value: client.String("")}, client.ErrInvalidArgument},
		{&client.TopicPublishRequest{CacheName: "c", TopicName: "t", Value: client.String(strings.Repeat("x", 4097))}, client.ErrLimitExceeded},
		{&client.TopicPublishRequest{CacheName: "c", TopicName: "", Value: client.String("x")}, client.ErrInvalidArgument},
		{&client.TopicPublishRequest{CacheName: "c", TopicName: "t"}, client.ErrInvalidArgument},
		{nil, client.ErrInvalidArgument},
	}
	for _, c := range cases {
		if _, err := tc.Publish(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("publish %+v: %v, want %v", c.req, err, c.want)
		}
	}
	// 4096 bytes is within Momento's 4 KB.
	mustPublish(t, tc, "c", "t", client.Bytes(make([]byte, 4096)))
}

// TestTopicResubscribeLosesNothing: every stream breaks after a few
// messages; the subscription resubscribes and resumes, and the reader sees
// each sequence number exactly once.
func TestTopicResubscribeLosesNothing(t *testing.T) {
	ts := newTopicServer(t, 0)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	ts.breakAfter.Store(40) // including each stream's first heartbeat
	sub := mustSubscribe(t, tc, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
	const n = 120
	go func() {
		for i := 1; i <= n; i++ {
			if _, err := tc.Publish(context.Background(), &client.TopicPublishRequest{CacheName: "c", TopicName: "t", Value: client.String(fmt.Sprint(i))}); err != nil {
				return
			}
		}
	}()
	for want := uint64(1); want <= n; want++ {
		it := nextItem(t, sub)
		if it.SequenceNumber != want || string(it.Value.(client.String)) != fmt.Sprint(want) {
			t.Fatalf("got seq %d (%v), want %d", it.SequenceNumber, it.Value, want)
		}
	}
}

func TestTopicCacheDeletedEndsSubscription(t *testing.T) {
	ts := newTopicServer(t, 0)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	sub := mustSubscribe(t, tc, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
	if _, err := cc.DeleteCache(context.Background(), &client.DeleteCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_, err := sub.Item(context.Background())
		if !errors.Is(err, client.ErrCacheNotFound) {
			t.Fatalf("read %d after delete: %v", i, err)
		}
	}
}

func TestTopicHeartbeatEvents(t *testing.T) {
	ts := newTopicServer(t, 10*time.Millisecond)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	sub := mustSubscribe(t, tc, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
	for i := 0; i < 3; i++ {
		ev, err := sub.Event(context.Background())
		if _, ok := ev.(*client.TopicHeartbeat); err != nil || !ok {
			t.Fatalf("event %d: %#v, %v", i, ev, err)
		}
	}
}

func TestTopicCloseLeavesNoGoroutines(t *testing.T) {
	ts := newTopicServer(t, 0)
	tc, cc := newTopicClients(t, ts.addr)
	createCache(t, cc, "c")
	mustPublish(t, tc, "c", "warm-up", client.String("x")) // connect first
	before := runtime.NumGoroutine()
	subs := make([]*client.TopicSubscription, 30)
	for i := range subs {
		s, err := tc.Subscribe(context.Background(), &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	mustPublish(t, tc, "c", "t", client.String("x")) // some are blocked delivering it
	for _, s := range subs {
		s.Close()
		s.Close()
	}
	if _, err := subs[0].Event(context.Background()); !errors.Is(err, client.ErrCanceled) {
		t.Fatalf("event after close: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
