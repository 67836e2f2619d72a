package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"github.com/setsuna-io/setsuna/internal/appsync"
	"github.com/setsuna-io/setsuna/internal/appsync/bridge"
	"github.com/setsuna-io/setsuna/internal/graphql"
)

// appsyncSurface builds the AppSync surface from the schema and resolver
// files, over the cache and feed services and the topics hub.
func (s *Server) appsyncSurface() (*appsync.Handler, error) {
	exec, hooks, err := s.loadGraphQL()
	if err != nil {
		return nil, err
	}
	if err := bridge.EnsureCache(context.Background(), s.cache, bridge.FanoutCache); err != nil {
		return nil, err
	}
	ka := &appsync.KeyAuth{APIKeys: s.cfg.GraphQLAPIKeys}
	if s.auth != nil {
		ka.Tokens = func(_ context.Context, token string) (*graphql.Identity, error) {
			p, err := s.auth.Verify(token)
			if err != nil {
				return nil, appsync.ErrBadCredentials
			}
			return &graphql.Identity{Mode: graphql.AuthLambda, Subject: p.ID, Principal: p}, nil
		}
	}
	return appsync.New(appsync.Config{
		Executor: exec, Hooks: hooks, Auth: ka,
		Fanout: bridge.NewFanout(s.hub, s.cache, s.log), Logger: s.log,
	})
}

// tlsConfig is the listeners' TLS configuration, or nil without a
// certificate.
func (s *Server) tlsConfig() (*tls.Config, error) {
	// The pair is loaded, watched and reloaded by internal/tlsx
	// (server_momento.go); this is its configuration for HTTP listeners.
	return s.certsConfig(), nil
}

// wrapListener is what the named listener serves on.
func (s *Server) wrapListener(name string, l net.Listener) net.Listener {
	if name == "graphql" && s.tls != nil {
		return appsync.SniffTLS(l, s.tls)
	}
	return s.tlsListener(name, l)
}

// loadGraphQL reads --graphql-schema and --graphql-resolvers.
func (s *Server) loadGraphQL() (*graphql.Executor, map[string]graphql.SubscribeHook, error) {
	sdl, err := os.ReadFile(s.cfg.GraphQLSchema)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the graphql schema: %w", err)
	}
	schema, err := graphql.LoadSchema(s.cfg.GraphQLSchema, string(sdl))
	if err != nil {
		return nil, nil, err
	}
	exec := &graphql.Executor{Schema: schema}
	if s.cfg.GraphQLResolvers == "" {
		return exec, nil, nil
	}
	b, err := os.ReadFile(s.cfg.GraphQLResolvers)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the graphql resolvers: %w", err)
	}
	rc, err := graphql.ParseResolverConfig(b)
	if err != nil {
		return nil, nil, err
	}
	store := bridge.NewStore(s.cache, s.feed)
	hooks, err := rc.Apply(exec, func(_ string, ds graphql.DataSourceConfig) (graphql.Store, error) {
		// A data source's cache exists from the start.
		if err := bridge.EnsureCache(context.Background(), s.cache, ds.Cache); err != nil {
			return nil, fmt.Errorf("graphql data source cache %q: %w", ds.Cache, err)
		}
		return store, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return exec, hooks, nil
}

// Reload re-reads what a running server can take anew without a restart
// (the operator's SIGHUP): the signing keys and revocation list, the GraphQL
// schema and resolvers. On an error
// the server keeps serving what it had.
func (s *Server) Reload() error {
	if s.auth != nil {
		// The poller picks key changes up within a second anyway; SIGHUP
		// makes it now. A bad key file is logged and the keys kept.
		_ = s.auth.Reload()
	}
	if s.appsync == nil {
		return nil
	}
	exec, hooks, err := s.loadGraphQL()
	if err != nil {
		return fmt.Errorf("cannot reload the graphql schema: %w", err)
	}
	if err := s.appsync.Reload(exec, hooks); err != nil {
		return err
	}
	s.log.Info("graphql schema reloaded", "schema", s.cfg.GraphQLSchema, "resolvers", s.cfg.GraphQLResolvers)
	return nil
}
