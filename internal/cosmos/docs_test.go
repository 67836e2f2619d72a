package cosmos

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

const docs = "/dbs/db1/colls/c/docs"

func TestDocuments(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})

	r := e.do("POST", docs, `{"id":"a1","pk":"p1","n":1}`, hPartitionKey, `["p1"]`).want(201)
	m := r.obj()
	if m["id"] != "a1" || m["n"] != 1.0 || m["_etag"] != r.Header().Get("etag") || m["_ts"] != float64(e.clk.now().Unix()) || m["_attachments"] != "attachments/" {
		t.Errorf("created %v (etag header %q)", m, r.Header().Get("etag"))
	}
	rid, _ := decodeRID(m["_rid"].(string))
	if len(rid) != 16 || !strings.HasSuffix(m["_self"].(string), "/docs/"+m["_rid"].(string)+"/") {
		t.Errorf("_rid %q (%d bytes), _self %q", m["_rid"], len(rid), m["_self"])
	}
	if _, ok := m["_lsn"]; ok {
		t.Errorf("_lsn on a point operation: %v", m)
	}
	etag1 := m["_etag"].(string)
	e.do("POST", docs, `{"id":"a1","pk":"p1"}`, hPartitionKey, `["p1"]`).want(409)
	// ids are unique per logical partition
	e.do("POST", docs, `{"id":"a1","pk":"p2"}`, hPartitionKey, `["p2"]`).want(201)

	got := e.do("GET", docs+"/a1", nil, hPartitionKey, `["p1"]`).want(200).obj()
	if got["n"] != 1.0 || got["_etag"] != etag1 || got["_rid"] != m["_rid"] {
		t.Errorf("read %v, created %v", got, m)
	}
	e.do("GET", docs+"/a1", nil, hPartitionKey, `["p1"]`, hIfNoneMatch, etag1).want(304)
	e.do("GET", docs+"/a1", nil, hPartitionKey, `["p3"]`).want(404)
	e.do("GET", docs+"/a1", nil).want(400)

	// replace with If-Match
	r = e.do("PUT", docs+"/a1", `{"id":"a1","pk":"p1","n":2}`, hPartitionKey, `["p1"]`, hIfMatch, etag1).want(200)
	etag2 := r.obj()["_etag"].(string)
	if etag2 == etag1 {
		t.Errorf("replace kept etag %s", etag1)
	}
	e.do("PUT", docs+"/a1", `{"id":"a1","pk":"p1","n":3}`, hPartitionKey, `["p1"]`, hIfMatch, etag1).want(412)
	e.do("PUT", docs+"/a1", `{"id":"a1","pk":"p1","n":3}`, hPartitionKey, `["p1"]`, hIfMatch, `"garbage"`).want(412)
	e.do("PUT", docs+"/zz", `{"id":"zz","pk":"p1"}`, hPartitionKey, `["p1"]`).want(404)
	e.do("PUT", docs+"/a1", `{"id":"other","pk":"p1"}`, hPartitionKey, `["p1"]`).want(400)
	if n := e.do("GET", docs+"/a1", nil, hPartitionKey, `["p1"]`).want(200).obj()["n"]; n != 2.0 {
		t.Errorf("after a refused replace n = %v, want 2", n)
	}

	// upsert: 201 then 200
	e.do("POST", docs, `{"id":"u","pk":"p1"}`, hPartitionKey, `["p1"]`, hUpsert, "true").want(201)
	e.do("POST", docs, `{"id":"u","pk":"p1","v":2}`, hPartitionKey, `["p1"]`, hUpsert, "True").want(200)
	e.do("POST", docs, `{"id":"u","pk":"p1","v":3}`, hPartitionKey, `["p1"]`, hUpsert, "true", hIfMatch, etag1).want(412)

	// delete
	e.do("DELETE", docs+"/a1", nil, hPartitionKey, `["p1"]`, hIfMatch, etag1).want(412)
	r = e.do("DELETE", docs+"/a1", nil, hPartitionKey, `["p1"]`, hIfMatch, etag2).want(204)
	if r.Body.Len() != 0 {
		t.Errorf("delete body %q", r.Body.String())
	}
	e.do("DELETE", docs+"/a1", nil, hPartitionKey, `["p1"]`).want(404)
	e.do("GET", docs+"/a1", nil, hPartitionKey, `["p1"]`).want(404)
}

func TestDocumentSystemPropertiesDropped(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	m := e.do("POST", docs, `{"id":"a","pk":"p","_rid":"bogus","_ts":1,"_etag":"x","keep":"me"}`, hPartitionKey, `["p"]`).want(201).obj()
	if m["_rid"] == "bogus" || m["_ts"] == 1.0 || m["_etag"] == "x" || m["keep"] != "me" {
		t.Errorf("system properties from the client kept: %v", m)
	}
}

