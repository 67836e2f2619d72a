package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/metrics"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// get fetches an HTTP path of the node with an optional key.
func get(t *testing.T, n *testnode.Node, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantLines checks that the exposition has a line matching each pattern.
func wantLines(t *testing.T, text string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(`(?m)^` + p + `$`).MatchString(text) {
			t.Errorf("no line matches %s", p)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", text)
	}
}

func opsClients(t *testing.T, n *testnode.Node, token string) (*client.CacheClient, *client.TopicClient, *client.FeedClient) {
	t.Helper()
	cfg := client.Config{Address: n.Addr(), Token: token}
	cc, err := client.NewCacheClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.NewTopicClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := client.NewFeedClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close(); tc.Close(); fc.Close() })
	return cc, tc, fc
}

func TestMetricsExposition(t *testing.T) {
	n := testnode.Start(t, embed.Config{MaxMemory: 1 << 30})
	ctx := t.Context()
	cc, tc, fc := opsClients(t, n, "")
	if _, err := cc.CreateCache(ctx, &client.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String("k"), Value: client.String("v")}); err != nil {
		t.Fatal(err)
	}
	if resp, err := cc.Get(ctx, &client.GetRequest{CacheName: "c", Key: client.String("missing")}); err != nil {
		t.Fatal(err)
	} else if _, miss := resp.(*client.GetMiss); !miss {
		t.Fatalf("get missing = %T", resp)
	}
	if _, err := cc.Get(ctx, &client.GetRequest{CacheName: "no-such-cache", Key: client.String("k")}); err == nil {
		t.Fatal("get from a missing cache succeeded")
	}

	// A subscriber and a message it takes.
	sub, err := tc.Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "news"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := tc.Publish(ctx, &client.TopicPublishRequest{CacheName: "c", TopicName: "news", Value: client.String("hi")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Item(ctx); err != nil {
		t.Fatal(err)
	}

	// A feed reader that reads everything, then one more write: lag 1 in
	// the partition of k.
	it := fc.NewFeedIterator("c", client.StartFromBeginning(), client.LatestVersion, nil)
	for {
		page, err := it.ReadNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if page.NotModified() {
			break
		}
	}
	if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String("k"), Value: client.String("v2")}); err != nil {
		t.Fatal(err)
	}

	code, text := get(t, n, "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, text)
	}
	wantLines(t, text,
		`setsuna_requests_total\{op="ScsControl/CreateCache",status="OK",surface="momento"\} 1`,
		`setsuna_requests_total\{op="Scs/Set",status="OK",surface="momento"\} 2`,
		`setsuna_requests_total\{op="Scs/Get",status="OK",surface="momento"\} 1`,
		`setsuna_requests_total\{op="Scs/Get",status="NotFound",surface="momento"\} 1`,
		`setsuna_requests_total\{op="Feed/ReadFeed",status="OK",surface="feed"\} \d+`,
		`setsuna_request_duration_seconds_count\{op="Scs/Set",surface="momento"\} 2`,
		`setsuna_request_duration_seconds_bucket\{op="Scs/Set",surface="momento",le="\+Inf"\} 2`,
		`setsuna_streams_open\{op="Pubsub/Subscribe",surface="momento"\} 1`,
		`setsuna_connections_open\{listener="grpc"\} [1-9]\d*`,
		`setsuna_connections_total\{listener="http"\} [1-9]\d*`,
		`setsuna_cache_items\{cache="c"\} 1`,
		`setsuna_cache_bytes\{cache="c"\} [1-9]\d*`,
		`setsuna_cache_evictions_total\{cache="c"\} 0`,
		`setsuna_cache_expirations_total\{cache="c"\} 0`,
		`setsuna_caches 1`,
		`setsuna_memory_max_bytes\{engine="memory"\} 1\.073741824e\+09`,
		`setsuna_memory_used_bytes\{engine="memory"\} [1-9]\d*`,
		`setsuna_evictions_total\{engine="memory"\} 0`,
		`setsuna_topic_subscribers\{cache="c",topic="news"\} 1`,
		`setsuna_topic_backlog_messages\{cache="c",topic="news"\} 0`,
		`setsuna_topic_subscriptions 1`,
		`setsuna_feed_lag\{cache="c",partition="\d+"\} 1`,
		`setsuna_engine_calls_total\{engine="memory",op="set"\} 2`,
		`setsuna_engine_calls_total\{engine="memory",op="topic_append"\} 1`,
		`setsuna_engine_errors_total\{engine="memory",op="get",reason="cache_not_found"\} 1`,
		`setsuna_ready 1`,
		`setsuna_build_info\{goversion="go[^"]+",version="[^"]+"\} 1`,
		`go_goroutines \d+`,
	)

	// /v1/status says the same as JSON.
	code, body := get(t, n, "/v1/status", "")
	if code != http.StatusOK {
		t.Fatalf("/v1/status: %d %s", code, body)
	}
	var st metrics.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Ready || len(st.Engine.Caches) != 1 || st.Engine.Caches[0].Items != 1 || st.Topics.Subscriptions != 1 ||
		len(st.FeedLag) == 0 || st.Requests["momento"].Total < 5 || st.Requests["momento"].Errors != 1 || st.Listeners["grpc"] != n.Addr() {
		t.Fatalf("status = %s", body)
	}
}

