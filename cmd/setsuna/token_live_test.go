package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Issue 11: `token rotate-key` and `remove-key` on the data directory of a
// running server take effect without a restart.
func TestTokenKeyCommandsTakeEffectLive(t *testing.T) {
	dir := t.TempDir()
	p := testnode.StartProc(t, "--auth", "--data-dir", dir)
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	control := pb.NewScsControlClient(conn)
	listCaches := func(key string) error {
		_, err := control.ListCaches(metadata.AppendToOutgoingContext(t.Context(), "authorization", key), &pb.ListCachesRequest{})
		return err
	}
	token := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := runToken(append(args, "--data-dir", dir), &out, &errOut); code != 0 {
			t.Fatalf("token %v: exit %d: %s", args, code, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	oldKid := strings.Fields(token("keys"))[0]
	oldKey := token("issue", "--super-user")
	if err := listCaches(oldKey); err != nil {
		t.Fatal(err)
	}

	token("rotate-key")
	p.WaitLog(t, "signing keys reloaded", 1)
	newKey := token("issue", "--super-user")
	if err := listCaches(newKey); err != nil {
		t.Fatalf("a key of the rotated-in signing key: %v", err)
	}
	if err := listCaches(oldKey); err != nil {
		t.Fatalf("a key of the rotated-out signing key: %v", err)
	}

	token("remove-key", oldKid)
	p.WaitLog(t, "signing keys reloaded", 2)
	if err := listCaches(oldKey); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a key of the removed signing key: %v", err)
	}
	if err := listCaches(newKey); err != nil {
		t.Fatalf("a key of the remaining signing key: %v", err)
	}
}

// Two nodes given one engine's records (server.Config.AuthRecords, as the
// Redis engine will) share their keyring and revocations: a key of one
// node's data directory works on the other, and `token revoke` on one
// node's data directory is enforced by the other.
func TestNodesSharingAuthRecords(t *testing.T) {
	engine := memstore.New(memstore.Options{})
	defer engine.Close()
	a := testnode.Start(t, embed.Config{Auth: true, AuthRecords: engine})
	b := testnode.Start(t, embed.Config{Auth: true, AuthRecords: engine})
	key := a.Mint(t, auth.MintRequest{SuperUser: true, TokenID: "shared-admin"})
	listCaches := func(n *testnode.Node) error {
		_, err := pb.NewScsControlClient(n.Dial(t)).ListCaches(metadata.AppendToOutgoingContext(t.Context(), "authorization", key), &pb.ListCachesRequest{})
		return err
	}
	if err := listCaches(b); err != nil {
		t.Fatalf("a key of node a's data dir on node b: %v", err)
	}
	if err := auth.Revoke(filepath.Join(a.DataDir, auth.RevokedFileName), "shared-admin"); err != nil {
		t.Fatal(err)
	}
	// What the pollers do within a second, now (SIGHUP's reload): node a
	// publishes the revocation, node b applies it.
	for _, n := range []*testnode.Node{a, b} {
		if err := n.Server().Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if err := listCaches(b); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("the revoked key on node b: %v", err)
	}
}
