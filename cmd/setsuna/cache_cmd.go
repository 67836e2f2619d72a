package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/client"
)

// Exit codes of "setsuna cache".
const (
	exitOK      = 0
	exitMiss    = 1 // the item does not exist
	exitUsage   = 2 // bad command line or invalid argument
	exitFailure = 3 // the server or the connection failed
)

// Environment variables that provide flag defaults.
const (
	envAddr  = "SETSUNA_ADDR"
	envToken = "SETSUNA_TOKEN"
)

const cacheUsage = `Usage: setsuna cache <command> [flags] [args]

Commands:
  create <cache>                  create a cache
  list                            list caches, one per line
  delete <cache>                  delete a cache and everything in it
  flush <cache>                   remove every item of a cache
  set <cache> <key> <value>       write an item [--ttl 60s]
  get <cache> <key>               print an item's value as is (exit 1 on a miss)
  del <cache> <key>               delete an item
  incr <cache> <key> [amount]     add amount (default 1) and print the result [--ttl 60s]
  ttl <cache> <key>               print an item's remaining TTL (exit 1 on a miss)

Flags may appear before or after the arguments; "--" ends the flags.
  --addr string       server address (default $SETSUNA_ADDR or 127.0.0.1:8080)
  --token string      token sent as authorization (default $SETSUNA_TOKEN)
  --timeout duration  deadline of the call (default 5s)
  --ttl duration      TTL of the item written by set and incr (default 60s)

Exit status: 0 ok, 1 miss, 2 usage or invalid argument, 3 server or connection error.
`

// cacheCommand describes one subcommand.
type cacheCommand struct {
	args    string // positional synopsis
	minArgs int
	maxArgs int
	ttl     bool // accepts --ttl
	run     func(ctx context.Context, cc *cacheCall) int
}

var cacheCommands = map[string]cacheCommand{
	"create": {args: "<cache>", minArgs: 1, maxArgs: 1, run: cacheCreate},
	"list":   {args: "", minArgs: 0, maxArgs: 0, run: cacheList},
	"delete": {args: "<cache>", minArgs: 1, maxArgs: 1, run: cacheDelete},
	"flush":  {args: "<cache>", minArgs: 1, maxArgs: 1, run: cacheFlush},
	"set":    {args: "<cache> <key> <value>", minArgs: 3, maxArgs: 3, ttl: true, run: cacheSet},
	"get":    {args: "<cache> <key>", minArgs: 2, maxArgs: 2, run: cacheGet},
	"del":    {args: "<cache> <key>", minArgs: 2, maxArgs: 2, run: cacheDel},
	"incr":   {args: "<cache> <key> [amount]", minArgs: 2, maxArgs: 3, ttl: true, run: cacheIncr},
	"ttl":    {args: "<cache> <key>", minArgs: 2, maxArgs: 2, run: cacheTTL},
}

// cacheCall is one parsed invocation.
type cacheCall struct {
	client *client.CacheClient
	addr   string
	args   []string
	ttl    time.Duration
	stdout io.Writer
	stderr io.Writer
}

// runCache implements "setsuna cache"; see cacheUsage.
func runCache(args []string) int {
	return runCacheIO(args, os.Stdout, os.Stderr)
}

// runCacheIO runs "setsuna cache" with args (after "cache") and returns the
// exit status.
func runCacheIO(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, cacheUsage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, cacheUsage)
		return exitOK
	}
	cmd, ok := cacheCommands[name]
	if !ok {
		fmt.Fprintf(stderr, "setsuna: unknown cache command %q\n\n%s", name, cacheUsage)
		return exitUsage
	}

	fs := flag.NewFlagSet("setsuna cache "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	conn := addConnFlags(fs, "deadline of the call")
	var ttl *time.Duration
	if cmd.ttl {
		ttl = fs.Duration("ttl", client.DefaultTTL, "TTL of the item")
	}
	commandUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", strings.TrimSpace("setsuna cache "+name+" [flags] "+cmd.args))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}

	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: %v\n", err)
		commandUsage(stderr)
		return exitUsage
	}
	if len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs {
		fmt.Fprintf(stderr, "setsuna: cache %s takes %s\n", name, argCount(cmd))
		commandUsage(stderr)
		return exitUsage
	}
	if *conn.timeout <= 0 {
		fmt.Fprintf(stderr, "setsuna: --timeout must be positive, got %v\n", *conn.timeout)
		return exitUsage
	}

	cc := &cacheCall{addr: *conn.addr, args: pos, stdout: stdout, stderr: stderr}
	if ttl != nil {
		if *ttl <= 0 {
			fmt.Fprintf(stderr, "setsuna: --ttl must be positive, got %v\n", *ttl)
			return exitUsage
		}
		cc.ttl = *ttl
	}
	c, err := dial(conn, client.NewCacheClient)
	if err != nil {
		fmt.Fprintf(stderr, "setsuna: cannot create client: %v\n", err)
		return exitUsage
	}
	defer c.Close()
	cc.client = c
	return cmd.run(context.Background(), cc)
}

