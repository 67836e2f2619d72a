package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/setsuna-io/setsuna/internal/gctune"
	"github.com/setsuna-io/setsuna/internal/server"
)

// serveOptions is what the serve flags fill: the server's config and the
// process settings around it.
type serveOptions struct {
	cfg       *server.Config
	logLevel  string
	logFormat string
	gcPercent int
	persist   *bool // --persist
	// Profiles of the whole run, for bench/ (see bench/README.md).
	cpuProfile, memProfile string
}

// serveFlags declares the serve flags on fs and returns what they fill.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{cfg: &server.Config{}}
	cfg := o.cfg
	fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "gRPC listen address (Momento SDKs, Go client)")
	fs.StringVar(&cfg.HTTPListen, "http-listen", server.DefaultHTTPListen, "HTTP listen address (the Momento HTTP API, health, /metrics, /v1/status, the console; \"off\" disables it)")
	fs.StringVar(&cfg.CosmosListen, "cosmos-listen", server.DefaultCosmosListen, "Azure Cosmos DB REST listen address (@azure/cosmos; \"off\" disables it)")
	fs.StringVar(&cfg.CosmosKey, "cosmos-key", "", "Cosmos account master key, base64 (default: the emulator's well-known key; with --auth, none unless given)")
	fs.StringVar(&cfg.GraphQLSchema, "graphql-schema", "", "AppSync schema file (SDL): serves GraphQL and its real-time subscriptions on --graphql-listen")
	fs.StringVar(&cfg.GraphQLListen, "graphql-listen", server.DefaultGraphQLListen, "AppSync GraphQL listen address (HTTP and WebSocket; TLS and plaintext on one port with --tls-cert)")
	fs.Var((*stringsFlag)(&cfg.GraphQLAPIKeys), "graphql-api-key", "accepted AppSync API key (x-api-key); repeatable")
	fs.StringVar(&cfg.GraphQLResolvers, "graphql-resolvers", "", "AppSync resolver config file (data sources per field; see docs/graphql-resolvers.md)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) for every listener; reloaded on change and on SIGHUP (setsuna cert dev makes one)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&cfg.AllowNonLoopback, "allow-non-loopback", false, "allow a non-loopback listen address while auth is off")
	fs.BoolVar(&cfg.Auth, "auth", false, "require API keys on every call (keys are signed by the keyring in --data-dir)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "directory for signing keys, the revocation list and (unless --persist=false) the data: caches, items, feeds, topics survive a restart (created if missing)")
	persist := fs.Bool("persist", true, "with --data-dir, keep the data there (false: only the keys; the data is lost on restart)")
	o.persist = persist
	fs.StringVar(&cfg.Fsync, "fsync", "everysec", "when the data log is fsynced: always (no acknowledged write is lost, even on power loss), everysec (a crash of the process loses nothing acknowledged; power loss about the last second), no (the OS decides)")
	fs.BoolVar(&cfg.Repair, "repair", false, "start despite damage in the middle of the data log or a damaged snapshot: keep what can be read; every cache gets a new epoch and every topic a new page")
	fs.Var((*sizeFlag)(&cfg.SnapshotAfter), "snapshot-after", "log growth after which a background snapshot compacts the data log, e.g. 64MiB (0: 64MiB)")
	// Engines (issue 15).
	fs.StringVar(&cfg.Engine, "engine", server.EngineMemory, "where the data lives: memory (embedded; with --data-dir it persists there) or redis (Redis/Valkey Cluster or one server at --redis-addrs, shared by every node that names it)")
	fs.Var((*listFlag)(&cfg.RedisAddrs), "redis-addrs", "redis engine: seed addresses host:port[,host:port...] of a Redis Cluster, or the address of one Redis server")
	fs.StringVar(&cfg.RedisUsername, "redis-username", "", "redis engine: ACL user name")
	fs.StringVar(&cfg.RedisPassword, "redis-password", "", "redis engine: password (prefer the SETSUNA_REDIS_PASSWORD environment variable: flags show in ps)")
	fs.BoolVar(&cfg.RedisTLS, "redis-tls", false, "redis engine: dial Redis with TLS")
	fs.StringVar(&cfg.RedisCA, "redis-ca", "", "redis engine: PEM file of the CAs that sign Redis's certificate (default: the system roots)")
	fs.IntVar(&cfg.RedisWaitReplicas, "redis-wait-replicas", 0, "redis engine: each write waits for this many replica acknowledgements (WAIT) before it is answered; 0: answered once the primary has it (a primary failover may lose the last writes)")
	fs.StringVar(&cfg.NodeID, "node-id", "", "this node's name in the node registry (setsuna cluster nodes; default: random)")
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "endpoint advertised in minted API keys (default: the listen address)")
	fs.Var((*sizeFlag)(&cfg.MaxMemory), "max-memory", "bound on cached data, e.g. 512MiB or 2GB (0: unbounded); sampled-LRU eviction beyond it")
	fs.IntVar(&cfg.Partitions, "partitions", 0, "change-log partitions of each new cache (0: 4 on the memory engine, 64 on redis, so that one cache spreads over every shard)")
	fs.IntVar(&cfg.FeedLogRecords, "feed-log-records", 0, "all-versions change log kept per partition, in records (0: 16384)")
	fs.Var((*sizeFlag)(&cfg.FeedLogBytes), "feed-log-bytes", "all-versions change log kept per partition, in bytes (0: 16MiB); with --max-memory all partitions together keep within an eighth of it")
	fs.IntVar(&cfg.TopicMaxPayload, "topic-max-payload", 0, "largest topic message in bytes (0: 4096, Momento's limit)")
	fs.IntVar(&cfg.TopicMaxSubscriptions, "topic-max-subscriptions", 0, "open topic subscriptions per cache (0: 10000)")
	fs.IntVar(&cfg.TopicReplayMessages, "topic-replay-messages", 0, "messages kept per topic for resuming subscribers (0: 4096)")
	fs.IntVar(&cfg.TopicMaxSubscriptionsPerKey, "topic-max-subscriptions-per-key", 0, "open topic subscriptions per API key, with --auth (0: 1000; -1: no bound)")
	fs.Var((*sizeFlag)(&cfg.TopicMaxMemory), "topic-max-memory", "retained topic messages of all topics together (0: an eighth of --max-memory, or 256MiB)")
	fs.IntVar(&cfg.TopicPublishRate, "topic-publish-rate", 0, "topic messages one API key may publish per second, with --auth (0: 10000; -1: no bound)")
	fs.Var((*sizeFlag)(&cfg.TopicPublishBytesRate), "topic-publish-bytes-rate", "topic payload bytes one API key may publish per second, with --auth, e.g. 8MiB (0: 32MiB; -1: no bound)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", server.DefaultMaxConnections, "connections each listener accepts in total (-1: no bound)")
	fs.IntVar(&cfg.MaxConnectionsPerIP, "max-connections-per-ip", server.DefaultMaxConnectionsPerIP, "connections each listener accepts from one remote address (-1: no bound)")
	fs.IntVar(&cfg.MaxStreamsPerConnection, "max-streams-per-connection", server.DefaultMaxStreamsPerConnection, "gRPC calls in flight per connection (-1: no bound)")
	fs.DurationVar(&cfg.RequestBodyTimeout, "request-body-timeout", 0, "time from a gRPC call's headers to its request message before the call is ended (0: 30s; -1s: none)")
	fs.IntVar(&cfg.MaxStreams, "max-streams", server.DefaultMaxStreams, "gRPC calls in flight in total (-1: no bound)")
	fs.IntVar(&cfg.MaxStreamsPerKey, "max-streams-per-key", server.DefaultMaxStreamsPerKey, "gRPC calls in flight per API key, with --auth (-1: no bound)")
	fs.StringVar(&cfg.EntitlementAllowToken, "entitlement-allow-token", "", "publish API: MigratoryData's basic entitlement; publishing needs this token (with auth off, other callers may only subscribe)")
	fs.DurationVar(&cfg.PublishDedupWindow, "publish-dedup-window", 0, "publish API: how long idempotency keys are remembered (0: 2m)")
	fs.IntVar(&cfg.PublishMaxRetained, "publish-max-retained", 0, "publish API: subjects with a retained message (0: 4096)")
	fs.IntVar(&cfg.PublishMaxStreams, "publish-max-streams", 0, "publish API: open HTTP event streams (0: 1024)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long SIGTERM waits for in-flight calls")
	fs.IntVar(&o.gcPercent, "gc-percent", 0, "fixed Go GC target (GOGC); 0 tunes it to the live heap: 100 for small heaps down to 25 for large ones (the GOGC environment variable wins when set)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap (allocs) profile to this file at shutdown")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	// Operations (issue 19): metrics, access logs, profiles.
	fs.IntVar(&cfg.AccessLogEvery, "access-log-sample", 0, "access log: 0 logs every request at debug level, N logs every Nth request at info level (1: all), -1 none")
	fs.IntVar(&cfg.MetricsCacheLabels, "metrics-cache-labels", 0, "caches with their own metric series, the rest summed as cache=\"_other\" (0: 100; -1: none)")
	fs.IntVar(&cfg.MetricsTopicLabels, "metrics-topic-labels", 0, "topics with their own metric series, the rest summed as topic=\"_other\" (0: 100; -1: none)")
	fs.BoolVar(&cfg.Pprof, "pprof", false, "serve /debug/pprof/ on the HTTP listener (super users only with --auth)")
	// Momento complete (issue 12): momento-local's fault injection.
	fs.StringVar(&cfg.TestAdminListen, "test-admin-listen", "", "turn on momento-local's fault injection (request metadata) and serve /block, /unblock here in plain HTTP; loopback only, never in production")
	// Read by loadServeConfig before the other flags; declared so -h lists it.
	fs.String("config", "", "JSON file of flag values, e.g. {\"listen\": \"127.0.0.1:8080\", \"max-memory\": \"1GiB\"}")
	return o
}

