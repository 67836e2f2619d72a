package client_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// psRecorder is a listener that keeps everything it is told and lets a test
// wait for a condition on it.
type psRecorder struct {
	mu       sync.Mutex
	msgs     []*client.PubSubMessage
	statuses []string // "STATUS info"
	changed  chan struct{}
}

func newPSRecorder() *psRecorder { return &psRecorder{changed: make(chan struct{})} }

func (r *psRecorder) bump() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *psRecorder) OnMessage(m *client.PubSubMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	r.bump()
}

func (r *psRecorder) OnStatus(status, info string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, status+" "+info)
	r.bump()
}

// wait waits until cond (called under the lock) holds.
func (r *psRecorder) wait(t *testing.T, what string, cond func(r *psRecorder) bool) {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok, ch := cond(r), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; statuses %q, %d messages", what, r.statuses, len(r.msgs))
		}
	}
}

func (r *psRecorder) hasStatus(s string) bool { return slices.Contains(r.statuses, s) }

func (r *psRecorder) contents() []string {
	var out []string
	for _, m := range r.msgs {
		out = append(out, string(m.Content))
	}
	return out
}

func createCacheAt(t *testing.T, addr, name string) {
	t.Helper()
	cc, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := cc.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatal(err)
	}
}

func newPubSub(t *testing.T, cfg client.PubSubConfig) (*client.PubSubClient, *psRecorder) {
	t.Helper()
	rec := newPSRecorder()
	cfg.Listener = rec
	if cfg.Reconnect.QuickInitialDelay == 0 {
		cfg.Reconnect.QuickInitialDelay = 50 * time.Millisecond
	}
	c, err := client.NewPubSubClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Disconnect)
	return c, rec
}

func subscribed(t *testing.T, c *client.PubSubClient, rec *psRecorder, subject string) {
	t.Helper()
	if err := c.Subscribe(subject); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "subscribe allow "+subject, func(r *psRecorder) bool { return r.hasStatus(client.NotifySubscribeAllow + " " + subject) })
}

func psPublish(t *testing.T, c *client.PubSubClient, m *client.PubSubMessage) client.PublishResult {
	t.Helper()
	res, err := c.Publish(context.Background(), m)
	if err != nil {
		t.Fatalf("publish %s: %v", m.Subject, err)
	}
	return res
}

func psText(subject, content string) *client.PubSubMessage {
	return &client.PubSubMessage{Subject: subject, Content: []byte(content)}
}

func TestPubSubStatusesDev(t *testing.T) {
	n := testnode.Start(t, embed.Config{TopicMaxPayload: 16})
	createCacheAt(t, n.Addr(), "sport")
	c, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	want := func(m *client.PubSubMessage, st client.PublishStatus, reason string) client.PublishResult {
		t.Helper()
		res := psPublish(t, c, m)
		if res.Status != st || res.Reason != reason || res.Closure != m.Closure {
			t.Fatalf("publish %s: %+v, want %s %q closure %q", m.Subject, res, st, reason, m.Closure)
		}
		return res
	}
	m := psText("/sport/football", "goal")
	m.Closure = "c-1"
	want(m, client.PublishNoSubscriber, "no_subscriber")
	subscribed(t, c, rec, "/sport/football")
	res := want(m, client.PublishOK, "")
	rec.wait(t, "the message", func(r *psRecorder) bool { return len(r.msgs) == 1 })
	got := rec.msgs[0]
	if string(got.Content) != "goal" || got.Subject != "/sport/football" || got.Seq != res.Seq || got.Epoch != res.Epoch || got.Retained {
		t.Fatalf("received %+v, published at %d/%d", got, res.Epoch, res.Seq)
	}
	rec.wait(t, "the publish notification", func(r *psRecorder) bool { return r.hasStatus(string(client.PublishOK) + " c-1") })
	want(psText("/nosuchcache/football", "x"), client.PublishFailed, "cache_not_found")
	want(psText("/sport/football", strings.Repeat("x", 17)), client.PublishFailed, "topic_payload_too_large")
	want(&client.PubSubMessage{Subject: "/sport/football", Content: []byte{0xff}}, client.PublishFailed, "invalid_argument")
	want(&client.PubSubMessage{Subject: "/sport/football", Content: []byte{0xff}, Binary: true}, client.PublishOK, "")
	if _, err := c.Publish(context.Background(), psText("/sport", "x")); err == nil {
		t.Fatal("a one-segment subject was accepted")
	}

	// The async form calls back with the closure.
	done := make(chan client.PublishResult, 1)
	am := psText("/sport/football", "async")
	am.Closure = "c-async"
	c.PublishAsync(am, func(r client.PublishResult, err error) {
		if err != nil {
			t.Error(err)
		}
		done <- r
	})
	if r := <-done; r.Status != client.PublishOK || r.Closure != "c-async" {
		t.Fatalf("async: %+v", r)
	}
}

