package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Nodes that serve one engine (the Redis engine) share the keyring and the
// revocation list through its records (Config.Shared): a key minted on one
// node verifies on every node, and a revocation reaches every node at its
// next poll (250 ms by default).
//
// Namespace SharedKeysNamespace holds one record per signing key, keyed by
// the key id, valued with its key file entry (JSON, seed included: the
// records are as secret as the key file, and are never logged).
// SharedRevocationsNamespace holds one record per revoked id, keyed by the
// hex SHA-256 of the id (an id may be any text, a record key may not),
// valued with the Revocation (JSON).
//
// The key file stays the operator's handle: `setsuna token rotate-key` or
// `remove-key` on any node's data directory changes the file, the node
// publishes the change, and every node mirrors the records into its own
// file (so `token issue` on any node signs with the shared active key). At
// start a node takes the records' keyring over its file, so that a key
// removed while it was down does not come back; only an engine without keys
// is given the node's own.
const (
	SharedKeysNamespace        = "auth.keys"
	SharedRevocationsNamespace = "auth.revocations"
)

// sharedTimeout bounds one poll's record calls: an engine that hangs must
// not stall the poller for good.
const sharedTimeout = 5 * time.Second

func (s *Service) reloadSharedKeys(force bool) error {
	ks := s.keySrc
	ctx, cancel := context.WithTimeout(s.ctx, sharedTimeout)
	defer cancel()
	var errsSeen []error
	if ks.path != "" {
		kf, err := ks.readIfChanged(force || !ks.primed)
		switch {
		case err != nil:
			errsSeen = append(errsSeen, err)
		case kf == nil:
		case !ks.primed:
			ks.lastFile = kf // what later changes to the file are changes from
		default:
			if _, err := kf.keyring(); err != nil {
				errsSeen = append(errsSeen, err)
			} else if err := publishKeys(ctx, ks.shared, ks.lastFile, kf); err != nil {
				ks.seen = nil // read and publish it again at the next poll
				errsSeen = append(errsSeen, err)
			} else {
				ks.lastFile = kf
			}
		}
	}
	ks.primed = true

	recs, err := ks.shared.ListRecords(ctx, SharedKeysNamespace)
	if err == nil && len(recs) == 0 {
		// A fresh engine: this node's keys become everybody's.
		if err = publishKeys(ctx, ks.shared, nil, s.keyring().file()); err == nil {
			recs, err = ks.shared.ListRecords(ctx, SharedKeysNamespace)
		}
	}
	if err != nil {
		return errors.Join(append(errsSeen, fmt.Errorf("cannot read the shared signing keys: %w", err))...)
	}
	if !force && recordsEqual(recs, ks.lastRecs) {
		return errors.Join(errsSeen...)
	}
	kf, err := keyFileFromRecords(recs)
	var kr *Keyring
	if err == nil {
		kr, err = kf.keyring()
	}
	if err != nil {
		return errors.Join(append(errsSeen, err)...)
	}
	ks.lastRecs = recs
	s.setKeys(kr)
	if err := ks.mirror(kf); err != nil {
		errsSeen = append(errsSeen, err)
	}
	return errors.Join(errsSeen...)
}

// mirror writes the shared keyring to the key file when they differ.
func (ks *keySource) mirror(kf *keyFile) error {
	if ks.path == "" || (ks.lastFile != nil && bytes.Equal(ks.lastFile.canonical(), kf.canonical())) {
		return nil
	}
	if fi, err := os.Stat(ks.path); err == nil && ks.seen != nil && !ks.unchanged(fi) {
		return nil // edited since it was read: publish that first, at the next poll
	}
	if err := kf.save(ks.path); err != nil {
		return err
	}
	fi, err := os.Stat(ks.path)
	if err != nil {
		return fmt.Errorf("cannot stat %s: %w", ks.path, err)
	}
	ks.seen, ks.lastFile = fi, kf
	return nil
}

// publishKeys writes to r the keys of cur that old lacks or has otherwise,
// and deletes those cur no longer has.
func publishKeys(ctx context.Context, r store.Records, old, cur *keyFile) error {
	gone := map[string]bool{}
	prev := map[string]keyFileEntry{}
	if old != nil {
		for _, e := range old.Keys {
			prev[e.ID], gone[e.ID] = e, true
		}
	}
	for _, e := range cur.Keys {
		delete(gone, e.ID)
		if p, ok := prev[e.ID]; ok && p.equal(e) {
			continue
		}
		v, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("cannot encode signing key %s: %w", e.ID, err)
		}
		if err := r.PutRecord(ctx, SharedKeysNamespace, e.ID, v); err != nil {
			return fmt.Errorf("cannot publish signing key %s: %w", e.ID, err)
		}
	}
	for _, id := range sortedKeys(gone) {
		if err := r.DeleteRecord(ctx, SharedKeysNamespace, id); err != nil {
			return fmt.Errorf("cannot remove shared signing key %s: %w", id, err)
		}
	}
	return nil
}

