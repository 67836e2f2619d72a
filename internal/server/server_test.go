package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/momento"
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

// Every RPC any surface registers must go through the one Authorizer.
func TestEveryRegisteredRPCHasAnAuthRule(t *testing.T) {
	s := start(t, Config{Listen: "127.0.0.1:0"})
	n := 0
	for svc, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			n++
			if full := "/" + svc + "/" + m.Name; !momento.HasAuthRule(full) {
				t.Errorf("%s has no authorization rule", full)
			}
		}
	}
	if n < 60 {
		t.Fatalf("only %d RPCs registered", n)
	}
}

func TestHealthAndGracefulStop(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
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
	s := start(t, Config{Listen: "127.0.0.1:0", Auth: true, DataDir: t.TempDir()})
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
	f(Config{Listen: "127.0.0.1:0", Partitions: 100000}, "partitions")
	f(Config{Listen: "127.0.0.1:0", MaxMemory: -1}, "max memory")
	f(Config{Listen: "127.0.0.1:0", Auth: true}, "data-dir")
	// With auth on, an open address is fine.
	s, err := New(Config{Listen: "0.0.0.0:0", Auth: true, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("auth on 0.0.0.0: %v", err)
	}
	s.Stop(context.Background())
}

func TestTopicLimitsAreConfiguredAndAdvertised(t *testing.T) {
	s := start(t, Config{Listen: "127.0.0.1:0", TopicMaxPayload: 8192, TopicMaxSubscriptions: 7})
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
