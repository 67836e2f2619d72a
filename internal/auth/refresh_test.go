package auth

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

func mintScoped(t *testing.T, s *Service, kr *Keyring, now time.Time, tokenID string) Minted {
	t.Helper()
	super, err := s.Verify(superKey(t, kr, now).JWT)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GenerateAPIKey(super, MintRequest{Perms: allData, ValidFor: time.Hour, TokenID: tokenID})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantRefreshUsed(t *testing.T, what string, err error) {
	t.Helper()
	// What Momento answers for a pair that can no longer be refreshed.
	if !errors.Is(err, errs.ErrInvalidToken) || errs.CodeOf(err) != errs.CodeInvalidArgument || !strings.Contains(err.Error(), "already been used") {
		t.Fatalf("%s: %v, want INVALID_ARGUMENT: already used", what, err)
	}
}

func TestRefreshTokenIsSingleUse(t *testing.T) {
	s, kr, clk, dir := newTestService(t)
	m := mintScoped(t, s, kr, clk.get(), "")
	r1, err := s.RefreshAPIKey(m.JWT, m.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RefreshAPIKey(m.JWT, m.RefreshToken)
	wantRefreshUsed(t, "second use of a refresh token", err)
	_, err = s.RefreshAPIKey(m.APIKey, m.RefreshToken) // the v1 wrapping of the same key
	wantRefreshUsed(t, "second use through the v1 key", err)
	// Only the refresh token is spent: the key it came with still works,
	// and the new pair refreshes once.
	if _, err := s.Verify(m.JWT); err != nil {
		t.Fatalf("the refreshed-from key: %v", err)
	}
	r2, err := s.RefreshAPIKey(r1.APIKey, r1.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the new pair: %v", err)
	}
	_, err = s.RefreshAPIKey(r1.APIKey, r1.RefreshToken)
	wantRefreshUsed(t, "second use of the new refresh token", err)
	if _, err := s.Verify(r2.JWT); err != nil {
		t.Fatal(err)
	}

	// The use is recorded in the revocation list: a restarted server
	// refuses it too.
	s2 := New(Config{Keyring: kr, RevokedPath: filepath.Join(dir, RevokedFileName), Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	defer s2.Close()
	_, err = s2.RefreshAPIKey(m.JWT, m.RefreshToken)
	wantRefreshUsed(t, "a used refresh token after a restart", err)
}

// Of concurrent refreshes with one refresh token exactly one succeeds.
func TestRefreshTokenConcurrentUse(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	m := mintScoped(t, s, kr, clk.get(), "")
	const n = 16
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RefreshAPIKey(m.JWT, m.RefreshToken)
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	ok := 0
	for err := range errc {
		if err == nil {
			ok++
			continue
		}
		wantRefreshUsed(t, "a concurrent use", err)
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want 1", ok, n)
	}
}

// A use that cannot be recorded is refused: it could be repeated.
func TestRefreshRefusedWhenUseCannotBeRecorded(t *testing.T) {
	dir := t.TempDir()
	kr, err := LoadOrCreateKeyring(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the list should be: it cannot be read or written.
	s := New(Config{Keyring: kr, RevokedPath: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer s.Close()
	m := mintScoped(t, s, kr, time.Now(), "")
	if _, err := s.RefreshAPIKey(m.JWT, m.RefreshToken); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("refresh without a writable revocation list: %v", err)
	}
	// Nor can it be retried into a success: the attempt spent the token here.
	_, err = s.RefreshAPIKey(m.JWT, m.RefreshToken)
	wantRefreshUsed(t, "retry after a failed record", err)
}

// Revoking a key revokes every key refreshed from it, however many
// refreshes down, their open streams and their refreshes included.
func TestRevokingAKeyRevokesItsRefreshes(t *testing.T) {
	s, kr, clk, _ := newTestService(t)
	super, err := s.Verify(superKey(t, kr, clk.get()).JWT)
	if err != nil {
		t.Fatal(err)
	}
	root := mintScoped(t, s, kr, clk.get(), "")
	other := mintScoped(t, s, kr, clk.get(), "")
	r1, err := s.RefreshAPIKey(root.JWT, root.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.RefreshAPIKey(r1.JWT, r1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Verify(r2.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Root != root.ID {
		t.Fatalf("a key refreshed twice has root %q, want the first key %s", p2.Root, root.ID)
	}
	if p, _ := s.Verify(root.JWT); p.Root != "" {
		t.Fatalf("a minted key has root %q, want none", p.Root)
	}
	ctx, stop := s.Watch(t.Context(), p2)
	defer stop()

	if err := s.RevokeToken(super, root.ID); err != nil {
		t.Fatal(err)
	}
	for name, jwt := range map[string]string{"root": root.JWT, "refreshed": r1.JWT, "refreshed twice": r2.JWT} {
		if _, err := s.Verify(jwt); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("%s key after revoking the root: %v", name, err)
		}
	}
	<-ctx.Done()
	if _, err := s.RefreshAPIKey(r2.JWT, r2.RefreshToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("refresh of a descendant of a revoked key: %v", err)
	}
	if _, err := s.Verify(other.JWT); err != nil {
		t.Fatalf("an unrelated key: %v", err)
	}
	// The root claim is signed: a token cannot shed it.
	parts := strings.Split(r2.JWT, ".")
	if !strings.Contains(mustDecode(t, parts[1]), `,"root":"`+root.ID+`"`) {
		t.Fatalf("claims %s", mustDecode(t, parts[1]))
	}
	forged := parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(mustDecode(t, parts[1]), `,"root":"`+root.ID+`"`, "", 1))) + "." + parts[2]
	if _, err := s.Verify(forged); !errors.Is(err, errs.ErrUnauthenticated) || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("a descendant without its root claim: %v", err)
	}
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
