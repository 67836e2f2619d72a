package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Config is everything a Server needs. The zero value of each field means its
// default, so Config{} is a working development server.
type Config struct {
	// Listen is the gRPC address. Default 127.0.0.1:8080, the address the
	// Momento SDKs' forMomentoLocal dials.
	Listen string
	// HTTPListen is the HTTP address: health, and later the Momento HTTP
	// API, publish over HTTP, metrics and the console. Default
	// 127.0.0.1:9090; "off" disables it.
	HTTPListen string
	// CosmosListen is the Azure Cosmos DB REST address (the @azure/cosmos
	// SDK). Default 127.0.0.1:8081, the emulator's; "off" disables it.
	CosmosListen string
	// CosmosKey is the account master key (base64). Default: the emulator's
	// well-known key, unless Auth is on: then only an explicit key is
	// accepted, and without one only resource tokens (Setsuna API keys).
	CosmosKey string
	// GraphQLSchema is an AppSync schema file (SDL); with it the AppSync
	// surface serves on GraphQLListen (default 127.0.0.1:8082): GraphQL over
	// HTTP and the real-time WebSocket protocols.
	GraphQLSchema string
	GraphQLListen string
	// GraphQLAPIKeys are the accepted x-api-key values.
	GraphQLAPIKeys []string
	// GraphQLResolvers is the resolver config file (data sources per field).
	GraphQLResolvers string
	// TLSCert and TLSKey are a PEM certificate and key: TLS on every
	// listener (the AppSync listener then serves TLS and plaintext on one
	// port, as Amplify always dials wss://). The pair is reloaded when the
	// files change and on Server.ReloadTLS (SIGHUP); `setsuna cert dev`
	// makes a development pair.
	TLSCert, TLSKey string
	// AllowNonLoopback lets a server without auth listen on a non-loopback
	// address. Without it such a configuration is refused.
	AllowNonLoopback bool
	// Auth turns authentication on: every call needs a key signed by the
	// keyring in DataDir (created there on first start).
	Auth bool
	// AuthRecords, with Auth, shares the keyring and the revocation list
	// through an engine's records, for nodes that serve one engine: a key
	// minted on any node verifies on all, a revocation reaches all within a
	// second (see auth.Config.Shared). An engine shared by several nodes
	// (--engine redis) uses its own store when this is nil; with the memory
	// engine nil keeps them in DataDir's files alone.
	AuthRecords store.Records
	// DataDir holds the signing keys and the revocation list, and the
	// memory engine's log and snapshots (in DataDir/engine) unless
	// NoPersist is set.
	DataDir string
	// Persistence (with a DataDir): NoPersist keeps only the keys there;
	// Fsync is the log's policy, "always", "everysec" (default) or "no";
	// Repair starts despite damage in the middle of the log or a damaged
	// snapshot, keeping what can be read and changing every cache's epoch
	// and every topic's page; SnapshotAfter is the log growth in bytes
	// after which a snapshot compacts it (0: 64 MiB).
	NoPersist     bool
	Fsync         string
	Repair        bool
	SnapshotAfter int64
	// Engine is "memory" (default: the embedded engine) or "redis": the
	// data, topics and feeds live on Redis/Valkey (RedisAddrs), shared by
	// every node that names the same servers (engine.go).
	Engine string
	// RedisAddrs are seed addresses of a Redis Cluster or one Redis server;
	// RedisUsername and RedisPassword its ACL credentials; RedisTLS dials it
	// with TLS, trusting RedisCA (a PEM file) or the system roots;
	// RedisWaitReplicas makes each write wait for that many replica
	// acknowledgements (WAIT) before it is answered.
	RedisAddrs        []string
	RedisUsername     string
	RedisPassword     string
	RedisTLS          bool
	RedisCA           string
	RedisWaitReplicas int
	// NodeID names the node in the registry (default: random); Version is
	// what the registry says it runs.
	NodeID  string
	Version string
	// Endpoint is the address minted keys advertise (default: Listen).
	Endpoint string
	// MaxMemory bounds the memory engine's data, in bytes (0: unbounded).
	MaxMemory int64
	// Partitions is the number of change-log partitions of each new cache.
	Partitions int
	// FeedLogRecords and FeedLogBytes bound each partition's
	// all-versions-and-deletes log (0: 16,384 records, 16 MiB); with
	// MaxMemory the logs together also keep within an eighth of it.
	FeedLogRecords int
	FeedLogBytes   int64
	// Topic limits (0: the defaults): payload bytes per message,
	// open subscriptions per cache, messages kept per topic for resume.
	TopicMaxPayload       int
	TopicMaxSubscriptions int
	TopicReplayMessages   int
	// TopicMaxSubscriptionsPerKey bounds one API key's open subscriptions
	// (0: a tenth of TopicMaxSubscriptions' default; -1: none). TopicMaxMemory
	// bounds the retained messages of all topics together (0: an eighth of
	// MaxMemory when it is set, else 256 MiB).
	TopicMaxSubscriptionsPerKey int
	TopicMaxMemory              int64
	// TopicPublishRate and TopicPublishBytesRate bound one API key's
	// publications per second, in messages and payload bytes (0: 10,000 and
	// 32 MiB; -1: none). Dev mode is not bounded.
	TopicPublishRate      int
	TopicPublishBytesRate int64
	// TopicHeartbeat is how often an idle subscription gets a heartbeat
	// (0: 5s, what the SDKs expect; tests shorten it).
	TopicHeartbeat time.Duration
	// Connection and call bounds of every listener (0: the defaults; -1: no
	// bound): connections in total and from one remote address, gRPC calls
	// in flight per connection, in total, and per API key.
	MaxConnections          int
	MaxConnectionsPerIP     int
	MaxStreamsPerConnection int
	// RequestBodyTimeout bounds the time from a gRPC call's headers to its
	// request message (0: 30s; negative: none).
	RequestBodyTimeout time.Duration
	MaxStreams         int
	MaxStreamsPerKey   int
	// The publish API (setsuna.pubsub.v1 and /v1/publish, /v1/subscribe).
	// EntitlementAllowToken turns on MigratoryData's "basic" entitlement:
	// publishing needs this token (with auth off, other callers may only
	// subscribe; with auth on, Setsuna tokens keep their permissions).
	// PublishDedupWindow is how long idempotency keys are remembered (0: 2
	// minutes); PublishMaxRetained bounds the subjects with a retained
	// message (0: 4096); PublishMaxStreams bounds the open HTTP event
	// streams (0: 1024).
	EntitlementAllowToken string
	PublishDedupWindow    time.Duration
	PublishMaxRetained    int
	PublishMaxStreams     int
	// ShutdownTimeout bounds the graceful drain of in-flight calls on Stop.
	ShutdownTimeout time.Duration
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// UnaryInterceptors and StreamInterceptors run on every gRPC call after
	// authentication, for embedders (request logs, fault injection in tests).
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor

	// Operations (ops.go). MetricsCacheLabels and MetricsTopicLabels cap
	// the caches and topics with their own series (0: 100; negative: none;
	// the rest are summed as "_other"). AccessLogEvery selects the access
	// log: 0 one line per request at debug level, N > 0 every Nth request
	// at info level, negative none. Pprof serves /debug/pprof/ on the HTTP
	// listener (super users only with auth on).
	MetricsCacheLabels int
	MetricsTopicLabels int
	AccessLogEvery     int
	Pprof              bool

	// Momento complete (issue 12).
	//
	// TestAdminListen turns on momento-local's fault injection: request
	// metadata (return-error, delay-ms, stream-error, ...) on the gRPC
	// listener and /block, /unblock on this HTTP address. Off when empty;
	// never on in production.
	TestAdminListen string
}

