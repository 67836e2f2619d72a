// Package server assembles a Setsuna node: the engine, the services, the
// surfaces and their listeners, with a New → Start → Stop lifecycle. The
// public embed package wraps it for tests and embedding programs.
//
// Wiring, in the order data flows: surfaces (momento, feedrpc) → services
// (cache, topics, feed, auth) → engine (memstore's Store and TopicLog).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/feedrpc"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	"github.com/setsuna-io/setsuna/internal/momento"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// maxMessageSize is above the 10,486,000 bytes the Momento SDKs allow, so an
// oversized item reaches the engine and gets its clear item-size error.
const maxMessageSize = 16 << 20

// Server is one Setsuna node.
type Server struct {
	cfg Config
	log *slog.Logger

	store    store.Store
	topicLog store.TopicLog
	auth     *auth.Service // nil with auth off
	cache    *cache.Service
	hub      *topics.Hub
	topics   *topics.Service
	feed     *feed.Service

	grpc   *grpc.Server
	health *health.Server
	// http serves the HTTP listener's mux; httpMux is where HTTP surfaces
	// register their routes.
	http    *http.Server
	httpMux *http.ServeMux
	ready   atomic.Bool

	mu      sync.Mutex
	lis     net.Listener
	httpLis net.Listener
}

// New validates cfg and builds a server; nothing listens until Start.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	if cfg.Auth {
		kr, err := auth.LoadOrCreateKeyring(filepath.Join(cfg.DataDir, auth.KeyFileName))
		if err != nil {
			return nil, err
		}
		s.auth = auth.New(auth.Config{
			Keyring:     kr,
			RevokedPath: filepath.Join(cfg.DataDir, auth.RevokedFileName),
			Endpoint:    cfg.Endpoint,
			Logger:      cfg.Logger,
		})
	}

	// Engine.
	s.store = memstore.New(memstore.Options{Partitions: cfg.Partitions, MaxMemory: cfg.MaxMemory, Logger: cfg.Logger})
	s.topicLog = memstore.NewTopicLog(memstore.TopicLogOptions{MaxMessages: cfg.TopicReplayMessages})

	// Services.
	s.cache = cache.New(s.store, cache.Options{Logger: cfg.Logger})
	epochs := func(ctx context.Context, name string) (uint64, error) {
		info, err := s.store.CacheInfo(ctx, name)
		return info.Epoch, err
	}
	s.hub = topics.NewHub(s.topicLog, epochs, topics.HubOptions{MaxLag: cfg.TopicReplayMessages, MaxSubscriptionsPerCache: cfg.TopicMaxSubscriptions})
	s.topics = topics.NewService(s.hub, cfg.TopicMaxPayload)
	s.feed = feed.NewService(s.store)
	s.cache.OnCacheDeleted(func(info store.CacheInfo) {
		s.hub.CacheDeleted(context.Background(), info.Name, info.Epoch)
	})

	// Surfaces on the gRPC listener.
	authn := grpcx.NewAuthenticator(s.auth, append([]string{
		"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/List", "/grpc.health.v1.Health/Watch",
	}, momento.PublicMethods...)...)
	recovery := grpcx.Recovery{Log: cfg.Logger}
	unary := append([]grpc.UnaryServerInterceptor{recovery.Unary, authn.Unary}, cfg.UnaryInterceptors...)
	streams := append([]grpc.StreamServerInterceptor{recovery.Stream, authn.Stream}, cfg.StreamInterceptors...)
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
		// The SDKs ping every 5 s even without calls; grpc-go's default
		// policy (5 min) would answer with GOAWAY too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		// Reused workers keep their grown stacks: the profile showed 16% of
		// CPU in stack growth with a fresh goroutine per call. A stream
		// holds its worker for its whole life, so there are more workers
		// than cores: with one per core, a single open subscription sent
		// every unary call back to a fresh goroutine.
		grpc.NumStreamWorkers(uint32(max(16, 4*runtime.GOMAXPROCS(0)))),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(streams...),
	)
	momento.New(momento.Options{Cache: s.cache, Topics: s.topics, Auth: s.auth, Logger: cfg.Logger, HeartbeatInterval: cfg.TopicHeartbeat}).Register(s.grpc)
	feedrpc.Register(s.grpc, s.feed, cfg.Logger)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)

	// The HTTP listener.
	s.httpMux = http.NewServeMux()
	s.httpMux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.httpMux.HandleFunc("GET /readyz", s.readyz)
	s.http = &http.Server{
		Handler:           s.httpMux,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// readyz answers 200 while the node serves, 503 before Start and once Stop
// has begun (load balancers then send traffic elsewhere).
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// Start listens and serves in the background; it returns once the listener
// accepts connections.
func (s *Server) Start() error {
	lis, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	var httpLis net.Listener
	if s.cfg.HTTPEnabled() {
		if httpLis, err = net.Listen("tcp", s.cfg.HTTPListen); err != nil {
			lis.Close()
			return fmt.Errorf("cannot listen on %s: %w", s.cfg.HTTPListen, err)
		}
	}
	s.mu.Lock()
	s.lis, s.httpLis = lis, httpLis
	s.mu.Unlock()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() {
		if err := s.grpc.Serve(lis); err != nil {
			s.log.Error("grpc server stopped", "err", err)
		}
	}()
	if httpLis != nil {
		go func() {
			if err := s.http.Serve(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "err", err)
			}
		}()
	}
	s.ready.Store(true)
	s.log.Info("setsuna listening", "grpc", lis.Addr().String(), "http", addrOf(httpLis), "engine", "memory", "auth", s.auth != nil)
	return nil
}

func addrOf(l net.Listener) string {
	if l == nil {
		return "off"
	}
	return l.Addr().String()
}

// HTTPAddr is the HTTP listener's address ("" when it is off or not started).
func (s *Server) HTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// Addr is the gRPC address the server listens on (useful with port 0).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// GRPCServer is the server's gRPC server, for tests that list its methods.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// Stop drains in-flight calls until ctx or the shutdown timeout ends, then
// closes every connection and the engine.
func (s *Server) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	s.ready.Store(false)
	s.health.Shutdown()
	// Subscriptions and feed tails never end by themselves: end them
	// (UNAVAILABLE, clients go elsewhere) so that the graceful stop can
	// finish.
	s.hub.Close()
	s.feed.Close()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	httpDone := make(chan struct{})
	go func() {
		if err := s.http.Shutdown(ctx); err != nil {
			s.http.Close()
		}
		close(httpDone)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("graceful shutdown timed out; closing remaining calls")
		s.grpc.Stop()
		<-done
	}
	<-httpDone
	if s.auth != nil {
		s.auth.Close()
	}
	_ = s.topicLog.Close()
	return s.store.Close()
}
