package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// payload decodes a JWT's claims the way the SDKs do (no verification).
func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A v2 key is a bare JWT with "t":"g", verified by the same keyring with
// the same permissions and revoked the same way as a v1 key.
func TestV2Keys(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	m, err := MintAPIKey(kr, "ignored.example", MintRequest{V2: true, Perms: allData[:2], ValidFor: time.Hour, TokenID: "v2-key"}, clk.get())
	if err != nil {
		t.Fatal(err)
	}
	if m.APIKey != m.JWT {
		t.Fatal("a v2 key must be the bare JWT, without the v1 endpoint wrapping")
	}
	if _, err := base64.StdEncoding.DecodeString(m.APIKey); err == nil {
		t.Fatal("a v2 key must not be valid base64 (the SDKs take base64 for v1)")
	}
	if got := payload(t, m.APIKey)["t"]; got != "g" {
		t.Fatalf(`claim t = %v, want "g"`, got)
	}
	p, err := s.Verify(m.APIKey)
	if err != nil || !p.IsV2() || len(p.Perms) != 2 {
		t.Fatalf("verify v2: %+v %v", p, err)
	}
	if err := Authorize(p, Op{Name: "CreateCache", Access: AccessControl, Cache: "c"}); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Fatalf("v2 all-data key managing caches: %v", err)
	}
	v1, _ := MintAPIKey(kr, "e", MintRequest{Perms: allData[:1]}, clk.get())
	if _, ok := payload(t, v1.JWT)["t"]; ok {
		t.Fatal("a v1 key carries the v2 type claim")
	}

	// A v2 super user mints v2 keys over the wire; refreshes keep the type.
	su, _ := MintAPIKey(kr, "", MintRequest{V2: true, SuperUser: true, ValidFor: time.Hour}, clk.get())
	caller, err := s.Verify(su.JWT)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.GenerateAPIKey(caller, MintRequest{Perms: allData[:1], ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if payload(t, g.JWT)["t"] != "g" {
		t.Fatal("a v2 caller minted a v1 key")
	}
	r, err := s.RefreshAPIKey(g.JWT, g.RefreshToken)
	if err != nil || payload(t, r.JWT)["t"] != "g" {
		t.Fatalf("refresh of a v2 key: %v", err)
	}

	// Revocation by token id, picked up by the next poll.
	if err := Revoke(filepath.Join(dir, RevokedFileName), "v2-key"); err != nil {
		t.Fatal(err)
	}
	s.revoked.reload()
	if _, err := s.Verify(m.APIKey); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("revoked v2 key: %v", err)
	}
	clk.add(2 * time.Hour)
	if _, err := s.Verify(g.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("expired v2 key: %v", err)
	}
}