// Default bounds (see Config).
const (
	DefaultMaxConnections          = 10000
	DefaultMaxConnectionsPerIP     = 2000
	DefaultMaxStreamsPerConnection = 1000
	// DefaultRequestBodyTimeout leaves a 5 MB item 30 s to arrive.
	DefaultRequestBodyTimeout = 30 * time.Second
	DefaultMaxStreams         = 50000
	DefaultMaxStreamsPerKey   = 10000
)

const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultHTTPListen      = "127.0.0.1:9090"
	DefaultCosmosListen    = "127.0.0.1:8081"
	DefaultGraphQLListen   = "127.0.0.1:8082"
	DefaultPartitions      = 4
	DefaultShutdownTimeout = 10 * time.Second
	maxPartitions          = 256
)

// ErrNonLoopback is returned by Validate for an open address without auth.
var ErrNonLoopback = errors.New("server: refusing to listen on a non-loopback address with auth off")

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.HTTPListen == "" {
		c.HTTPListen = DefaultHTTPListen
	}
	if c.CosmosListen == "" {
		c.CosmosListen = DefaultCosmosListen
	}
	if c.GraphQLListen == "" {
		c.GraphQLListen = DefaultGraphQLListen
	}
	if c.Engine == "" {
		c.Engine = EngineMemory
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
		if c.Engine == EngineRedis {
			c.Partitions = DefaultRedisPartitions
		}
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Endpoint == "" {
		c.Endpoint = c.Listen
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	orDefault := func(v *int, d int) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0 // no bound
		}
	}
	orDefault(&c.TopicPublishRate, topics.DefaultPublishMessagesPerKey)
	switch {
	case c.TopicPublishBytesRate == 0:
		c.TopicPublishBytesRate = topics.DefaultPublishBytesPerKey
	case c.TopicPublishBytesRate < 0:
		c.TopicPublishBytesRate = 0 // no bound
	}
	if c.TopicMaxMemory == 0 {
		c.TopicMaxMemory = 256 << 20
		if c.MaxMemory > 0 {
			c.TopicMaxMemory = max(c.MaxMemory/8, 1<<20)
		}
	}
	orDefault(&c.MaxConnections, DefaultMaxConnections)
	orDefault(&c.MaxConnectionsPerIP, DefaultMaxConnectionsPerIP)
	orDefault(&c.MaxStreamsPerConnection, DefaultMaxStreamsPerConnection)
	switch {
	case c.RequestBodyTimeout == 0:
		c.RequestBodyTimeout = DefaultRequestBodyTimeout
	case c.RequestBodyTimeout < 0:
		c.RequestBodyTimeout = 0 // none
	}
	orDefault(&c.MaxStreams, DefaultMaxStreams)
	orDefault(&c.MaxStreamsPerKey, DefaultMaxStreamsPerKey)
}