func argCount(cmd cacheCommand) string {
	if cmd.maxArgs == 0 {
		return "no arguments"
	}
	return "arguments " + cmd.args
}

// parseInterspersed parses flags of fs that may appear anywhere in args and
// returns the positional arguments in order. "--" ends the flags. A token
// that looks like a negative number ("-5") is positional, so that
// "incr c k -5" works.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' || isNegativeNumber(a) {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		value, hasValue := "", false
		if j := strings.IndexByte(name, '='); j >= 0 {
			name, value, hasValue = name[:j], name[j+1:], true
		}
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil || name == "" {
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() && !hasValue {
			value, hasValue = "true", true
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isDur := g.Get().(time.Duration); isDur {
					return nil, fmt.Errorf("invalid value %q for flag --%s: want a duration such as 30s or 5m", value, name)
				}
			}
			return nil, fmt.Errorf("invalid value %q for flag --%s: %v", value, name, err)
		}
	}
	return pos, nil
}

func isNegativeNumber(s string) bool {
	return len(s) > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9'
}

// fail reports err of the action ("get key") on stderr and returns the exit
// status for it.
func (cc *cacheCall) fail(action, cache string, err error) int {
	fmt.Fprintf(cc.stderr, "setsuna: cannot %s: %s\n", action, cc.describe(err, cache))
	var ce *client.Error
	if errors.As(err, &ce) && ce.Code() == client.InvalidArgumentError {
		return exitUsage
	}
	return exitFailure
}

// describe turns a client error into a short, lower-case explanation.
func (cc *cacheCall) describe(err error, cache string) string {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return err.Error()
	}
	msg := ce.Message()
	prefix := ""
	switch ce.Code() {
	case client.NotFoundError:
		// Missing items are never errors, so NOT_FOUND is about the cache.
		return "cache not found: " + cache
	case client.AlreadyExistsError:
		return "cache already exists: " + cache
	case client.ServerUnavailableError:
		prefix = "server unavailable at " + cc.addr
	case client.TimeoutError:
		prefix = "timed out"
	case client.CanceledError:
		prefix = "canceled"
	case client.InvalidArgumentError:
		prefix = "invalid argument"
	case client.LimitExceededError:
		prefix = "limit exceeded"
	case client.FailedPreconditionError:
		prefix = "failed precondition"
	case client.AuthenticationError:
		prefix = "authentication failed"
	case client.PermissionError:
		prefix = "permission denied"
	default:
		prefix = string(ce.Code())
	}
	if msg == "" {
		return prefix
	}
	if strings.HasPrefix(strings.ToLower(msg), strings.ToLower(prefix)) {
		return msg
	}
	return prefix + ": " + msg
}

func cacheCreate(ctx context.Context, cc *cacheCall) int {
	name := cc.args[0]
	resp, err := cc.client.CreateCache(ctx, &client.CreateCacheRequest{CacheName: name})
	if err != nil {
		return cc.fail("create cache", name, err)
	}
	if _, ok := resp.(*client.CreateCacheAlreadyExists); ok {
		fmt.Fprintf(cc.stderr, "setsuna: cache already exists: %s\n", name)
	}
	return exitOK
}

func cacheList(ctx context.Context, cc *cacheCall) int {
	resp, err := cc.client.ListCaches(ctx, &client.ListCachesRequest{})
	if err != nil {
		return cc.fail("list caches", "", err)
	}
	if r, ok := resp.(*client.ListCachesSuccess); ok {
		for _, ci := range r.Caches() {
			fmt.Fprintln(cc.stdout, ci.Name)
		}
	}
	return exitOK
}

func cacheDelete(ctx context.Context, cc *cacheCall) int {
	name := cc.args[0]
	if _, err := cc.client.DeleteCache(ctx, &client.DeleteCacheRequest{CacheName: name}); err != nil {
		return cc.fail("delete cache", name, err)
	}
	return exitOK
}

func cacheFlush(ctx context.Context, cc *cacheCall) int {
	name := cc.args[0]
	if _, err := cc.client.FlushCache(ctx, &client.FlushCacheRequest{CacheName: name}); err != nil {
		return cc.fail("flush cache", name, err)
	}
	return exitOK
}

func cacheSet(ctx context.Context, cc *cacheCall) int {
	cache, key, value := cc.args[0], cc.args[1], cc.args[2]
	_, err := cc.client.Set(ctx, &client.SetRequest{
		CacheName: cache, Key: client.String(key), Value: client.String(value), Ttl: cc.ttl,
	})
	if err != nil {
		return cc.fail("set key", cache, err)
	}
	return exitOK
}

