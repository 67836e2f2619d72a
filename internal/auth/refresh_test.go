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
	m := mintScoped(t, s, kr, clk.t, "")
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
	m := mintScoped(t, s, kr, clk.t, "")
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

