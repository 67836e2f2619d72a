package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// fakeClock is read by the poller too.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) get() time.Time { return c.now() }

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) add(d time.Duration) { c.set(c.now().Add(d)) }

func newTestService(t *testing.T) (*Service, *Keyring, *fakeClock, string) {
	t.Helper()
	dir := t.TempDir()
	kr, err := LoadOrCreateKeyring(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)} // in the past: the CLI's Revoke uses the real clock
	s := New(Config{Keyring: kr, RevokedPath: filepath.Join(dir, RevokedFileName), Endpoint: "127.0.0.1:8080",
		Now: clk.now, Poll: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(s.Close)
	return s, kr, clk, dir
}

func superKey(t *testing.T, kr *Keyring, now time.Time) Minted {
	t.Helper()
	m, err := MintAPIKey(kr, "127.0.0.1:8080", MintRequest{SuperUser: true, ValidFor: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var allData = []Permission{
	{Resource: ResourceCache, Role: RoleReadWrite},
	{Resource: ResourceTopic, Role: RoleReadWrite},
	{Resource: ResourceFunction, Role: RoleInvoke},
}

func TestVerifyAcceptsOwnKeysInBothForms(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	m := superKey(t, kr, clk.get())
	for _, tok := range []string{m.JWT, m.APIKey} {
		p, err := s.Verify(tok)
		if err != nil || !p.SuperUser || p.ID != m.ID {
			t.Fatalf("Verify(%.20s...) = %+v, %v", tok, p, err)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(m.APIKey)
	if err != nil {
		t.Fatalf("v1 key is not base64: %v", err)
	}
	var v1 map[string]string
	if err := json.Unmarshal(raw, &v1); err != nil || v1["api_key"] != m.JWT || v1["endpoint"] != "127.0.0.1:8080" {
		t.Fatalf("v1 key = %s, %v", raw, err)
	}
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	good := superKey(t, kr, clk.get()).JWT
	parts := strings.Split(good, ".")
	otherKR, err := LoadOrCreateKeyring(filepath.Join(t.TempDir(), KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	foreign := superKey(t, otherKR, clk.get()).JWT

	enc := func(v any) string { b, _ := json.Marshal(v); return b64.EncodeToString(b) }
	claims, _ := b64.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(claims, &c)
	c["su"] = true
	c["p"] = nil
	forgedClaims := enc(c)

	f := func(name, token, want string) {
		t.Helper()
		_, err := s.Verify(token)
		if !errors.Is(err, errs.ErrUnauthenticated) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: Verify = %v, want unauthenticated containing %q", name, err, want)
		}
	}
	f("empty", "", "missing")
	f("garbage", "not a token", "malformed")
	f("two parts", parts[0]+"."+parts[1], "malformed")
	f("alg none", enc(map[string]string{"alg": "none", "typ": "JWT", "kid": ""})+"."+parts[1]+".", "algorithm")
	f("hs256", enc(map[string]string{"alg": "HS256", "typ": "JWT", "kid": ""})+"."+parts[1]+"."+parts[2], "algorithm")
	f("tampered claims", parts[0]+"."+forgedClaims+"."+parts[2], "signature")
	f("signed by another keyring", foreign, "unknown key")
	f("truncated signature", parts[0]+"."+parts[1]+"."+parts[2][:10], "malformed")
	f("extra header field", enc(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": "x", "jku": "http://evil"})+"."+parts[1]+"."+parts[2], "malformed")
	f("huge", strings.Repeat("a", maxTokenLen+1), "malformed")
	f("v1 wrapping a forged token", WrapV1(parts[0]+"."+forgedClaims+"."+parts[2], "x"), "signature")

	rt, _ := MintAPIKey(kr, "", MintRequest{SuperUser: true}, clk.get())
	f("refresh token as a key", rt.RefreshToken, "refresh token cannot be used")

	clk.add(2 * time.Hour)
	f("expired", good, "expired")
}

func TestRevocationEndsCallsAndStreams(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	m, err := MintAPIKey(kr, "", MintRequest{Perms: allData, TokenID: "svc-1"}, clk.get())
	if err != nil {
		t.Fatal(err)
	}
	other := superKey(t, kr, clk.get())
	p, err := s.Verify(m.JWT)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := s.Watch(context.Background(), p)
	defer stop()

	if err := Revoke(filepath.Join(dir, RevokedFileName), "svc-1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("stream context not cancelled after revocation")
	}
	if !errors.Is(context.Cause(ctx), errs.ErrUnauthenticated) {
		t.Fatalf("cause = %v", context.Cause(ctx))
	}
	if _, err := s.Verify(m.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("revoked key verified: %v", err)
	}
	if _, err := s.Verify(other.JWT); err != nil {
		t.Fatalf("revoking svc-1 affected another key: %v", err)
	}
	// Revoking by jti works too, and twice is harmless.
	for i := 0; i < 2; i++ {
		if err := Revoke(filepath.Join(dir, RevokedFileName), other.ID); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, err := s.Verify(other.JWT); err == nil; _, err = s.Verify(other.JWT) {
		if time.Now().After(deadline) {
			t.Fatal("key revoked by jti still verifies")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWatchEndsAtExpiry(t *testing.T) {
	s, kr, _, _ := newTestService(t)
	s.now = time.Now
	m, err := MintAPIKey(kr, "", MintRequest{Perms: allData, ValidFor: time.Second}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Verify(m.JWT)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := s.Watch(context.Background(), p)
	defer stop()
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), errs.ErrUnauthenticated) {
		t.Fatalf("cause = %v", context.Cause(ctx))
	}
}

func TestMintRules(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	super, _ := s.Verify(superKey(t, kr, clk.get()).JWT)
	adm, _ := MintAPIKey(kr, "", MintRequest{Perms: allData}, clk.get())
	allDataP, _ := s.Verify(adm.JWT)
	disp, err := s.GenerateDisposable(super, MintRequest{Perms: allData[:1], ValidFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	dispP, _ := s.Verify(disp.JWT)

	f := func(name string, caller *Principal, req MintRequest, disposable bool, want error) {
		t.Helper()
		var err error
		if disposable {
			_, err = s.GenerateDisposable(caller, req)
		} else {
			_, err = s.GenerateAPIKey(caller, req)
		}
		if !errors.Is(err, want) {
			t.Fatalf("%s: err = %v, want %v", name, err, want)
		}
	}
	ok := error(nil)
	f("super mints all-data", super, MintRequest{Perms: allData, ValidFor: time.Hour}, false, ok)
	f("super mints never-expiring", super, MintRequest{Perms: allData}, false, ok)
	f("super mints super", super, MintRequest{SuperUser: true}, false, errs.ErrPermissionDenied)
	f("all-data mints nothing", allDataP, MintRequest{Perms: allData[:1], ValidFor: time.Hour}, false, errs.ErrPermissionDenied)
	f("disposable mints nothing", dispP, MintRequest{Perms: allData[:1], ValidFor: time.Hour}, true, errs.ErrPermissionDenied)
	f("empty permissions", super, MintRequest{ValidFor: time.Hour}, false, errs.ErrInvalidToken)
	f("duplicate permissions", super, MintRequest{Perms: []Permission{allData[0], {Resource: ResourceCache, Role: RoleReadOnly}}}, false, errs.ErrInvalidToken)
	f("bad role", super, MintRequest{Perms: []Permission{{Resource: ResourceCache, Role: "admin"}}}, false, errs.ErrInvalidToken)
	f("long token id", super, MintRequest{Perms: allData, TokenID: strings.Repeat("x", 65)}, false, errs.ErrInvalidToken)
	f("disposable must expire", super, MintRequest{Perms: allData}, true, errs.ErrInvalidToken)
	f("disposable at most 25h", super, MintRequest{Perms: allData, ValidFor: 25*time.Hour + time.Second}, true, errs.ErrInvalidToken)
	f("disposable 25h", super, MintRequest{Perms: allData, ValidFor: 25 * time.Hour}, true, ok)
}

func TestRefresh(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	super, _ := s.Verify(superKey(t, kr, clk.get()).JWT)
	scoped := []Permission{{Resource: ResourceCache, Role: RoleReadOnly, Cache: "foo"}}
	m, err := s.GenerateAPIKey(super, MintRequest{Perms: scoped, ValidFor: 30 * time.Minute, TokenID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(10 * time.Minute)
	r, err := s.RefreshAPIKey(m.JWT, m.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Verify(r.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == m.ID || p.TokenID != "t1" || len(p.Perms) != 1 || p.Perms[0].Cache != "foo" || p.Perms[0].Role != RoleReadOnly {
		t.Fatalf("refreshed principal = %+v", p)
	}
	if r.ValidUntil != clk.get().Add(30*time.Minute).Unix() {
		t.Fatalf("refreshed key valid until %d, want now+30m", r.ValidUntil)
	}
	other, _ := s.GenerateAPIKey(super, MintRequest{Perms: scoped, ValidFor: time.Hour})
	if _, err := s.RefreshAPIKey(m.JWT, other.RefreshToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("refresh with another key's refresh token: %v", err)
	}
	if _, err := s.RefreshAPIKey(m.JWT, m.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("refresh with an API key as refresh token: %v", err)
	}
	clk.add(time.Hour)
	// Momento answers INVALID_ARGUMENT for a pair that has expired.
	if _, err := s.RefreshAPIKey(m.JWT, m.RefreshToken); !errors.Is(err, errs.ErrInvalidToken) || errs.CodeOf(err) != errs.CodeInvalidArgument {
		t.Fatalf("refresh of an expired key: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	kr, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	old, _ := MintAPIKey(kr, "", MintRequest{SuperUser: true}, time.Now())
	_, oldID := kr.KeyIDs()
	newID, err := RotateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	kr2, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Keyring: kr2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	if _, active := kr2.KeyIDs(); active != newID {
		t.Fatalf("active key = %s, want %s", active, newID)
	}
	if _, err := s.Verify(old.JWT); err != nil {
		t.Fatalf("token of the rotated-out key no longer verifies: %v", err)
	}
	if err := RemoveKey(path, newID); err == nil {
		t.Fatal("removed the active key")
	}
	if err := RemoveKey(path, oldID); err != nil {
		t.Fatal(err)
	}
	kr3, _ := LoadKeyring(path)
	s3 := New(Config{Keyring: kr3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s3.Close()
	if _, err := s3.Verify(old.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("token of a removed key verifies: %v", err)
	}
}

func TestAuthorize(t *testing.T) {
	f := func(perms []Permission, op Op, want bool) {
		t.Helper()
		err := Authorize(&Principal{Perms: perms}, op)
		if (err == nil) != want {
			t.Fatalf("Authorize(%+v, %+v) = %v, want allowed=%v", perms, op, err, want)
		}
		if err != nil && (!errors.Is(err, errs.ErrPermissionDenied) || !strings.Contains(err.Error(), op.Name)) {
			t.Fatalf("denial %q does not wrap errs.ErrPermissionDenied or name %s", err, op.Name)
		}
	}
	get := func(cache string, keys ...string) Op {
		op := Op{Name: "Get", Resource: ResourceCache, Access: AccessRead, Cache: cache}
		for _, k := range keys {
			op.Keys = append(op.Keys, []byte(k))
		}
		return op
	}
	prefix := []Permission{{Resource: ResourceCache, Role: RoleReadWrite, Cache: "c", KeyPrefix: []byte("user:")}}
	f(prefix, get("c", "user:1"), true)
	f(prefix, get("c", "user:1", "user:2"), true)
	f(prefix, get("c", "user:1", "admin"), false) // batch checked per key
	f(prefix, get("d", "user:1"), false)
	f(prefix, get("c"), false) // no keys: needs an all-items grant
	exact := []Permission{{Resource: ResourceCache, Role: RoleReadOnly, Key: []byte("k")}}
	f(exact, get("any", "k"), true)
	f(exact, get("any", "k2"), false)
	wo := []Permission{{Resource: ResourceCache, Role: RoleWriteOnly}}
	f(wo, Op{Name: "Set", Resource: ResourceCache, Access: AccessWrite, Cache: "c", Keys: [][]byte{[]byte("k")}}, true)
	f(wo, Op{Name: "SetIf", Resource: ResourceCache, Access: AccessConditional, Cache: "c", Keys: [][]byte{[]byte("k")}}, false)
	f(allData, Op{Name: "CreateCache", Access: AccessControl, Cache: "c"}, false)
	f(nil, Op{Name: "Ping", Access: AccessAny}, true)
	topic := []Permission{{Resource: ResourceTopic, Role: RoleReadOnly, Cache: "mo_nuts", Topic: "where_is_mo"}}
	f(topic, Op{Name: "Subscribe", Resource: ResourceTopic, Access: AccessRead, Cache: "mo_nuts", Topic: "where_is_mo"}, true)
	f(topic, Op{Name: "Publish", Resource: ResourceTopic, Access: AccessWrite, Cache: "mo_nuts", Topic: "where_is_mo"}, false)
	f(topic, Op{Name: "Subscribe", Resource: ResourceTopic, Access: AccessRead, Cache: "mo_nuts", Topic: "other"}, false)
}

func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	kr, err := LoadOrCreateKeyring(filepath.Join(dir, KeyFileName))
	if err != nil {
		f.Fatal(err)
	}
	s := New(Config{Keyring: kr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	good, _ := MintAPIKey(kr, "e", MintRequest{Perms: allData, ValidFor: time.Hour}, time.Now())
	for _, seed := range []string{"", "a.b.c", good.JWT, good.APIKey, good.RefreshToken, good.JWT + "x", "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	pub, _ := kr.publicKey(kr.active.ID)
	f.Fuzz(func(t *testing.T, token string) {
		p, err := s.Verify(token)
		if err != nil {
			return
		}
		// Anything that verifies must carry a valid signature by our key.
		parts := strings.Split(unwrap(token), ".")
		sig, _ := b64.DecodeString(parts[2])
		if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) || p.Kind == KindRefresh {
			t.Fatalf("accepted %q as %+v", token, p)
		}
	})
}

// A verified token is remembered, but its expiry still holds: a cached
// token is refused once it has expired.
func TestVerifiedTokensStillExpire(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	m := superKey(t, kr, clk.get()) // valid for an hour
	for range 3 {
		if _, err := s.Verify(m.JWT); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(2 * time.Hour)
	if _, err := s.Verify(m.JWT); !errors.Is(err, errs.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired cached token: %v", err)
	}
	// A forged token is never remembered as valid.
	forged := m.JWT[:len(m.JWT)-4] + "AAAA"
	for range 2 {
		if _, err := s.Verify(forged); err == nil {
			t.Fatal("a forged token verified")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	kr, err := LoadOrCreateKeyring(filepath.Join(dir, KeyFileName))
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{Keyring: kr, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	m, err := MintAPIKey(kr, "", MintRequest{SuperUser: true}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Verify(m.JWT); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			s.forgetVerified()
			if _, err := s.Verify(m.JWT); err != nil {
				b.Fatal(err)
			}
		}
	})
}
