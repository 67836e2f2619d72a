// Package faults is momento-local's fault injection, for users who test
// their retry and reconnect code against Setsuna the way the Momento SDKs'
// own retry suites do. It is off unless `serve --test-admin-listen` is
// given, and never meant for production.
//
// A call opts in with request metadata (all optional):
//
//	request-id                  a session id: counts below are kept per session
//	return-error, error-rpcs    fail the listed RPCs with this status
//	error-count                 ... only the first N times in the session
//	delay-ms, delay-rpcs        delay the listed RPCs before they run
//	delay-count                 ... only the first N times in the session
//	stream-error, stream-error-rpcs, stream-error-message-limit
//	                            end the listed streams with this status once
//	                            the session's streams have sent N messages
//	                            (heartbeats included); later streams of the
//	                            session run normally
//
// Statuses are momento-local's names (unavailable, internal, not-found,
// deadline-exceeded, ...); RPCs are kebab-case method names (get, set-if,
// dictionary-get, topic-publish, topic-subscribe, ...), space separated. An
// RPC list that is absent means every RPC. Block and Unblock (the test
// admin's /block and /unblock) stop and resume every call but health
// checks, as momento-local's dropped packets do: open streams end with
// UNAVAILABLE (the connection is lost), and new calls wait, unanswered,
// until the server is unblocked (then they run, as retransmitted packets
// would get through) or until their deadline.
package faults

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Limits on what a session may ask for.
const (
	MaxSessions = 4096            // sessions remembered; the oldest is forgotten first
	MaxDelay    = 5 * time.Minute // longest injected delay

	deadlineMargin = 5 * time.Millisecond
)

// Injector holds the sessions' counters and the blocked flag.
type Injector struct {
	blocked atomic.Bool
	gate    atomic.Pointer[chan struct{}] // closed by Unblock; nil when not blocked

	mu       sync.Mutex
	sessions map[string]*list.Element // of *session, most recent at the front
	order    *list.List
	streams  map[*openStream]struct{}

	observe func(event, subject string) // tests: see Observe
}

// Observe sets a function called when an injected delay starts ("delay",
// with the session) and when a call is held by a block ("hold", with the
// RPC name). Tests use it to act while a call waits.
func (in *Injector) Observe(fn func(event, session string)) {
	in.mu.Lock()
	in.observe = fn
	in.mu.Unlock()
}

func (in *Injector) event(ev, session string) {
	in.mu.Lock()
	fn := in.observe
	in.mu.Unlock()
	if fn != nil {
		fn(ev, session)
	}
}

type session struct {
	id                      string
	errors, delays, streams int // errors and delays injected, stream messages sent
	streamErrored           bool
}

type openStream struct{ cancel context.CancelCauseFunc }

// New returns an injector with nothing blocked.
func New() *Injector {
	return &Injector{sessions: map[string]*list.Element{}, order: list.New(), streams: map[*openStream]struct{}{}}
}

// errBlocked ends the streams that are open when the server is blocked.
var errBlocked = status.Error(codes.Unavailable, "server blocked by the test admin (/unblock resumes it)")

// hold waits while the server is blocked: until Unblock (nil) or the
// call's deadline or cancellation.
// resetRacesDeadline reports whether the caller is grpc-js (see wait).
func resetRacesDeadline(ctx context.Context) bool {
	ua := metadata.ValueFromIncomingContext(ctx, "user-agent")
	return len(ua) > 0 && strings.HasPrefix(ua[0], "grpc-node-js/")
}

func (in *Injector) hold(ctx context.Context, rpc string) error {
	g := in.gate.Load()
	if g == nil {
		return nil
	}
	in.event("hold", rpc)
	return wait(ctx, *g, -1, "held while the server is blocked by the test admin for "+rpc)
}

// wait returns nil when d passes (d < 0: never) or done closes, or the
// call's status when its context ends first.
//
// At a call's deadline grpc-go resets the stream (RST_STREAM CANCEL).
// grpc-js sends a timeout rounded down to milliseconds, so that reset
// reaches it before its own timer fires, and it reports CANCELLED where
// momento-local, which resets nothing, lets it report DEADLINE_EXCEEDED.
// For grpc-js callers a deadline that comes first therefore ends the wait
// just before it with DEADLINE_EXCEEDED; other clients (the Go SDK, whose
// retry strategies look at the time left) see their own deadline fire.
func wait(ctx context.Context, done <-chan struct{}, d time.Duration, what string) error {
	expires := false
	if dl, ok := ctx.Deadline(); ok && resetRacesDeadline(ctx) {
		if left := time.Until(dl) - deadlineMargin; d < 0 || left < d {
			d, expires = max(left, 0), true
		}
	}
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		if expires {
			return status.Errorf(codes.DeadlineExceeded, "deadline exceeded: %s", what)
		}
		return nil
	case <-done:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// Block holds new calls and ends open streams with UNAVAILABLE.
func (in *Injector) Block() {
	in.mu.Lock()
	if !in.blocked.Load() {
		gate := make(chan struct{})
		in.gate.Store(&gate)
		in.blocked.Store(true)
	}
	open := make([]*openStream, 0, len(in.streams))
	for s := range in.streams {
		open = append(open, s)
	}
	in.mu.Unlock()
	for _, s := range open {
		s.cancel(errBlocked)
	}
}

// Unblock serves calls again, the held ones first.
func (in *Injector) Unblock() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if g := in.gate.Swap(nil); g != nil {
		in.blocked.Store(false)
		close(*g)
	}
}

