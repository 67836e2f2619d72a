package momento

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/setsuna-io/setsuna/internal/auth"
)

// EnableAuth makes every call authenticate with its authorization header
// (and the token RPCs with their body) against a. Without it the server is
// in dev mode: every caller is a super user and the token RPCs are refused.
func (s *Service) EnableAuth(a *auth.Service) { s.auth = a }

// authenticate returns the caller of ctx.
func (s *Service) authenticate(ctx context.Context) (*auth.Principal, error) {
	if s.auth == nil {
		return auth.DevPrincipal, nil
	}
	return s.auth.Verify(headerToken(ctx))
}

// headerToken is the raw authorization header (no "Bearer"; the SDKs send
// the token itself).
func headerToken(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, "authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// authorize checks one request of method against the caller's permissions.
func (s *Service) authorize(ctx context.Context, p *auth.Principal, method string, r rule, req proto.Message) error {
	op := auth.Op{Name: methodName(method), Resource: r.resource, Access: r.access}
	switch {
	case r.resource == auth.ResourceCache:
		cache, err := cacheName(ctx)
		if err != nil {
			return err
		}
		op.Cache, op.Keys = cache, r.keys(req)
	case r.resource == auth.ResourceTopic:
		m := req.(interface {
			GetCacheName() string
			GetTopic() string
		})
		op.Cache, op.Topic = m.GetCacheName(), m.GetTopic()
	case r.access == auth.AccessControl:
		if m, ok := req.(interface{ GetCacheName() string }); ok {
			op.Cache = m.GetCacheName()
		}
	}
	return auth.Authorize(p, op)
}

// UnaryInterceptor authenticates and authorizes every unary call.
func (s *Service) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	r, ok := rules[info.FullMethod]
	if !ok {
		return nil, status.Errorf(codes.Internal, "no authorization rule for %s", info.FullMethod)
	}
	if r.selfAuth {
		return h(ctx, req)
	}
	p, err := s.authenticate(ctx)
	if err != nil {
		return nil, authStatus(err)
	}
	if err := s.authorize(ctx, p, info.FullMethod, r, req.(proto.Message)); err != nil {
		return nil, authStatus(err)
	}
	return h(auth.NewContext(ctx, p), req)
}

// StreamInterceptor authenticates a stream at once, authorizes its request
// message when the handler reads it, and ends the stream when the caller's
// token is revoked or expires.
func (s *Service) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	r, ok := rules[info.FullMethod]
	if !ok {
		return status.Errorf(codes.Internal, "no authorization rule for %s", info.FullMethod)
	}
	if r.selfAuth {
		return h(srv, ss)
	}
	ctx := ss.Context()
	p, err := s.authenticate(ctx)
	if err != nil {
		return authStatus(err)
	}
	ctx = auth.NewContext(ctx, p)
	if s.auth != nil {
		var stop func()
		ctx, stop = s.auth.Watch(ctx, p)
		defer stop()
	}
	err = h(srv, &authorizedStream{ServerStream: ss, ctx: ctx, s: s, p: p, method: info.FullMethod, rule: r})
	if cause := context.Cause(ctx); errors.Is(cause, auth.ErrUnauthenticated) {
		return authStatus(cause)
	}
	return err
}

type authorizedStream struct {
	grpc.ServerStream
	ctx    context.Context
	s      *Service
	p      *auth.Principal
	method string
	rule   rule
	done   bool
}

func (a *authorizedStream) Context() context.Context { return a.ctx }

func (a *authorizedStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !a.done {
		a.done = true
		if err := a.s.authorize(a.ctx, a.p, a.method, a.rule, m.(proto.Message)); err != nil {
			return authStatus(err)
		}
	}
	return nil
}

// authStatus maps auth errors to the statuses the SDKs expect.
func authStatus(err error) error {
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		return status.Error(codes.Unauthenticated, public(err))
	case errors.Is(err, auth.ErrPermissionDenied):
		return status.Error(codes.PermissionDenied, public(err))
	case errors.Is(err, auth.ErrInvalidRequest):
		return status.Error(codes.InvalidArgument, public(err))
	}
	return err
}

func methodName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

// HasAuthRule reports whether method (a full gRPC method name) has an
// authorization rule. Servers check every method they register with it.
func HasAuthRule(method string) bool {
	_, ok := rules[method]
	return ok
}
