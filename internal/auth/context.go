package auth

import (
	"context"
	"sync/atomic"

	"github.com/setsuna-io/setsuna/internal/errs"
)

type principalKey struct{}

// NewContext returns ctx carrying the authenticated caller. Surfaces call it
// once they have authenticated a request; services read it back. It also
// fills the request's CallerSlot, if it has one.
func NewContext(ctx context.Context, p *Principal) context.Context {
	if slotsInUse.Load() {
		if s, _ := ctx.Value(slotKey{}).(*CallerSlot); s != nil {
			s.p.Store(p)
		}
	}
	return context.WithValue(ctx, principalKey{}, p)
}

// A CallerSlot lets code that wraps a whole listener (the access log) learn
// the caller that a surface authenticated deeper down, in a context it never
// sees. Until a slot is made, NewContext pays one atomic load for it.
type CallerSlot struct{ p atomic.Pointer[Principal] }

type slotKey struct{}

var slotsInUse atomic.Bool

// WithCallerSlot returns ctx with a new slot for the caller of the request.
func WithCallerSlot(ctx context.Context) (context.Context, *CallerSlot) {
	slotsInUse.Store(true)
	s := &CallerSlot{}
	return context.WithValue(ctx, slotKey{}, s), s
}

// Principal is the caller the surface authenticated, or nil (none yet, or
// a nil slot).
func (s *CallerSlot) Principal() *Principal {
	if s == nil {
		return nil
	}
	return s.p.Load()
}

// FromContext returns the caller that the surface authenticated, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// errNoCaller fails closed: a request that reaches a service without an
// authenticated caller comes from a surface that skipped authentication.
var errNoCaller = errs.ErrUnauthenticated.Withf("no authenticated caller")

// Check is the Authorizer for services: it authorizes op for the caller in
// ctx. A context without a caller is refused.
func Check(ctx context.Context, op Op) error {
	p := FromContext(ctx)
	if p == nil {
		return errNoCaller
	}
	return Authorize(p, op)
}