// Blocked reports whether calls are refused.
func (in *Injector) Blocked() bool { return in.blocked.Load() }

// Handler serves GET (or POST) /block and /unblock.
func (in *Injector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		in.Block()
		w.Write([]byte("blocked\n"))
	})
	mux.HandleFunc("/unblock", func(w http.ResponseWriter, r *http.Request) {
		in.Unblock()
		w.Write([]byte("unblocked\n"))
	})
	return mux
}

// exempt calls are never blocked or faulted.
func exempt(method string) bool { return strings.HasPrefix(method, "/grpc.health.v1.Health/") }

// spec is what one call's metadata asks for.
type spec struct {
	session                 string
	errCode                 codes.Code
	hasErr                  bool
	errRPCs                 []string
	errCount                int // -1: always
	delay                   time.Duration
	delayRPCs               []string
	delayCount              int
	streamCode              codes.Code
	hasStreamErr            bool
	streamRPCs              []string
	streamLimit             int
	hasFaults, streamFaults bool
}

func header(md metadata.MD, name string) (string, bool) {
	v := md.Get(name)
	if len(v) == 0 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

var codeNames = map[string]codes.Code{
	"cancelled": codes.Canceled, "canceled": codes.Canceled, "unknown": codes.Unknown,
	"invalid-argument": codes.InvalidArgument, "deadline-exceeded": codes.DeadlineExceeded,
	"not-found": codes.NotFound, "already-exists": codes.AlreadyExists, "permission-denied": codes.PermissionDenied,
	"resource-exhausted": codes.ResourceExhausted, "failed-precondition": codes.FailedPrecondition,
	"aborted": codes.Aborted, "out-of-range": codes.OutOfRange, "unimplemented": codes.Unimplemented,
	"internal": codes.Internal, "unavailable": codes.Unavailable, "data-loss": codes.DataLoss,
	"unauthenticated": codes.Unauthenticated,
}

type specError string

func (e specError) Error() string { return string(e) }

func parseCode(name, v string) (codes.Code, error) {
	c, ok := codeNames[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return 0, specError(name + ": unknown status " + strconv.Quote(v))
	}
	return c, nil
}

func parseCount(name, v string, max int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > max {
		return 0, specError(name + ": want a whole number from 0 to " + strconv.Itoa(max) + ", got " + strconv.Quote(v))
	}
	return n, nil
}

func parseSpec(md metadata.MD) (spec, error) {
	var s spec
	var err error
	s.session, _ = header(md, "request-id")
	s.errCount, s.delayCount = -1, -1
	if v, ok := header(md, "return-error"); ok {
		if s.errCode, err = parseCode("return-error", v); err != nil {
			return s, err
		}
		s.hasErr, s.hasFaults = true, true
	}
	if v, ok := header(md, "error-rpcs"); ok {
		s.errRPCs = strings.Fields(v)
	}
	if v, ok := header(md, "error-count"); ok {
		if s.errCount, err = parseCount("error-count", v, 1<<30); err != nil {
			return s, err
		}
	}
	if v, ok := header(md, "delay-ms"); ok {
		ms, err := parseCount("delay-ms", v, int(MaxDelay/time.Millisecond))
		if err != nil {
			return s, err
		}
		s.delay, s.hasFaults = time.Duration(ms)*time.Millisecond, true
	}
	if v, ok := header(md, "delay-rpcs"); ok {
		s.delayRPCs = strings.Fields(v)
	}
	if v, ok := header(md, "delay-count"); ok {
		if s.delayCount, err = parseCount("delay-count", v, 1<<30); err != nil {
			return s, err
		}
	}
	if v, ok := header(md, "stream-error"); ok {
		if s.streamCode, err = parseCode("stream-error", v); err != nil {
			return s, err
		}
		s.hasStreamErr = true
	}
	if v, ok := header(md, "stream-error-rpcs"); ok {
		s.streamRPCs = strings.Fields(v)
	}
	if v, ok := header(md, "stream-error-message-limit"); ok {
		if s.streamLimit, err = parseCount("stream-error-message-limit", v, 1<<30); err != nil {
			return s, err
		}
	}
	s.streamFaults = s.hasStreamErr
	s.hasFaults = s.hasFaults || s.streamFaults
	return s, nil
}

// RPCName is momento-local's name of a full gRPC method: the method in
// kebab case, "topic-" before the pubsub ones.
func RPCName(fullMethod string) string {
	svc, m, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	var b strings.Builder
	if svc == "cache_client.pubsub.Pubsub" {
		b.WriteString("topic-")
	}
	for i, r := range m {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// aliases are the other names momento-local accepts for an RPC.
var aliases = map[string][]string{
	"list-erase":        {"list-remove"},
	"set-if-not-exists": {"set-if"},
}

func matches(list []string, rpc string) bool {
	if len(list) == 0 {
		return true
	}
	for _, n := range list {
		if n == rpc {
			return true
		}
		for _, a := range aliases[rpc] {
			if n == a {
				return true
			}
		}
	}
	return false
}

// use runs fn on the session's counters under the lock.
func (in *Injector) use(id string, fn func(*session) bool) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	e := in.sessions[id]
	if e == nil {
		e = in.order.PushFront(&session{id: id})
		in.sessions[id] = e
		if in.order.Len() > MaxSessions {
			old := in.order.Back()
			in.order.Remove(old)
			delete(in.sessions, old.Value.(*session).id)
		}
	} else {
		in.order.MoveToFront(e)
	}
	return fn(e.Value.(*session))
}

func take(used *int, limit int) bool {
	if limit >= 0 && *used >= limit {
		return false
	}
	*used++
	return true
}

// before applies the faults that come before a call runs: block, delay,
// error. A nil error lets the call run.
func (in *Injector) before(ctx context.Context, method string) (spec, error) {
	if exempt(method) {
		return spec{}, nil
	}
	rpc := RPCName(method)
	if err := in.hold(ctx, rpc); err != nil {
		return spec{}, err
	}
	md, _ := metadata.FromIncomingContext(ctx)
	s, err := parseSpec(md)
	if err != nil {
		return s, status.Error(codes.InvalidArgument, "fault injection metadata: "+err.Error())
	}
	if !s.hasFaults {
		return s, nil
	}
	if s.delay > 0 && matches(s.delayRPCs, rpc) && in.use(s.session, func(x *session) bool { return take(&x.delays, s.delayCount) }) {
		in.event("delay", s.session)
		if err := wait(ctx, nil, s.delay, fmt.Sprintf("delayed by delay-ms (%v) for %s", s.delay, rpc)); err != nil {
			return s, err
		}
		if err := in.hold(ctx, rpc); err != nil { // blocked during the delay
			return s, err
		}
	}
	if s.hasErr && matches(s.errRPCs, rpc) && in.use(s.session, func(x *session) bool { return take(&x.errors, s.errCount) }) {
		return s, status.Errorf(s.errCode, "injected by request metadata (return-error) for %s", rpc)
	}
	return s, nil
}

// Unary is the interceptor of unary calls.
func (in *Injector) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if _, err := in.before(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

// Stream is the interceptor of streams.
func (in *Injector) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if exempt(info.FullMethod) {
		return h(srv, ss)
	}
	s, err := in.before(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ss.Context())
	defer cancel(nil)
	open := &openStream{cancel: cancel}
	in.mu.Lock()
	in.streams[open] = struct{}{}
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.streams, open)
		in.mu.Unlock()
	}()
	if in.blocked.Load() { // blocked between the check and the registration
		return errBlocked
	}
	w := &stream{ServerStream: ss, ctx: ctx}
	if s.streamFaults && matches(s.streamRPCs, RPCName(info.FullMethod)) {
		injected := status.Errorf(s.streamCode, "injected by request metadata (stream-error) after %d messages", s.streamLimit)
		w.afterSend = func() {
			if in.use(s.session, func(x *session) bool {
				x.streams++
				if x.streamErrored || x.streams < s.streamLimit {
					return false
				}
				x.streamErrored = true
				return true
			}) {
				cancel(injected)
			}
		}
		if s.streamLimit == 0 && in.use(s.session, func(x *session) bool {
			done := x.streamErrored
			x.streamErrored = true
			return !done
		}) {
			return injected
		}
	}
	err = h(srv, w)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && ss.Context().Err() == nil {
		return cause // the injected error or the block, not what the handler made of the cancellation
	}
	return err
}

type stream struct {
	grpc.ServerStream
	ctx       context.Context
	afterSend func()
}

func (s *stream) Context() context.Context { return s.ctx }

func (s *stream) SendMsg(m any) error {
	if err := s.ctx.Err(); err != nil {
		return context.Cause(s.ctx)
	}
	if err := s.ServerStream.SendMsg(m); err != nil {
		return err
	}
	if s.afterSend != nil {
		s.afterSend()
	}
	return nil
}
