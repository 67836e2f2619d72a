// Package metrics is how an operator sees a Setsuna node: Prometheus
// metrics (served at /metrics on the HTTP listener), the JSON status of
// /v1/status, and access logs. It measures in one place per listener — a gRPC
// interceptor, an HTTP middleware, a counting net.Listener — and wraps the
// engine contracts to count engine calls and to learn feed readers'
// positions; everything else (items, bytes, memory, subscribers, backlogs,
// feed lag) is read from the engine and the hub when a scrape asks, so the
// hot path pays only for the request counters and the latency histogram.
//
// Label cardinality is bounded: surface and op come from the registered gRPC
// methods and HTTP routes (anything else is "other"), status from the
// protocol's codes, engine errors from the rows of the errs table. Per-cache
// and per-topic series are capped (Options.CacheLabels, TopicLabels): the
// first N caches (topics) in name order get their own series, the rest are
// summed into cache="_other" (topic="_other"), and a negative cap turns
// per-cache (per-topic) series off, leaving the totals.
package metrics

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Defaults of Options.
const (
	DefaultCacheLabels = 100
	DefaultTopicLabels = 100
)

// Options configure Metrics. Zero fields take the defaults.
type Options struct {
	// CacheLabels caps the caches with their own series (0: 100; negative:
	// none). TopicLabels likewise for topics.
	CacheLabels, TopicLabels int
	// Logger receives the access log; AccessLogEvery selects it: 0 logs
	// every request at debug level (seen with --log-level debug), N > 0
	// every Nth request at info level (1: all of them), negative none.
	Logger         *slog.Logger
	AccessLogEvery int
	// Now replaces the clock, for tests.
	Now func() time.Time
}

// Sources are what a scrape reads; the server sets them once it has built
// the engine and the hub. Any may be nil.
type Sources struct {
	Engine store.StatsReader
	Hub    func() topics.HubStats
	// Ready reports whether the node serves (listeners up, engine reachable).
	Ready func() bool
	// Listeners are the node's listeners by name and address.
	Listeners func() map[string]string
}

// Metrics holds a node's collectors and its access log.
type Metrics struct {
	opts    Options
	reg     *prometheus.Registry
	started time.Time
	src     Sources
	access  *accessLog
	feed    *feedTracker
	grpc    map[string]*method // by full method name, built before serving

	requests     *prometheus.CounterVec   // surface, op, status
	duration     *prometheus.HistogramVec // surface, op
	streams      *prometheus.GaugeVec     // surface, op
	conns        *prometheus.GaugeVec     // listener
	connsTotal   *prometheus.CounterVec   // listener
	engineCalls  *prometheus.CounterVec   // engine, op
	engineErrors *prometheus.CounterVec   // engine, op, reason
}

// Buckets of setsuna_request_duration_seconds: 50 µs to 10 s.
var durationBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns a node's metrics with their own registry (so that several
// nodes in one process, as in tests, do not share counters).
func New(opts Options) *Metrics {
	if opts.CacheLabels == 0 {
		opts.CacheLabels = DefaultCacheLabels
	}
	if opts.TopicLabels == 0 {
		opts.TopicLabels = DefaultTopicLabels
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Metrics{
		opts:    opts,
		reg:     prometheus.NewRegistry(),
		started: opts.Now(),
		feed:    &feedTracker{now: opts.Now, pos: map[feedKey]feedPos{}},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setsuna_requests_total",
			Help: "Requests served, by surface, operation and status (gRPC code name or HTTP status); streams count when they end.",
		}, []string{"surface", "op", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "setsuna_request_duration_seconds",
			Help:    "Latency of unary requests (streams, WebSockets and server-sent events excluded), by surface and operation.",
			Buckets: durationBuckets,
		}, []string{"surface", "op"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "setsuna_streams_open",
			Help: "Open long-lived requests: gRPC streams (topic subscriptions, feed tails), WebSockets, server-sent events.",
		}, []string{"surface", "op"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "setsuna_connections_open",
			Help: "Open client connections, by listener.",
		}, []string{"listener"}),
		connsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setsuna_connections_total",
			Help: "Client connections accepted, by listener.",
		}, []string{"listener"}),
		engineCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setsuna_engine_calls_total",
			Help: "Calls from the services to the engine (round trips of the store and topic-log contracts), by engine and operation.",
		}, []string{"engine", "op"}),
		engineErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setsuna_engine_errors_total",
			Help: "Engine calls that failed, by engine, operation and error reason (a row of the errs table; internal for anything else).",
		}, []string{"engine", "op", "reason"}),
	}
	m.access = newAccessLog(opts.Logger, opts.AccessLogEvery)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "setsuna_build_info", Help: "Always 1; the labels say which build runs."}, []string{"version", "goversion"})
	info.WithLabelValues(buildVersion(), runtime.Version()).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.streams, m.conns, m.connsTotal, m.engineCalls, m.engineErrors, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &stateCollector{m: m})
	return m
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// SetSources sets what scrapes read. Call it before serving.
func (m *Metrics) SetSources(s Sources) { m.src = s }

// Registry is the node's registry (for embedders that add their own).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
