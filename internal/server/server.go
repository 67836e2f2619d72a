// Package server assembles a Setsuna node: the engine, the services, the
// surfaces and their listeners, with a New → Start → Stop lifecycle. The
// public embed package wraps it for tests and embedding programs.
//
// Wiring, in the order data flows: surfaces (momento, feedrpc) → services
// (cache, topics, feed, auth) → engine (memstore's Store and TopicLog).
package server

import (
	"cmp"
	"context"
	"crypto/tls"
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

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/setsuna-io/setsuna/internal/appsync"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/cluster"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/feedrpc"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	"github.com/setsuna-io/setsuna/internal/leaderboard"
	"github.com/setsuna-io/setsuna/internal/metrics"
	"github.com/setsuna-io/setsuna/internal/momento"
	"github.com/setsuna-io/setsuna/internal/publish"
	"github.com/setsuna-io/setsuna/internal/pubsubhttp"
	"github.com/setsuna-io/setsuna/internal/pubsubrpc"
	"github.com/setsuna-io/setsuna/internal/store"
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
	redis    redis.UniversalClient // the redis engine's client (engine.go)
	nodes    *cluster.Registry     // the node registry (engine.go)
	auth     *auth.Service         // nil with auth off
	cache    *cache.Service
	hub      *topics.Hub
	topics   *topics.Service
	feed     *feed.Service
	publish  *publish.Service

	grpc   *grpc.Server
	authn  *grpcx.Authenticator
	health *health.Server
	// httpMux is where HTTP surfaces register their routes on the HTTP
	// listener; https are every HTTP listener (HTTP, Cosmos).
	httpMux *http.ServeMux
	https   []*httpListener
	ready   atomic.Bool
	tls     *tls.Config      // nil without --tls-cert
	appsync *appsync.Handler // nil without --graphql-schema
	metrics *metrics.Metrics // ops.go

	momentoComplete // TLS reloading, fault injection: server_momento.go

	mu  sync.Mutex
	lis net.Listener
}