func cacheGet(ctx context.Context, cc *cacheCall) int {
	cache, key := cc.args[0], cc.args[1]
	resp, err := cc.client.Get(ctx, &client.GetRequest{CacheName: cache, Key: client.String(key)})
	if err != nil {
		return cc.fail("get key", cache, err)
	}
	switch r := resp.(type) {
	case *client.GetHit:
		if _, err := cc.stdout.Write(r.ValueByte()); err != nil {
			fmt.Fprintf(cc.stderr, "setsuna: cannot write value: %v\n", err)
			return exitFailure
		}
		return exitOK
	case *client.GetMiss:
		fmt.Fprintln(cc.stderr, "miss")
		return exitMiss
	}
	fmt.Fprintf(cc.stderr, "setsuna: cannot get key: unexpected response %T\n", resp)
	return exitFailure
}

func cacheDel(ctx context.Context, cc *cacheCall) int {
	cache, key := cc.args[0], cc.args[1]
	if _, err := cc.client.Delete(ctx, &client.DeleteRequest{CacheName: cache, Key: client.String(key)}); err != nil {
		return cc.fail("delete key", cache, err)
	}
	return exitOK
}

func cacheIncr(ctx context.Context, cc *cacheCall) int {
	cache, key := cc.args[0], cc.args[1]
	amount := int64(1)
	if len(cc.args) == 3 {
		n, err := strconv.ParseInt(cc.args[2], 10, 64)
		if err != nil {
			fmt.Fprintf(cc.stderr, "setsuna: amount must be a 64-bit integer, got %q\n", cc.args[2])
			return exitUsage
		}
		amount = n
	}
	resp, err := cc.client.Increment(ctx, &client.IncrementRequest{
		CacheName: cache, Key: client.String(key), Amount: amount, Ttl: cc.ttl,
	})
	if err != nil {
		return cc.fail("increment key", cache, err)
	}
	if r, ok := resp.(*client.IncrementSuccess); ok {
		fmt.Fprintln(cc.stdout, r.Value())
		return exitOK
	}
	fmt.Fprintf(cc.stderr, "setsuna: cannot increment key: unexpected response %T\n", resp)
	return exitFailure
}

func cacheTTL(ctx context.Context, cc *cacheCall) int {
	cache, key := cc.args[0], cc.args[1]
	resp, err := cc.client.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: cache, Key: client.String(key)})
	if err != nil {
		return cc.fail("get ttl", cache, err)
	}
	switch r := resp.(type) {
	case *client.ItemGetTtlHit:
		if r.RemainingTtl() == time.Duration(math.MaxInt64) {
			fmt.Fprintln(cc.stdout, "never")
		} else {
			fmt.Fprintln(cc.stdout, r.RemainingTtl().Round(time.Millisecond))
		}
		return exitOK
	case *client.ItemGetTtlMiss:
		fmt.Fprintln(cc.stderr, "miss")
		return exitMiss
	}
	fmt.Fprintf(cc.stderr, "setsuna: cannot get ttl: unexpected response %T\n", resp)
	return exitFailure
}

// connFlags are the connection flags every client subcommand shares.
type connFlags struct {
	addr, token *string
	timeout     *time.Duration
	tls         *bool
	tlsCA       *string
}

func addConnFlags(fs *flag.FlagSet, timeoutHelp string) connFlags {
	defAddr := os.Getenv(envAddr)
	if defAddr == "" {
		defAddr = client.DefaultAddress
	}
	return connFlags{
		addr: fs.String("addr", defAddr, "server address ($"+envAddr+")"),
		// The token's default is not shown in -h output: it is a secret.
		token:   fs.String("token", "", "token sent as authorization (default $"+envToken+")"),
		timeout: fs.Duration("timeout", client.DefaultTimeout, timeoutHelp),
		tls:     fs.Bool("tls", false, "connect with TLS, trusting the system's CAs (or --tls-ca)"),
		tlsCA:   fs.String("tls-ca", os.Getenv(envTLSCA), "PEM file of the CA that signs the server's certificate, e.g. setsuna cert dev's ca.pem; implies --tls ($"+envTLSCA+")"),
	}
}

const envTLSCA = "SETSUNA_TLS_CA"

// config is the client configuration; the token falls back to $SETSUNA_TOKEN.
func (c connFlags) config() (client.Config, error) {
	token := *c.token
	if token == "" {
		token = os.Getenv(envToken)
	}
	cfg := client.Config{Address: *c.addr, Token: token, Timeout: *c.timeout, TLS: *c.tls}
	if *c.tlsCA != "" {
		pem, err := os.ReadFile(*c.tlsCA)
		if err != nil {
			return cfg, fmt.Errorf("cannot read --tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return cfg, fmt.Errorf("--tls-ca %s holds no PEM certificate", *c.tlsCA)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// dial makes a client of the connection flags with mk (client.NewCacheClient, ...).
func dial[T any](c connFlags, mk func(client.Config) (T, error)) (T, error) {
	cfg, err := c.config()
	if err != nil {
		var zero T
		return zero, err
	}
	return mk(cfg)
}
