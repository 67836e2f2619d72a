package momento_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/momento"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

type topicHarness struct {
	node    *testnode.Node
	conn    *grpc.ClientConn
	pubsub  pb.PubsubClient
	control pb.ScsControlClient
}

// topicSetup is the part of a node's configuration a topic test sets.
type topicSetup struct {
	maxPayload, maxSubscriptions, replay int
	heartbeat                            time.Duration
	auth                                 bool
}

func newTopicHarness(t testing.TB, setup topicSetup) *topicHarness {
	t.Helper()
	n := testnode.Start(t, embed.Config{
		TopicMaxPayload: setup.maxPayload, TopicMaxSubscriptions: setup.maxSubscriptions,
		TopicReplayMessages: setup.replay, TopicHeartbeat: setup.heartbeat, Auth: setup.auth,
	})
	conn := n.Dial(t)
	return &topicHarness{node: n, conn: conn, pubsub: pb.NewPubsubClient(conn), control: pb.NewScsControlClient(conn)}
}

func (h *topicHarness) createCache(t testing.TB, name string) {
	t.Helper()
	if _, err := h.control.CreateCache(context.Background(), &pb.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatal(err)
	}
}

func textValue(s string) *pb.TopicValue {
	return &pb.TopicValue{Kind: &pb.TopicValue_Text{Text: s}}
}

func (h *topicHarness) publish(t *testing.T, ctx context.Context, cache, topic string, v *pb.TopicValue) error {
	t.Helper()
	_, err := h.pubsub.Publish(ctx, &pb.PublishRequest{CacheName: cache, Topic: topic, Value: v})
	return err
}

