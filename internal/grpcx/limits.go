package grpcx

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// StreamLimits bound the streams (calls) of a gRPC listener. Zero fields
// mean no bound.
type StreamLimits struct {
	// Max is the most concurrent calls on the listener.
	Max int
	// PerCaller is the most concurrent calls of one caller (token id), so
	// that one key cannot take the whole budget. Dev mode has one caller
	// for everybody and is not bounded per caller.
	PerCaller int
	// BodyTimeout bounds the time from a call's headers to its (first)
	// request message; a call still waiting then is cancelled, so that
	// half-sent calls cannot hold their slots forever.
	BodyTimeout time.Duration
}

// errBodyTimeout ends a call whose request did not arrive in time.
var errBodyTimeout = status.Error(codes.DeadlineExceeded, "the request message did not arrive in time")

// call is what Tap keeps of one admitted call, and is the call's context
// (the context grpc gave Tap, or a cancellable child of it for the body
// timer), so that the budgets' release, the body timer and the request
// headers cost one allocation and one context layer. It delegates Done, Err
// and Deadline, so contexts derived from it attach to the cancelCtx
// beneath without a goroutine.
type call struct {
	context.Context
	x         *Authenticator
	md        metadata.MD // the request headers: grpc's map, read only
	timer     *time.Timer // the body timer; nil without BodyTimeout
	cancel    context.CancelCauseFunc
	perCaller func() // releases the caller's slot; nil when not counted
}

type callKey struct{}

func (c *call) Value(key any) any {
	if _, ok := key.(callKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// callOf returns the call Tap admitted ctx's call with, or nil.
func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// release gives the call's slots back once grpc ends it.
func (c *call) release() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.x.streams.Add(-1)
	if c.perCaller != nil {
		c.perCaller()
	}
}

func (c *call) bodyTimedOut() { c.cancel(errBodyTimeout) }

// bodyArrived stops the call's body timer, if it has one.
func bodyArrived(ctx context.Context) {
	if c := callOf(ctx); c != nil && c.timer != nil {
		c.timer.Stop()
	}
}

// Tap admits a new call from its headers alone, before its body arrives:
// it keeps the stream budgets and, with auth on, authenticates the caller,
// so that neither a flood of half-sent calls nor an unauthenticated one
// costs more than a refused stream. The caller goes into the call's context
// for the interceptors. Install it with grpc.InTapHandle.
func (x *Authenticator) Tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	var p, counted *auth.Principal
	if x.auth != nil {
		var token string
		if v := info.Header["authorization"]; len(v) > 0 {
			token = v[0]
		}
		pp, err := x.auth.Verify(token)
		switch {
		case !x.public[info.FullMethodName]:
			if err != nil {
				return nil, authStatus(err)
			}
			p, counted = pp, pp
		case err == nil:
			// A public method answers its caller itself (the publish API's
			// DENIED), but a Setsuna key it carries still counts against
			// that key's budget.
			counted = pp
		}
	}
	// Slots are released when the call's context ends, which grpc does for
	// admitted calls only: a refused call must give its slots back itself.
	if n := x.streams.Add(1); x.limits.Max > 0 && n > int64(x.limits.Max) {
		x.streams.Add(-1)
		return nil, status.Errorf(codes.ResourceExhausted, "too many concurrent operations: the server has %d calls in flight, its limit; retry later", x.limits.Max)
	}
	c := &call{Context: ctx, x: x, md: info.Header}
	if counted != nil && x.limits.PerCaller > 0 {
		r, err := x.perCaller.acquire(counted.ID, x.limits.PerCaller)
		if err != nil {
			x.streams.Add(-1)
			return nil, authStatus(err)
		}
		c.perCaller = r
	}
	if d := x.limits.BodyTimeout; d > 0 {
		c.Context, c.cancel = context.WithCancelCause(ctx)
		c.timer = time.AfterFunc(d, c.bodyTimedOut)
	}
	// On grpc's context, which ends with the stream whatever ends it.
	context.AfterFunc(ctx, c.release)
	if p != nil {
		return auth.NewContext(c, p), nil
	}
	return c, nil
}

// CallsInFlight is the number of calls the listener holds now.
func (x *Authenticator) CallsInFlight() int { return int(x.streams.Load()) }

// counts is a set of per-key counters.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) acquire(key string, max int) (release func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[key] >= max {
		return nil, errs.ErrTooManyRequests.Withf("this key has %d calls in flight, its limit", max)
	}
	c.n[key]++
	return func() {
		c.mu.Lock()
		if c.n[key]--; c.n[key] <= 0 {
			delete(c.n, key)
		}
		c.mu.Unlock()
	}, nil
}

// ConnLimits bound the connections a listener accepts. Zero fields mean no
// bound.
type ConnLimits struct {
	Max   int // in total
	PerIP int // from one remote address
}

// LimitListener accepts at most the connections lim allows; one over the
// bound is closed at once (the client sees a reset and retries elsewhere
// or later), so an attacker cannot grow the server by opening connections.
func LimitListener(l net.Listener, lim ConnLimits) net.Listener {
	if lim.Max <= 0 && lim.PerIP <= 0 {
		return l
	}
	return &limitListener{Listener: l, lim: lim}
}

type limitListener struct {
	net.Listener
	lim   ConnLimits
	total atomic.Int64
	perIP counts
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.total.Add(1); l.lim.Max > 0 && n > int64(l.lim.Max) {
			l.total.Add(-1)
			c.Close()
			continue
		}
		release := func() {}
		if l.lim.PerIP > 0 {
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			r, err := l.perIP.acquire(host, l.lim.PerIP)
			if err != nil {
				l.total.Add(-1)
				c.Close()
				continue
			}
			release = r
		}
		return &limitedConn{Conn: c, release: func() { l.total.Add(-1); release() }}, nil
	}
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
