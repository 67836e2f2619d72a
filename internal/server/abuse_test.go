package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/flood"
	feedpb "github.com/setsuna-io/setsuna/proto/feedpb"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// flooder is flood.Flooder failing the test on errors.
type flooder struct {
	t *testing.T
	*flood.Flooder
	conn net.Conn
}

func newFlooder(t *testing.T, addr string) *flooder {
	t.Helper()
	f, err := flood.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &flooder{t: t, Flooder: f, conn: f.Conn}
}

// open starts n half-sent Set calls, authorized by token when not empty.
func (f *flooder) open(n int, token string) { f.openPath(n, token, "/cache_client.Scs/Set") }

// openPath starts n half-sent calls of the method at path.
func (f *flooder) openPath(n int, token, path string) {
	f.t.Helper()
	if err := f.Open(n, token, path); err != nil {
		f.t.Fatal(err)
	}
}

// sync waits until the server has processed every frame sent so far,
// counting the streams it refused on the way.
func (f *flooder) sync() int {
	f.t.Helper()
	n, err := f.Sync()
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *flooder) waitEnded(n int) {
	f.t.Helper()
	if err := f.WaitEnded(n); err != nil {
		f.t.Fatal(err)
	}
}

// Calls whose request never arrives are ended after --request-body-timeout
// and give their slots back, while a stream whose request did arrive lives
// on past it.
func TestHalfSentCallsAreEnded(t *testing.T) {
	s := quietServer(t, Config{RequestBodyTimeout: 100 * time.Millisecond})
	if _, err := pb.NewScsControlClient(dial(t, s.Addr())).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	s.health.SetServingStatus("probe", healthpb.HealthCheckResponse_NOT_SERVING)
	watch, err := healthpb.NewHealthClient(dial(t, s.Addr())).Watch(t.Context(), &healthpb.HealthCheckRequest{Service: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := watch.Recv(); err != nil || r.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("first watch answer: %v, %v", r, err)
	}
	f := newFlooder(t, s.Addr())
	f.open(20, "")
	f.waitEnded(20)
	// The watch's timer was stopped when its request arrived.
	s.health.SetServingStatus("probe", healthpb.HealthCheckResponse_SERVING)
	if r, err := watch.Recv(); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("the watch after the half-sent calls were ended: %v, %v", r, err)
	}
	wellBehaved(t, s, "")
}

func quietServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Listen, cfg.HTTPListen, cfg.CosmosListen = "127.0.0.1:0", "off", "off"
	cfg.Logger = slog.New(slog.DiscardHandler)
	return start(t, cfg)
}

// wellBehaved checks that an ordinary client on its own connection is
// answered while the flood holds its share.
func wellBehaved(t *testing.T, s *Server, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "cache", "c", "authorization", token)
	data := pb.NewScsClient(dial(t, s.Addr()))
	if _, err := data.Set(ctx, &pb.SetRequest{CacheKey: []byte("k"), CacheBody: []byte("v")}); err != nil {
		t.Fatalf("a well-behaved client during the flood: %v", err)
	}
	if r, err := data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")}); err != nil || string(r.CacheBody) != "v" {
		t.Fatalf("a well-behaved client's read during the flood: %v, %v", r, err)
	}
}

// Finding 1: one connection opening calls that never finish their body is
// held to the per-connection bound, the rest refused at once; the server
// does not grow with the flood.
func TestHalfSentCallsAreBoundedPerConnection(t *testing.T) {
	s := quietServer(t, Config{MaxStreamsPerConnection: 100})
	ctl := pb.NewScsControlClient(dial(t, s.Addr()))
	if _, err := ctl.CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	f := newFlooder(t, s.Addr())
	f.open(2000, "")
	refused := f.sync()
	if refused < 1900 {
		t.Fatalf("the server refused %d of 2000 half-sent calls; with 100 per connection it should refuse 1900", refused)
	}
	if n := s.authn.CallsInFlight(); n > 100 {
		t.Fatalf("%d calls in flight from one connection, the bound is 100", n)
	}
	wellBehaved(t, s, "")
}

