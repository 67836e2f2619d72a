package metrics

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

func TestCosmosNamer(t *testing.T) {
	cases := []struct {
		method, path, aim string
		op, cache         string
	}{
		{"GET", "/", "", "GET /", ""},
		{"GET", "/dbs", "", "GET /dbs", ""},
		{"POST", "/dbs/shop/colls/orders/docs", "", "POST /dbs/{}/colls/{}/docs", "shop/orders"},
		{"GET", "/dbs/shop/colls/orders/docs", "Incremental feed", "GET /dbs/{}/colls/{}/docs changefeed", "shop/orders"},
		{"GET", "/dbs/shop/colls/or%2Fders/docs/o1", "", "GET /dbs/{}/colls/{}/docs/{}", "shop/or/ders"},
		{"GET", "/dbs/shop/colls/orders/pkranges", "", "GET /dbs/{}/colls/{}/pkranges", "shop/orders"},
		{"GET", "/evil/1/x", "", "GET other", ""},
		{"BREW", "/dbs", "", "OTHER /dbs", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.aim != "" {
			r.Header.Set("A-IM", c.aim)
		}
		surface, op, cache := CosmosNamer(r)
		if surface != "cosmos" || op != c.op || cache != c.cache {
			t.Errorf("%s %s: %s %q %q, want %q %q", c.method, c.path, surface, op, cache, c.op, c.cache)
		}
	}
}

func TestRouteNamer(t *testing.T) {
	mux := http.NewServeMux()
	var got [3]string
	name := RouteNamer(map[string]string{"/console/": "console", "/console/api/keys": "keys"})
	h := func(w http.ResponseWriter, r *http.Request) { got[0], got[1], got[2] = name(r) }
	mux.HandleFunc("GET /console/api/caches/{cache}/items", h)
	mux.HandleFunc("/other/", h)
	mux.HandleFunc("POST /console/api/keys", h)
	for _, c := range []struct{ path, surface, op, cache string }{
		{"/console/api/caches/demo/items", "console", "GET /console/api/caches/{cache}/items", "demo"},
		{"/other/x", "http", "/other/", ""},
		{"POST /console/api/keys", "keys", "POST /console/api/keys", ""},
	} {
		method, path, ok := strings.Cut(c.path, " ")
		if !ok {
			method, path = "GET", c.path
		}
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
		if got != [3]string{c.surface, c.op, c.cache} {
			t.Errorf("%s: %q", c.path, got)
		}
	}
	if s, op, _ := name(httptest.NewRequest("GET", "/nothing", nil)); s != "http" || op != "other" {
		t.Errorf("unmatched: %s %s", s, op)
	}
}

// hijackable is a ResponseRecorder that can be hijacked.
type hijackable struct{ *httptest.ResponseRecorder }

func (h hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, nil }

func TestHTTPMiddlewareStreams(t *testing.T) {
	m := New(Options{AccessLogEvery: -1})
	mux := http.NewServeMux()
	opened := make(chan float64, 2)
	gaugeOf := func(op string) float64 { return testutil.ToFloat64(m.streams.WithLabelValues("http", op)) }
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		opened <- gaugeOf("GET /sse")
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := http.NewResponseController(w).Hijack(); err != nil {
			t.Error(err)
		}
		opened <- gaugeOf("GET /ws")
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h := m.HTTP(RouteNamer(nil), mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/sse", nil))
	h.ServeHTTP(hijackable{httptest.NewRecorder()}, httptest.NewRequest("GET", "/ws", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/plain", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/missing", nil))
	if a, b := <-opened, <-opened; a != 1 || b != 1 {
		t.Fatalf("open streams while serving: %v, %v", a, b)
	}
	if gaugeOf("GET /sse") != 0 || gaugeOf("GET /ws") != 0 {
		t.Fatal("streams still open after they ended")
	}
	for _, c := range []struct {
		op, status string
	}{{"GET /sse", "200"}, {"GET /ws", "101"}, {"GET /plain", "200"}, {"other", "404"}} {
		if v := testutil.ToFloat64(m.requests.WithLabelValues("http", c.op, c.status)); v != 1 {
			t.Errorf("requests %s %s = %v", c.op, c.status, v)
		}
	}
	// Only plain requests are latencies.
	if n := testutil.CollectAndCount(m.duration); n != 2 { // /plain and the 404
		t.Fatalf("%d latency series, want 2", n)
	}
}

func TestFeedTrackerWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	f := &feedTracker{now: func() time.Time { return now }, pos: map[feedKey]feedPos{}}
	f.observe("c", 0, 7, 10)
	f.observe("c", 0, 7, 4) // a slower reader: the furthest position stays
	f.observe("c", 1, 7, 3)
	if p := f.snapshot()[feedKey{"c", 0}]; p.lsn != 10 || p.epoch != 7 {
		t.Fatalf("position = %+v", p)
	}
	f.observe("c", 0, 8, 2) // a new epoch starts over
	if p := f.snapshot()[feedKey{"c", 0}]; p.lsn != 2 {
		t.Fatalf("position after a new epoch = %+v", p)
	}
	now = now.Add(FeedReaderWindow + time.Second)
	if len(f.snapshot()) != 0 {
		t.Fatal("positions outlived the reader window")
	}
}

// The topic-log wrapper keeps the log's optional capabilities, which the
// hub probes for.
func TestInstrumentedLogKeepsCapabilities(t *testing.T) {
	m := New(Options{})
	l := memstore.NewTopicLog(memstore.TopicLogOptions{})
	defer l.Close()
	_, once := store.TopicLog(l).(store.TopicAppendOnce)
	_, presence := store.TopicLog(l).(store.TopicPresence)
	w := m.InstrumentTopicLog(l, "memory")
	if _, ok := w.(store.TopicAppendOnce); ok != once {
		t.Errorf("TopicAppendOnce: %v, the log's %v", ok, once)
	}
	if _, ok := w.(store.TopicPresence); ok != presence {
		t.Errorf("TopicPresence: %v, the log's %v", ok, presence)
	}
	type bare struct{ store.TopicLog }
	if _, ok := m.InstrumentTopicLog(bare{l}, "x").(store.TopicAppendOnce); ok {
		t.Error("a log without AppendOnce gained it")
	}
}