// subscribe opens a stream and checks that its first message is a heartbeat.
func (h *topicHarness) subscribe(t *testing.T, ctx context.Context, req *pb.SubscriptionRequest) grpc.ServerStreamingClient[pb.SubscriptionItem] {
	t.Helper()
	st, err := h.pubsub.Subscribe(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.Recv()
	if err != nil {
		t.Fatalf("first message: %v", err)
	}
	if first.GetHeartbeat() == nil {
		t.Fatalf("first message is %v, want a heartbeat", first)
	}
	return st
}

// next returns the next item or discontinuity, skipping heartbeats.
func next(t *testing.T, st grpc.ServerStreamingClient[pb.SubscriptionItem]) *pb.SubscriptionItem {
	t.Helper()
	for {
		m, err := st.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if m.GetHeartbeat() == nil {
			return m
		}
	}
}

func itemString(m *pb.SubscriptionItem) string {
	if d := m.GetDiscontinuity(); d != nil {
		return fmt.Sprintf("gap(%d,%d)", d.LastTopicSequence, d.NewTopicSequence)
	}
	it := m.GetItem()
	if b := it.GetValue().GetBinary(); b != nil {
		return fmt.Sprintf("%d:%x", it.TopicSequenceNumber, b)
	}
	return fmt.Sprintf("%d:%s", it.TopicSequenceNumber, it.GetValue().GetText())
}

func TestTopicPublishSubscribe(t *testing.T) {
	h := newTopicHarness(t, topicSetup{})
	h.createCache(t, "c")
	ctx := t.Context()
	s1 := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	s2 := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err := h.publish(t, ctx, "c", "t", textValue("hello")); err != nil {
		t.Fatal(err)
	}
	if err := h.publish(t, ctx, "c", "t", &pb.TopicValue{Kind: &pb.TopicValue_Binary{Binary: []byte{0, 0xff}}}); err != nil {
		t.Fatal(err)
	}
	var page uint64
	for _, st := range []grpc.ServerStreamingClient[pb.SubscriptionItem]{s1, s2} {
		a, b := next(t, st), next(t, st)
		if got := itemString(a) + " " + itemString(b); got != "1:hello 2:00ff" {
			t.Fatalf("items %s", got)
		}
		if a.GetItem().SequencePage == 0 || a.GetItem().SequencePage != b.GetItem().SequencePage {
			t.Fatalf("pages %d %d", a.GetItem().SequencePage, b.GetItem().SequencePage)
		}
		if page != 0 && a.GetItem().SequencePage != page {
			t.Fatal("subscribers see different pages")
		}
		page = a.GetItem().SequencePage
		if a.GetItem().PublisherId != "" {
			t.Fatalf("publisher id in dev mode: %q", a.GetItem().PublisherId)
		}
	}

	// Resume inside the buffer: the number is the first one to deliver.
	s3 := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t", ResumeAtTopicSequenceNumber: 2, SequencePage: page})
	if got := itemString(next(t, s3)); got != "2:00ff" {
		t.Fatalf("resume at 2: %s", got)
	}
	// A changed page: a discontinuity carrying the new page, then the buffer.
	s4 := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t", ResumeAtTopicSequenceNumber: 9, SequencePage: page - 1})
	d := next(t, s4).GetDiscontinuity()
	if d == nil || d.LastTopicSequence != 8 || d.NewTopicSequence != 0 || d.NewSequencePage != page {
		t.Fatalf("page change: %v", d)
	}
	if got := itemString(next(t, s4)); got != "1:hello" {
		t.Fatalf("after page change: %s", got)
	}
}

func TestTopicErrors(t *testing.T) {
	h := newTopicHarness(t, topicSetup{maxPayload: 8, maxSubscriptions: 1})
	h.createCache(t, "c")
	ctx := t.Context()
	cases := []struct {
		cache, topic string
		v            *pb.TopicValue
		code         codes.Code
		msg          string
	}{
		{"missing", "t", textValue("x"), codes.NotFound, "cache not found"},
		{"c", "t", textValue(""), codes.InvalidArgument, "empty"},
		{"c", "t", &pb.TopicValue{Kind: &pb.TopicValue_Binary{}}, codes.InvalidArgument, "empty"},
		{"c", "t", nil, codes.InvalidArgument, "text or binary"},
		{"c", "t", textValue("123456789"), codes.ResourceExhausted, "limit is 8 bytes"},
		{"c", "", textValue("x"), codes.InvalidArgument, "topic name"},
		{"", "t", textValue("x"), codes.InvalidArgument, "cache name"},
	}
	for _, c := range cases {
		wantCode(t, h.publish(t, ctx, c.cache, c.topic, c.v), c.code, c.msg)
	}

	// Subscribing to a missing cache fails before any message.
	st, err := h.pubsub.Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "missing", Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	wantCode(t, err, codes.NotFound, "cache not found")

	// Subscription limit: RESOURCE_EXHAUSTED, trailer and keyword for both SDKs.
	h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	st, err = h.pubsub.Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "u"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	wantCode(t, err, codes.ResourceExhausted, "subscribers")
	if tr := st.Trailer().Get("err"); len(tr) != 1 || tr[0] != "topic_subscriptions_limit_exceeded" {
		t.Fatalf("err trailer %v", tr)
	}
}

func TestTopicDeleteCacheEndsStreams(t *testing.T) {
	h := newTopicHarness(t, topicSetup{heartbeat: 20 * time.Millisecond})
	ctx := t.Context()
	h.createCache(t, "c")
	st := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if _, err := h.control.DeleteCache(ctx, &pb.DeleteCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := recvUntilError(st); status.Code(err) != codes.NotFound {
		t.Fatalf("after DeleteCache: %v", err)
	}

	// The new incarnation has a new topic.
	h.createCache(t, "c")
	st = h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err := h.publish(t, ctx, "c", "t", textValue("x")); err != nil {
		t.Fatal(err)
	}
	if got := itemString(next(t, st)); got != "1:x" {
		t.Fatalf("re-created cache: %s", got)
	}
}

func recvUntilError(st grpc.ServerStreamingClient[pb.SubscriptionItem]) error {
	for {
		if _, err := st.Recv(); err != nil {
			return err
		}
	}
}

func TestTopicHeartbeats(t *testing.T) {
	h := newTopicHarness(t, topicSetup{heartbeat: 10 * time.Millisecond})
	h.createCache(t, "c")
	st := h.subscribe(t, t.Context(), &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	for i := 0; i < 3; i++ {
		m, err := st.Recv()
		if err != nil || m.GetHeartbeat() == nil {
			t.Fatalf("idle stream sent %v, %v; want heartbeats", m, err)
		}
	}
}

// TestTopicSlowSubscriberNoSilentGap: a stream that is not read while 2 MB
// are published; what it then reads accounts for every sequence number,
// either as an item or inside a discontinuity.
func TestTopicSlowSubscriberNoSilentGap(t *testing.T) {
	h := newTopicHarness(t, topicSetup{replay: 16})
	h.createCache(t, "c")
	ctx := t.Context()
	st := h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	const n = 500
	payload := strings.Repeat("x", 4000)
	for i := 0; i < n; i++ {
		if err := h.publish(t, ctx, "c", "t", textValue(payload)); err != nil {
			t.Fatal(err)
		}
	}
	covered := uint64(0)
	for covered < n {
		m := next(t, st)
		if d := m.GetDiscontinuity(); d != nil {
			if d.LastTopicSequence != covered || d.NewTopicSequence < covered {
				t.Fatalf("discontinuity %v after %d", d, covered)
			}
			covered = d.NewTopicSequence
			continue
		}
		if seq := m.GetItem().TopicSequenceNumber; seq != covered+1 {
			t.Fatalf("item %d after %d: a silent gap", seq, covered)
		}
		covered++
	}
}

func TestTopicPublisherIDIsTokenID(t *testing.T) {
	h := newTopicHarness(t, topicSetup{auth: true})
	mint := func(req auth.MintRequest) string { return h.node.Mint(t, req) }
	super := mint(auth.MintRequest{SuperUser: true})
	as := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", tok)
	}
	if _, err := h.control.CreateCache(as(super), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	pubTok := mint(auth.MintRequest{TokenID: "sensor-7", Perms: []auth.Permission{{Resource: auth.ResourceTopic, Role: auth.RoleWriteOnly, Cache: "c", Topic: "t"}}})
	subTok := mint(auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceTopic, Role: auth.RoleReadOnly, Cache: "c"}}})
	st := h.subscribe(t, as(subTok), &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err := h.publish(t, as(pubTok), "c", "t", textValue("x")); err != nil {
		t.Fatal(err)
	}
	if id := next(t, st).GetItem().GetPublisherId(); id != "sensor-7" {
		t.Fatalf("publisher_id %q", id)
	}
	// Topic roles are enforced.
	wantCode(t, h.publish(t, as(subTok), "c", "t", textValue("x")), codes.PermissionDenied, "")
}

// TestTopicNoGoroutinesLeft: client cancellation, cache deletion and server
// stop all end their streams' goroutines.
func TestTopicNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	h := newTopicHarness(t, topicSetup{heartbeat: 5 * time.Millisecond})
	h.createCache(t, "c")
	h.createCache(t, "d")
	ctx, cancel := context.WithCancel(t.Context())
	for i := 0; i < 50; i++ {
		h.subscribe(t, ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: fmt.Sprint("t", i%3)})
	}
	deleted := make([]grpc.ServerStreamingClient[pb.SubscriptionItem], 20)
	for i := range deleted {
		deleted[i] = h.subscribe(t, t.Context(), &pb.SubscriptionRequest{CacheName: "d", Topic: "t"})
	}
	for i := 0; i < 20; i++ {
		h.subscribe(t, t.Context(), &pb.SubscriptionRequest{CacheName: "c", Topic: "kept"})
	}
	if err := h.publish(t, t.Context(), "c", "t0", textValue("x")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := h.control.DeleteCache(t.Context(), &pb.DeleteCacheRequest{CacheName: "d"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range deleted {
		if err := recvUntilError(st); status.Code(err) != codes.NotFound {
			t.Fatalf("stream of deleted cache: %v", err)
		}
	}
	h.conn.Close()
	h.node.Close() // the 20 "kept" streams end with the server
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, bytes.TrimSpace(buf))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkTopicFanOut: one publisher (8 calls in flight) to 1, 100 and
// 1,000 gRPC subscribers over loopback (100 streams per connection, as the
// Node SDK does), 100-byte messages. Reports delivered messages/s and
// publish-to-delivery latency (p50/p99, sampled); "shared" sends one
// PreparedMsg per message to every stream, "per-stream" encodes per stream.
//
//	go test -run '^$' -bench TopicFanOut -benchtime 20000x ./internal/momento/
func BenchmarkTopicFanOut(b *testing.B) {
	for _, subs := range []int{1, 100, 1000} {
		for _, shared := range []bool{true, false} {
			mode := "shared"
			if !shared {
				mode = "per-stream"
			}
			b.Run(fmt.Sprintf("subs=%d/%s", subs, mode), func(b *testing.B) {
				old := *momento.SharedFrames
				*momento.SharedFrames = shared
				defer func() { *momento.SharedFrames = old }()
				benchFanOut(b, subs)
			})
		}
	}
}

func benchFanOut(b *testing.B, subs int) {
	h := newTopicHarness(b, topicSetup{replay: 1 << 16})
	h.createCache(b, "c")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conns := make([]pb.PubsubClient, (subs+99)/100)
	for i := range conns {
		conn, err := grpc.NewClient(h.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		conns[i] = pb.NewPubsubClient(conn)
	}
	n := b.N
	const sampleEvery = 16
	lat := make([][]time.Duration, subs)
	var ready, done sync.WaitGroup
	var gaps atomic.Int64
	for i := 0; i < subs; i++ {
		st, err := conns[i/100].Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
		if err != nil {
			b.Fatal(err)
		}
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			got, first := 0, true
			for got < n {
				m, err := st.Recv()
				if err != nil {
					return
				}
				if m.GetHeartbeat() != nil {
					if first {
						first = false
						ready.Done()
					}
					continue
				}
				if m.GetDiscontinuity() != nil {
					gaps.Add(1)
					continue
				}
				it := m.GetItem()
				got = int(it.TopicSequenceNumber)
				if got%sampleEvery == 0 {
					sent := int64(binary.LittleEndian.Uint64(it.GetValue().GetBinary()[:8]))
					lat[i] = append(lat[i], time.Duration(time.Now().UnixNano()-sent))
				}
			}
		}()
	}
	ready.Wait()
	payload := make([]byte, 100)
	for i := 8; i < len(payload); i++ {
		payload[i] = 'x'
	}
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var pwg sync.WaitGroup
	for w := 0; w < 8; w++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			buf := make([]byte, len(payload))
			copy(buf, payload)
			for next.Add(1) <= int64(n) {
				binary.LittleEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
				v := &pb.TopicValue{Kind: &pb.TopicValue_Binary{Binary: buf}}
				if _, err := h.pubsub.Publish(ctx, &pb.PublishRequest{CacheName: "c", Topic: "t", Value: v}); err != nil {
					b.Error(err)
					cancel()
					return
				}
			}
		}()
	}
	pwg.Wait()
	pubElapsed := time.Since(start)
	done.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(n)/pubElapsed.Seconds(), "published/s")
	b.ReportMetric(float64(n*subs)/elapsed.Seconds(), "delivered/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(gaps.Load()), "discontinuities")
}