func TestDocumentBadInputStoresNothing(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	f := func(body string, status, substatus int, hdr ...string) {
		t.Helper()
		r := e.do("POST", docs, body, hdr...).want(status)
		if substatus != 0 && r.Header().Get("x-ms-substatus") != strconv.Itoa(substatus) {
			t.Errorf("substatus %q, want %d", r.Header().Get("x-ms-substatus"), substatus)
		}
	}
	f(`{"id":"x","pk":"a"}`, 400, subPartitionKeyMismatch, hPartitionKey, `["b"]`)
	f(`{"id":"x","pk":"a"}`, 400, 0, hPartitionKey, `"a"`)
	f(`{"id":"x","pk":"a"}`, 400, 0, hPartitionKey, `["a","b"]`)
	f(`{"id":"x","pk":"a"`, 400, 0, hPartitionKey, `["a"]`)
	f(`{"id":"x","pk":{"nested":1}}`, 400, 0)
	f(`{"id":"x","pk":[1]}`, 400, 0)
	f(`{"pk":"a"}`, 400, 0)
	f(`{"id":"a/b","pk":"a"}`, 400, 0)
	f(`{"id":"x","pk":"a"}`, 400, 0, hPartitionKey, `["a"]`, "x-ms-documentdb-isquery", "true")
	big := `{"id":"x","pk":"a","big":"` + strings.Repeat("x", DefaultMaxDocumentSize) + `"}`
	f(big, 413, 0, hPartitionKey, `["a"]`)
	e.do("GET", docs+"/x", nil, hPartitionKey, `["a"]`).want(404)
	e.do("GET", docs+"/x", nil, hPartitionKey, `["b"]`).want(404)
	e.do("GET", docs, nil, hAIM, "Incremental Feed").want(304)
}

func TestDocumentPartitionKeyKinds(t *testing.T) {
	e := newEnv(t)
	e.setup("h", map[string]any{"partitionKey": map[string]any{"paths": []string{"/t", "/u/v"}, "kind": "MultiHash", "version": 2}})
	const hd = "/dbs/db1/colls/h/docs"
	// A missing level is undefined: [{}] on the wire.
	e.do("POST", hd, `{"id":"1","t":"a"}`, hPartitionKey, `["a",{}]`).want(201)
	e.do("POST", hd, `{"id":"1","t":"a","u":{"v":5}}`, hPartitionKey, `["a",5]`).want(201)
	e.do("POST", hd, `{"id":"1","t":"a","u":{"v":5.0}}`, hPartitionKey, `["a",5]`).want(409)
	e.do("GET", hd+"/1", nil, hPartitionKey, `["a",{}]`).want(200)
	e.do("GET", hd+"/1", nil, hPartitionKey, `["a",5]`).want(200)
	e.do("GET", hd+"/1", nil, hPartitionKey, `["a"]`).want(400)
	// Non-ASCII escaped as the SDK sends it.
	e.do("POST", hd, `{"id":"2","t":"日本","u":{"v":null}}`, hPartitionKey, `["\u65e5\u672c",null]`).want(201)
	e.do("GET", hd+"/2", nil, hPartitionKey, `["日本",null]`).want(200)

	// The SDK's container without a partition key: /_partitionKey, [{}].
	e.setup("none", map[string]any{})
	e.do("POST", "/dbs/db1/colls/none/docs", `{"id":"x"}`, hPartitionKey, `[{}]`).want(201)
	e.do("GET", "/dbs/db1/colls/none/docs/x", nil, hPartitionKey, `[{}]`).want(200)
	e.do("GET", "/dbs/db1/colls/none/docs/x", nil, hPartitionKey, `[]`).want(200)
	// "?" reaches the server unencoded (encodeURI): it is part of the id.
	e.do("GET", "/dbs/db1/colls/none/docs/x?y", nil, hPartitionKey, `[]`).want(400)
	e.do("POST", "/dbs/db1/colls/none/docs", `{"id":"x?y"}`, hPartitionKey, `[{}]`).want(400)
}

