package main

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

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