func TestReadyzAndPprofFlag(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	if code, body := get(t, n, "/readyz", ""); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	if code, _ := get(t, n, "/debug/pprof/", ""); code != http.StatusNotFound {
		t.Fatalf("/debug/pprof/ without --pprof = %d, want 404", code)
	}
	p := testnode.Start(t, embed.Config{Pprof: true})
	if code, body := get(t, p, "/debug/pprof/goroutine?debug=1", ""); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("/debug/pprof/goroutine with --pprof = %d %.80q", code, body)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOpsWithAuth: metrics and status need a key, profiles a super user;
// refused calls are counted.
func TestOpsWithAuth(t *testing.T) {
	n := testnode.Start(t, embed.Config{Auth: true, Pprof: true})
	super := n.Mint(t, auth.MintRequest{SuperUser: true})
	scoped := n.Mint(t, auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadOnly, Cache: "c"}}})
	cc, _, _ := opsClients(t, n, "")
	if _, err := cc.ListCaches(t.Context(), &client.ListCachesRequest{}); err == nil {
		t.Fatal("ListCaches without a key succeeded")
	}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "garbage", http.StatusUnauthorized},
		{"/metrics", scoped, http.StatusOK},
		{"/v1/status", "", http.StatusUnauthorized},
		{"/v1/status", scoped, http.StatusOK},
		{"/debug/pprof/", scoped, http.StatusForbidden},
		{"/debug/pprof/", super, http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusOK},
	} {
		if code, body := get(t, n, c.path, c.token); code != c.want {
			t.Errorf("%s with %.8q: %d, want %d (%s)", c.path, c.token, code, c.want, body)
		}
	}
	_, text := get(t, n, "/metrics", scoped)
	wantLines(t, text,
		`setsuna_requests_total\{op="ScsControl/ListCaches",status="Unauthenticated",surface="momento"\} 1`,
		`setsuna_requests_total\{op="GET /metrics",status="401",surface="ops"\} 2`,
	)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAccessLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n := testnode.Start(t, embed.Config{Auth: true, Logger: log, AccessLogEvery: 1})
	m, err := auth.MintAPIKey(n.Keyring(t), "", auth.MintRequest{SuperUser: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cc, _, _ := opsClients(t, n, m.JWT)
	if _, err := cc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: "logged"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Set(t.Context(), &client.SetRequest{CacheName: "logged", Key: client.String("k"), Value: client.String("v")}); err != nil {
		t.Fatal(err)
	}
	anon, _, _ := opsClients(t, n, "")
	if _, err := anon.ListCaches(t.Context(), &client.ListCachesRequest{}); err == nil {
		t.Fatal("ListCaches without a key succeeded")
	}
	// The middleware writes its line before the server ends the response.
	get(t, n, "/metrics", m.JWT)
	get(t, n, "/readyz", "")
	var lines []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if v["msg"] == "access" {
			lines = append(lines, v)
		}
	}
	find := func(op string) map[string]any {
		for _, l := range lines {
			if l["op"] == op {
				return l
			}
		}
		t.Fatalf("no access line for %s in %v", op, lines)
		return nil
	}
	set := find("Scs/Set")
	if set["surface"] != "momento" || set["cache"] != "logged" || set["status"] != "OK" || set["principal"] != m.ID || set["level"] != "INFO" {
		t.Fatalf("Set line = %v", set)
	}
	if _, ok := set["duration"].(float64); !ok {
		t.Fatalf("Set line has no duration: %v", set)
	}
	if l := find("ScsControl/ListCaches"); l["status"] != "Unauthenticated" || l["principal"] != "" {
		t.Fatalf("refused call's line = %v", l)
	}
	if l := find("GET /metrics"); l["surface"] != "ops" || l["status"] != "200" || l["principal"] != m.ID {
		t.Fatalf("metrics line = %v", l)
	}
	if strings.Contains(buf.String(), m.JWT) {
		t.Fatal("the token is in the log")
	}
}

func TestLabelCaps(t *testing.T) {
	n := testnode.Start(t, embed.Config{MetricsCacheLabels: 2})
	cc, _, _ := opsClients(t, n, "")
	for _, name := range []string{"a", "b", "c", "d"} {
		if _, err := cc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := cc.Set(t.Context(), &client.SetRequest{CacheName: name, Key: client.String("k"), Value: client.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	_, text := get(t, n, "/metrics", "")
	wantLines(t, text, `setsuna_cache_items\{cache="a"\} 1`, `setsuna_cache_items\{cache="b"\} 1`, `setsuna_cache_items\{cache="_other"\} 2`, `setsuna_caches 4`)
	if strings.Contains(text, `cache="c"`) {
		t.Fatal("a cache over the cap has its own series")
	}
	off := testnode.Start(t, embed.Config{MetricsCacheLabels: -1})
	oc, _, _ := opsClients(t, off, "")
	if _, err := oc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: "a"}); err != nil {
		t.Fatal(err)
	}
	_, text = get(t, off, "/metrics", "")
	wantLines(t, text, `setsuna_caches 1`)
	if strings.Contains(text, "setsuna_cache_items{") {
		t.Fatal("per-cache series with the cap off")
	}
}
