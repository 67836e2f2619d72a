package faults_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/faults"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func TestRPCNames(t *testing.T) {
	for method, want := range map[string]string{
		"/cache_client.Scs/Get":                    "get",
		"/cache_client.Scs/SetIf":                  "set-if",
		"/cache_client.Scs/GetWithHash":            "get-with-hash",
		"/cache_client.Scs/DictionaryGet":          "dictionary-get",
		"/cache_client.Scs/SortedSetLengthByScore": "sorted-set-length-by-score",
		"/cache_client.Scs/ItemGetTtl":             "item-get-ttl",
		"/cache_client.pubsub.Pubsub/Publish":      "topic-publish",
		"/cache_client.pubsub.Pubsub/Subscribe":    "topic-subscribe",
		"/control_client.ScsControl/CreateCache":   "create-cache",
	} {
		if got := faults.RPCName(method); got != want {
			t.Errorf("%s: %q, want %q", method, got, want)
		}
	}
}

type node struct {
	*testnode.Node
	data  pb.ScsClient
	topic pb.PubsubClient
	admin string
}

func start(t *testing.T) node {
	t.Helper()
	n := testnode.Start(t, embed.Config{TestAdminListen: "127.0.0.1:0"})
	conn := n.Dial(t)
	if _, err := pb.NewScsControlClient(conn).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	return node{n, pb.NewScsClient(conn), pb.NewPubsubClient(conn), "http://" + n.Server().TestAdminAddr()}
}

func md(pairs ...string) context.Context {
	return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(append([]string{"cache", "c"}, pairs...)...))
}

func code(err error) codes.Code { return status.Code(err) }

// return-error with error-rpcs and error-count: the listed RPC fails the
// first N times of its session, others run.
func TestReturnError(t *testing.T) {
	n := start(t)
	ctx := md("request-id", "s1", "return-error", "unavailable", "error-rpcs", "get set", "error-count", "2")
	for i := 0; i < 2; i++ {
		if _, err := n.data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")}); code(err) != codes.Unavailable {
			t.Fatalf("get %d: %v, want UNAVAILABLE", i, err)
		}
	}
	if _, err := n.data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("third get of the session: %v", err)
	}
	if _, err := n.data.Delete(ctx, &pb.DeleteRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("unlisted rpc: %v", err)
	}
	// Another session has its own count; without error-count it always fails.
	always := md("request-id", "s2", "return-error", "not-found", "error-rpcs", "increment")
	for i := 0; i < 3; i++ {
		if _, err := n.data.Increment(always, &pb.IncrementRequest{CacheKey: []byte("n"), Amount: 1}); code(err) != codes.NotFound {
			t.Fatalf("increment %d: %v", i, err)
		}
	}
	if _, err := n.data.Get(md("return-error", "no-such-status"), &pb.GetRequest{CacheKey: []byte("k")}); code(err) != codes.InvalidArgument {
		t.Fatalf("bad metadata: %v", err)
	}
	if _, err := n.data.Get(md(), &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("no metadata: %v", err)
	}
}

// A delay longer than the client's deadline trips it; a cancelled call
// ends its delay; delay-count limits the delayed calls of a session.
func TestDelay(t *testing.T) {
	n := start(t)
	delaying := make(chan string, 4)
	n.Server().Faults().Observe(func(ev, session string) { delaying <- session })

	ctx, cancel := context.WithTimeout(md("request-id", "d1", "delay-rpcs", "get", "delay-ms", "300000"), time.Second)
	defer cancel()
	if _, err := n.data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")}); code(err) != codes.DeadlineExceeded {
		t.Fatalf("delayed get: %v, want DEADLINE_EXCEEDED", err)
	}

	d2 := md("request-id", "d2", "delay-rpcs", "get", "delay-ms", "300000", "delay-count", "1")
	held, cancel2 := context.WithCancel(d2)
	done := make(chan error, 1)
	go func() { _, err := n.data.Get(held, &pb.GetRequest{CacheKey: []byte("k")}); done <- err }()
	for s := <-delaying; s != "d2"; s = <-delaying {
	}
	cancel2()
	if err := <-done; code(err) != codes.Canceled {
		t.Fatalf("cancelled delayed get: %v", err)
	}
	// The session's one delay is used: the next call runs at once.
	if _, err := n.data.Get(d2, &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("after the delay count: %v", err)
	}
}

func recvUntilError(t *testing.T, s pb.Pubsub_SubscribeClient) (int, error) {
	t.Helper()
	n := 0
	for {
		if _, err := s.Recv(); err != nil {
			return n, err
		}
		n++
	}
}

// stream-error ends a subscription after the session's streams sent N
// messages; the session's next subscription runs on.
func TestStreamError(t *testing.T) {
	n := start(t)
	ctx := md("request-id", "st", "stream-error", "unavailable", "stream-error-rpcs", "topic-subscribe", "stream-error-message-limit", "3")
	sub, err := n.topic.Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Recv(); err != nil { // the first heartbeat
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := n.topic.Publish(md(), &pb.PublishRequest{CacheName: "c", Topic: "t", Value: &pb.TopicValue{Kind: &pb.TopicValue_Text{Text: "m"}}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := recvUntilError(t, sub)
	if got != 2 || code(err) != codes.Unavailable {
		t.Fatalf("after the limit: %d more messages, %v; want 2 then UNAVAILABLE", got, err)
	}
	// The same session again: no second error; it gets its heartbeat and
	// the messages it asks to resume from.
	sub2, err := n.topic.Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t", ResumeAtTopicSequenceNumber: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := sub2.Recv(); err != nil {
			t.Fatalf("resubscribed stream message %d: %v", i, err)
		}
	}
}

func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
}

// /block ends open streams with UNAVAILABLE and holds new calls, as
// dropped packets would: until their deadline, or until /unblock, when
// they run.
func TestBlockUnblock(t *testing.T) {
	n := start(t)
	held := make(chan string, 8)
	n.Server().Faults().Observe(func(ev, subject string) {
		if ev == "hold" {
			held <- subject
		}
	})
	sub, err := n.topic.Subscribe(md(), &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Recv(); err != nil {
		t.Fatal(err)
	}
	get(t, n.admin+"/block")
	if _, err := recvUntilError(t, sub); code(err) != codes.Unavailable {
		t.Fatalf("open stream at block: %v", err)
	}
	short, cancel := context.WithTimeout(md(), time.Second)
	defer cancel()
	if _, err := n.data.Get(short, &pb.GetRequest{CacheKey: []byte("k")}); code(err) != codes.DeadlineExceeded {
		t.Fatalf("call while blocked: %v, want DEADLINE_EXCEEDED", err)
	}
	<-held
	done := make(chan error, 1)
	go func() { _, err := n.data.Get(md(), &pb.GetRequest{CacheKey: []byte("k")}); done <- err }()
	if rpc := <-held; rpc != "get" {
		t.Fatalf("held %q", rpc)
	}
	get(t, n.admin+"/unblock")
	if err := <-done; err != nil {
		t.Fatalf("held call after unblock: %v", err)
	}
	if _, err := n.data.Get(md(), &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("call after unblock: %v", err)
	}
}

// Without --test-admin-listen the metadata is ignored.
func TestOffByDefault(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	conn := n.Dial(t)
	if _, err := pb.NewScsControlClient(conn).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pb.NewScsClient(conn).Get(md("return-error", "unavailable"), &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("fault metadata honoured without the test admin: %v", err)
	}
	if n.Server().Faults() != nil || n.Server().TestAdminAddr() != "" {
		t.Fatal("fault injection is on by default")
	}
}