func keyFileFromRecords(recs []store.Record) (*keyFile, error) {
	if len(recs) == 0 {
		return nil, errNoSharedKeys
	}
	kf := &keyFile{}
	for _, r := range recs {
		var e keyFileEntry
		if err := json.Unmarshal(r.Value, &e); err != nil {
			return nil, fmt.Errorf("shared signing key record %q: %s", r.Key, describeJSONError(err))
		}
		if e.ID != r.Key {
			return nil, fmt.Errorf("shared signing key record %q names another key", r.Key)
		}
		kf.Keys = append(kf.Keys, e)
	}
	kf.settle()
	return kf, nil
}

// settle leaves one key active where nodes raced to rotate: the newest of
// those marked active (of all keys, if none is), the same on every node.
func (kf *keyFile) settle() {
	kf.sortKeys()
	best := len(kf.Keys) - 1
	for i, e := range kf.Keys {
		if e.Active {
			best = i
		}
	}
	for i := range kf.Keys {
		kf.Keys[i].Active = i == best
	}
}

func (kf *keyFile) sortKeys() {
	slices.SortFunc(kf.Keys, func(a, b keyFileEntry) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// canonical is the file's keys in a fixed order, to compare two files.
func (kf *keyFile) canonical() []byte {
	c := &keyFile{Keys: slices.Clone(kf.Keys)}
	c.sortKeys()
	b, _ := json.Marshal(c)
	return b
}

func (e keyFileEntry) equal(o keyFileEntry) bool {
	return e.ID == o.ID && bytes.Equal(e.Seed, o.Seed) && e.Created.Equal(o.Created) && e.Active == o.Active
}

// file is the keyring as a key file.
func (kr *Keyring) file() *keyFile {
	kf := &keyFile{}
	for _, k := range kr.byID {
		kf.Keys = append(kf.Keys, keyFileEntry{ID: k.ID, Seed: k.Private.Seed(), Created: k.Created, Active: k.Active})
	}
	kf.sortKeys()
	return kf
}

func recordsEqual(a, b []store.Record) bool {
	return slices.EqualFunc(a, b, func(x, y store.Record) bool { return x.Key == y.Key && bytes.Equal(x.Value, y.Value) })
}

// revocationKey is the record key of a revoked id.
func revocationKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// listSharedRevocations reads the shared list, deleting the entries that
// have expired (any node may tidy up; deleting twice is harmless).
func (r *revocations) listSharedRevocations(ctx context.Context, now time.Time) (map[string]revEntry, error) {
	recs, err := r.shared.ListRecords(ctx, SharedRevocationsNamespace)
	if err != nil {
		return nil, fmt.Errorf("cannot read the shared revocations: %w", err)
	}
	m := make(map[string]revEntry, len(recs))
	for _, rec := range recs {
		var rv Revocation
		if err := json.Unmarshal(rec.Value, &rv); err != nil || rv.ID == "" || revocationKey(rv.ID) != rec.Key {
			if !r.badRecs[rec.Key] {
				r.badRecs[rec.Key] = true
				r.log.Warn("ignoring a malformed shared revocation record", "key", rec.Key)
			}
			continue
		}
		e := entryOf(rv)
		if e.expired(now) {
			_ = r.shared.DeleteRecord(ctx, SharedRevocationsNamespace, rec.Key)
			continue
		}
		if old, ok := m[rv.ID]; ok {
			e = old.merge(e)
		}
		m[rv.ID] = e
	}
	return m, nil
}

// putSharedRevocation merges e into the shared entry of id.
func (r *revocations) putSharedRevocation(ctx context.Context, id string, e revEntry) error {
	key := revocationKey(id)
	v, found, err := r.shared.GetRecord(ctx, SharedRevocationsNamespace, key)
	if err != nil {
		return fmt.Errorf("cannot read the shared revocation of %q: %w", id, err)
	}
	var old Revocation
	if found && json.Unmarshal(v, &old) == nil && old.ID == id {
		e = entryOf(old).merge(e)
	}
	out, err := json.Marshal(Revocation{ID: id, Before: time.Unix(e.before, 0).UTC(), Expires: e.expires})
	if err != nil {
		return fmt.Errorf("cannot encode a revocation: %w", err)
	}
	if err := r.shared.PutRecord(ctx, SharedRevocationsNamespace, key, out); err != nil {
		return fmt.Errorf("cannot write the shared revocation of %q: %w", id, err)
	}
	return nil
}

// sharedRevoked asks the engine whether id is revoked, not waiting for the
// next poll: a refresh token used on another node a moment ago is refused.
func (r *revocations) sharedRevoked(id string) (bool, error) {
	if r.shared == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, sharedTimeout)
	defer cancel()
	v, found, err := r.shared.GetRecord(ctx, SharedRevocationsNamespace, revocationKey(id))
	if err != nil || !found {
		return false, err
	}
	var rv Revocation
	if json.Unmarshal(v, &rv) != nil || rv.ID != id {
		return false, nil
	}
	return !entryOf(rv).expired(r.now()), nil
}