func TestDocumentTTL(t *testing.T) {
	e := newEnv(t)
	e.setup("t", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}, "defaultTtl": 10})
	e.setup("off", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}})
	const td = "/dbs/db1/colls/t/docs"
	e.do("POST", td, `{"id":"default","pk":"p"}`, hPartitionKey, `["p"]`).want(201)
	e.do("POST", td, `{"id":"never","pk":"p","ttl":-1}`, hPartitionKey, `["p"]`).want(201)
	e.do("POST", td, `{"id":"long","pk":"p","ttl":100}`, hPartitionKey, `["p"]`).want(201)
	e.do("POST", td, `{"id":"bad","pk":"p","ttl":0}`, hPartitionKey, `["p"]`).want(400)
	e.do("POST", td, `{"id":"bad","pk":"p","ttl":null}`, hPartitionKey, `["p"]`).want(400)
	e.do("POST", td, `{"id":"bad","pk":"p","ttl":1.5}`, hPartitionKey, `["p"]`).want(400)
	// TTL off: the item's ttl is ignored, even an odd one.
	e.do("POST", "/dbs/db1/colls/off/docs", `{"id":"x","pk":"p","ttl":1}`, hPartitionKey, `["p"]`).want(201)

	e.clk.advance(10 * time.Second)
	e.do("GET", td+"/default", nil, hPartitionKey, `["p"]`).want(404)
	e.do("GET", td+"/never", nil, hPartitionKey, `["p"]`).want(200)
	e.do("GET", td+"/long", nil, hPartitionKey, `["p"]`).want(200)
	e.do("GET", "/dbs/db1/colls/off/docs/x", nil, hPartitionKey, `["p"]`).want(200)
	e.clk.advance(90 * time.Second)
	e.do("GET", td+"/long", nil, hPartitionKey, `["p"]`).want(404)
}

func TestForeignItems(t *testing.T) {
	ci := &containerInfo{rid: []byte{1, 2, 3, 4, 0x85, 6, 7, 8}, Self: "dbs/x/colls/y/"}
	f := func(body string, want ...string) {
		t.Helper()
		got := string(ci.appendDoc(nil, Doc{Key: DocKey{ID: "k"}, Body: []byte(body), LSN: 3}, true))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("render(%q) = %s, want it to contain %s", body, got, w)
			}
		}
	}
	f(`{"a":1}`, `{"id":"k","a":1,`, `"_lsn":3`)
	f(`{"id":"own","_rid":"x"}`, `{"id":"own","_rid":"`)
	f(`plain text`, `{"id":"k","value":"plain text",`)
	f("\xff\x00", `"valueBase64":"/wA="`)
}

func TestPlainObject(t *testing.T) {
	f := func(body string, ok bool) {
		t.Helper()
		end, got := plainObject([]byte(body))
		if got != ok || ok && body[end] != '}' {
			t.Errorf("plainObject(%s) = %d, %v; want ok=%v", body, end, got, ok)
		}
	}
	f(`{"id":"a"}`, true)
	f(` { "x" : [1,{"id":2,"_rid":"n"}] , "id" : "a" , "s":"q\"}" } `, true)
	f(`{"a":{"b":[]},"id":null,"t":true,"n":-1.5e3}`, true)
	f(`{}`, false)
	f(`{"x":1}`, false)
	f(`{"id":"a","_rid":"x"}`, false)
	f(`{"id":"a","_ts":1}`, false)
	f(`{"id":"a","_other":1}`, true)
	f(`{"i\u0064":"a"}`, false)
	f(`{"id":"a"`, false)
	f(`["id"]`, false)
	f(`text`, false)
	f(``, false)
}

// The fast path renders what decoding would.
func FuzzAppendDoc(f *testing.F) {
	for _, s := range []string{`{"id":"a","pk":"p"}`, `{"x":[1,{"y":"}"}],"id":"b"}`, `{"id":"a","_rid":"z"}`, `{}`, `"text"`, "\xff", `{"a":"\\\"","id":1}`, `{"id":"a","id":"b"}`} {
		f.Add(s)
	}
	ci := &containerInfo{rid: []byte{1, 2, 3, 4, 0x85, 6, 7, 8}, Self: "dbs/x/colls/y/"}
	f.Fuzz(func(t *testing.T, body string) {
		if _, err := parseObject([]byte(body)); err != nil && strings.Contains(err.Error(), "duplicate") {
			return // another surface's object with a repeated name is shown as stored
		}
		d := Doc{Key: DocKey{ID: "k", PK: `["p"]`}, Body: []byte(body), LSN: 7, Time: time.Unix(1700000000, 0)}
		got := ci.appendDoc(nil, d, true)
		var g map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("appendDoc(%q) = %s: not a JSON object: %v", body, got, err)
		}
		if _, err := parseObject(got); err != nil {
			t.Fatalf("appendDoc(%q) = %s: %v", body, got, err)
		}
		var w map[string]any
		json.Unmarshal(ci.appendDecoded(nil, d, true), &w)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("appendDoc(%q) = %v, decoded path %v", body, g, w)
		}
	})
}
