package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// lockedBuffer collects log output written by the poller and read by a test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newWatchedService is a Service over the key file in a fresh data dir
// whose poller never fires: the tests reload explicitly.
func newWatchedService(t *testing.T) (*Service, string, *fakeClock, *lockedBuffer) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	kr, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)} // in the past: the CLI's Revoke uses the real clock
	logs := &lockedBuffer{}
	s := New(Config{Keyring: kr, KeyPath: path, RevokedPath: filepath.Join(dir, RevokedFileName), Now: clk.now,
		Poll: time.Hour, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(s.Close)
	return s, path, clk, logs
}

func TestKeyringReloadRotateAndRemove(t *testing.T) {
	s, path, clk, _ := newWatchedService(t)
	old := superKey(t, s.keyring(), clk.get())
	oldP, err := s.Verify(old.JWT) // now in the verified cache
	if err != nil {
		t.Fatal(err)
	}
	_, oldKid := s.keyring().KeyIDs()

	newKid, err := RotateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	// Offline mints with the new key are refused until the server reloads...
	offline, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh := superKey(t, offline, clk.get())
	if _, err := s.Verify(fresh.JWT); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("a token of a key the server has not loaded: %v", err)
	}
	// ...which the poller does on its own: the file changed.
	if err := s.reloadKeys(false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(fresh.JWT); err != nil {
		t.Fatalf("a token of the rotated-in key: %v", err)
	}
	if _, err := s.Verify(old.JWT); err != nil {
		t.Fatalf("a token of the rotated-out key: %v", err)
	}
	minted, err := s.GenerateAPIKey(oldP, MintRequest{Perms: allData, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Verify(minted.JWT); err != nil || p.kid != newKid {
		t.Fatalf("a key minted after the rotation: signed by %q (%v), want the new key %s", p.kid, err, newKid)
	}

	// Removing the old key ends its tokens: cached ones and open streams.
	ctx, stop := s.Watch(context.Background(), oldP)
	defer stop()
	if err := RemoveKey(path, oldKid); err != nil {
		t.Fatal(err)
	}
	if err := s.reloadKeys(false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(old.JWT); !errors.Is(err, errs.ErrUnauthenticated) || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("a cached token of a removed key: %v", err)
	}
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, errs.ErrUnauthenticated) || !strings.Contains(cause.Error(), "removed key") {
		t.Fatalf("stream of a removed key ended with %v", cause)
	}
	if _, err := s.Verify(fresh.JWT); err != nil {
		t.Fatalf("a token of the remaining key: %v", err)
	}
}

// Streams of keys that stay in the ring are not touched by a reload.
func TestKeyringReloadKeepsOtherStreams(t *testing.T) {
	s, path, clk, _ := newWatchedService(t)
	p, err := s.Verify(superKey(t, s.keyring(), clk.get()).JWT)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := s.Watch(context.Background(), p)
	defer stop()
	if _, err := RotateKeys(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("a rotation ended the stream of a key still in the ring: %v", context.Cause(ctx))
	}
}

// A key file that does not load leaves the keyring as it was; the error is
// logged once, naming the file but none of its content.
func TestKeyringReloadBadFileKeepsKeys(t *testing.T) {
	s, path, clk, logs := newWatchedService(t)
	good := superKey(t, s.keyring(), clk.get())
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	short := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	for _, tc := range []struct{ name, content, want string }{
		{"truncated", `{"keys":[{"id":"k1","seed":"` + secret, "invalid JSON"},
		{"not json", "seed " + secret, "invalid JSON"},
		{"wrong type", `{"keys":[{"id":"k1","seed":["` + secret + `"]}]}`, "wrong type"},
		{"bad base64", `{"keys":[{"id":"k1","seed":"` + secret + `!!","active":true}]}`, "malformed"},
		{"short seed", `{"keys":[{"id":"k1","seed":"` + short + `","active":true}]}`, "malformed"},
		{"no active key", `{"keys":[{"id":"k1","seed":"` + secret + `"}]}`, "no active signing key"},
		{"two active keys", `{"keys":[{"id":"k1","seed":"` + secret + `","active":true},{"id":"k2","seed":"` + secret + `","active":true}]}`, "more than one active"},
		{"empty", "", "invalid JSON"},
	} {
		if err := writeFileAtomic(path, []byte(tc.content)); err != nil {
			t.Fatal(err)
		}
		err := s.reloadKeys(false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: reload = %v, want an error containing %q", tc.name, err, tc.want)
		}
		if _, err := s.Verify(good.JWT); err != nil {
			t.Fatalf("%s: the old keyring was dropped: %v", tc.name, err)
		}
		// Unchanged since: nothing to reload, nothing logged again.
		before := logs.String()
		if err := s.reloadKeys(false); err != nil {
			t.Fatalf("%s: an unchanged bad file was read again: %v", tc.name, err)
		}
		if logs.String() != before {
			t.Fatalf("%s: an unchanged bad file was logged again", tc.name)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "cannot reload the signing keys") || !strings.Contains(out, path) {
		t.Fatalf("the error is not logged with the file's path:\n%s", out)
	}
	for _, m := range []string{secret, short, secret[:16]} {
		if strings.Contains(out, m) {
			t.Fatalf("the log shows key material %q:\n%s", m, out)
		}
	}
	// A missing file keeps the keys too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reload of a missing key file: %v", err)
	}
	if _, err := s.Verify(good.JWT); err != nil {
		t.Fatalf("a missing key file dropped the keyring: %v", err)
	}
}
