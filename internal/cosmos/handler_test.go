package cosmos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a Handler over a memBackend and a signing client.
type env struct {
	t     testing.TB
	clk   *clock
	b     *memBackend
	h     *Handler
	key   []byte
	skewd time.Duration // added to x-ms-date
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 23, 19, 46, 33, 0, time.UTC)}
	b := newMemBackend(clk.now)
	h, err := New(b, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(EmulatorKey)
	return &env{t: t, clk: clk, b: b, h: h, key: key}
}

// withT is e reporting to t (a fuzz target's own T).
func (e *env) withT(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

type resp struct {
	*httptest.ResponseRecorder
	t testing.TB
}

// obj decodes the body as a JSON object.
func (r resp) obj() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &m); err != nil {
		r.t.Fatalf("body %q is not a JSON object: %v", r.Body.String(), err)
	}
	return m
}

// want checks the status; an error status must carry a Cosmos error body.
func (r resp) want(status int) resp {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body.String())
	}
	if status >= 400 {
		m := r.obj()
		if m["code"] == "" || m["message"] == "" || r.Header().Get("Content-Type") != "application/json" {
			r.t.Fatalf("error body %s is not {code, message}", r.Body.String())
		}
	}
	if r.Header().Get(hActivityID) == "" || r.Header().Get(hRequestCharge) == "" {
		r.t.Fatalf("missing activity id or request charge headers: %v", r.Header())
	}
	return r
}

func (r resp) message() string { return r.obj()["message"].(string) }

// do sends a signed request; path is the SDK's encodeURI form.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:18181"+path, rd)
	date := e.clk.now().Add(e.skewd).UTC().Format(http.TimeFormat)
	segs, _ := pathSegments(req)
	typ, link := resourceOf(segs)
	req.Header.Set("x-ms-date", date)
	req.Header.Set("Authorization", AuthHeader(e.key, method, typ, link, date))
	req.Header.Set("x-ms-version", "2020-07-15")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec, e.t}
}

// setup creates database db1 and a container with the given definition.
func (e *env) setup(coll string, def map[string]any, hdr ...string) {
	e.t.Helper()
	if _, err := e.b.Database(e.t.Context(), "db1"); err != nil {
		e.do("POST", "/dbs", map[string]any{"id": "db1"}).want(201)
	}
	def["id"] = coll
	e.do("POST", "/dbs/db1/colls", def, hdr...).want(201)
}

func TestAccount(t *testing.T) {
	e := newEnv(t)
	m := e.do("GET", "/", nil).want(200).obj()
	if m["id"] == "localhost" || m["id"] == "" {
		t.Errorf("account id %v: must not be localhost", m["id"])
	}
	for _, k := range []string{"writableLocations", "readableLocations"} {
		locs := m[k].([]any)
		if len(locs) != 1 || locs[0].(map[string]any)["databaseAccountEndpoint"] != "http://127.0.0.1:18181/" {
			t.Errorf("%s = %v, want the endpoint the client used", k, locs)
		}
	}
	if _, ok := m["queryEngineConfiguration"].(string); !ok {
		t.Errorf("queryEngineConfiguration must be a JSON string: %v", m["queryEngineConfiguration"])
	}
}

func TestDatabases(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/dbs/db1", nil).want(404)
	m := e.do("POST", "/dbs", map[string]any{"id": "db1"}, hOfferThroughput, "400").want(201).obj()
	rid, _ := decodeRID(m["_rid"].(string))
	if len(rid) != 4 || m["_self"] != "dbs/"+m["_rid"].(string)+"/" || m["_colls"] != "colls/" || m["_etag"] == nil || m["_ts"] == nil {
		t.Errorf("database resource %v", m)
	}
	e.do("POST", "/dbs", map[string]any{"id": "db1"}).want(409)
	if got := e.do("GET", "/dbs/db1", nil).want(200).obj(); got["_rid"] != m["_rid"] {
		t.Errorf("read back %v, created %v", got, m)
	}
	e.do("POST", "/dbs", map[string]any{"id": "my db"}).want(201)
	e.do("GET", "/dbs/my%20db", nil).want(200)
	l := e.do("GET", "/dbs", nil).want(200).obj()
	if l["_count"] != 2.0 || len(l["Databases"].([]any)) != 2 {
		t.Errorf("list %v", l)
	}
	f := func(body string, status int) {
		t.Helper()
		e.do("POST", "/dbs", body).want(status)
	}
	f(`{"id":""}`, 400)
	f(`{"id":"a/b"}`, 400)
	f(`{"id":"a?b"}`, 400)
	f(`{"id":7}`, 400)
	f(`{}`, 400)
	f(`[1]`, 400)
	f(`{"id":"x"} trailing`, 400)
	f(`{"id":"x","id":"y"}`, 400)
	f(`not json`, 400)
	e.do("DELETE", "/dbs/db1", nil).want(204)
	e.do("DELETE", "/dbs/db1", nil).want(404)
	e.do("PUT", "/dbs/db1", nil).want(405)
	e.do("GET", "/offers", nil).want(404)
}

