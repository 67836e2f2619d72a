package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// With --auth and no --cosmos-key, the emulator's well-known key is refused
// and Setsuna API keys are resource tokens, authorized like on every other
// surface.
func TestCosmosWithAuth(t *testing.T) {
	n := testnode.Start(t, embed.Config{Auth: true})
	do := func(method, path, token, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+n.CosmosAddr()+path, bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("x-ms-version", "2020-07-15")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", url.QueryEscape("type=resource&ver=1.0&sig="+token))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	super := n.Mint(t, auth.MintRequest{SuperUser: true})
	reader := n.Mint(t, auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadOnly}}})
	if code := do("POST", "/dbs", super, `{"id":"db"}`); code != http.StatusCreated {
		t.Fatalf("create a database with a super-user key: %d", code)
	}
	if code := do("POST", "/dbs", reader, `{"id":"db2"}`); code != http.StatusForbidden {
		t.Fatalf("create a database with a read-only key: %d, want 403", code)
	}
	if code := do("GET", "/dbs/db", "garbage", ""); code != http.StatusUnauthorized {
		t.Fatalf("a forged token: %d, want 401", code)
	}
	// The master key, even a correctly signed one, is not accepted.
	req, _ := http.NewRequest("GET", "http://"+n.CosmosAddr()+"/dbs", nil)
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig=AAAA"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("master key with --auth: %d, want 401", resp.StatusCode)
	}
}
