package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// RevokedFileName is the revocation list's file name inside a data directory.
const RevokedFileName = "revoked-tokens.json"

// Revocation is one entry of the revocation list. It revokes the tokens
// whose jti is ID and the keys refreshed from that key (their root), at any
// time: a jti is never reused. It revokes the tokens minted with token_id
// ID only if they were minted before Before (a refreshed key counts as
// minted with its root), so that a later key may reuse a revoked token_id.
// A token minted within the second of Before counts as before it.
type Revocation struct {
	ID     string    `json:"id"`
	Before time.Time `json:"before"`
	// Expires is when the entry stops mattering (unix seconds; 0 = never):
	// a used refresh token's entry, once the token would have expired.
	Expires int64 `json:"expires,omitempty"`
}

// revokedFile is the on-disk revocation list. Revoked is its first format,
// ids alone: it is still read, its ids counting as revoked when the file was
// last written, and is replaced by Revocations on the next write.
type revokedFile struct {
	Revoked     []string     `json:"revoked,omitempty"`
	Revocations []Revocation `json:"revocations"`
}

// revEntry is a Revocation in memory.
type revEntry struct {
	before  int64 // unix seconds
	expires int64 // unix seconds; 0 = never
}

func (e revEntry) merge(o revEntry) revEntry {
	e.before = max(e.before, o.before)
	if e.expires == 0 || o.expires == 0 {
		e.expires = 0
	} else {
		e.expires = max(e.expires, o.expires)
	}
	return e
}

func (e revEntry) expired(now time.Time) bool { return e.expires != 0 && now.Unix() >= e.expires }

func entryOf(r Revocation) revEntry { return revEntry{before: r.Before.Unix(), expires: r.Expires} }

// Revoke adds id to the revocation list at path, revoked as of now. A
// running server picks the change up within its poll interval (well under a
// second).
func Revoke(path, id string) error {
	now := time.Now()
	return revokeInFile(path, Revocation{ID: id, Before: now.UTC()}, now)
}

// revokeInFile merges r into the list at path, upgrading an old-format
// list and dropping entries that have expired.
func revokeInFile(path string, r Revocation, now time.Time) error {
	if r.ID == "" {
		return errors.New("cannot revoke an empty token id")
	}
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	entries, _, err := readRevokedFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if entries == nil {
		entries = map[string]revEntry{}
	}
	e := entryOf(r)
	if old, ok := entries[r.ID]; ok {
		e = old.merge(e)
	}
	entries[r.ID] = e
	return writeRevokedFile(path, entries, now)
}

func writeRevokedFile(path string, entries map[string]revEntry, now time.Time) error {
	rf := revokedFile{Revocations: []Revocation{}}
	for _, id := range sortedKeys(entries) {
		if e := entries[id]; !e.expired(now) {
			rf.Revocations = append(rf.Revocations, Revocation{ID: id, Before: time.Unix(e.before, 0).UTC(), Expires: e.expires})
		}
	}
	out, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode revocation list: %w", err)
	}
	return writeFileAtomic(path, out)
}

// readRevokedFile reads the list at path in either format.
func readRevokedFile(path string) (map[string]revEntry, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read revocation list: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read revocation list: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read revocation list: %w", err)
	}
	var rf revokedFile
	if err := json.Unmarshal(data, &rf); err != nil {
		return nil, fi, fmt.Errorf("cannot parse revocation list %s: %s", path, describeJSONError(err))
	}
	entries := make(map[string]revEntry, len(rf.Revoked)+len(rf.Revocations))
	// The old format says only that each id was revoked by the time the
	// file was written: revoked before then, and no key since.
	written := revEntry{before: fi.ModTime().Unix()}
	for _, id := range rf.Revoked {
		if id != "" {
			entries[id] = written
		}
	}
	for _, r := range rf.Revocations {
		if r.ID == "" {
			continue
		}
		e := entryOf(r)
		if old, ok := entries[r.ID]; ok {
			e = old.merge(e)
		}
		entries[r.ID] = e
	}
	return entries, fi, nil
}

// revocations is the live revocation set: the file's entries, the shared
// engine's (shared.go) and those this process added. Streams register a
// cancel func so that a revoked token ends its open calls, not only its
// next ones.
type revocations struct {
	path   string
	shared store.Records // nil = not shared
	ctx    context.Context
	log    *slog.Logger
	now    func() time.Time

	addMu sync.Mutex // one add at a time

	// Used by reload only (the poller, Reload): shared entries that did not
	// parse, already logged; whether the file's entries must be published
	// again (the last try failed).
	badRecs   map[string]bool
	republish bool

	mu       sync.Mutex
	ids      map[string]revEntry // file ∪ recs ∪ mem, without expired entries
	file     map[string]revEntry // as last read from path
	recs     map[string]revEntry // as last listed from shared
	mem      map[string]revEntry // added by this process: applied before the others say so
	seen     os.FileInfo         // the file as last read
	watchers map[*watcher]struct{}
}

type watcher struct {
	p      *Principal
	cancel func(error)
}

func newRevocations(ctx context.Context, path string, shared store.Records, log *slog.Logger, now func() time.Time) *revocations {
	r := &revocations{path: path, shared: shared, ctx: ctx, log: log, now: now, badRecs: map[string]bool{},
		ids: map[string]revEntry{}, file: map[string]revEntry{}, recs: map[string]revEntry{}, mem: map[string]revEntry{},
		watchers: map[*watcher]struct{}{}}
	r.reload()
	return r
}

