// Package embed starts a complete Setsuna node inside a Go program, with the
// same wiring and options as `setsuna serve`: engine, services, surfaces
// and listeners. Tests and programs that embed Setsuna use it.
//
//	node, err := embed.Start(embed.Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0"})
//	if err != nil {
//		return err
//	}
//	defer node.Close()
//	fmt.Println("Momento SDKs and the Go client can dial", node.Addr())
package embed

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/server"
)

// Config is a node's configuration; its zero value is a development node
// on the default port (see the fields for each option). A listen address
// with port 0 picks a free port; read it back with Node.Addr.
type Config = server.Config

// Node is a running Setsuna node.
type Node struct {
	srv *server.Server
}

// Start builds and starts a node. It returns once every listener accepts
// connections.
func Start(cfg Config) (*Node, error) {
	srv, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		_ = srv.Stop(context.Background())
		return nil, err
	}
	return &Node{srv: srv}, nil
}

// Addr is the gRPC listener's address (Momento SDKs, the Go client, the
// native setsuna.* services).
func (n *Node) Addr() string { return n.srv.Addr() }

// HTTPAddr is the HTTP listener's address ("" when it is off).
func (n *Node) HTTPAddr() string { return n.srv.HTTPAddr() }

// CosmosAddr is the Cosmos DB REST listener's address ("" when it is off).
func (n *Node) CosmosAddr() string { return n.srv.CosmosAddr() }

// GraphQLAddr is the AppSync listener's address ("" when it is off).
func (n *Node) GraphQLAddr() string { return n.srv.GraphQLAddr() }

// Stop drains in-flight calls until ctx or the configured shutdown timeout
// ends, then closes every connection and the engine.
func (n *Node) Stop(ctx context.Context) error { return n.srv.Stop(ctx) }

// Close is Stop with the configured shutdown timeout.
func (n *Node) Close() error { return n.srv.Stop(context.Background()) }

// Server is the node's assembly, for Setsuna's own tests.
func (n *Node) Server() *server.Server { return n.srv }