// httpListener is one HTTP server of the node.
type httpListener struct {
	name string // "http", "cosmos", "graphql"
	addr string
	srv  *http.Server
	lis  net.Listener // set by Start
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// New validates cfg and builds a server; nothing listens until Start.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger}

	// Engine.
	if err := s.openEngine(); err != nil {
		return nil, err
	}
	if cfg.Auth {
		keyPath := filepath.Join(cfg.DataDir, auth.KeyFileName)
		kr, err := auth.LoadOrCreateKeyring(keyPath)
		if err != nil {
			_ = s.topicLog.Close()
			_ = s.store.Close()
			s.closeRedis()
			return nil, err
		}
		shared := cfg.AuthRecords
		if shared == nil && cfg.Engine == EngineRedis {
			shared = s.store // the raw store: its polls are not store calls of clients
		}
		s.auth = auth.New(auth.Config{
			Keyring:     kr,
			KeyPath:     keyPath,
			Shared:      shared,
			RevokedPath: filepath.Join(cfg.DataDir, auth.RevokedFileName),
			Endpoint:    cfg.Endpoint,
			Logger:      cfg.Logger,
		})
	}
	// Its calls counted (ops.go).
	s.newMetrics()
	s.store = s.metrics.InstrumentStore(s.store)
	s.topicLog = s.metrics.InstrumentTopicLog(s.topicLog, cfg.Engine)

	// Services.
	s.cache = cache.New(s.store, cache.Options{Logger: cfg.Logger})
	epochs := func(ctx context.Context, name string) (uint64, error) {
		info, err := s.store.CacheInfo(ctx, name)
		return info.Epoch, err
	}
	s.hub = topics.NewHub(s.topicLog, epochs, topics.HubOptions{MaxLag: cfg.TopicReplayMessages, MaxSubscriptionsPerCache: cfg.TopicMaxSubscriptions})
	s.topics = topics.NewService(s.hub, cfg.TopicMaxPayload, cfg.TopicMaxSubscriptionsPerKey).
		WithPublishQuota(topics.PublishQuota{Messages: cfg.TopicPublishRate, Bytes: cfg.TopicPublishBytesRate})
	s.feed = feed.NewService(s.store)
	s.newRegistry()
	s.cache.OnCacheDeleted(func(info store.CacheInfo) {
		s.hub.CacheDeleted(context.Background(), info.Name, info.Epoch)
	})

	// Surfaces on the gRPC listener.
	authn := grpcx.NewAuthenticator(s.auth, grpcx.StreamLimits{Max: cfg.MaxStreams, PerCaller: cfg.MaxStreamsPerKey, BodyTimeout: cfg.RequestBodyTimeout}, append([]string{
		"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/List", "/grpc.health.v1.Health/Watch",
	}, append(momento.PublicMethods, pubsubrpc.PublicMethods...)...)...)
	s.authn = authn
	recovery := grpcx.Recovery{Log: cfg.Logger}
	// Metrics first, so that refused calls and recovered panics count.
	unary := append([]grpc.UnaryServerInterceptor{s.metrics.UnaryInterceptor, recovery.Unary, authn.Unary, grpcx.ResponseLimit(maxMessageSize-64<<10, momento.ScalarMethods...)}, cfg.UnaryInterceptors...)
	streams := append([]grpc.StreamServerInterceptor{s.metrics.StreamInterceptor, recovery.Stream, authn.Stream}, cfg.StreamInterceptors...)
	opts, err := s.setupMomentoComplete(&unary, &streams)
	if err != nil {
		s.closeEngine()
		return nil, err
	}
	s.grpc = grpc.NewServer(append(opts,
		grpc.MaxRecvMsgSize(maxMessageSize),
		grpc.MaxSendMsgSize(maxMessageSize),
		// The SDKs ping every 5 s even without calls; grpc-go's default
		// policy (5 min) would answer with GOAWAY too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		// Bounds that hold before a call is authenticated: calls per
		// connection, header bytes, the handshake's time, idle connections
		// (the SDKs reconnect on their own), and, in Tap, calls in total and
		// per key, with the caller authenticated from its headers.
		grpc.MaxConcurrentStreams(uint32(streamsPerConn(cfg.MaxStreamsPerConnection))),
		grpc.MaxHeaderListSize(64<<10),
		grpc.ConnectionTimeout(10*time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute}),
		grpc.InTapHandle(s.metrics.Tap(authn.Tap)), // refused calls are counted (ops.go)
		// Reused workers keep their grown stacks: the profile showed 16% of
		// CPU in stack growth with a fresh goroutine per call. grpc hands a
		// call to a worker only if one is idle at that instant, else starts
		// a goroutine, and a stream holds its worker for its whole life, so
		// the pool must cover the calls in flight, not the cores: with 16
		// (4 per core at GOMAXPROCS 1) the GET profile at 64 clients still
		// spent 12.6% in stack growth, with 128 3.7%. An idle worker costs
		// its 8 KiB stack.
		grpc.NumStreamWorkers(uint32(max(128, 16*runtime.GOMAXPROCS(0)))),
		// A connection's 32 KiB write buffer goes back to a pool after each
		// flush instead of staying with the connection (idle connections,
		// and the 10,000-subscriber case, hold none).
		grpc.SharedWriteBuffer(true),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(streams...),
	)...)
	momento.New(momento.Options{Cache: s.cache, Topics: s.topics, Leaderboards: leaderboard.New(s.store), Auth: s.auth, Logger: cfg.Logger, HeartbeatInterval: cfg.heartbeat()}).Register(s.grpc)
	feedrpc.Register(s.grpc, s.feed, cfg.Logger)
	// The publish API, on both listeners.
	s.publish = publish.New(s.topics, s.store, publish.Options{DedupWindow: cfg.PublishDedupWindow, MaxRetained: cfg.PublishMaxRetained, Logger: cfg.Logger})
	entitlement := auth.Entitlement{Auth: s.auth, AllowToken: cfg.EntitlementAllowToken}
	pubsubrpc.Register(s.grpc, pubsubrpc.Options{Publish: s.publish, Entitlement: entitlement, Heartbeat: cfg.TopicHeartbeat, Servers: s.servers, Logger: cfg.Logger})
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.metrics.GRPCMethods(s.grpc)
	s.metricsSources()

	// The HTTP listener.
	s.httpMux = http.NewServeMux()
	s.httpMux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.httpMux.HandleFunc("GET /readyz", s.readyz)
	pubsubhttp.Register(s.httpMux, pubsubhttp.Options{Publish: s.publish, Entitlement: entitlement, MaxStreams: cfg.PublishMaxStreams, Heartbeat: cfg.TopicHeartbeat, Servers: s.servers, Logger: cfg.Logger})
	s.opsRoutes()
	if cfg.HTTPEnabled() {
		s.https = append(s.https, &httpListener{name: "http", addr: cfg.HTTPListen, srv: newHTTPServer(s.instrumentHTTP("http", s.httpMux), cfg.Logger)})
	}
	if s.tls, err = s.tlsConfig(); err != nil {
		s.closeEngine()
		return nil, err
	}
	// The Cosmos DB REST surface, on its own listener.
	if cfg.CosmosEnabled() {
		h, err := s.cosmosHandler()
		if err != nil {
			s.closeEngine()
			return nil, err
		}
		s.https = append(s.https, &httpListener{name: "cosmos", addr: cfg.CosmosListen, srv: newHTTPServer(s.instrumentHTTP("cosmos", h), cfg.Logger)})
	}
	// The AppSync surface, on its own listener (TLS and plaintext on one port).
	if cfg.GraphQLSchema != "" {
		if s.appsync, err = s.appsyncSurface(); err != nil {
			s.closeEngine()
			return nil, err
		}
		s.https = append(s.https, &httpListener{name: "graphql", addr: cfg.GraphQLListen, srv: newHTTPServer(s.instrumentHTTP("graphql", s.appsync), cfg.Logger)})
	}
	s.momentoCompleteHTTP()
	return s, nil
}

