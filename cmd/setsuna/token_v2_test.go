package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestTokenIssueV2(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := runToken([]string{"issue", "--all-data", "--v2", "--data-dir", dir, "--endpoint", "setsuna.test"}, &out, &errOut); code != 0 {
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
