package bridge

import (
	"testing"

	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/cosmos"
)

func TestDocKeysRoundTrip(t *testing.T) {
	info := &cache.CacheInfo{KeyScheme: cache.KeyCosmosMultiHash, Partitions: 4}
	f := func(k cosmos.DocKey, wantKey string) {
		t.Helper()
		key := itemKey(k)
		if string(key) != wantKey {
			t.Fatalf("itemKey(%+v) = %s, want %s", k, key, wantKey)
		}
		got := docKey(key, info)
		if got.PK != k.PK || got.ID != k.ID || got.EPK != info.EPK(key) {
			t.Fatalf("docKey(%s) = %+v, want PK %s ID %q", key, got, k.PK, k.ID)
		}
	}
	f(cosmos.DocKey{PK: `["p1"]`, ID: "a1"}, `["p1","a1"]`)
	f(cosmos.DocKey{PK: `["t",42,null]`, ID: `we,ird"id`}, `["t",42,null,"we,ird\"id"]`)
	f(cosmos.DocKey{PK: `["t",{}]`, ID: "u"}, `["t",{},"u"]`)
	f(cosmos.DocKey{PK: `["a<b"]`, ID: "x"}, `["a<b","x"]`)
	// A key another surface wrote is a document whose id is the key.
	if got := docKey([]byte("plain"), info); got.ID != "plain" || got.PK != `["plain"]` {
		t.Fatalf("docKey(plain) = %+v", got)
	}
}

func TestIDsInCacheNames(t *testing.T) {
	f := func(db, id, want string) {
		t.Helper()
		if got := cacheName(db, id); got != want {
			t.Fatalf("cacheName(%q, %q) = %q, want %q", db, id, got, want)
		}
		if unescapeID(escapeID(db)) != db || unescapeID(escapeID(id)) != id {
			t.Fatalf("escapeID does not round-trip %q / %q", db, id)
		}
	}
	f("db", "orders", "db/orders")
	f("Test Database", "naïve 100%", "Test%20Database/na%C3%AFve%20100%25")
	if checkID("database", string(make([]byte, 50))) == nil {
		t.Fatal("an id of 50 zero bytes (150 encoded) must be refused")
	}
}
