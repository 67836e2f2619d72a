package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

// flakyRecords is an engine's records that can be made to fail.
type flakyRecords struct {
	store.Records
	down atomic.Bool
}

var errEngineDown = errors.New("engine unreachable")

func (f *flakyRecords) PutRecord(ctx context.Context, ns, key string, v []byte) error {
	if f.down.Load() {
		return errEngineDown
	}
	return f.Records.PutRecord(ctx, ns, key, v)
}

func (f *flakyRecords) GetRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errEngineDown
	}
	return f.Records.GetRecord(ctx, ns, key)
}

func (f *flakyRecords) DeleteRecord(ctx context.Context, ns, key string) error {
	if f.down.Load() {
		return errEngineDown
	}
	return f.Records.DeleteRecord(ctx, ns, key)
}

func (f *flakyRecords) ListRecords(ctx context.Context, ns string) ([]store.Record, error) {
	if f.down.Load() {
		return nil, errEngineDown
	}
	return f.Records.ListRecords(ctx, ns)
}

// sharedNode is one node of a cluster over one engine, with its own data
// directory and keyring. Its poller never fires: the tests reload.
type sharedNode struct {
	*Service
	keyPath, revPath string
	logs             *lockedBuffer
}

func newSharedNode(t *testing.T, engine store.Records, clk *fakeClock) *sharedNode {
	t.Helper()
	dir := t.TempDir()
	n := &sharedNode{keyPath: filepath.Join(dir, KeyFileName), revPath: filepath.Join(dir, RevokedFileName), logs: &lockedBuffer{}}
	kr, err := LoadOrCreateKeyring(n.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	n.Service = New(Config{Keyring: kr, KeyPath: n.keyPath, RevokedPath: n.revPath, Shared: engine, Now: clk.now,
		Poll: time.Hour, Logger: slog.New(slog.NewTextHandler(n.logs, nil))})
	t.Cleanup(n.Close)
	return n
}

func newEngine(t *testing.T) *flakyRecords {
	t.Helper()
	st := memstore.New(memstore.Options{})
	t.Cleanup(func() { st.Close() })
	return &flakyRecords{Records: st}
}

func reloadAll(t *testing.T, nodes ...*sharedNode) {
	t.Helper()
	for _, n := range nodes {
		if err := n.Reload(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSharedKeyringAcrossNodes(t *testing.T) {
	engine := newEngine(t)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a := newSharedNode(t, engine, clk) // the first node gives the engine its keys
	aFirst := a.keyring()
	b := newSharedNode(t, engine, clk) // the second takes them over its own
	if !b.keyring().equal(aFirst) || !a.keyring().equal(aFirst) {
		t.Fatal("the second node did not take the shared keyring")
	}
	if mirrored, err := LoadKeyring(b.keyPath); err != nil || !mirrored.equal(aFirst) {
		t.Fatalf("the second node's key file does not mirror the shared keyring (%v)", err)
	}
	recs, _ := engine.ListRecords(t.Context(), SharedKeysNamespace)
	if len(recs) != 1 {
		t.Fatalf("%d shared key records, want 1", len(recs))
	}

	// A key minted on either node verifies on both.
	superA := superKey(t, a.keyring(), clk.get())
	callerB, err := b.Verify(superA.JWT)
	if err != nil {
		t.Fatalf("a key of node a on node b: %v", err)
	}
	mB, err := b.GenerateAPIKey(callerB, MintRequest{Perms: allData, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(mB.JWT); err != nil {
		t.Fatalf("a key minted on node b on node a: %v", err)
	}
	rB, err := b.RefreshAPIKey(mB.JWT, mB.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(rB.JWT); err != nil {
		t.Fatalf("a key refreshed on node b on node a: %v", err)
	}

	// A rotation on one node's data directory reaches the other.
	_, oldKid := a.keyring().KeyIDs()
	newKid, err := RotateKeys(a.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	reloadAll(t, a, b)
	if _, active := b.keyring().KeyIDs(); active != newKid {
		t.Fatalf("node b signs with %s after the rotation on node a, want %s", active, newKid)
	}
	m2, err := b.GenerateAPIKey(callerB, MintRequest{Perms: allData, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Verify(m2.JWT); err != nil || p.kid != newKid {
		t.Fatalf("a key of the rotated-in key minted on node b, on node a: %v", err)
	}
	if _, err := b.Verify(superA.JWT); err != nil {
		t.Fatalf("a key of the rotated-out key: %v", err)
	}

	// A removal on the other node's (mirrored) file reaches the first,
	// cached tokens and streams included.
	p, _ := a.Verify(superA.JWT)
	ctx, stop := a.Watch(t.Context(), p)
	defer stop()
	if err := RemoveKey(b.keyPath, oldKid); err != nil {
		t.Fatalf("remove-key on node b's data dir: %v", err)
	}
	reloadAll(t, b, a)
	for name, n := range map[string]*sharedNode{"a": a, "b": b} {
		if _, err := n.Verify(superA.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("node %s: a key of the removed key: %v", name, err)
		}
		if _, err := n.Verify(m2.JWT); err != nil {
			t.Fatalf("node %s: a key of the remaining key: %v", name, err)
		}
	}
	<-ctx.Done()
	if kr, err := LoadKeyring(a.keyPath); err != nil || kr.has(oldKid) {
		t.Fatalf("node a's key file still holds the removed key (%v)", err)
	}
}

// Nodes that rotate at once end with one keyring: the newest key active,
// both verifying.
func TestSharedRotationRace(t *testing.T) {
	engine := newEngine(t)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, b := newSharedNode(t, engine, clk), newSharedNode(t, engine, clk)
	ka, err := RotateKeys(a.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := RotateKeys(b.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	reloadAll(t, a, b, a)
	if !a.keyring().equal(b.keyring()) {
		t.Fatal("the nodes hold different keyrings")
	}
	_, active := a.keyring().KeyIDs()
	if !a.keyring().has(ka) || !a.keyring().has(kb) || active != kb {
		t.Fatalf("keyring after a rotation race: active %s, want the newer %s of %s, %s both present", active, kb, ka, kb)
	}
}

func TestSharedRevocationsAcrossNodes(t *testing.T) {
	engine := newEngine(t)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, b := newSharedNode(t, engine, clk), newSharedNode(t, engine, clk)
	super, err := a.Verify(superKey(t, a.keyring(), clk.get()).JWT)
	if err != nil {
		t.Fatal(err)
	}
	k1 := mintScoped(t, a.Service, a.keyring(), clk.get(), "")
	k2 := mintScoped(t, a.Service, a.keyring(), clk.get(), "cli-tid")
	p1, err := b.Verify(k1.JWT)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := b.Watch(t.Context(), p1)
	defer stop()

	// Over the API on one node: the other refuses it after its next poll,
	// open streams included.
	clk.add(time.Second)
	if err := a.RevokeToken(super, k1.ID); err != nil {
		t.Fatal(err)
	}
	reloadAll(t, b)
	wantRevoked(t, b.Service, "a key revoked on node a, on node b", k1.JWT, true)
	<-ctx.Done()

	// With the CLI on a node's data directory: published by that node.
	if err := Revoke(b.revPath, "cli-tid"); err != nil {
		t.Fatal(err)
	}
	reloadAll(t, b, a)
	wantRevoked(t, a.Service, "a token_id revoked in node b's file, on node a", k2.JWT, true)

	// A refresh token used on one node is refused on the other before its
	// next poll.
	k3 := mintScoped(t, a.Service, a.keyring(), clk.get(), "")
	if _, err := a.RefreshAPIKey(k3.JWT, k3.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = b.RefreshAPIKey(k3.JWT, k3.RefreshToken)
	wantRefreshUsed(t, "a refresh token used on node a, on node b", err)

	// A node that joins later enforces them all from the start.
	c := newSharedNode(t, engine, clk)
	wantRevoked(t, c.Service, "a revoked key on a new node", k1.JWT, true)
	wantRevoked(t, c.Service, "a revoked token_id on a new node", k2.JWT, true)
	_, err = c.RefreshAPIKey(k3.JWT, k3.RefreshToken)
	wantRefreshUsed(t, "a used refresh token on a new node", err)
}

// Records that do not load leave the keyring and revocations in place and
// are logged without their content; an engine that cannot be reached
// fails refreshes closed and keeps what the node has.
func TestSharedBadRecordsAndEngineDown(t *testing.T) {
	engine := newEngine(t)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, b := newSharedNode(t, engine, clk), newSharedNode(t, engine, clk)
	super := superKey(t, a.keyring(), clk.get())
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	for _, bad := range []struct{ key, value, want string }{
		{"k-bad", `{"id":"k-bad","seed":"` + secret, "invalid JSON"},
		{"k-bad", `{"id":"other","seed":"` + secret + `","active":true}`, "names another key"},
		{"k-bad", `{"id":"k-bad","seed":"` + secret[:8] + `","active":true}`, "malformed"},
	} {
		if err := engine.PutRecord(t.Context(), SharedKeysNamespace, bad.key, []byte(bad.value)); err != nil {
			t.Fatal(err)
		}
		if err := b.Reload(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("reload with a bad key record %s: %v, want %q", bad.value, err, bad.want)
		}
		if _, err := b.Verify(super.JWT); err != nil {
			t.Fatalf("a bad key record dropped the keyring: %v", err)
		}
	}
	if err := engine.DeleteRecord(t.Context(), SharedKeysNamespace, "k-bad"); err != nil {
		t.Fatal(err)
	}
	reloadAll(t, b)
	if err := engine.PutRecord(t.Context(), SharedRevocationsNamespace, revocationKey("x"), []byte(`{"id":"y"}`)); err != nil {
		t.Fatal(err)
	}
	caller, _ := a.Verify(super.JWT)
	k := mintScoped(t, a.Service, a.keyring(), clk.get(), "")
	clk.add(time.Second)
	if err := a.RevokeToken(caller, k.ID); err != nil {
		t.Fatal(err)
	}
	reloadAll(t, b)
	wantRevoked(t, b.Service, "a revocation beside a malformed one", k.JWT, true)
	out := b.logs.String()
	if !strings.Contains(out, "cannot reload the signing keys") || !strings.Contains(out, "malformed shared revocation") {
		t.Fatalf("bad records not logged:\n%s", out)
	}
	if strings.Contains(out, secret[:8]) {
		t.Fatalf("the log shows key material:\n%s", out)
	}

	// The engine goes away: the node keeps its keys and revocations, and
	// refuses refreshes and revocations it cannot record.
	m := mintScoped(t, a.Service, a.keyring(), clk.get(), "")
	engine.down.Store(true)
	if err := b.Reload(); !errors.Is(err, errEngineDown) {
		t.Fatalf("reload with the engine down: %v", err)
	}
	if _, err := b.Verify(super.JWT); err != nil {
		t.Fatalf("the engine going away dropped the keyring: %v", err)
	}
	wantRevoked(t, b.Service, "a revoked key with the engine down", k.JWT, true)
	if _, err := b.RefreshAPIKey(m.JWT, m.RefreshToken); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("refresh with the engine down: %v", err)
	}
	if err := b.RevokeToken(caller, "z"); !errors.Is(err, errEngineDown) {
		t.Fatalf("revoke with the engine down: %v", err)
	}
	engine.down.Store(false)
	if _, err := a.RefreshAPIKey(m.JWT, m.RefreshToken); err != nil {
		t.Fatalf("refresh once the engine is back: %v", err)
	}
}

// A key file change that cannot be published is published once the engine
// is back, not lost.
func TestSharedKeyChangePublishedAfterOutage(t *testing.T) {
	engine := newEngine(t)
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a, b := newSharedNode(t, engine, clk), newSharedNode(t, engine, clk)
	engine.down.Store(true)
	newKid, err := RotateKeys(a.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.reloadKeys(false); !errors.Is(err, errEngineDown) {
		t.Fatalf("reload with the engine down: %v", err)
	}
	engine.down.Store(false)
	if err := a.reloadKeys(false); err != nil {
		t.Fatal(err)
	}
	reloadAll(t, b)
	if _, active := b.keyring().KeyIDs(); active != newKid {
		t.Fatalf("node b signs with %s, want %s rotated in during the outage", active, newKid)
	}
}
