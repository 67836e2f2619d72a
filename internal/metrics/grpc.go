package metrics

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/setsuna-io/setsuna/internal/auth"
)

// numCodes is the number of gRPC codes (OK .. Unauthenticated).
const numCodes = 17

// method is the metrics of one gRPC method: its labels and its series,
// created on first use (so /metrics lists only what was called) and then
// reached with atomic loads, without hashing label values per call.
type method struct {
	surface, op string
	m           *Metrics
	hist        atomic.Pointer[observerBox]
	codes       [numCodes]atomic.Pointer[counterBox]
	open        prometheus.Gauge // streams only
}

type (
	observerBox struct{ prometheus.Observer }
	counterBox  struct{ prometheus.Counter }
)

func (x *method) count(code codes.Code) {
	if int(code) >= numCodes {
		x.m.requests.WithLabelValues(x.surface, x.op, code.String()).Inc()
		return
	}
	c := x.codes[code].Load()
	if c == nil {
		c = &counterBox{x.m.requests.WithLabelValues(x.surface, x.op, code.String())}
		x.codes[code].Store(c)
	}
	c.Inc()
}

func (x *method) observe(d time.Duration) {
	h := x.hist.Load()
	if h == nil {
		h = &observerBox{x.m.duration.WithLabelValues(x.surface, x.op)}
		x.hist.Store(h)
	}
	h.Observe(d.Seconds())
}

// GRPCMethods prepares the series of every method of srv. Call it after the
// services are registered and before serving: the interceptors read the
// table without locks.
func (m *Metrics) GRPCMethods(srv *grpc.Server) {
	m.grpc = map[string]*method{}
	for svc, info := range srv.GetServiceInfo() {
		surface := grpcSurface(svc)
		short := svc[strings.LastIndexByte(svc, '.')+1:]
		for _, mi := range info.Methods {
			x := &method{surface: surface, op: short + "/" + mi.Name, m: m}
			if (mi.IsClientStream || mi.IsServerStream) && longLived[mi.Name] {
				x.open = m.streams.WithLabelValues(x.surface, x.op)
			}
			m.grpc["/"+svc+"/"+mi.Name] = x
		}
	}
}

// longLived are the streaming methods that last as long as their client
// wants (subscriptions, feed tails, health watches): they are counted as
// open streams and kept out of the latency histogram. Other streams (batch
// gets and sets) are requests like unary calls.
var longLived = map[string]bool{"Subscribe": true, "TailFeed": true, "Watch": true}

// grpcSurface names the surface of a gRPC service: setsuna.<name>.* is
// Setsuna's own <name> service, grpc.* is gRPC's (health), anything else
// is Momento's wire contract.
func grpcSurface(svc string) string {
	switch {
	case strings.HasPrefix(svc, "setsuna."):
		rest := strings.TrimPrefix(svc, "setsuna.")
		if i := strings.IndexByte(rest, '.'); i > 0 {
			return rest[:i]
		}
		return "setsuna"
	case strings.HasPrefix(svc, "grpc."):
		return "grpc"
	}
	return "momento"
}

func (m *Metrics) method(full string) *method {
	if x := m.grpc[full]; x != nil {
		return x
	}
	// Not registered when the table was built (gRPC answers unknown
	// methods itself, before interceptors): one bounded bucket.
	return &method{surface: "grpc", op: "other", m: m}
}

// Tap wraps the listener's tap handle (which admits calls from their
// headers: stream budgets, authentication) so that the calls it refuses are
// counted and logged too; they never reach the interceptors.
func (m *Metrics) Tap(inner tap.ServerInHandle) tap.ServerInHandle {
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		var start time.Time
		if m.access.on { // the clock only for a log line
			start = time.Now()
		}
		ctx2, err := inner(ctx, info)
		if err != nil {
			x := m.method(info.FullMethodName)
			code := status.Code(err)
			x.count(code)
			if m.access.pick() {
				cache := ""
				if v := info.Header.Get("cache"); len(v) > 0 {
					cache = v[0]
				}
				m.access.write(ctx, x.surface, x.op, cache, code.String(), time.Since(start), nil)
			}
		}
		return ctx2, err
	}
}

// UnaryInterceptor counts and times unary calls and writes their access log
// lines. It must be the first interceptor, so that calls refused by
// authentication and recovered panics are counted too.
func (m *Metrics) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	x := m.method(info.FullMethod)
	start := time.Now()
	var slot *auth.CallerSlot
	logged := m.access.pick()
	if logged {
		ctx, slot = auth.WithCallerSlot(ctx)
	}
	resp, err := h(ctx, req)
	d := time.Since(start)
	code := status.Code(err)
	x.count(code)
	x.observe(d)
	if logged {
		m.access.write(ctx, x.surface, x.op, grpcCache(ctx), code.String(), d, slot)
	}
	return resp, err
}

// StreamInterceptor counts streams when they end. Long-lived ones (see
// longLived) have a gauge of open streams instead of a latency.
func (m *Metrics) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	x := m.method(info.FullMethod)
	start := time.Now()
	if x.open != nil {
		x.open.Inc()
		defer x.open.Dec()
	}
	var slot *auth.CallerSlot
	logged := m.access.pick()
	if logged {
		var ctx context.Context
		ctx, slot = auth.WithCallerSlot(ss.Context())
		ss = &slotStream{ServerStream: ss, ctx: ctx}
	}
	err := h(srv, ss)
	code := status.Code(err)
	x.count(code)
	if x.open == nil {
		x.observe(time.Since(start))
	}
	if logged {
		m.access.write(ss.Context(), x.surface, x.op, grpcCache(ss.Context()), code.String(), time.Since(start), slot)
	}
	return err
}

type slotStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *slotStream) Context() context.Context { return s.ctx }

// grpcCache is the cache a Momento call names in its "cache" header.
func grpcCache(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, "cache"); len(v) > 0 {
		return v[0]
	}
	return ""
}