func TestPubSubDenied(t *testing.T) {
	n := testnode.Start(t, embed.Config{Auth: true})
	admin := n.Mint(t, auth.MintRequest{SuperUser: true})
	cc, _ := client.NewCacheClient(client.Config{Address: n.Addr(), Token: admin})
	defer cc.Close()
	if _, err := cc.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: "sport"}); err != nil {
		t.Fatal(err)
	}
	// A token that may publish and subscribe on /sport/football only.
	token := n.Mint(t, auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceTopic, Role: auth.RoleReadWrite, Cache: "sport", Topic: "football"}}})
	c, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}, EntitlementToken: token})
	subscribed(t, c, rec, "/sport/football")
	if r := psPublish(t, c, psText("/sport/football", "x")); r.Status != client.PublishOK {
		t.Fatalf("inside the token: %+v", r)
	}
	if r := psPublish(t, c, psText("/sport/tennis", "x")); r.Status != client.PublishDenied || r.Reason != "permission_denied" {
		t.Fatalf("outside the token: %+v", r)
	}
	if err := c.Subscribe("/sport/tennis"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "subscribe deny", func(r *psRecorder) bool { return r.hasStatus(client.NotifySubscribeDeny + " /sport/tennis") })
	c.SetEntitlementToken("forged")
	if r := psPublish(t, c, psText("/sport/football", "x")); r.Status != client.PublishDenied || r.Reason != "unauthenticated" {
		t.Fatalf("forged token: %+v", r)
	}
}

func TestPubSubBasicEntitlement(t *testing.T) {
	n := testnode.Start(t, embed.Config{EntitlementAllowToken: "let-me-publish"})
	createCacheAt(t, n.Addr(), "sport")
	sub, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}}) // no token: may subscribe
	subscribed(t, sub, rec, "/sport/football")
	if r := psPublish(t, sub, psText("/sport/football", "x")); r.Status != client.PublishDenied {
		t.Fatalf("without the allow token: %+v", r)
	}
	pub, _ := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}, EntitlementToken: "let-me-publish"})
	if r := psPublish(t, pub, psText("/sport/football", "y")); r.Status != client.PublishOK {
		t.Fatalf("with the allow token: %+v", r)
	}
	rec.wait(t, "the message", func(r *psRecorder) bool { return len(r.msgs) == 1 && string(r.msgs[0].Content) == "y" })
}

