package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

func wantRevoked(t *testing.T, s *Service, what, jwt string, revoked bool) {
	t.Helper()
	_, err := s.Verify(jwt)
	if revoked && !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("%s: Verify = %v, want revoked", what, err)
	}
	if !revoked && err != nil {
		t.Fatalf("%s: Verify = %v, want valid", what, err)
	}
}

// Issue 11: a revoked token_id used to poison every later key minted with
// the same id. A revocation applies to keys minted before it.
func TestRevokedTokenIDDoesNotPoisonLaterKeys(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	super, err := s.Verify(superKey(t, kr, clk.get()).JWT)
	if err != nil {
		t.Fatal(err)
	}
	mint := func() Minted {
		t.Helper()
		m, err := s.GenerateAPIKey(super, MintRequest{Perms: allData, ValidFor: 24 * time.Hour, TokenID: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	old := mint()
	clk.add(time.Minute)
	if err := s.RevokeToken(super, "svc"); err != nil {
		t.Fatal(err)
	}
	sameSecond := mint() // cannot be told from one minted just before
	clk.add(time.Second)
	later := mint()
	wantRevoked(t, s, "key minted before the revocation", old.JWT, true)
	wantRevoked(t, s, "key minted in the second of the revocation", sameSecond.JWT, true)
	wantRevoked(t, s, "key minted after the revocation", later.JWT, false)

	// Revoking the id again reaches the later key; a jti revocation has no
	// time: it names one token.
	clk.add(time.Minute)
	if err := s.RevokeToken(super, "svc"); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, s, "later key after a second revocation", later.JWT, true)
	clk.add(time.Minute)
	last := mint()
	wantRevoked(t, s, "key minted after the second revocation", last.JWT, false)
	if err := s.RevokeToken(super, last.ID); err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, s, "key revoked by jti", last.JWT, true)
}

// A key refreshed after a token_id revocation, on a node that had not seen
// it yet, still belongs to a family minted before the revocation.
func TestRevokedTokenIDCoversLaterRefreshes(t *testing.T) {
	a, kr, clk, _ := newTestService(t)
	// b shares the keyring but has not seen a's revocations.
	b := New(Config{Keyring: kr, Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()
	m := mintScoped(t, a, kr, clk.get(), "fam")
	clk.add(time.Minute)
	super, _ := a.Verify(superKey(t, kr, clk.get()).JWT)
	if err := a.RevokeToken(super, "fam"); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Minute)
	r, err := b.RefreshAPIKey(m.JWT, m.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	wantRevoked(t, a, "a key refreshed after its token_id was revoked", r.JWT, true)
	wantRevoked(t, b, "the same key where the revocation is unknown", r.JWT, false)
}

// The first file format (ids alone) is still read, each id revoked as of
// the file's last write, and upgraded when the list is next written.
func TestRevocationListOldFormat(t *testing.T) {
	dir := t.TempDir()
	kr, err := LoadOrCreateKeyring(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, RevokedFileName)
	written := time.Unix(1_700_000_000, 0)
	jtiKey := superKey(t, kr, written.Add(-time.Hour))
	oldKey, _ := MintAPIKey(kr, "", MintRequest{Perms: allData, TokenID: "old-tid"}, written.Add(-time.Hour))
	newKey, _ := MintAPIKey(kr, "", MintRequest{Perms: allData, TokenID: "old-tid"}, written.Add(time.Hour))
	if err := os.WriteFile(path, []byte(`{"revoked": ["old-tid", "`+jtiKey.ID+`", ""]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, written, written); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		s := New(Config{Keyring: kr, RevokedPath: path, Now: func() time.Time { return written.Add(2 * time.Hour) }, Logger: slog.New(slog.DiscardHandler)})
		defer s.Close()
		wantRevoked(t, s, when+": key revoked by jti", jtiKey.JWT, true)
		wantRevoked(t, s, when+": key of a revoked token_id minted before the file was written", oldKey.JWT, true)
		wantRevoked(t, s, when+": key of a revoked token_id minted after", newKey.JWT, false)
	}
	check("old format")

	if err := Revoke(path, "another"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, old := raw["revoked"]; old || raw["revocations"] == nil {
		t.Fatalf("the list was not upgraded:\n%s", data)
	}
	var rf revokedFile
	if err := json.Unmarshal(data, &rf); err != nil || len(rf.Revocations) != 3 {
		t.Fatalf("upgraded list %s: %v", data, err)
	}
	for _, r := range rf.Revocations {
		if r.ID == "old-tid" && !r.Before.Equal(written) {
			t.Fatalf("old-tid revoked before %v after the upgrade, want the old file's time %v", r.Before, written)
		}
	}
	check("upgraded")
}

// A list that does not load leaves the previous one in force; Revoke does
// not overwrite a list it cannot read.
func TestRevocationListBadFile(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	path := filepath.Join(dir, RevokedFileName)
	m := mintScoped(t, s, kr, clk.get(), "bad-list")
	super, _ := s.Verify(superKey(t, kr, clk.get()).JWT)
	clk.add(time.Second)
	if err := s.RevokeToken(super, "bad-list"); err != nil {
		t.Fatal(err)
	}
	for _, garbage := range []string{"{", `{"revocations": "x"}`, `{"revocations": [{"id": "a", "before": "yesterday"}]}`, "\x00\x01"} {
		if err := writeFileAtomic(path, []byte(garbage)); err != nil {
			t.Fatal(err)
		}
		s.revoked.reload()
		wantRevoked(t, s, fmt.Sprintf("after loading %q", garbage), m.JWT, true)
		if err := Revoke(path, "x"); err == nil || !strings.Contains(err.Error(), "cannot parse revocation list") {
			t.Fatalf("Revoke over %q: %v", garbage, err)
		}
		if data, _ := os.ReadFile(path); string(data) != garbage {
			t.Fatalf("Revoke overwrote an unreadable list %q with %q", garbage, data)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := Revoke(path, " "); err != nil { // whitespace is an id to the CLI; empty is not
		t.Fatal(err)
	}
	if err := Revoke(path, ""); err == nil {
		t.Fatal("revoked an empty id")
	}
}

// A used refresh token's entry lasts until the token would have expired;
// the next write of the list drops it.
func TestRevocationOfUsedRefreshTokenExpires(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	path := filepath.Join(dir, RevokedFileName)
	m := mintScoped(t, s, kr, clk.get(), "") // valid for an hour
	if _, err := s.RefreshAPIKey(m.JWT, m.RefreshToken); err != nil {
		t.Fatal(err)
	}
	rt, err := s.parseSigned(m.RefreshToken, KindRefresh)
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := readRevokedFile(path)
	if err != nil || entries[rt.ID].expires != rt.ExpiresAt || rt.ExpiresAt == 0 {
		t.Fatalf("entry of a used refresh token = %+v (%v), want it to expire with the token at %d", entries[rt.ID], err, rt.ExpiresAt)
	}
	clk.set(time.Unix(rt.ExpiresAt, 0))
	super, _ := s.Verify(superKey(t, kr, clk.get()).JWT)
	if err := s.RevokeToken(super, "next"); err != nil {
		t.Fatal(err)
	}
	entries, _, err = readRevokedFile(path)
	if _, ok := entries[rt.ID]; ok || err != nil || len(entries) != 1 {
		t.Fatalf("after the refresh token expired the list holds %v (%v)", entries, err)
	}
	// The token is refused all the same: it has expired.
	if _, err := s.RefreshAPIKey(m.JWT, m.RefreshToken); !errors.Is(err, errs.ErrInvalidToken) {
		t.Fatalf("refresh with an expired used token: %v", err)
	}
}

// The CLI and a running server add to one list; neither loses the other's
// entries.
func TestConcurrentRevocationWritersLoseNothing(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	path := filepath.Join(dir, RevokedFileName)
	super, _ := s.Verify(superKey(t, kr, clk.get()).JWT)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := Revoke(path, fmt.Sprintf("cli-%d", i)); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.RevokeToken(super, fmt.Sprintf("api-%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	entries, _, err := readRevokedFile(path)
	if err != nil || len(entries) != 2*n {
		t.Fatalf("the list holds %d entries (%v), want %d", len(entries), err, 2*n)
	}
}