// closeEngine releases what New built when it fails half-way.
func (s *Server) closeEngine() {
	s.hub.Close()
	s.feed.Close()
	if s.publish != nil { // New may fail before it is made (TLS files)
		s.publish.Close()
	}
	if s.auth != nil {
		s.auth.Close()
	}
	_ = s.topicLog.Close()
	_ = s.store.Close()
	s.closeRedis()
}

func streamsPerConn(n int) int {
	if n <= 0 {
		return math.MaxUint32
	}
	return n
}

// Start listens and serves in the background; it returns once the listener
// accepts connections.
func (s *Server) Start() error {
	lis, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.cfg.Listen, err)
	}
	conns := grpcx.ConnLimits{Max: s.cfg.MaxConnections, PerIP: s.cfg.MaxConnectionsPerIP}
	lis = grpcx.LimitListener(lis, conns)
	for i, hl := range s.https {
		l, err := net.Listen("tcp", hl.addr)
		if err != nil {
			lis.Close()
			for _, prev := range s.https[:i] {
				prev.lis.Close()
			}
			return fmt.Errorf("cannot listen on %s: %w", hl.addr, err)
		}
		s.mu.Lock()
		hl.lis = s.wrapListener(hl.name, s.countConns(hl.name, grpcx.LimitListener(l, conns)))
		s.mu.Unlock()
	}
	lis = s.countConns("grpc", lis)
	s.mu.Lock()
	s.lis = lis
	s.mu.Unlock()
	if err := s.startTestAdmin(); err != nil {
		lis.Close()
		for _, hl := range s.https {
			hl.lis.Close()
		}
		return err
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() {
		if err := s.grpc.Serve(lis); err != nil {
			s.log.Error("grpc server stopped", "err", err)
		}
	}()
	attrs := []any{"grpc", lis.Addr().String()}
	for _, hl := range s.https {
		go func() {
			if err := hl.srv.Serve(hl.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server stopped", "listener", hl.name, "err", err)
			}
		}()
		attrs = append(attrs, hl.name, hl.lis.Addr().String())
	}
	s.startRegistry()
	s.ready.Store(true)
	persist := "off"
	if s.cfg.Persistent() {
		persist = s.cfg.EngineDir() + " fsync=" + cmp.Or(s.cfg.Fsync, "everysec")
	}
	s.log.Info("setsuna listening", append(attrs, "engine", s.cfg.Engine, "node", s.nodeID(), "persist", persist, "auth", s.auth != nil)...)
	return nil
}

// listenerAddr is the address of the named HTTP listener ("" when it is off
// or not started).
func (s *Server) listenerAddr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, hl := range s.https {
		if hl.name == name && hl.lis != nil {
			return hl.lis.Addr().String()
		}
	}
	return ""
}

// HTTPAddr is the HTTP listener's address ("" when it is off or not started).
func (s *Server) HTTPAddr() string { return s.listenerAddr("http") }

// CosmosAddr is the Cosmos listener's address ("" when it is off).
func (s *Server) CosmosAddr() string { return s.listenerAddr("cosmos") }

// GraphQLAddr is the AppSync listener's address ("" when it is off).
func (s *Server) GraphQLAddr() string { return s.listenerAddr("graphql") }

// Addr is the gRPC address the server listens on (useful with port 0).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// servers is what the publish API's server list says: this node's id and
// gRPC address (the advertised endpoint when one is set) first, then those
// of the other alive nodes of the engine (the registry), and its HTTP
// address.
func (s *Server) servers() (node string, grpcAddrs []string, httpAddr string) {
	addr := s.cfg.Endpoint
	if addr == s.cfg.Listen {
		addr = s.Addr()
	}
	addrs := []string{addr}
	for _, a := range s.nodes.AliveAddrs("grpc") {
		if a != addr && a != s.Addr() {
			addrs = append(addrs, a)
		}
	}
	return s.nodeID(), addrs, s.HTTPAddr()
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
	if s.appsync != nil {
		s.appsync.Close() // hijacked WebSockets are not seen by http.Server.Shutdown
	}
	s.publish.Close()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	var httpDone sync.WaitGroup
	for _, hl := range s.https {
		httpDone.Go(func() {
			if err := hl.srv.Shutdown(ctx); err != nil {
				hl.srv.Close()
			}
		})
	}
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("graceful shutdown timed out; closing remaining calls")
		s.grpc.Stop()
		<-done
	}
	httpDone.Wait()
	s.stopMomentoComplete(ctx)
	s.nodes.Stop(ctx)
	if s.auth != nil {
		s.auth.Close()
	}
	_ = s.topicLog.Close()
	err := s.store.Close()
	s.closeRedis()
	return err
}
