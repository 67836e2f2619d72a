// Package appsync is the AppSync surface: GraphQL over HTTP (POST /graphql)
// and AppSync's real-time WebSocket protocol (subprotocol graphql-ws), plus the
// graphql-transport-ws protocol of the graphql-ws npm library, on one handler.
//
// It authenticates through an Authenticator, executes through a
// graphql.Executor and moves subscription events between nodes through a
// Fanout; the server wires those to the auth service and the topics hub:
//
//	schema, err := graphql.LoadSchema(file, sdl)           // --graphql-schema
//	exec := &graphql.Executor{Schema: schema, DefaultAuth: graphql.AuthAPIKey}
//	hooks, err := resolverConfig.Apply(exec, openCacheStore) // --graphql-resolvers
//	h, err := appsync.New(appsync.Config{
//		Executor: exec, Hooks: hooks,
//		Auth:   &appsync.KeyAuth{APIKeys: keys, Tokens: verifySetsunaToken}, // --graphql-api-key, --auth
//		Fanout: topicsHubFanout,
//	})
//	l = appsync.SniffTLS(l, tlsConfig) // --tls-cert/--tls-key: TLS and plaintext on one port
//	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
//	// on shutdown: h.Close() (hijacked WebSockets are not seen by srv.Shutdown)
//
// internal/appsync/testserver does exactly this with in-process fakes.
package appsync
