package harness

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/cosmos"
)

// The worked example of the Cosmos REST docs ("Access control on Cosmos DB
// resources"): GET dbs/ToDoList at Thu, 27 Apr 2017 00:51:12 GMT.
func TestCosmosAuthDocVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString("dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==")
	got := cosmosAuth(key, "GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT")
	if want := "type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D"; got != want {
		t.Fatalf("cosmosAuth = %s, want %s", got, want)
	}
}

// The bench's signer agrees with the server's own for every request the
// scenario sends, with the emulator key.
func TestCosmosAuthMatchesServer(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(cosmosEmulatorKey)
	if cosmosEmulatorKey != cosmos.EmulatorKey {
		t.Fatalf("emulator key differs from the server's")
	}
	date := time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC).Format(http.TimeFormat)
	for _, c := range []struct{ verb, path string }{
		{"GET", "/"}, {"POST", "/dbs"}, {"POST", "/dbs/bench/colls"}, {"GET", "/dbs/bench/colls/feed/pkranges"},
		{"POST", "/dbs/bench/colls/feed/docs"}, {"GET", "/dbs/bench/colls/feed/docs"}, {"get", "/dbs/My DB/colls/c/docs/a+b"},
	} {
		typ, link := cosmosResource(c.path)
		if got, want := cosmosAuth(key, c.verb, typ, link, date), cosmos.AuthHeader(key, c.verb, typ, link, date); got != want {
			t.Errorf("%s %s: %s, server %s", c.verb, c.path, got, want)
		}
	}
}

func TestCosmosResource(t *testing.T) {
	for path, want := range map[string][2]string{
		"/":                       {"", ""},
		"/dbs":                    {"dbs", ""},
		"/dbs/d":                  {"dbs", "dbs/d"},
		"/dbs/d/colls":            {"colls", "dbs/d"},
		"/dbs/d/colls/c":          {"colls", "dbs/d/colls/c"},
		"/dbs/d/colls/c/docs":     {"docs", "dbs/d/colls/c"},
		"/dbs/d/colls/c/pkranges": {"pkranges", "dbs/d/colls/c"},
		"/dbs/d/colls/c/docs/x y": {"docs", "dbs/d/colls/c/docs/x y"},
		"dbs/d/colls/c/docs/x/":   {"docs", "dbs/d/colls/c/docs/x"},
	} {
		typ, link := cosmosResource(path)
		if typ != want[0] || link != want[1] {
			t.Errorf("cosmosResource(%q) = %q, %q; want %q, %q", path, typ, link, want[0], want[1])
		}
	}
}

func TestCosmosFeedRegistered(t *testing.T) {
	s := registry["cosmos-feed"]
	if s == nil || s.Quick {
		t.Fatalf("cosmos-feed: %+v (want registered, not quick)", s)
	}
}
