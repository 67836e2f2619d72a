package appsync_test

import (
	"context"
	"errors"
	"testing"

	"github.com/setsuna-io/setsuna/internal/appsync"
	"github.com/setsuna-io/setsuna/internal/graphql"
)

func TestKeyAuth(t *testing.T) {
	tokens := func(_ context.Context, tok string) (*graphql.Identity, error) {
		if tok == "good" {
			return &graphql.Identity{Subject: "user-1"}, nil
		}
		return nil, errors.New("bad token")
	}
	a := &appsync.KeyAuth{APIKeys: []string{"k1", "k2"}, Tokens: tokens}
	for _, c := range []struct {
		name string
		h    appsync.AuthHeader
		mode graphql.AuthMode
		ok   bool
	}{
		{"second key", appsync.AuthHeader{"x-api-key": "k2"}, graphql.AuthAPIKey, true},
		{"wrong key", appsync.AuthHeader{"x-api-key": "k3"}, "", false},
		{"token", appsync.AuthHeader{"authorization": "good"}, graphql.AuthLambda, true},
		{"bearer token", appsync.AuthHeader{"authorization": "Bearer good"}, graphql.AuthLambda, true},
		{"bad token", appsync.AuthHeader{"authorization": "bad"}, "", false},
		{"nothing", appsync.AuthHeader{"host": "h"}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), c.h)
			if c.ok != (err == nil) || (c.ok && id.Mode != c.mode) {
				t.Fatalf("identity %+v, err %v", id, err)
			}
		})
	}
	off := &appsync.KeyAuth{}
	if id, err := off.Authenticate(context.Background(), appsync.AuthHeader{}); id != nil || err != nil {
		t.Fatalf("auth off: %v %v", id, err)
	}
}
