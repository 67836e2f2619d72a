package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Defaults applied by [NewCacheClient] to zero fields of [Config].
const (
	DefaultAddress = "127.0.0.1:8080"
	DefaultTTL     = 60 * time.Second
	DefaultTimeout = 5 * time.Second
)

// MaxMessageSize is the largest gRPC message the client sends or accepts. It
// is above the 10,486,000 bytes the Momento SDKs allow, so that the server,
// not the transport, decides which items are too large.
const MaxMessageSize = 11 << 20

// Keepalive settings. The Momento SDKs ping every 5s; grpc-go refuses
// intervals under 10s (it would raise them and log a warning), so 10s it is.
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = time.Second
)

// Config configures a [CacheClient]. The zero value talks plaintext to
// 127.0.0.1:8080 without a token.
type Config struct {
	// Address is the server's host:port. Default: "127.0.0.1:8080".
	Address string

	// Token is sent as the raw "authorization" metadata of every call (no
	// "Bearer" prefix). Empty is allowed: it is what a server without
	// authentication expects.
	Token string

	// DefaultTTL is the TTL of items written by requests whose Ttl is zero.
	// Default: 60s, like the Momento SDKs. Must not be negative.
	DefaultTTL time.Duration

	// Timeout is the deadline of each call whose context has none. Default: 5s.
	// Must not be negative.
	Timeout time.Duration

	// TLS enables TLS with the system roots. Setting TLSConfig implies TLS.
	TLS bool
	// TLSConfig, if set, is used for the TLS connection.
	TLSConfig *tls.Config

	// DialOptions are appended to the client's own options (advanced use, e.g.
	// interceptors or a custom dialer).
	DialOptions []grpc.DialOption
}

// CacheClient talks to a Setsuna server (or any server of the Momento cache
// gRPC contract) over one shared gRPC connection. It is safe for concurrent
// use; create one and share it.
type CacheClient struct {
	conn       *grpc.ClientConn
	data       pb.ScsClient
	control    pb.ScsControlClient
	ping       pb.PingClient
	token      string
	defaultTTL time.Duration
	timeout    time.Duration
}

// NewCacheClient validates cfg, applies defaults and prepares the connection.
// It does not contact the server: the connection is established lazily, and
// an unreachable server surfaces as a ServerUnavailableError on the first call.
func NewCacheClient(cfg Config) (*CacheClient, error) {
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	if cfg.DefaultTTL < 0 {
		return nil, invalidArgument("default TTL must not be negative, got %v", cfg.DefaultTTL)
	}
	if cfg.DefaultTTL == 0 {
		cfg.DefaultTTL = DefaultTTL
	}
	if cfg.Timeout < 0 {
		return nil, invalidArgument("timeout must not be negative, got %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if !printableASCII(cfg.Token) {
		return nil, invalidArgument("token must consist of printable ASCII characters")
	}

	creds := insecure.NewCredentials()
	if cfg.TLS || cfg.TLSConfig != nil {
		tc := cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                keepaliveTime,
			Timeout:             keepaliveTimeout,
			PermitWithoutStream: true,
		}),
	}
	opts = append(opts, cfg.DialOptions...)
	conn, err := grpc.NewClient(cfg.Address, opts...)
	if err != nil {
		return nil, newError(ClientSdkError, fmt.Sprintf("cannot create a connection to %q: %v", cfg.Address, err), err)
	}
	return &CacheClient{
		conn:       conn,
		data:       pb.NewScsClient(conn),
		control:    pb.NewScsControlClient(conn),
		ping:       pb.NewPingClient(conn),
		token:      cfg.Token,
		defaultTTL: cfg.DefaultTTL,
		timeout:    cfg.Timeout,
	}, nil
}

// Close releases the connection. Calls made after Close fail.
func (c *CacheClient) Close() error {
	if err := c.conn.Close(); err != nil {
		return convertError(err)
	}
	return nil
}

// callContext derives the context of one call: the configured timeout unless
// ctx already has a deadline, and the request metadata. cacheName is sent in
// the "cache" header when it is not empty.
func (c *CacheClient) callContext(ctx context.Context, cacheName string) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	kv := []string{"authorization", c.token}
	if cacheName != "" {
		kv = append(kv, "cache", cacheName)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...), cancel
}

// prepareCacheName validates a cache name as the SDKs do (not empty or
// blank). Data-plane names travel in a gRPC header, so they must also be
// printable ASCII.
func prepareCacheName(name string, header bool) error {
	if strings.TrimSpace(name) == "" {
		return invalidArgument("cache name cannot be empty or blank")
	}
	if header && !printableASCII(name) {
		return invalidArgument("cache name %q must consist of printable ASCII characters", name)
	}
	return nil
}

// ttlMillis resolves a request TTL: zero means the client's default, negative
// is rejected, and a positive TTL under 1ms is rounded up to 1ms.
func (c *CacheClient) ttlMillis(ttl time.Duration) (uint64, error) {
	if ttl < 0 {
		return 0, invalidArgument("ttl must not be negative, got %v", ttl)
	}
	if ttl == 0 {
		ttl = c.defaultTTL
	}
	return durationMillis(ttl), nil
}

// positiveMillis converts a TTL that must be given explicitly (UpdateTtl and
// friends).
func positiveMillis(ttl time.Duration) (uint64, error) {
	if ttl <= 0 {
		return 0, invalidArgument("ttl must be a positive duration, got %v", ttl)
	}
	return durationMillis(ttl), nil
}

func durationMillis(d time.Duration) uint64 {
	ms := d.Milliseconds()
	if ms == 0 && d > 0 {
		ms = 1
	}
	return uint64(ms)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// nilRequest is returned when a method is passed a nil request.
func nilRequest(op string) error {
	return invalidArgument("%s: request cannot be nil", op)
}
