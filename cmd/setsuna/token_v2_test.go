package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/auth"
)

func TestTokenIssueV2(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runToken([]string{"issue", "--init", "--all-data", "--v2", "--data-dir", dir, "--endpoint", "setsuna.test"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	key := strings.TrimSpace(out.String())
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		t.Fatalf("a v2 key is a bare JWT, got %q", key)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil || claims["t"] != "g" {
		t.Fatalf("claims %s: %v", b, err)
	}
	if !strings.Contains(errOut.String(), "MOMENTO_ENDPOINT=setsuna.test") {
		t.Fatalf("no endpoint hint: %s", errOut.String())
	}
}

// A data directory without a keyring is an error unless --init says to
// create one: a mistyped --data-dir must not mint keys nobody verifies.
func TestTokenIssueNeedsAKeyring(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runToken([]string{"issue", "--super-user", "--data-dir", dir}, &out, &errOut); code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "--init") {
		t.Fatalf("without a keyring: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, auth.KeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused issue left a keyring behind: %v", err)
	}
	errOut.Reset()
	if code := runToken([]string{"issue", "--super-user", "--init", "--data-dir", dir}, &out, &errOut); code != 0 || out.Len() == 0 {
		t.Fatalf("with --init: exit %d: %s", code, errOut.String())
	}
	out.Reset()
	if code := runToken([]string{"issue", "--super-user", "--data-dir", dir}, &out, &errOut); code != 0 || out.Len() == 0 {
		t.Fatalf("with the keyring made: exit %d: %s", code, errOut.String())
	}
}
