package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// RevokedFileName is the revocation list's file name inside a data directory.
const RevokedFileName = "revoked-tokens.json"

// revokedFile is the on-disk revocation list: token ids (jti) or the
// token_id a key was minted with.
type revokedFile struct {
	Revoked []string `json:"revoked"`
}

// Revoke adds id to the revocation list at path. A running server picks the
// change up within its poll interval (well under a second).
func Revoke(path, id string) error {
	if id == "" {
		return errors.New("cannot revoke an empty token id")
	}
	var rf revokedFile
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &rf); err != nil {
			return fmt.Errorf("cannot parse revocation list %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot read revocation list: %w", err)
	}
	if slices.Contains(rf.Revoked, id) {
		return nil
	}
	rf.Revoked = append(rf.Revoked, id)
	out, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode revocation list: %w", err)
	}
	return writeFileAtomic(path, out)
}

// revocations is the live revocation set. Streams register a cancel func so
// that a revoked token ends its open calls, not only its next ones.
type revocations struct {
	path string
	log  *slog.Logger

	addMu sync.Mutex // serializes add's read-modify-write of the file

	mu       sync.Mutex
	ids      map[string]bool // the file's and mem's
	mem      map[string]bool // added by this process: applied before the file says so
	modTime  time.Time
	size     int64
	watchers map[*watcher]struct{}
}

type watcher struct {
	p      *Principal
	cancel func(error)
}

func newRevocations(path string, log *slog.Logger) *revocations {
	r := &revocations{path: path, log: log, ids: map[string]bool{}, mem: map[string]bool{}, watchers: map[*watcher]struct{}{}}
	r.reload()
	return r
}

func (r *revocations) revoked(p *Principal) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isRevokedLocked(p)
}

func (r *revocations) isRevokedLocked(p *Principal) bool {
	return r.ids[p.ID] || (p.TokenID != "" && r.ids[p.TokenID]) || (p.Root != "" && r.ids[p.Root])
}

// watch calls cancel once p is revoked; the returned func stops watching.
func (r *revocations) watch(p *Principal, cancel func(error)) (stop func()) {
	w := &watcher{p: p, cancel: cancel}
	r.mu.Lock()
	r.watchers[w] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watchers, w)
		r.mu.Unlock()
	}
}

// reload re-reads the list when the file changed and cancels the watchers
// of newly revoked tokens.
func (r *revocations) reload() {
	if r.path == "" {
		return
	}
	fi, err := os.Stat(r.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("cannot stat revocation list", "path", r.path, "err", err)
		}
		return
	}
	r.mu.Lock()
	unchanged := fi.ModTime().Equal(r.modTime) && fi.Size() == r.size
	r.mu.Unlock()
	if unchanged {
		return
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		r.log.Warn("cannot read revocation list", "path", r.path, "err", err)
		return
	}
	var rf revokedFile
	if err := json.Unmarshal(data, &rf); err != nil {
		r.log.Warn("cannot parse revocation list; keeping the previous one", "path", r.path, "err", err)
		return
	}
	ids := make(map[string]bool, len(rf.Revoked))
	for _, id := range rf.Revoked {
		ids[id] = true
	}
	r.mu.Lock()
	for id := range r.mem {
		ids[id] = true
	}
	r.ids, r.modTime, r.size = ids, fi.ModTime(), fi.Size()
	n := len(ids)
	r.mu.Unlock()
	r.cancelWhere(r.isRevokedLocked, errRevoked)
	r.log.Info("revocation list loaded", "entries", n)
}

var errRevoked = errs.ErrUnauthenticated.Withf("token revoked")

// add revokes id now, in this process, and writes it to the list. The id
// stays revoked here even when the write fails; the error says it did.
func (r *revocations) add(id string) error {
	r.addMu.Lock()
	defer r.addMu.Unlock()
	var err error
	if r.path != "" {
		err = Revoke(r.path, id)
	}
	r.mu.Lock()
	r.mem[id], r.ids[id] = true, true
	r.mu.Unlock()
	r.cancelWhere(r.isRevokedLocked, errRevoked)
	return err
}

// cancelWhere ends the watched streams whose principal matches (called
// under r.mu) with err.
func (r *revocations) cancelWhere(match func(*Principal) bool, err error) {
	r.mu.Lock()
	var cancels []func(error)
	for w := range r.watchers {
		if match(w.p) {
			cancels = append(cancels, w.cancel)
			delete(r.watchers, w)
		}
	}
	r.mu.Unlock()
	for _, c := range cancels {
		c(err)
	}
}
