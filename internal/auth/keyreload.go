package auth

import (
	"bytes"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// keySource keeps a Service's keyring current: the key file is re-read when
// it changes (polled with the revocation list) and on Reload (SIGHUP), so
// that `setsuna token rotate-key` and `remove-key` take effect on a running
// server.
type keySource struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex  // one reload at a time
	seen    os.FileInfo // the file as last read, whether it loaded or not
	lastErr string      // the last error logged, so a bad file is logged once
}

// readIfChanged returns the key file when it differs from the one last
// read (always with force), nil when it is unchanged.
func (ks *keySource) readIfChanged(force bool) (*keyFile, error) {
	fi, err := os.Stat(ks.path)
	if err != nil {
		return nil, err
	}
	if !force && ks.seen != nil && os.SameFile(ks.seen, fi) && fi.ModTime().Equal(ks.seen.ModTime()) && fi.Size() == ks.seen.Size() {
		return nil, nil
	}
	// Marked as seen even when it does not parse: a broken file is reported
	// once, and read again when it changes.
	ks.seen = fi
	return readKeyFile(ks.path)
}

// reloadKeys swaps in the key file's keys when the file changed (or with
// force). A file that does not load leaves the current keyring in place.
func (s *Service) reloadKeys(force bool) error {
	ks := s.keySrc
	if ks == nil {
		return nil
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	kf, err := ks.readIfChanged(force)
	if err == nil && kf != nil {
		var kr *Keyring
		if kr, err = kf.keyring(); err == nil {
			s.setKeys(kr)
		}
	}
	if err != nil {
		// Errors name the file and what is wrong with it, never its content.
		if msg := err.Error(); force || msg != ks.lastErr {
			ks.lastErr = msg
			s.log.Error("cannot reload the signing keys; keeping the current ones", "path", ks.path, "err", err)
		}
		return err
	}
	ks.lastErr = ""
	return nil
}

// setKeys makes kr the keyring. Tokens of keys that are gone stop working
// at once: the verified-token cache is dropped and their streams end.
func (s *Service) setKeys(kr *Keyring) {
	old := s.keys.Swap(kr)
	if old.equal(kr) {
		return
	}
	s.forgetVerified()
	var removed []string
	for id := range old.byID {
		if !kr.has(id) {
			removed = append(removed, id)
		}
	}
	if len(removed) > 0 {
		s.revoked.cancelWhere(func(p *Principal) bool { return !kr.has(p.kid) }, errKeyRemoved)
	}
	slices.Sort(removed)
	ids, active := kr.KeyIDs()
	s.log.Info("signing keys reloaded", "keys", len(ids), "active", active, "removed", removed)
}

var errKeyRemoved = errs.ErrUnauthenticated.Withf("token signed by a removed key")

// equal reports whether two keyrings hold the same keys with the same one
// active.
func (kr *Keyring) equal(o *Keyring) bool {
	if kr == o {
		return true
	}
	if kr == nil || o == nil || len(kr.byID) != len(o.byID) || kr.active.ID != o.active.ID {
		return false
	}
	for id, k := range kr.byID {
		ok := o.byID[id]
		if ok == nil || !bytes.Equal(k.Private, ok.Private) {
			return false
		}
	}
	return true
}