// Finding 1, the global bound: many connections together stay within
// --max-streams.
func TestCallsInFlightAreBoundedInTotal(t *testing.T) {
	s := quietServer(t, Config{MaxStreamsPerConnection: 100, MaxStreams: 250})
	ctl := pb.NewScsControlClient(dial(t, s.Addr()))
	if _, err := ctl.CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	var floods []*flooder
	for range 5 {
		f := newFlooder(t, s.Addr())
		f.open(100, "")
		f.sync()
		floods = append(floods, f)
	}
	if n := s.authn.CallsInFlight(); n > 250 {
		t.Fatalf("%d calls in flight, the bound is 250", n)
	}
	// The budget is full: an ordinary call is refused with RESOURCE_EXHAUSTED,
	// not queued; it gets answers again once the flood's connections go.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "cache", "c")
	data := pb.NewScsClient(dial(t, s.Addr()))
	_, err := data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")})
	wantStatus(t, err, "ResourceExhausted")
	for _, f := range floods {
		f.conn.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.authn.CallsInFlight() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still in flight after their connections closed", s.authn.CallsInFlight())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")}); err != nil {
		t.Fatalf("a call after the flood ended: %v", err)
	}
}

// Finding 1 with --auth: a call without a valid key is refused from its
// headers, before its body arrives; it never holds a slot.
func TestUnauthenticatedCallsAreRefusedFromTheirHeaders(t *testing.T) {
	s := quietServer(t, Config{Auth: true, DataDir: t.TempDir()})
	f := newFlooder(t, s.Addr())
	f.open(500, "")
	f.open(500, "forged.jwt.token")
	if refused := f.sync(); refused != 1000 {
		t.Fatalf("%d of 1000 unauthenticated half-sent calls refused at once", refused)
	}
	if n := s.authn.CallsInFlight(); n != 0 {
		t.Fatalf("%d unauthenticated calls in flight", n)
	}
}

// One key cannot take the whole budget: past --max-streams-per-key its calls
// are refused while another key's are served.
func TestCallsInFlightPerKey(t *testing.T) {
	s := quietServer(t, Config{Auth: true, DataDir: t.TempDir(), MaxStreamsPerKey: 50})
	kr := loadKeyring(t, s)
	greedy := mint(t, kr, true)
	other := mint(t, kr, true)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", other)
	if _, err := pb.NewScsControlClient(dial(t, s.Addr())).CreateCache(ctx, &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	f := newFlooder(t, s.Addr())
	f.open(80, greedy)
	if refused := f.sync(); refused != 30 {
		t.Fatalf("%d of 80 calls of one key refused, want the 30 over its 50", refused)
	}
	wellBehaved(t, s, other)

	// The publish API's methods answer their callers themselves, yet a
	// Setsuna key they carry still counts against that key.
	f = newFlooder(t, s.Addr())
	f.openPath(80, other, "/setsuna.pubsub.v1.PubSub/Publish")
	if refused := f.sync(); refused != 30 {
		t.Fatalf("%d of 80 publish calls of one key refused, want the 30 over its 50", refused)
	}
}

// Connections past the per-address bound are closed at once.
func TestConnectionsPerAddress(t *testing.T) {
	s := quietServer(t, Config{MaxConnectionsPerIP: 5})
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	over, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := over.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a sixth connection from one address: read %v, want it closed", err)
	}
	// Closing one frees its slot.
	conns[0].Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := pb.NewScsControlClient(dial(t, s.Addr())).ListCaches(ctx, &pb.ListCachesRequest{})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one of five closed: %v", err)
		}
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}

