package redisstore

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// ClientOptions say how to reach Redis.
type ClientOptions struct {
	// Addrs are seed addresses (host:port). One address of a server that is
	// not in cluster mode is a single Redis; anything else is a cluster,
	// whose topology is discovered from the seeds.
	Addrs    []string
	Username string
	Password string
	// TLS, when set, is used for every connection.
	TLS *tls.Config
	// DialTimeout, ReadTimeout and WriteTimeout default to 2s, 3s and 3s.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
	// PoolSize per server; 0: go-redis's default (10 per CPU).
	PoolSize int
}

// Dial connects to Redis and returns a client for the engine, the topic log
// and the node registry to share. It probes the first reachable seed for
// cluster mode. Network errors are never retried by the client itself (see
// run): the engine decides what is safe to retry.
func Dial(ctx context.Context, o ClientOptions) (redis.UniversalClient, error) {
	if len(o.Addrs) == 0 {
		return nil, errors.New("no redis address")
	}
	dial := cmpDur(o.DialTimeout, 2*time.Second)
	rd := cmpDur(o.ReadTimeout, 3*time.Second)
	wr := cmpDur(o.WriteTimeout, 3*time.Second)
	cluster := len(o.Addrs) > 1
	if !cluster {
		probe := redis.NewClient(&redis.Options{Addr: o.Addrs[0], Username: o.Username, Password: o.Password,
			TLSConfig: o.TLS, DialTimeout: dial, ReadTimeout: rd, WriteTimeout: wr, MaxRetries: -1, PoolSize: 1})
		info, err := probe.Info(ctx, "cluster").Result()
		probe.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot reach redis at %s: %w", o.Addrs[0], err)
		}
		cluster = strings.Contains(info, "cluster_enabled:1")
	}
	if !cluster {
		return redis.NewClient(&redis.Options{Addr: o.Addrs[0], Username: o.Username, Password: o.Password,
			TLSConfig: o.TLS, DialTimeout: dial, ReadTimeout: rd, WriteTimeout: wr, MaxRetries: -1,
			PoolSize: o.PoolSize, ContextTimeoutEnabled: true}), nil
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.Addrs, Username: o.Username, Password: o.Password,
		TLSConfig: o.TLS, DialTimeout: dial, ReadTimeout: rd, WriteTimeout: wr, MaxRetries: -1,
		MaxRedirects: 8, PoolSize: o.PoolSize, ContextTimeoutEnabled: true})
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("cannot reach redis cluster at %s: %w", strings.Join(o.Addrs, ","), err)
	}
	return c, nil
}

func cmpDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Script is a Lua script run with EVALSHA (EVAL when the server does not
// have it yet).
type Script struct{ src, hash string }

// NewScript prepares src.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: src, hash: hex.EncodeToString(sum[:])}
}

// Script errors: a script refuses with redis.error_reply("SXERR <reason>"),
// reason being a row of the errs table; scriptError maps it back.
const scriptErrPrefix = "SXERR "

// writeCmd is a command that go-redis must never resend by itself: a
// script that mutates data, which a resend after a lost answer could apply
// twice.
type writeCmd struct{ *redis.Cmd }

func (writeCmd) NoRetry() bool { return true }

// Runner runs the engine's scripts with the retry and error rules of the
// store contract (store package documentation):
//
//   - a refusal that Redis makes before running anything (CLUSTERDOWN,
//     TRYAGAIN, LOADING, MASTERDOWN, a dial error, a full pool) is retried
//     with backoff until ctx or the retry budget ends, then ErrUnavailable;
//   - a read that failed on the network is retried likewise;
//   - a write that failed after it may have been sent (timeout, EOF, reset)
//     is errs.ErrOutcomeUnknown, never retried;
//   - a script's own refusal ("SXERR reason") is that errs row.
type Runner struct {
	C redis.UniversalClient
	// Budget bounds the retries of one call (default 5s).
	Budget time.Duration
}

