package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	feedpb "github.com/setsuna-io/setsuna/proto/feedpb"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestHealthAndGracefulStop(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, s.Addr())
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", resp, err)
	}
	ctl := pb.NewScsControlClient(conn)
	if _, err := ctl.CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = ctl.ListCaches(t.Context(), &pb.ListCachesRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("call after Stop = %v, want Unavailable", err)
	}
}

func TestAuthOnRequiresKeys(t *testing.T) {
	s := start(t, Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Auth: true, DataDir: t.TempDir()})
	_, err := pb.NewScsControlClient(dial(t, s.Addr())).ListCaches(t.Context(), &pb.ListCachesRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("ListCaches without a key = %v, want Unauthenticated", err)
	}
}

func TestConfigValidation(t *testing.T) {
	f := func(cfg Config, want string) {
		t.Helper()
		cfg.Logger = slog.New(slog.DiscardHandler)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("New(%+v) = %v, want an error containing %q", cfg, err, want)
		}
	}
	f(Config{Listen: "nonsense"}, "invalid listen address")
	f(Config{Listen: "0.0.0.0:0"}, "non-loopback")
	f(Config{Listen: "127.0.0.1:0", HTTPListen: "0.0.0.0:0"}, "non-loopback")
	f(Config{Listen: "127.0.0.1:0", HTTPListen: "nonsense"}, "invalid http listen address")
	f(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Partitions: 100000}, "partitions")
	f(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", MaxMemory: -1}, "max memory")
	f(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Auth: true}, "data-dir")
	// With auth on, an open address is fine.
	s, err := New(Config{Listen: "0.0.0.0:0", Auth: true, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("auth on 0.0.0.0: %v", err)
	}
	s.Stop(context.Background())
}

func TestTopicLimitsAreConfiguredAndAdvertised(t *testing.T) {
	s := start(t, Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", TopicMaxPayload: 8192, TopicMaxSubscriptions: 7})
	conn := dial(t, s.Addr())
	ctl := pb.NewScsControlClient(conn)
	if _, err := ctl.CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	resp, err := ctl.ListCaches(t.Context(), &pb.ListCachesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	tl := resp.Cache[0].TopicLimits
	if tl.MaxPublishMessageSizeKb != 8 || tl.MaxSubscriptionCount != 7 {
		t.Fatalf("topic limits = %+v, want 8 KB and 7 subscriptions", tl)
	}
	pub := pb.NewPubsubClient(conn)
	publish := func(n int) error {
		_, err := pub.Publish(t.Context(), &pb.PublishRequest{CacheName: "c", Topic: "t",
			Value: &pb.TopicValue{Kind: &pb.TopicValue_Binary{Binary: make([]byte, n)}}})
		return err
	}
	if err := publish(8192); err != nil {
		t.Fatalf("publish of 8192 bytes: %v", err)
	}
	if err := publish(8193); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("publish of 8193 bytes = %v, want ResourceExhausted", err)
	}
}

// Stop ends open feed tails and subscriptions itself (UNAVAILABLE) instead
// of waiting for them until the shutdown timeout: with an hour of timeout,
// a stop that waited would never return.
func TestStopEndsLongLivedStreams(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", ShutdownTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, s.Addr())
	if _, err := pb.NewScsControlClient(conn).CreateCache(t.Context(), &pb.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "cache", "c")
	tail, err := feedpb.NewFeedClient(conn).TailFeed(ctx, &feedpb.ReadFeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tail.Recv(); err != nil { // the first NotModified page: the tail waits now
		t.Fatal(err)
	}
	sub, err := pb.NewPubsubClient(conn).Subscribe(t.Context(), &pb.SubscriptionRequest{CacheName: "c", Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Recv(); err != nil { // the first heartbeat
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	for _, recv := range []func() error{
		func() error { _, err := tail.Recv(); return err },
		func() error { _, err := sub.Recv(); return err },
	} {
		var err error
		for err == nil {
			err = recv()
		}
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("stream at stop: %v, want Unavailable", err)
		}
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Stop still waits for its streams after a minute")
	}
}

func TestHealthOverHTTP(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		t.Helper()
		resp, err := http.Get("http://" + s.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if get("/healthz") != http.StatusOK || get("/readyz") != http.StatusOK {
		t.Fatal("a started node is not healthy and ready")
	}
	if get("/nothing-here") != http.StatusNotFound {
		t.Fatal("unknown path")
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.HTTPAddr() + "/healthz"); err == nil {
		t.Fatal("the HTTP listener still answers after Stop")
	}
	off := start(t, Config{Listen: "127.0.0.1:0", HTTPListen: "off", CosmosListen: "off"})
	if off.HTTPAddr() != "" {
		t.Fatalf("HTTP listener with off: %q", off.HTTPAddr())
	}
}
