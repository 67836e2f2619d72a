package cosmos

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The worked example of the REST docs ("Access control on Cosmos DB
// resources"): GET dbs/ToDoList at Thu, 27 Apr 2017 00:51:12 GMT.
func TestSignatureDocExample(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString("dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==")
	const date = "Thu, 27 Apr 2017 00:51:12 GMT"
	if got := signature(key, "GET", "dbs", "dbs/ToDoList", date); got != "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c=" {
		t.Errorf("signature = %s", got)
	}
	if got := AuthHeader(key, "GET", "dbs", "dbs/ToDoList", date); got != "type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D" {
		t.Errorf("AuthHeader = %s", got)
	}
}

func TestResourceOf(t *testing.T) {
	f := func(path, typ, link string) {
		t.Helper()
		var segs []string
		if path != "" {
			segs = strings.Split(path, "/")
		}
		gt, gl := resourceOf(segs)
		if gt != typ || gl != link {
			t.Errorf("resourceOf(%q) = %q, %q; want %q, %q", path, gt, gl, typ, link)
		}
	}
	f("", "", "")
	f("dbs", "dbs", "")
	f("dbs/d", "dbs", "dbs/d")
	f("dbs/d/colls", "colls", "dbs/d")
	f("dbs/My DB/colls/c", "colls", "dbs/My DB/colls/c")
	f("dbs/d/colls/c/docs", "docs", "dbs/d/colls/c")
	f("dbs/d/colls/c/pkranges", "pkranges", "dbs/d/colls/c")
	f("dbs/d/colls/c/docs/a?b", "docs", "dbs/d/colls/c/docs/a?b")
}

func TestParseAuthHeader(t *testing.T) {
	f := func(h string, typ, sig string) {
		t.Helper()
		got, err := parseAuthHeader(h)
		if err != nil || got.Type != typ || got.Sig != sig || got.Ver != "1.0" {
			t.Errorf("parseAuthHeader(%q) = %+v, %v; want type %q sig %q", h, got, err, typ, sig)
		}
	}
	f("type%3Dmaster%26ver%3D1.0%26sig%3Dab%2Bc%2F%3D", "master", "ab+c/=")
	f("type=master&ver=1.0&sig=ab+c/=", "master", "ab+c/=") // "+" is not a space
	f("type%3Dresource%26ver%3D1.0%26sig%3Dxyz", "resource", "xyz")
	bad := func(h string) {
		t.Helper()
		if got, err := parseAuthHeader(h); err == nil {
			t.Errorf("parseAuthHeader(%q) = %+v, want an error", h, got)
		}
	}
	bad("")
	bad("type=master&ver=1.0")
	bad("garbage")
	bad("type%3")
	bad("type=master&ver=1.0&sig=" + strings.Repeat("a", maxAuthHeader))
}

func TestAuthRejections(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/dbs", nil).want(200)
	f := func(hdr http.Header, msgPart string) {
		t.Helper()
		req := httptest.NewRequest("GET", "http://h/dbs", nil)
		req.Header = hdr
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		r := resp{rec, t}.want(401)
		if !strings.Contains(r.message(), msgPart) {
			t.Errorf("message %q, want it to contain %q", r.message(), msgPart)
		}
	}
	date := e.clk.now().UTC().Format(http.TimeFormat)
	good := AuthHeader(e.key, "GET", "dbs", "", date)
	f(http.Header{"X-Ms-Date": {date}}, "authorization is missing")
	f(http.Header{"Authorization": {good}}, "date header is invalid")
	f(http.Header{"Authorization": {good}, "X-Ms-Date": {"2017-04-27"}}, "date header is invalid")
	other := make([]byte, len(e.key))
	f(http.Header{"Authorization": {AuthHeader(other, "GET", "dbs", "", date)}, "X-Ms-Date": {date}}, "wrong key")
	f(http.Header{"Authorization": {AuthHeader(e.key, "POST", "dbs", "", date)}, "X-Ms-Date": {date}}, "payload")
	f(http.Header{"Authorization": {AuthHeader(e.key, "GET", "colls", "", date)}, "X-Ms-Date": {date}}, "payload")
	f(http.Header{"Authorization": {"type%3Daad%26ver%3D1.0%26sig%3Dx"}, "X-Ms-Date": {date}}, "not supported")
	f(http.Header{"Authorization": {"type%3Dmaster%26ver%3D1.0%26sig%3D%21%21"}, "X-Ms-Date": {date}}, "base64")
	// Case of the date and the verb does not matter to the signature.
	req := httptest.NewRequest("GET", "http://h/dbs", nil)
	req.Header.Set("X-Ms-Date", date)
	req.Header.Set("Authorization", AuthHeader(e.key, "get", "DBS", "", strings.ToLower(date)))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	resp{rec, t}.want(200)

	// Clock skew: 15 minutes either way.
	e.skewd = 14 * time.Minute
	e.do("GET", "/dbs", nil).want(200)
	e.skewd = -16 * time.Minute
	if m := e.do("GET", "/dbs", nil).want(401).message(); !strings.Contains(m, "not valid at the current time") {
		t.Errorf("skew message %q", m)
	}
	e.skewd = 16 * time.Minute
	e.do("GET", "/dbs", nil).want(401)
}

func TestAuthAcceptsDateHeaderAndOtherKey(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	key := base64.StdEncoding.EncodeToString([]byte("another key of the account"))
	h, err := New(newMemBackend(clk.now), Options{MasterKey: key, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(key)
	date := clk.now().Format(http.TimeFormat)
	req := httptest.NewRequest("GET", "http://h/dbs", nil)
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", AuthHeader(raw, "GET", "dbs", "", date))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp{rec, t}.want(200)

	for _, o := range []Options{{MasterKey: "not base64!"}, {AccountID: "localhost"}} {
		if _, err := New(newMemBackend(clk.now), o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}