func loadKeyring(t *testing.T, s *Server) *auth.Keyring {
	t.Helper()
	kr, err := auth.LoadOrCreateKeyring(filepath.Join(s.cfg.DataDir, auth.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func mint(t *testing.T, kr *auth.Keyring, super bool) string {
	t.Helper()
	m, err := auth.MintAPIKey(kr, "", auth.MintRequest{SuperUser: super}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m.JWT
}

func wantStatus(t *testing.T, err error, code string) {
	t.Helper()
	if got := status.Code(err).String(); got != code {
		t.Fatalf("status %v (%v), want %s", got, err, code)
	}
}

// Finding 4: one subscribe-only key opened every subscription slot of its
// cache. A key is now held to its own share; other keys keep subscribing.
func TestSubscriptionsPerKey(t *testing.T) {
	s := quietServer(t, Config{Auth: true, DataDir: t.TempDir(), TopicMaxSubscriptions: 20, TopicMaxSubscriptionsPerKey: 5})
	kr := loadKeyring(t, s)
	admin := mint(t, kr, true)
	subOnly := func() string {
		m, err := auth.MintAPIKey(kr, "", auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceTopic, Role: auth.RoleReadOnly, Cache: "c", Topic: "t"}}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return m.JWT
	}
	greedy, other := subOnly(), subOnly()
	conn := dial(t, s.Addr())
	if _, err := pb.NewScsControlClient(conn).CreateCache(metadata.AppendToOutgoingContext(t.Context(), "authorization", admin), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	ps := pb.NewPubsubClient(conn)
	subscribe := func(token string) error {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", token)
		st, err := ps.Subscribe(ctx, &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
		if err != nil {
			return err
		}
		_, err = st.Recv() // the first heartbeat, or the refusal
		return err
	}
	for i := range 5 {
		if err := subscribe(greedy); err != nil {
			t.Fatalf("subscription %d of the greedy key: %v", i, err)
		}
	}
	err := subscribe(greedy)
	wantStatus(t, err, "ResourceExhausted")
	if !strings.Contains(err.Error(), "subscribers") || !strings.Contains(err.Error(), "this key") {
		t.Fatalf("the refusal %q does not say it is this key's limit in the SDKs' words", err)
	}
	if err := subscribe(other); err != nil {
		t.Fatalf("another key while the greedy one is at its limit: %v", err)
	}
}

// Finding 5: a list grown past what one response can carry could be
// written but not read. Fetching it whole is now a clear RESOURCE_EXHAUSTED
// that says how to read it, and a range of it reads.
func TestOversizedCollectionFetch(t *testing.T) {
	s := quietServer(t, Config{})
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := pb.NewScsControlClient(conn).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	data := pb.NewScsClient(conn)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "cache", "c")
	value := bytes.Repeat([]byte("x"), 100<<10)
	for range 200 { // 20 MB
		if _, err := data.ListPushBack(ctx, &pb.ListPushBackRequest{ListName: []byte("l"), Value: value}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = data.ListFetch(ctx, &pb.ListFetchRequest{ListName: []byte("l")})
	wantStatus(t, err, "ResourceExhausted")
	if !strings.Contains(err.Error(), "index range") {
		t.Fatalf("the refusal %q does not say how to read the list", err)
	}
	r, err := data.ListFetch(ctx, &pb.ListFetchRequest{ListName: []byte("l"),
		StartIndex: &pb.ListFetchRequest_InclusiveStart{InclusiveStart: 0}, EndIndex: &pb.ListFetchRequest_ExclusiveEnd{ExclusiveEnd: 100}})
	if err != nil || len(r.GetFound().GetValues()) != 100 {
		t.Fatalf("a range of the list: %v", err)
	}
}

// Finding 5, the change feed: six 4 MiB items made a page no response could
// carry, and the reader was stuck. Pages now end at a byte bound.
func TestFeedOfLargeItems(t *testing.T) {
	s := quietServer(t, Config{Partitions: 1})
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := pb.NewScsControlClient(conn).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "cache", "c")
	data := pb.NewScsClient(conn)
	for i := range 6 {
		if _, err := data.Set(ctx, &pb.SetRequest{CacheKey: fmt.Appendf(nil, "k%d", i), CacheBody: make([]byte, 4<<20)}); err != nil {
			t.Fatal(err)
		}
	}
	fc := feedpb.NewFeedClient(conn)
	req := &feedpb.ReadFeedRequest{Start: &feedpb.ReadFeedRequest_Beginning{Beginning: &feedpb.Beginning{}}}
	seen := 0
	for range 20 {
		page, err := fc.ReadFeed(ctx, req)
		if err != nil {
			t.Fatalf("after %d changes: %v", seen, err)
		}
		if page.NotModified {
			break
		}
		seen += len(page.Changes)
		req = &feedpb.ReadFeedRequest{Start: &feedpb.ReadFeedRequest_Continuation{Continuation: page.Continuation}}
	}
	if seen != 6 {
		t.Fatalf("read %d of 6 large changes", seen)
	}
}