const serveUsage = `Usage: setsuna serve [flags]

Runs a Setsuna node, on the embedded memory engine or (--engine redis) on
Redis/Valkey shared with other nodes. Every flag can also be set
with an environment variable SETSUNA_<FLAG> (dashes become underscores, e.g.
SETSUNA_MAX_MEMORY=1GiB) or in the --config JSON file. Precedence: flags, then
environment, then the config file.

Flags:
`

func runServe(args []string) int {
	return serve(args, os.Stderr, nil)
}

// serve runs the server until SIGINT/SIGTERM, or until stop is closed (tests).
func serve(args []string, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	// The flag package would print the error and the whole usage; a bad
	// value gets one line instead, -h the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o := serveFlags(fs)
	cfg := o.cfg
	if err := loadServeConfig(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, serveUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "setsuna serve: %v (setsuna serve -h lists the flags)\n", err)
		return 2
	}
	cfg.NoPersist = !*o.persist
	cfg.Version = version
	logger, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna serve: %v\n", err)
		return 2
	}
	cfg.Logger = logger
	defer tuneGC(logger, o.gcPercent, cfg.MaxMemory)()
	srv, err := server.New(*cfg)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna serve: %v\n", err)
		return 2
	}
	if o.cpuProfile != "" {
		stopCPU, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "setsuna serve: %v\n", err)
			return 1
		}
		defer stopCPU()
	}
	// Signals are caught before Start logs "setsuna listening": a SIGHUP
	// sent by whoever waited for that line must not find the default
	// action (exit) still in place.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "setsuna serve: %v\n", err)
		return 1
	}