// HTTPEnabled reports whether the HTTP listener is on.
func (c *Config) HTTPEnabled() bool { return c.HTTPListen != "off" }

// CosmosEnabled reports whether the Cosmos listener is on.
func (c *Config) CosmosEnabled() bool { return c.CosmosListen != "off" }

// Validate checks a defaulted config.
func (c *Config) Validate() error {
	if err := c.checkListen("listen", c.Listen); err != nil {
		return err
	}
	if c.HTTPEnabled() {
		if err := c.checkListen("http listen", c.HTTPListen); err != nil {
			return err
		}
	}
	if c.CosmosEnabled() {
		if err := c.checkListen("cosmos listen", c.CosmosListen); err != nil {
			return err
		}
	}
	if c.GraphQLSchema != "" {
		if err := c.checkListen("graphql listen", c.GraphQLListen); err != nil {
			return err
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if c.Partitions < 1 || c.Partitions > maxPartitions {
		return fmt.Errorf("partitions must be between 1 and %d, got %d", maxPartitions, c.Partitions)
	}
	if c.TopicMaxPayload < 0 || c.TopicMaxSubscriptions < 0 || c.TopicReplayMessages < 0 || c.TopicMaxMemory < 0 {
		return errors.New("topic limits must not be negative")
	}
	if c.FeedLogRecords < 0 || c.FeedLogBytes < 0 {
		return errors.New("feed log bounds must not be negative")
	}
	if c.PublishDedupWindow < 0 || c.PublishMaxRetained < 0 || c.PublishMaxStreams < 0 {
		return errors.New("publish limits must not be negative")
	}
	if c.MaxMemory < 0 {
		return fmt.Errorf("max memory must not be negative, got %d", c.MaxMemory)
	}
	if err := c.validateEngine(); err != nil {
		return err
	}
	if c.Auth && c.DataDir == "" {
		return errors.New("auth needs a --data-dir for its signing keys")
	}
	if _, err := wal.ParseFsync(c.Fsync); err != nil {
		return err
	}
	if c.SnapshotAfter < 0 {
		return fmt.Errorf("snapshot-after must not be negative, got %d", c.SnapshotAfter)
	}
	if c.TestAdminListen != "" {
		// The test admin endpoints take no credentials: loopback only,
		// whatever --auth says, unless the operator insists.
		host, _, err := net.SplitHostPort(c.TestAdminListen)
		if err != nil {
			return fmt.Errorf("invalid test admin listen address %q: %w", c.TestAdminListen, err)
		}
		if !isLoopback(host) && !c.AllowNonLoopback {
			return fmt.Errorf("%w: test admin %q takes no credentials (pass --allow-non-loopback to expose it)", ErrNonLoopback, c.TestAdminListen)
		}
	}
	return nil
}

// Persistent reports whether the memory engine keeps its data in DataDir.
func (c *Config) Persistent() bool {
	return c.Engine == EngineMemory && c.DataDir != "" && !c.NoPersist
}

// EngineDir is where a persistent memory engine keeps its log and snapshots.
func (c *Config) EngineDir() string { return filepath.Join(c.DataDir, "engine") }

// TLSEnabled reports whether the listeners serve TLS.
func (c *Config) TLSEnabled() bool { return c.TLSCert != "" }

// checkListen checks one listen address: a host:port, and loopback unless
// auth is on or the operator allowed an open address.
func (c *Config) checkListen(what, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid %s address %q: %w", what, addr, err)
	}
	if !c.Auth && !c.AllowNonLoopback && !isLoopback(host) {
		return fmt.Errorf("%w: %q (enable --auth, or pass --allow-non-loopback to accept unauthenticated clients from the network)", ErrNonLoopback, addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