func TestContainers(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/dbs/nodb/colls", map[string]any{"id": "c"}).want(404)
	e.setup("c1", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}}}, hOfferThroughput, "21000")
	m := e.do("GET", "/dbs/db1/colls/c1", nil).want(200).obj()
	pk := m["partitionKey"].(map[string]any)
	if pk["kind"] != "Hash" || pk["version"] != 1.0 {
		t.Errorf("partitionKey %v: want kind and version echoed (service default V1)", pk)
	}
	rid, _ := decodeRID(m["_rid"].(string))
	if len(rid) != 8 || !strings.HasPrefix(m["_self"].(string), "dbs/") || m["_docs"] != "docs/" || m["indexingPolicy"] == nil {
		t.Errorf("container resource %v", m)
	}
	e.do("POST", "/dbs/db1/colls", map[string]any{"id": "c1"}).want(409)

	// 21,000 RU/s: three partitions, V1 boundaries.
	rs := e.do("GET", "/dbs/db1/colls/c1/pkranges", nil).want(200).obj()
	ranges := rs["PartitionKeyRanges"].([]any)
	if len(ranges) != 3 || rs["_rid"] != m["_rid"] {
		t.Fatalf("pkranges %v", rs)
	}
	prev := ""
	for i, r := range ranges {
		r := r.(map[string]any)
		if r["minInclusive"] != prev || r["id"] != []string{"0", "1", "2"}[i] {
			t.Errorf("range %d = %v: not contiguous", i, r)
		}
		prev = r["maxExclusive"].(string)
	}
	if prev != "FF" || ranges[1].(map[string]any)["minInclusive"] != "05C1D5AB55AB54" {
		t.Errorf("V1 ranges %v", ranges)
	}

	e.setup("c2", map[string]any{"partitionKey": map[string]any{"paths": []string{"/a", "/b"}, "kind": "MultiHash"},
		"defaultTtl": -1, "changeFeedPolicy": map[string]any{"retentionDuration": 10}})
	m = e.do("GET", "/dbs/db1/colls/c2", nil).want(200).obj()
	if pk := m["partitionKey"].(map[string]any); pk["version"] != 2.0 || m["defaultTtl"] != -1.0 || m["changeFeedPolicy"] == nil {
		t.Errorf("container %v", m)
	}
	if n := len(e.do("GET", "/dbs/db1/colls/c2/pkranges", nil).want(200).obj()["PartitionKeyRanges"].([]any)); n != 1 {
		t.Errorf("no throughput: %d ranges, want 1", n)
	}
	l := e.do("GET", "/dbs/db1/colls", nil).want(200).obj()
	if l["_count"] != 2.0 || len(l["DocumentCollections"].([]any)) != 2 {
		t.Errorf("list %v", l)
	}

	f := func(def string, status int, hdr ...string) {
		t.Helper()
		e.do("POST", "/dbs/db1/colls", def, hdr...).want(status)
	}
	f(`{"id":"x","partitionKey":{"paths":["/a","/b"]}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["/a","/b","/c","/d"],"kind":"MultiHash"}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["/a","/b"],"kind":"MultiHash","version":1}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["a"]}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["/a//b"]}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["/a"],"kind":"Range"}}`, 400)
	f(`{"id":"x","partitionKey":{"paths":["/a"],"version":3}}`, 400)
	f(`{"id":"x","defaultTtl":0}`, 400)
	f(`{"id":"x","defaultTtl":"1"}`, 400)
	f(`{"id":"x","changeFeedPolicy":{"retentionDuration":-1}}`, 400)
	f(`{"id":"x"}`, 400, hOfferThroughput, "lots")
	f(`{"id":"x"}`, 400, hOfferThroughput, "-400")
	f(`{"id":"x"}`, 400, hOfferThroughput, "100000000")
	f(`{"id":"x"}`, 400, hAutopilot, `{"maxThroughput":"x"}`)
	f(`{"id":"auto"}`, 201, hAutopilot, `{"maxThroughput":40000}`)
	if n := len(e.do("GET", "/dbs/db1/colls/auto/pkranges", nil).want(200).obj()["PartitionKeyRanges"].([]any)); n != 4 {
		t.Errorf("autoscale 40000: %d ranges, want 4", n)
	}

	e.do("DELETE", "/dbs/db1/colls/c2", nil).want(204)
	e.do("GET", "/dbs/db1/colls/c2", nil).want(404)
	e.do("GET", "/dbs/db1/colls/c2/pkranges", nil).want(404)
	e.do("DELETE", "/dbs/db1", nil).want(204)
	e.do("GET", "/dbs/db1/colls/c1", nil).want(404)
}