wait:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := srv.Reload(); err != nil {
					logger.Error("reload", "err", err)
				}
				if err := srv.ReloadTLS(); err != nil { // the TLS pair, now
					logger.Error("tls reload failed; keeping the current certificate", "err", err)
				}
				continue
			}
			logger.Info("shutting down", "signal", sig.String())
			break wait
		case <-stop:
			logger.Info("shutting down")
			break wait
		}
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			logger.Error("heap profile", "err", err)
		}
	}
	if err := srv.Stop(context.Background()); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// listFlag is a comma-separated list (repeating the flag adds to it).
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }
func (f *listFlag) Set(v string) error {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*f = append(*f, a)
		}
	}
	return nil
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(v string) error { *f = append(*f, v); return nil }

// loadServeConfig applies the config file, then the environment, then the
// command line to fs, so that later sources win.
func loadServeConfig(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	// The config file's name may come from the command line or the environment.
	path, _ := lookupEnv("SETSUNA_CONFIG")
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				path = args[i+1]
			}
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			path = a[strings.Index(a, "=")+1:]
		}
	}
	if path != "" {
		if err := applyConfigFile(fs, path); err != nil {
			return err
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SETSUNA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookupEnv(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("invalid %s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func applyConfigFile(fs *flag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config file: %w", err)
	}
	// Numbers stay as written: decoded as float64, 1000000 would print as
	// "1e+06", which no integer flag accepts.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil {
		return fmt.Errorf("cannot parse config file %s: %w", path, err)
	}
	if dec.More() {
		return fmt.Errorf("cannot parse config file %s: trailing data after the JSON object", path)
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "config" || fs.Lookup(name) == nil {
			return fmt.Errorf("config file %s: unknown setting %q", path, name)
		}
		if err := fs.Set(name, fmt.Sprint(values[name])); err != nil {
			return fmt.Errorf("config file %s: invalid %s: %w", path, name, err)
		}
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid log format %q: use text or json", format)
}

// tuneGC applies --gc-percent, or starts the tuner, unless GOGC is set; with
// --max-memory it also sets a soft memory limit above it, so the collector
// works harder before the process outgrows the bound that eviction keeps the
// data under. It returns a func that stops the tuner.
func tuneGC(log *slog.Logger, gcPercent int, maxMemory int64) (stop func()) {
	stop = func() {}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		if gcPercent > 0 {
			debug.SetGCPercent(gcPercent)
			log.Debug("gc target set", "gc_percent", gcPercent)
		} else {
			done := make(chan struct{})
			gctune.Start(done)
			stop = func() { close(done) }
		}
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && maxMemory > 0 {
		limit := maxMemory + maxMemory/4 + 64<<20
		debug.SetMemoryLimit(limit)
		log.Debug("gc memory limit set", "bytes", limit)
	}
	return stop
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot start CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot create heap profile: %w", err)
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