func (r *revocations) revoked(p *Principal) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isRevokedLocked(p)
}

func (r *revocations) isRevokedLocked(p *Principal) bool {
	if _, ok := r.ids[p.ID]; ok {
		return true
	}
	if _, ok := r.ids[p.Root]; ok && p.Root != "" {
		return true
	}
	if e, ok := r.ids[p.TokenID]; ok && p.TokenID != "" {
		minted := p.IssuedAt
		if p.RootIssuedAt != 0 {
			minted = p.RootIssuedAt
		}
		return minted <= e.before
	}
	return false
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

// reload re-reads the file when it changed and the shared list, publishes
// the file's entries to the shared list when the file changed, and cancels
// the watchers of newly revoked tokens.
func (r *revocations) reload() {
	fileChanged := r.reloadFile()
	sharedChanged := false
	if r.shared != nil {
		sharedChanged = r.reloadShared(fileChanged || r.republish)
	}
	if !fileChanged && !sharedChanged {
		return
	}
	r.mu.Lock()
	n := r.rebuildLocked()
	r.mu.Unlock()
	r.cancelWhere(r.isRevokedLocked, errRevoked)
	r.log.Info("revocation list loaded", "entries", n)
}

// reloadFile reads the file if it changed and reports whether it did.
func (r *revocations) reloadFile() bool {
	if r.path == "" {
		return false
	}
	fi, err := os.Stat(r.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("cannot stat revocation list", "path", r.path, "err", err)
		}
		return false
	}
	r.mu.Lock()
	unchanged := r.seen != nil && os.SameFile(r.seen, fi) && fi.ModTime().Equal(r.seen.ModTime()) && fi.Size() == r.seen.Size()
	r.mu.Unlock()
	if unchanged {
		return false
	}
	entries, fi, err := readRevokedFile(r.path)
	if err != nil {
		r.log.Warn("cannot load the revocation list; keeping the previous one", "path", r.path, "err", err)
		if fi != nil {
			r.mu.Lock()
			r.seen = fi // reported once; read again when it changes
			r.mu.Unlock()
		}
		return false
	}
	r.mu.Lock()
	r.file, r.seen = entries, fi
	r.mu.Unlock()
	return true
}

// reloadShared lists the shared entries, first publishing the file's that
// it lacks when publish is set, and reports whether they changed.
func (r *revocations) reloadShared(publish bool) bool {
	ctx, cancel := context.WithTimeout(r.ctx, sharedTimeout)
	defer cancel()
	now := r.now()
	recs, err := r.listSharedRevocations(ctx, now)
	if err != nil {
		r.log.Warn("cannot load the shared revocations; keeping the previous ones", "err", err)
		return false
	}
	if publish {
		r.mu.Lock()
		file := maps.Clone(r.file)
		r.mu.Unlock()
		r.republish = false
		for _, id := range sortedKeys(file) {
			e := file[id]
			if old, ok := recs[id]; e.expired(now) || ok && old.merge(e) == old {
				continue
			}
			if err := r.putSharedRevocation(ctx, id, e); err != nil {
				r.log.Warn("cannot publish a revocation; will try again", "err", err)
				r.republish = true
				continue
			}
			if old, ok := recs[id]; ok {
				e = old.merge(e)
			}
			recs[id] = e
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if maps.Equal(recs, r.recs) {
		return false
	}
	r.recs = recs
	return true
}

// rebuildLocked recomputes ids from the sources and returns its size.
func (r *revocations) rebuildLocked() int {
	now := r.now()
	ids := make(map[string]revEntry, len(r.file)+len(r.recs)+len(r.mem))
	for _, src := range []map[string]revEntry{r.file, r.recs, r.mem} {
		for id, e := range src {
			if e.expired(now) {
				continue
			}
			if old, ok := ids[id]; ok {
				e = old.merge(e)
			}
			ids[id] = e
		}
	}
	// Once the file or the engine has an entry, this process's copy adds
	// nothing.
	covered := func(src map[string]revEntry, id string, e revEntry) bool {
		f, ok := src[id]
		return ok && f.merge(e) == f
	}
	maps.DeleteFunc(r.mem, func(id string, e revEntry) bool {
		return e.expired(now) || covered(r.file, id, e) || covered(r.recs, id, e)
	})
	r.ids = ids
	return len(ids)
}

var errRevoked = errs.ErrUnauthenticated.Withf("token revoked")

// add revokes rev now, in this process, and writes it to the file and the
// shared list. It stays revoked here even when a write fails; the error
// says one did.
func (r *revocations) add(rev Revocation) error {
	r.addMu.Lock()
	defer r.addMu.Unlock()
	var errList []error
	if r.path != "" {
		errList = append(errList, revokeInFile(r.path, rev, r.now()))
	}
	if r.shared != nil {
		ctx, cancel := context.WithTimeout(r.ctx, sharedTimeout)
		errList = append(errList, r.putSharedRevocation(ctx, rev.ID, entryOf(rev)))
		cancel()
	}
	r.mu.Lock()
	e := entryOf(rev)
	if old, ok := r.mem[rev.ID]; ok {
		e = old.merge(e)
	}
	r.mem[rev.ID] = e
	r.rebuildLocked()
	r.mu.Unlock()
	r.cancelWhere(r.isRevokedLocked, errRevoked)
	return errors.Join(errList...)
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
