package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// signingKey is one Ed25519 key. Only the active key signs; every key in
// the ring verifies, so rotation does not invalidate outstanding tokens.
type signingKey struct {
	ID      string
	Private ed25519.PrivateKey
	Created time.Time
	Active  bool
}

// keyFile is the on-disk form (JSON, mode 0600). The seed is the secret.
type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

type keyFileEntry struct {
	ID      string    `json:"id"`
	Seed    []byte    `json:"seed"`
	Created time.Time `json:"created"`
	Active  bool      `json:"active"`
}

// Keyring is one immutable set of signing keys. A Service watches its key
// file and swaps in a new Keyring when `setsuna token rotate-key` or
// `remove-key` changes it (keyreload.go).
type Keyring struct {
	active *signingKey
	byID   map[string]*signingKey
}

// KeyFileName is the keyring's file name inside a data directory.
const KeyFileName = "signing-keys.json"

// LoadOrCreateKeyring reads the keyring at path, creating it with one fresh
// key when the file does not exist.
func LoadOrCreateKeyring(path string) (*Keyring, error) {
	kr, err := LoadKeyring(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return kr, err
	}
	kf := keyFile{}
	if err := kf.add(); err != nil {
		return nil, err
	}
	if err := kf.save(path); err != nil {
		return nil, err
	}
	return kf.keyring()
}

// LoadKeyring reads an existing keyring.
func LoadKeyring(path string) (*Keyring, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return kf.keyring()
}

// RotateKeys adds a new active key to the file at path; older keys keep
// verifying until removed. It returns the new key's id.
func RotateKeys(path string) (string, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	if err := kf.add(); err != nil {
		return "", err
	}
	return kf.Keys[len(kf.Keys)-1].ID, kf.save(path)
}

// RemoveKey drops an inactive key: tokens it signed stop verifying.
func RemoveKey(path, id string) error {
	kf, err := readKeyFile(path)
	if err != nil {
		return err
	}
	for i, k := range kf.Keys {
		if k.ID != id {
			continue
		}
		if k.Active {
			return fmt.Errorf("cannot remove key %s: it is the active signing key (rotate first)", id)
		}
		kf.Keys = append(kf.Keys[:i], kf.Keys[i+1:]...)
		return kf.save(path)
	}
	return fmt.Errorf("cannot remove key %s: no such key", id)
}

// KeyIDs lists the key ids with the active one marked.
func (kr *Keyring) KeyIDs() (ids []string, active string) {
	for id := range kr.byID {
		ids = append(ids, id)
	}
	return ids, kr.active.ID
}

// has reports whether kid is one of the ring's keys.
func (kr *Keyring) has(kid string) bool { return kr.byID[kid] != nil }

func (kr *Keyring) publicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := kr.byID[kid]
	if !ok {
		return nil, false
	}
	return k.Private.Public().(ed25519.PublicKey), true
}

func readKeyFile(path string) (*keyFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read signing keys: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("cannot parse signing keys %s: %s", path, describeJSONError(err))
	}
	return &kf, nil
}

// describeJSONError says where a JSON document is broken without quoting
// it: encoding/json's messages quote input bytes, and a key file's input
// bytes are seeds.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	}
	return "malformed content"
}

func (kf *keyFile) add() error {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("cannot generate a signing key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("cannot generate a key id: %w", err)
	}
	for i := range kf.Keys {
		kf.Keys[i].Active = false
	}
	kf.Keys = append(kf.Keys, keyFileEntry{ID: hex.EncodeToString(id), Seed: seed, Created: time.Now().UTC(), Active: true})
	return nil
}

// save writes atomically with owner-only permissions.
func (kf *keyFile) save(path string) error {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode signing keys: %w", err)
	}
	return writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

func (kf *keyFile) keyring() (*Keyring, error) {
	kr := &Keyring{byID: make(map[string]*signingKey, len(kf.Keys))}
	for _, e := range kf.Keys {
		if len(e.Seed) != ed25519.SeedSize || e.ID == "" {
			return nil, fmt.Errorf("signing key %q is malformed", e.ID)
		}
		if kr.byID[e.ID] != nil {
			return nil, fmt.Errorf("signing key id %q appears twice", e.ID)
		}
		k := &signingKey{ID: e.ID, Private: ed25519.NewKeyFromSeed(e.Seed), Created: e.Created, Active: e.Active}
		kr.byID[e.ID] = k
		if e.Active {
			if kr.active != nil {
				return nil, errors.New("more than one active signing key")
			}
			kr.active = k
		}
	}
	if kr.active == nil {
		return nil, errors.New("no active signing key")
	}
	return kr, nil
}
