package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

type api struct {
	t     *testing.T
	base  string
	token string
}

func (a api) do(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("X-Setsuna-Console", "1")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	} else if len(raw) > 0 && raw[0] == '[' {
		var list []any
		_ = json.Unmarshal(raw, &list)
		out = map[string]any{"list": list}
	}
	return resp.StatusCode, out
}

func (a api) must(want int, method, path string, body any) map[string]any {
	a.t.Helper()
	code, out := a.do(method, path, body)
	if code != want {
		a.t.Fatalf("%s %s = %d %v, want %d", method, path, code, out, want)
	}
	return out
}

// events opens a server-sent events stream and returns a func that reads
// the next event.
func (a api) events(path string) (next func() map[string]any, stop func()) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.base+path, nil)
	req.Header.Set("X-Setsuna-Console", "1")
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		a.t.Fatalf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	return func() map[string]any {
		a.t.Helper()
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v map[string]any
				if err := json.Unmarshal([]byte(data), &v); err != nil {
					a.t.Fatal(err)
				}
				return v
			}
		}
		a.t.Fatalf("stream %s ended: %v", path, sc.Err())
		return nil
	}, func() { resp.Body.Close() }
}

func TestConsoleAPI(t *testing.T) {
	n := testnode.Start(t, embed.Config{Auth: true})
	super := n.Mint(t, auth.MintRequest{SuperUser: true})
	a := api{t: t, base: "http://" + n.HTTPAddr(), token: super}

	// The guard header, then authentication.
	req, _ := http.NewRequest("GET", a.base+"/console/api/session", nil)
	req.Header.Set("Authorization", "Bearer "+super)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("without the console header: %v %v", resp, err)
	}
	if code, _ := (api{t: t, base: a.base}).do("GET", "/console/api/session", nil); code != http.StatusUnauthorized {
		t.Fatalf("without a key: %d", code)
	}
	if s := a.must(200, "GET", "/console/api/session", nil); s["auth"] != true || s["super_user"] != true {
		t.Fatalf("session = %v", s)
	}

	// Caches and items.
	a.must(201, "POST", "/console/api/caches", map[string]string{"name": "demo"})
	a.must(409, "POST", "/console/api/caches", map[string]string{"name": "demo"})
	if l := a.must(200, "GET", "/console/api/caches", nil)["list"].([]any); len(l) != 1 {
		t.Fatalf("caches = %v", l)
	}
	a.must(204, "PUT", "/console/api/caches/demo/item", map[string]any{"key": map[string]string{"text": "user:1"}, "value": map[string]string{"text": "ada"}, "ttl_seconds": 3600})
	a.must(204, "PUT", "/console/api/caches/demo/item", map[string]any{"key": map[string]string{"text": "user:2"}, "value": map[string]string{"base64": "/w=="}})
	a.must(204, "PUT", "/console/api/caches/demo/item", map[string]any{"key": map[string]string{"text": "other"}, "value": map[string]string{"text": "x"}})
	it := a.must(200, "GET", "/console/api/caches/demo/item?key=user:1", nil)
	if it["kind"] != "scalar" || it["value"].(map[string]any)["text"] != "ada" || it["ttl_ms"].(float64) <= 3590_000 {
		t.Fatalf("item = %v", it)
	}
	if it := a.must(200, "GET", "/console/api/caches/demo/item?key=user:2", nil); it["value"].(map[string]any)["base64"] != "/w==" || it["ttl_ms"] != nil {
		t.Fatalf("binary item = %v", it)
	}
	a.must(404, "GET", "/console/api/caches/demo/item?key=nope", nil)
	keys := a.must(200, "GET", "/console/api/caches/demo/keys?prefix=user:", nil)
	if ks := keys["keys"].([]any); len(ks) != 2 || keys["done"] != true {
		t.Fatalf("keys = %v", keys)
	}
	if keys := a.must(200, "GET", "/console/api/caches/demo/keys?limit=1", nil); len(keys["keys"].([]any)) != 1 || keys["continuation"] == "" {
		t.Fatalf("first page = %v", keys)
	}

	// Collections are shown by type.
	cc, err := client.NewCacheClient(client.Config{Address: n.Addr(), Token: super})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := cc.DictionarySetFields(t.Context(), &client.DictionarySetFieldsRequest{CacheName: "demo", DictionaryName: "profile",
		Elements: []client.DictionaryElement{{Field: client.String("name"), Value: client.String("ada")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.SetAddElements(t.Context(), &client.SetAddElementsRequest{CacheName: "demo", SetName: "tags", Elements: []client.Value{client.String("a"), client.String("b")}}); err != nil {
		t.Fatal(err)
	}
	if d := a.must(200, "GET", "/console/api/caches/demo/item?key=profile", nil); d["kind"] != "dictionary" || len(d["elements"].([]any)) != 1 {
		t.Fatalf("dictionary = %v", d)
	}
	if s := a.must(200, "GET", "/console/api/caches/demo/item?key=tags", nil); s["kind"] != "set" || len(s["elements"].([]any)) != 2 {
		t.Fatalf("set = %v", s)
	}

	// A live topic.
	next, stop := a.events("/console/api/caches/demo/topics/news/events")
	if ev := next(); ev["type"] != "subscribed" {
		t.Fatalf("first event = %v", ev)
	}
	if p := a.must(200, "POST", "/console/api/caches/demo/topics/news/messages", map[string]any{"value": map[string]string{"text": "hello"}}); p["sequence"] != 1.0 {
		t.Fatalf("publish = %v", p)
	}
	if ev := next(); ev["type"] != "message" || ev["sequence"] != 1.0 || ev["value"].(map[string]any)["text"] != "hello" {
		t.Fatalf("message event = %v", ev)
	}
	stop()

	// A feed tail of one range, from now.
	ranges := a.must(200, "GET", "/console/api/caches/demo/feed/ranges", nil)["list"].([]any)
	if len(ranges) != 4 {
		t.Fatalf("ranges = %v", ranges)
	}
	next, stop = a.events("/console/api/caches/demo/feed/events?start=now")
	if ev := next(); ev["type"] != "page" || ev["not_modified"] != true || ev["continuation"] == "" {
		t.Fatalf("first page = %v", ev)
	}
	a.must(204, "PUT", "/console/api/caches/demo/item", map[string]any{"key": map[string]string{"text": "fresh"}, "value": map[string]string{"text": "v"}})
	ev := next()
	chs := ev["changes"].([]any)
	if len(chs) != 1 || chs[0].(map[string]any)["key"].(map[string]any)["text"] != "fresh" || chs[0].(map[string]any)["op"] != "create" {
		t.Fatalf("change page = %v", ev)
	}
	stop()
	// Resuming from a copied continuation sees nothing twice.
	next, stop = a.events("/console/api/caches/demo/feed/events?continuation=" + url.QueryEscape(ev["continuation"].(string)))
	if ev := next(); ev["not_modified"] != true {
		t.Fatalf("resumed = %v", ev)
	}
	stop()

	// API keys: mint with a scope, use it, revoke it.
	m := a.must(201, "POST", "/console/api/keys", map[string]any{"scopes": []map[string]string{{"resource": "cache", "role": "readonly", "cache": "demo"}}, "expires_in_seconds": 600})
	ro := api{t: t, base: a.base, token: m["api_key"].(string)}
	ro.must(200, "GET", "/console/api/caches/demo/item?key=user:1", nil)
	ro.must(403, "PUT", "/console/api/caches/demo/item", map[string]any{"key": map[string]string{"text": "k"}, "value": map[string]string{"text": "v"}})
	ro.must(403, "POST", "/console/api/keys/revoke", map[string]string{"id": m["id"].(string)})
	a.must(400, "POST", "/console/api/keys", map[string]any{"scopes": []map[string]string{{"resource": "cache", "role": "superpowers"}}})
	a.must(204, "POST", "/console/api/keys/revoke", map[string]string{"id": m["id"].(string)})
	ro.must(401, "GET", "/console/api/caches/demo/item?key=user:1", nil)

	// Flush, delete.
	a.must(204, "POST", "/console/api/caches/demo/flush", nil)
	a.must(404, "GET", "/console/api/caches/demo/item?key=user:1", nil)
	a.must(204, "DELETE", "/console/api/caches/demo", nil)
	a.must(404, "DELETE", "/console/api/caches/demo", nil)
}

func TestConsoleDevMode(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	a := api{t: t, base: "http://" + n.HTTPAddr()}
	if s := a.must(200, "GET", "/console/api/session", nil); s["auth"] != false {
		t.Fatalf("session = %v", s)
	}
	a.must(501, "POST", "/console/api/keys", map[string]any{"scopes": []map[string]string{{"resource": "cache", "role": "readonly"}}})
	resp, err := http.Get(a.base + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("/console/ = %d %v", resp.StatusCode, resp.Header)
	}
}
