package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// keySource keeps a Service's keyring current: the key file is re-read when
// it changes (polled with the revocation list) and on Reload (SIGHUP), so
// that `setsuna token rotate-key` and `remove-key` take effect on a running
// server. With a shared engine the keyring lives in its records (shared.go)
// and the file is how an operator changes it: a change to the file is
// published, and the file mirrors what the records hold.
type keySource struct {
	path   string        // "" = no file
	shared store.Records // nil = not shared
	log    *slog.Logger

	mu      sync.Mutex  // one reload at a time
	seen    os.FileInfo // the file as last read, whether it loaded or not
	lastErr string      // the last error logged, so a bad file is logged once

	// Shared mode: the file as last read or mirrored (what a change to it
	// is a change from; nil until the first reload), and the records as
	// last listed.
	lastFile *keyFile
	primed   bool
	lastRecs []store.Record
}

// readIfChanged returns the key file when it differs from the one last
// read (always with force), nil when it is unchanged.
func (ks *keySource) readIfChanged(force bool) (*keyFile, error) {
	fi, err := os.Stat(ks.path)
	if err != nil {
		return nil, err
	}
	if !force && ks.unchanged(fi) {
		return nil, nil
	}
	// Marked as seen even when it does not parse: a broken file is reported
	// once, and read again when it changes.
	ks.seen = fi
	return readKeyFile(ks.path)
}

func (ks *keySource) unchanged(fi os.FileInfo) bool {
	return ks.seen != nil && os.SameFile(ks.seen, fi) && fi.ModTime().Equal(ks.seen.ModTime()) && fi.Size() == ks.seen.Size()
}

// reloadKeys swaps in the key file's keys when the file changed (or with
// force); with a shared engine it also publishes the file's changes and
// takes the records' keyring. Keys that do not load leave the current
// keyring in place.
func (s *Service) reloadKeys(force bool) error {
	ks := s.keySrc
	if ks == nil {
		return nil
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	var err error
	if ks.shared == nil {
		err = s.reloadKeyFile(force)
	} else {
		err = s.reloadSharedKeys(force)
	}
	if err != nil {
		// Errors name the file or record and what is wrong, never content.
		if msg := err.Error(); force || msg != ks.lastErr {
			ks.lastErr = msg
			s.log.Error("cannot reload the signing keys; keeping the current ones", "path", ks.path, "err", err)
		}
		return err
	}
	ks.lastErr = ""
	return nil
}

func (s *Service) reloadKeyFile(force bool) error {
	kf, err := s.keySrc.readIfChanged(force)
	if err != nil || kf == nil {
		return err
	}
	kr, err := kf.keyring()
	if err != nil {
		return err
	}
	s.setKeys(kr)
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

var errNoSharedKeys = errors.New("the shared engine holds no signing keys")
