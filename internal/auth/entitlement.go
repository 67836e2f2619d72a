package auth

import (
	"context"
	"crypto/subtle"
)

// Entitlement authenticates the callers of the publish API
// (setsuna.pubsub.v1 and its HTTP form). It adds MigratoryData's "basic"
// entitlement to Setsuna's tokens: a caller whose token equals AllowToken
// may publish and subscribe on every subject; with AllowToken set and auth
// off, every other caller may only subscribe. With auth on, any other token
// must be a valid Setsuna token, and its topic permissions are the
// entitlement rules. Either way the decision is the Authorizer's: the
// callers are principals with permissions.
type Entitlement struct {
	Auth       *Service // nil: auth off
	AllowToken string   // "": no basic entitlement
}

var (
	// BasicPublisher is the caller that presented the allow token.
	BasicPublisher = &Principal{ID: "entitlement-allow-token", Kind: KindAPIKey, TokenID: "entitlement-allow-token",
		Perms: []Permission{{Resource: ResourceTopic, Role: RoleReadWrite}}}
	// BasicSubscriber is any other caller when basic entitlement is on and
	// auth is off.
	BasicSubscriber = &Principal{ID: "entitlement-subscriber", Kind: KindAPIKey,
		Perms: []Permission{{Resource: ResourceTopic, Role: RoleReadOnly}}}
)

// Principal authenticates token.
func (e Entitlement) Principal(token string) (*Principal, error) {
	if e.AllowToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(e.AllowToken)) == 1 {
		return BasicPublisher, nil
	}
	if e.Auth != nil {
		return e.Auth.Verify(token)
	}
	if e.AllowToken != "" {
		return BasicSubscriber, nil
	}
	return DevPrincipal, nil
}

// Watch is Service.Watch for principals of Setsuna tokens, so that a
// long-lived stream ends when its token is revoked or expires; the basic
// principals are not watched.
func (e Entitlement) Watch(ctx context.Context, p *Principal) (context.Context, func()) {
	if e.Auth == nil || p == BasicPublisher || p == BasicSubscriber || p == DevPrincipal {
		return ctx, func() {}
	}
	return e.Auth.Watch(ctx, p)
}
