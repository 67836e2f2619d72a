// Package appsync is the AppSync surface: GraphQL over HTTP (POST /graphql)
// and AppSync's real-time WebSocket protocol (subprotocol graphql-ws), plus the
// graphql-transport-ws protocol of the graphql-ws npm library, on one handler.
//
// It authenticates through an Authenticator, executes through a
// graphql.Executor and moves subscription events between nodes through a
// Fanout; the server wires those to the auth service and the topics hub.
package appsync
