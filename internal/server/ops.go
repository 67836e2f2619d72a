package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/setsuna-io/setsuna/internal/console"
	"github.com/setsuna-io/setsuna/internal/httpx"
	"github.com/setsuna-io/setsuna/internal/metrics"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Operations wiring (issue 19): metrics, status, readiness, profiles and
// access logs. Measurement happens in one place per listener: the first
// gRPC interceptors, a middleware around each HTTP listener's handler, a
// counting net.Listener; the engine contracts are wrapped to count engine
// calls and feed reads.

// newMetrics builds the node's metrics; New calls it before the engine.
func (s *Server) newMetrics() {
	s.metrics = metrics.New(metrics.Options{
		CacheLabels:    s.cfg.MetricsCacheLabels,
		TopicLabels:    s.cfg.MetricsTopicLabels,
		Logger:         s.log,
		AccessLogEvery: s.cfg.AccessLogEvery,
	})
}

// metricsSources points the scrapes at the engine and the hub; New calls
// it once the services exist.
func (s *Server) metricsSources() {
	sr, _ := s.store.(store.StatsReader)
	s.metrics.SetSources(metrics.Sources{
		Engine:    sr,
		Hub:       s.hub.Stats,
		Ready:     func() bool { return s.readyNow(context.Background()) == "" },
		Listeners: s.listenerAddrs,
	})
}

// opsRoutes registers the operations endpoints and the web console on the
// HTTP listener.
func (s *Server) opsRoutes() {
	authn := httpx.Authenticator{Auth: s.auth}
	s.httpMux.Handle("GET /metrics", authn.Require(s.metrics.Handler(), nil))
	s.httpMux.Handle("GET /v1/status", authn.Require(s.metrics.StatusHandler(), nil))
	s.httpMux.Handle("GET /v1/cluster/nodes", authn.Require(http.HandlerFunc(s.clusterNodes), nil))
	if s.cfg.Pprof {
		s.httpMux.Handle("/debug/pprof/", authn.Require(metrics.PprofHandler(), nil))
	}
	console.New(console.Options{Cache: s.cache, Topics: s.topics, Feed: s.feed, Auth: s.auth, Logger: s.log}).Register(s.httpMux)
}

// httpSurfaces name the surfaces of the HTTP listener's routes by path
// prefix, the longest that matches (anything else is "http").
var httpSurfaces = map[string]string{
	"/metrics": "ops", "/healthz": "ops", "/readyz": "ops", "/v1/status": "ops", "/v1/cluster/": "ops", "/debug/": "ops",
	"/console/":   "console",
	"/v1/publish": "publish", "/v1/subscribe": "publish", "/v1/servers": "publish",
}

// instrumentHTTP wraps the handler of the named HTTP listener.
func (s *Server) instrumentHTTP(name string, h http.Handler) http.Handler {
	namer := metrics.RouteNamer(httpSurfaces)
	switch name {
	case "cosmos":
		namer = metrics.CosmosNamer
	case "graphql":
		namer = metrics.GraphQLNamer
	}
	return s.metrics.HTTP(namer, h)
}

// countConns wraps a listener of the node to count its connections.
func (s *Server) countConns(name string, l net.Listener) net.Listener {
	return s.metrics.CountConns(name, l)
}

// readyNow is "" when the node serves, else why not: before Start and once
// Stop has begun, or when the engine does not answer a ping within a
// second.
func (s *Server) readyNow(ctx context.Context) string {
	if !s.ready.Load() {
		return "not ready: the node is starting or stopping"
	}
	if p, ok := s.store.(store.Pinger); ok {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			return "not ready: the engine is unreachable: " + err.Error()
		}
	}
	return ""
}

// readyz answers 200 while the node serves and reaches its engine, 503
// otherwise (load balancers then send traffic elsewhere).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if why := s.readyNow(r.Context()); why != "" {
		http.Error(w, why, http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// listenerAddrs are the node's listeners by name.
func (s *Server) listenerAddrs() map[string]string {
	out := map[string]string{}
	if a := s.Addr(); a != "" {
		out["grpc"] = a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, hl := range s.https {
		if hl.lis != nil {
			out[hl.name] = hl.lis.Addr().String()
		}
	}
	return out
}

// Metrics is the node's metrics (for tests and embedders).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }
