package appsync

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// AuthHeader is an AppSync authorization header object: the decoded `header`
// of a real-time connection, a start message's extensions.authorization, or
// the HTTP headers of a request. Keys are lower case ("x-api-key",
// "authorization", "host", "x-amz-date", ...).
type AuthHeader map[string]string

// Authenticator decides who is calling.
//
// Authenticate returns the caller's identity, or an error if the credentials
// are missing or wrong (the surface answers UnauthorizedException; the error
// text is logged, never sent). A nil identity with a nil error means auth is
// off: everything is allowed. It is called once per connection, once per
// start/subscribe message and once per HTTP request, concurrently.
type Authenticator interface {
	Authenticate(ctx context.Context, h AuthHeader) (*graphql.Identity, error)
}

// ErrNoCredentials is returned when a request carries no credentials at all.
var ErrNoCredentials = errors.New("no credentials")

// ErrBadCredentials is returned for credentials that are not valid.
var ErrBadCredentials = errors.New("credentials are not valid")

// TokenVerifier checks a token from the Authorization header (a Setsuna
// token; the server backs it with the one Authorizer).
type TokenVerifier func(ctx context.Context, token string) (*graphql.Identity, error)

// KeyAuth accepts AppSync API keys (x-api-key) and, if Tokens is set, tokens
// in Authorization (as AppSync's AWS_LAMBDA mode sends them, "Bearer " allowed).
// With no keys and no verifier, auth is off.
type KeyAuth struct {
	APIKeys []string
	Tokens  TokenVerifier
}

// Authenticate implements Authenticator.
func (a *KeyAuth) Authenticate(ctx context.Context, h AuthHeader) (*graphql.Identity, error) {
	if len(a.APIKeys) == 0 && a.Tokens == nil {
		return nil, nil
	}
	if key, ok := h["x-api-key"]; ok && len(a.APIKeys) > 0 {
		for i, k := range a.APIKeys {
			if subtle.ConstantTimeCompare([]byte(key), []byte(k)) == 1 {
				return &graphql.Identity{Mode: graphql.AuthAPIKey, Subject: "api-key-" + itoa(i)}, nil
			}
		}
		return nil, ErrBadCredentials
	}
	if tok, ok := h["authorization"]; ok && a.Tokens != nil {
		tok = strings.TrimSpace(tok)
		if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
			tok = strings.TrimSpace(tok[7:])
		}
		id, err := a.Tokens(ctx, tok)
		if err != nil {
			return nil, err
		}
		if id == nil {
			return nil, ErrBadCredentials
		}
		if id.Mode == "" {
			id.Mode = graphql.AuthLambda
		}
		return id, nil
	}
	if _, ok := h["x-api-key"]; ok {
		return nil, ErrBadCredentials
	}
	return nil, ErrNoCredentials
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// headerFromHTTP collects the auth-relevant HTTP headers.
func headerFromHTTP(r *http.Request) AuthHeader {
	h := AuthHeader{}
	for _, k := range []string{"x-api-key", "authorization", "x-amz-date", "x-amz-security-token"} {
		if v := r.Header.Get(k); v != "" {
			h[k] = v
		}
	}
	h["host"] = r.Host
	return h
}

// authHeaderFromJSON lower-cases the keys of a decoded header object and keeps
// string values only.
func authHeaderFromJSON(m map[string]any) AuthHeader {
	h := make(AuthHeader, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			h[strings.ToLower(k)] = s
		}
	}
	return h
}
