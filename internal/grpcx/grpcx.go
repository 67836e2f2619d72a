// Package grpcx holds what Setsuna's gRPC surfaces (Momento, the native
// setsuna.* services) share on their one listener: authentication of every
// call, the mapping of errs codes to gRPC statuses, and panic recovery.
// Authorization is not here: services do it.
package grpcx

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

var grpcCodes = [...]codes.Code{
	errs.CodeInternal:           codes.Internal,
	errs.CodeNotFound:           codes.NotFound,
	errs.CodeAlreadyExists:      codes.AlreadyExists,
	errs.CodeInvalidArgument:    codes.InvalidArgument,
	errs.CodeFailedPrecondition: codes.FailedPrecondition,
	errs.CodePermissionDenied:   codes.PermissionDenied,
	errs.CodeUnauthenticated:    codes.Unauthenticated,
	errs.CodeResourceExhausted:  codes.ResourceExhausted,
	errs.CodeUnavailable:        codes.Unavailable,
	errs.CodeOutOfRange:         codes.OutOfRange,
	errs.CodeCanceled:           codes.Canceled,
	errs.CodeDeadlineExceeded:   codes.DeadlineExceeded,
	errs.CodeUnimplemented:      codes.Unimplemented,
}

// Code is the gRPC code of an errs code.
func Code(c errs.Code) codes.Code {
	if int(c) < len(grpcCodes) {
		return grpcCodes[c]
	}
	return codes.Internal
}

// Status is the gRPC status of a public error.
func Status(e *errs.Error) error { return status.Error(Code(e.Code), e.Msg) }

// Header reads one request header (name in lower case) without copying:
// from the headers Tap kept for the call, else with
// ValueFromIncomingContext, which copies the values (FromIncomingContext
// would copy the whole map).
func Header(ctx context.Context, name string) string {
	if c := callOf(ctx); c != nil && c.md != nil {
		if v := c.md[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if v := metadata.ValueFromIncomingContext(ctx, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Authenticator authenticates every call on a gRPC server and puts the
// caller into the context for the services. Without an auth service (dev
// mode) every caller is auth.DevPrincipal.
type Authenticator struct {
	auth *auth.Service
	// public methods authenticate themselves (the token RPCs carry the key
	// in their body) or need no caller (health checks).
	public map[string]bool

	limits    StreamLimits
	streams   atomic.Int64
	perCaller counts
}

// NewAuthenticator returns the interceptors' owner; public lists the full
// method names that are exempt.
func NewAuthenticator(a *auth.Service, limits StreamLimits, public ...string) *Authenticator {
	x := &Authenticator{auth: a, limits: limits, public: map[string]bool{}}
	for _, m := range public {
		x.public[m] = true
	}
	return x
}

// Public reports whether method is exempt from authentication.
func (x *Authenticator) Public(method string) bool { return x.public[method] }

func (x *Authenticator) authenticate(ctx context.Context) (*auth.Principal, error) {
	if p := auth.FromContext(ctx); p != nil {
		return p, nil // authenticated by Tap from the headers
	}
	if x.auth == nil {
		return auth.DevPrincipal, nil
	}
	// The SDKs send the raw token, no "Bearer".
	return x.auth.Verify(Header(ctx, "authorization"))
}

func authStatus(err error) error {
	if e := errs.As(err); e != nil {
		return Status(e)
	}
	return status.Error(codes.Unauthenticated, "unauthenticated")
}

// Unary authenticates unary calls.
func (x *Authenticator) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	bodyArrived(ctx) // grpc decoded req before the interceptors
	if x.public[info.FullMethod] {
		return h(ctx, req)
	}
	p, err := x.authenticate(ctx)
	if err != nil {
		return nil, authStatus(err)
	}
	// Even when Tap put p in the context already: NewContext also fills
	// the access log's CallerSlot, which the metrics interceptor adds
	// after Tap.
	return h(auth.NewContext(ctx, p), req)
}

// Stream authenticates streams at once and ends them when the caller's
// token is revoked or expires.
func (x *Authenticator) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if c := callOf(ss.Context()); c != nil && c.timer != nil {
		ss = &firstRecv{ServerStream: ss}
	}
	if x.public[info.FullMethod] {
		return h(srv, ss)
	}
	ctx := ss.Context()
	p, err := x.authenticate(ctx)
	if err != nil {
		return authStatus(err)
	}
	ctx = auth.NewContext(ctx, p) // and the CallerSlot (see Unary)
	if x.auth != nil {
		var stop func()
		ctx, stop = x.auth.Watch(ctx, p)
		defer stop()
	}
	err = h(srv, &stream{ServerStream: ss, ctx: ctx})
	if cause := context.Cause(ctx); errors.Is(cause, errs.ErrUnauthenticated) {
		return authStatus(cause)
	}
	return err
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

// firstRecv stops the body timer once the first request message is in.
type firstRecv struct {
	grpc.ServerStream
	done bool
}

func (s *firstRecv) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if !s.done {
		s.done = true
		bodyArrived(s.ServerStream.Context())
	}
	return err
}

func (s *stream) Context() context.Context { return s.ctx }

// Recovery turns a panic in a handler into INTERNAL, so that no request can
// take the server down.
type Recovery struct{ Log *slog.Logger }

// Unary recovers unary handlers.
func (r Recovery) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.Log.Error("panic in handler", "method", info.FullMethod, "panic", v, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return h(ctx, req)
}

// Stream recovers stream handlers.
func (r Recovery) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.Log.Error("panic in stream handler", "method", info.FullMethod, "panic", v, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return h(srv, ss)
}

// ResponseLimit refuses a unary response larger than max bytes with a
// RESOURCE_EXHAUSTED that says how to read the data in smaller pieces,
// instead of grpc's "trying to send message larger than max". Collections
// can outgrow a response (a 20 MB list); their fetches have ranges. The
// bounded methods' responses cannot (one scalar item at most, under the
// item size limit), so they skip the size computation, a pass over the
// message the marshaling does again.
func ResponseLimit(max int, bounded ...string) grpc.UnaryServerInterceptor {
	skip := make(map[string]bool, len(bounded))
	for _, m := range bounded {
		skip[m] = true
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil || skip[info.FullMethod] {
			return resp, err
		}
		if m, ok := resp.(proto.Message); ok {
			if n := proto.Size(m); n > max {
				return nil, status.Errorf(codes.ResourceExhausted,
					"response of %d bytes exceeds the %d bytes a response may carry (the request limit of this server): read it in pieces, e.g. a list or sorted set by index range, a dictionary by fields",
					n, max)
			}
		}
		return resp, nil
	}
}