// Eval runs script on keys (which must share one slot) with args.
func (r *Runner) Eval(ctx context.Context, s *Script, write bool, keys []string, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(cmpDur(r.Budget, 5*time.Second))
	backoff := 10 * time.Millisecond
	for {
		v, err := r.evalOnce(ctx, s, write, keys, args)
		if err == nil || errors.Is(err, redis.Nil) {
			return v, err
		}
		if msg, ok := strings.CutPrefix(err.Error(), scriptErrPrefix); ok {
			return nil, scriptError(msg)
		}
		if errors.Is(err, redis.ErrClosed) {
			return nil, errs.ErrShuttingDown
		}
		reloadOnFailure(r.C, err)
		retry := refusedBeforeRun(err) || (!write && transient(err))
		if !retry {
			return nil, classify(ctx, err, write)
		}
		if time.Now().After(deadline) {
			return nil, errs.ErrUnavailable.Because(err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			if write {
				return nil, errs.ErrUnavailable.Because(err) // the refused attempt did nothing
			}
			return nil, ctx.Err()
		case <-t.C:
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

func (r *Runner) evalOnce(ctx context.Context, s *Script, write bool, keys []string, args []any) (any, error) {
	v, err := r.run(ctx, write, "evalsha", s.hash, keys, args)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		v, err = r.run(ctx, write, "eval", s.src, keys, args)
	}
	return v, err
}

func (r *Runner) run(ctx context.Context, write bool, verb, body string, keys []string, args []any) (any, error) {
	full := make([]any, 0, 3+len(keys)+len(args))
	full = append(full, verb, body, len(keys))
	for _, k := range keys {
		full = append(full, k)
	}
	full = append(full, args...)
	cmd := redis.NewCmd(ctx, full...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	var c redis.Cmder = cmd
	if write {
		c = writeCmd{cmd}
	}
	_ = r.C.Process(ctx, c)
	return cmd.Result()
}

// Do runs one plain command, retried like a read when read is set.
func (r *Runner) Do(ctx context.Context, read bool, args ...any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(cmpDur(r.Budget, 5*time.Second))
	backoff := 10 * time.Millisecond
	for {
		cmd := redis.NewCmd(ctx, args...)
		var c redis.Cmder = cmd
		if !read {
			c = writeCmd{cmd}
		}
		_ = r.C.Process(ctx, c)
		v, err := cmd.Result()
		if err == nil || errors.Is(err, redis.Nil) {
			return v, err
		}
		if errors.Is(err, redis.ErrClosed) {
			return nil, errs.ErrShuttingDown
		}
		reloadOnFailure(r.C, err)
		if !(refusedBeforeRun(err) || (read && transient(err))) || time.Now().After(deadline) {
			if refusedBeforeRun(err) || read {
				if ctx.Err() != nil && read {
					return nil, ctx.Err()
				}
				return nil, errs.ErrUnavailable.Because(err)
			}
			return nil, classify(ctx, err, true)
		}
		select {
		case <-ctx.Done():
			if read {
				return nil, ctx.Err()
			}
			return nil, errs.ErrUnavailable.Because(err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}

func scriptError(msg string) error {
	reason, detail, _ := strings.Cut(msg, " ")
	e, ok := errs.ByReason(reason)
	if !ok {
		return fmt.Errorf("BUG: redis script refused with unknown reason %q", msg)
	}
	if detail != "" {
		return e.Msgf("%s", detail)
	}
	return e
}

// refusedBeforeRun reports errors after which Redis certainly did nothing.
func refusedBeforeRun(err error) bool {
	for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "READONLY"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	// go-redis returns a bare context error only while it waits for a
	// connection from its pool (or dials one): once a command is on the
	// wire, a deadline surfaces as a network timeout (a *net.OpError of
	// os.ErrDeadlineExceeded). (context.DeadlineExceeded is a net.Error
	// too, so the test is on the concrete types.)
	if (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) &&
		!errors.As(err, &op) && !errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed)
}

// reloadOnFailure has a cluster client reload its slot map after an error
// that may mean the topology changed (a dead primary, a failover): go-redis
// reloads by itself only on MOVED and every minute, and would keep dialing
// a dead primary until then. Reloads are asynchronous and rate-limited by
// go-redis.
func reloadOnFailure(c redis.UniversalClient, err error) {
	cc, ok := c.(*redis.ClusterClient)
	if !ok || err == nil || errors.Is(err, redis.Nil) || strings.HasPrefix(err.Error(), scriptErrPrefix) {
		return
	}
	if refusedBeforeRun(err) || transient(err) {
		cc.ReloadState(context.Background())
	}
}

// transient reports network failures (a read may retry them).
func transient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// classify maps an error that is not retried.
func classify(ctx context.Context, err error, write bool) error {
	if errors.Is(err, redis.ErrClosed) {
		return errs.ErrShuttingDown
	}
	if refusedBeforeRun(err) {
		return errs.ErrUnavailable.Because(err)
	}
	if write && (transient(err) || ctx.Err() != nil) {
		return errs.ErrOutcomeUnknown.Because(err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if transient(err) {
		return errs.ErrUnavailable.Because(err)
	}
	return fmt.Errorf("redis: %w", err)
}
