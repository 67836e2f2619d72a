// Package testnode starts real Setsuna nodes for tests: one call gives a
// node on free ports with the production wiring (embed), stopped when the
// test ends, and helpers to dial it and mint its tokens.
package testnode

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
)

// Node is a running node of a test.
type Node struct {
	*embed.Node
	DataDir string
}

// Start starts a node with cfg: listeners default to free loopback ports,
// logs are discarded unless cfg.Logger is set, and with Auth a data
// directory is made when cfg has none.
func Start(t testing.TB, cfg embed.Config) *Node {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.HTTPListen == "" {
		cfg.HTTPListen = "127.0.0.1:0"
	}
	if cfg.CosmosListen == "" {
		cfg.CosmosListen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Auth && cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	n, err := embed.Start(cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return &Node{Node: n, DataDir: cfg.DataDir}
}

// Dial returns a plaintext connection to the node's gRPC listener that
// accepts messages as large as the server does; it is closed with the test.
func (n *Node) Dial(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(n.Addr(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(16<<20), grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Keyring is the node's signing keyring (nodes started with Auth only).
func (n *Node) Keyring(t testing.TB) *auth.Keyring {
	t.Helper()
	kr, err := auth.LoadOrCreateKeyring(filepath.Join(n.DataDir, auth.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Mint signs an API key offline with the node's keyring and returns the
// token the SDKs send (the inner JWT).
func (n *Node) Mint(t testing.TB, req auth.MintRequest) string {
	t.Helper()
	m, err := auth.MintAPIKey(n.Keyring(t), "", req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m.JWT
}
