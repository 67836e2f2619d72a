package auth

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/errs"
)

type principalKey struct{}

// NewContext returns ctx carrying the authenticated caller. Surfaces call it
// once they have authenticated a request; services read it back.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
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