// A Momento subscriber and a publish-API publisher meet on the subject's
// topic, and the Momento subscriber counts as a subscriber.
func TestPubSubMeetsMomentoSubscriber(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	createCacheAt(t, n.Addr(), "sport")
	tc, err := client.NewTopicClient(client.Config{Address: n.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	msub, err := tc.Subscribe(context.Background(), &client.TopicSubscribeRequest{CacheName: "sport", TopicName: "football/uk"})
	if err != nil {
		t.Fatal(err)
	}
	defer msub.Close()
	c, _ := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	if r := psPublish(t, c, psText("/sport/football/uk", "goal")); r.Status != client.PublishOK {
		t.Fatalf("publish with a Momento subscriber: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := msub.Item(ctx)
	if err != nil || v != client.String("goal") {
		t.Fatalf("Momento subscriber got %v, %v", v, err)
	}
}

func TestPubSubRetainedFirst(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	createCacheAt(t, n.Addr(), "sport")
	pub, _ := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	for _, v := range []string{"1-0", "2-1"} {
		m := psText("/sport/score", v)
		m.Retained = true
		if r := psPublish(t, pub, m); r.Status != client.PublishOK {
			t.Fatalf("retained: %+v", r)
		}
	}
	late, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	subscribed(t, late, rec, "/sport/score")
	if r := psPublish(t, pub, psText("/sport/score", "3-1")); r.Status != client.PublishOK {
		t.Fatal(r)
	}
	rec.wait(t, "snapshot and live", func(r *psRecorder) bool { return len(r.msgs) == 2 })
	if !rec.msgs[0].Retained || string(rec.msgs[0].Content) != "2-1" || rec.msgs[1].Retained || string(rec.msgs[1].Content) != "3-1" {
		t.Fatalf("late subscriber got %q (retained %v, %v)", rec.contents(), rec.msgs[0].Retained, rec.msgs[1].Retained)
	}
}

func TestPubSubIdempotentRetry(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	createCacheAt(t, n.Addr(), "sport")
	c, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	subscribed(t, c, rec, "/sport/football")
	m := psText("/sport/football", "once")
	m.IdempotencyKey = "goal-17"
	first, again := psPublish(t, c, m), psPublish(t, c, m)
	if first.Status != client.PublishOK || again.Status != client.PublishOK || !again.Duplicate || again.Seq != first.Seq {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	psPublish(t, c, psText("/sport/football", "end"))
	rec.wait(t, "end", func(r *psRecorder) bool { return len(r.msgs) > 0 && string(r.msgs[len(r.msgs)-1].Content) == "end" })
	if got := rec.contents(); !slices.Equal(got, []string{"once", "end"}) {
		t.Fatalf("received %q", got)
	}
}

// A broken stream resumes on the same server after the last message it
// delivered: DATA_SYNC, nothing lost, nothing twice.
func TestPubSubResumeInSync(t *testing.T) {
	var breakAfter atomic.Int64
	breaker := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if n := breakAfter.Swap(0); n > 0 && strings.Contains(info.FullMethod, "pubsub.v1") {
			ss = &breakingStream{ServerStream: ss, left: n}
		}
		return h(srv, ss)
	}
	n := testnode.Start(t, embed.Config{StreamInterceptors: []grpc.StreamServerInterceptor{breaker}})
	createCacheAt(t, n.Addr(), "sport")
	pub, _ := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	sub, rec := newPubSub(t, client.PubSubConfig{Servers: []string{n.Addr()}})
	breakAfter.Store(4) // Subscribed + 3 messages, then the stream breaks
	subscribed(t, sub, rec, "/sport/football")
	var want []string
	for i := range 10 {
		v := fmt.Sprint("m", i)
		want = append(want, v)
		for {
			r := psPublish(t, pub, psText("/sport/football", v))
			if r.Status == client.PublishOK {
				break
			}
			// While the subscriber reconnects nobody subscribes: wait until
			// it is back, then publish again.
			if r.Status != client.PublishNoSubscriber {
				t.Fatalf("publish %s: %+v", v, r)
			}
			rec.wait(t, "resubscribed", func(r *psRecorder) bool { return r.hasStatus(client.NotifyDataSync + " /sport/football") })
		}
	}
	rec.wait(t, "every message", func(r *psRecorder) bool { return len(r.msgs) >= len(want) })
	if got := rec.contents(); !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q", got, want)
	}
	if !rec.hasStatus(client.NotifyDataSync+" /sport/football") || rec.hasStatus(client.NotifyDataResync+" /sport/football") {
		t.Fatalf("statuses %q: want a sync and no resync", rec.statuses)
	}
}

func TestReconnectPolicyDelays(t *testing.T) {
	p := client.ReconnectPolicy{}
	f := func(retry int, r float64, want time.Duration) {
		t.Helper()
		if got := p.Delay(retry, r); got != want {
			t.Errorf("Delay(%d, %v) = %v, want %v", retry, r, got, want)
		}
	}
	f(1, 0, 5*time.Second)
	f(1, 0.5, 2500*time.Millisecond)
	f(2, 0, 10*time.Second)
	f(3, 0.2, 14*time.Second)
	f(4, 0, 20*time.Second) // the backoff phase starts at its base
	f(5, 0, 40*time.Second)
	f(6, 0.5, 70*time.Second)
	f(8, 0, 320*time.Second)
	f(9, 0, 360*time.Second)
	f(10, 0, 360*time.Second) // truncated at the cap
	f(100, 0.5, 350*time.Second)
	q := client.ReconnectPolicy{QuickMaxRetries: 1, QuickInitialDelay: time.Second, BackoffBase: 2 * time.Second, BackoffMax: 3 * time.Second}
	if d := q.Delay(1, 0.999); d <= 0 || d > time.Second {
		t.Errorf("first delay %v is not within the first delay", d)
	}
	if d := q.Delay(3, 0); d != 3*time.Second {
		t.Errorf("capped delay %v", d)
	}
}

func TestPubSubServerList(t *testing.T) {
	empty, err := client.NewPubSubClient(client.PubSubConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.SetServers(nil); err == nil {
		t.Error("an empty server list accepted")
	}
	empty.Disconnect()
	for _, bad := range [][]string{{"nohost"}, {"x 127.0.0.1:1"}, {"1 2 3"}} {
		if _, err := client.NewPubSubClient(client.PubSubConfig{Servers: bad}); err == nil {
			t.Errorf("servers %q accepted", bad)
		}
	}
	c, err := client.NewPubSubClient(client.PubSubConfig{Servers: []string{"100 127.0.0.1:1", "grpc://127.0.0.1:2"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Disconnect()
}