func TestPartitionsFromThroughput(t *testing.T) {
	f := func(ru string, want int) {
		t.Helper()
		h := http.Header{}
		if ru != "" {
			h.Set(hOfferThroughput, ru)
		}
		got, e := parsePartitions(h)
		if e != nil || got != want {
			t.Errorf("parsePartitions(%q) = %d, %v; want %d", ru, got, e, want)
		}
	}
	f("", 1)
	f("400", 1)
	f("10000", 1)
	f("10001", 2)
	f("11000", 2)
	f("21000", 3)
	f("25100", 3)
	f("40000", 4)
}

func TestPKRangesIncremental(t *testing.T) {
	e := newEnv(t)
	e.setup("c", map[string]any{"partitionKey": map[string]any{"paths": []string{"/pk"}, "version": 2}}, hOfferThroughput, "20000")
	r := e.do("GET", "/dbs/db1/colls/c/pkranges", nil).want(200)
	rs := r.obj()["PartitionKeyRanges"].([]any)
	if len(rs) != 2 || rs[0].(map[string]any)["maxExclusive"] != "2000" {
		t.Errorf("V2 ranges %v", rs)
	}
	e.do("GET", "/dbs/db1/colls/c/pkranges", nil, hAIM, "Incremental feed", hIfNoneMatch, r.Header().Get("etag")).want(304)
}

func TestPathSegments(t *testing.T) {
	f := func(target string, want ...string) {
		t.Helper()
		req := httptest.NewRequest("GET", "http://h"+target, nil)
		got, ok := pathSegments(req)
		if !ok || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("pathSegments(%q) = %q, %v; want %q", target, got, ok, want)
		}
	}
	f("/")
	f("/dbs/", "dbs")
	f("/dbs/my%20db/colls/c", "dbs", "my db", "colls", "c")
	f("/dbs/d/colls/c/docs/a?b", "dbs", "d", "colls", "c", "docs", "a?b")
	f("/dbs/d/colls/c/docs/%E6%97%A5", "dbs", "d", "colls", "c", "docs", "日")
	f("/dbs/d/colls/c/docs/a+b", "dbs", "d", "colls", "c", "docs", "a+b")
	bad := func(target string) {
		t.Helper()
		req := httptest.NewRequest("GET", "http://h"+target, nil)
		if got, ok := pathSegments(req); ok {
			t.Errorf("pathSegments(%q) = %q, want an error", target, got)
		}
	}
	bad("/dbs//colls")
	bad("/a/b/c/d/e/f/g/h/i")
}

func TestBadPathIsJSON(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest("GET", "http://h/dbs//x", nil)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	resp{rec, t}.want(400)
	e.do("GET", "/dbs/d/users/u", nil).want(404)
	e.do("GET", "/dbs/d/colls/c/sprocs", nil).want(404)
}

// explodingBackend panics where a bug might.
type explodingBackend struct{ *memBackend }

func (explodingBackend) Databases(context.Context) ([]Database, error) { panic("boom") }

func TestPanicIsJSON(t *testing.T) {
	e := newEnv(t)
	e.h.b = explodingBackend{e.b}
	e.do("GET", "/dbs", nil).want(500)
}
