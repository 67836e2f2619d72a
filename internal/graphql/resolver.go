package graphql

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"
)

// Resolver produces the value of one field. Values use the JSON model:
// map[string]any for objects (a "__typename" key picks the concrete type of an
// interface or union), []any, string, bool, int64/float64, nil.
type Resolver interface {
	Resolve(ctx context.Context, p *ResolveParams) (any, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, p *ResolveParams) (any, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, p *ResolveParams) (any, error) { return f(ctx, p) }

// ResolveParams is what a resolver gets.
type ResolveParams struct {
	TypeName  string
	FieldName string
	Field     *ast.FieldDefinition
	// Args are the coerced arguments: an argument the client gave as null is
	// present with a nil value, one it omitted is absent (SDL defaults applied).
	Args      map[string]any
	Source    any // the parent value; nil for root fields
	Identity  *Identity
	Selection *ast.Field
	Ext       *Extensions
}

// Extensions is the resolver-side API of AppSync's `extensions`, for mutation
// resolvers that invalidate subscriptions.
type Extensions struct {
	invalidations []Invalidation
}

// Invalidation is one extensions.invalidateSubscriptions call.
type Invalidation struct {
	SubscriptionField string         `json:"subscriptionField"`
	Payload           map[string]any `json:"payload"`
}

// MaxInvalidationsPerRequest is AppSync's limit on unique invalidateSubscriptions calls.
const MaxInvalidationsPerRequest = 5

// InvalidateSubscriptions asks for every live subscription on field whose
// invalidation filter matches payload to be ended. More than five unique calls
// in one request is an error, as in AppSync.
func (x *Extensions) InvalidateSubscriptions(inv Invalidation) error {
	for _, have := range x.invalidations {
		if have.SubscriptionField == inv.SubscriptionField && jsonEqual(have.Payload, inv.Payload) {
			return nil
		}
	}
	if len(x.invalidations) >= MaxInvalidationsPerRequest {
		return &ResolverError{Type: "BadRequestException", Message: "invalidateSubscriptions can be called at most 5 times per request"}
	}
	x.invalidations = append(x.invalidations, inv)
	return nil
}

// NoneResolver is AppSync's NONE data source with a pass-through ("local")
// resolver: a field whose only argument is `input` returns that input,
// otherwise the argument map. A field of a leaf type (scalar or enum) gets its
// only argument's value, or null.
var NoneResolver Resolver = ResolverFunc(func(_ context.Context, p *ResolveParams) (any, error) {
	if len(p.Field.Arguments) == 1 && p.Field.Arguments[0].Name == "input" {
		if in, ok := p.Args["input"]; ok {
			return in, nil
		}
	}
	if p.Field.Type.Elem == nil && p.Selection != nil && len(p.Selection.SelectionSet) == 0 {
		if len(p.Args) == 1 {
			for _, v := range p.Args {
				return v, nil
			}
		}
		return nil, nil
	}
	out := make(map[string]any, len(p.Args))
	for k, v := range p.Args {
		out[k] = v
	}
	return out, nil
})
