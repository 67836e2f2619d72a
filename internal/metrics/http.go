package metrics

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
)

// Namer names an HTTP request for the metrics and the access log, after
// the listener's handler has served it (so a ServeMux's r.Pattern and path
// values are set). Its op must come from a bounded set.
type Namer func(r *http.Request) (surface, op, cache string)

// HTTP wraps the handler of a whole listener: every request is counted by
// surface, operation and status and timed, long-lived ones (WebSockets
// after their upgrade, server-sent events) are counted as streams instead,
// and the access log gets its line.
func (m *Metrics) HTTP(name Namer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, m: m, name: name}
		var slot *auth.CallerSlot
		logged := m.access.pick()
		if logged {
			ctx, s := auth.WithCallerSlot(r.Context())
			r, slot = r.WithContext(ctx), s
		}
		rec.r = r
		defer func() {
			// A panic is answered by net/http (it closes the connection);
			// count it as a 500 before it goes on up.
			if v := recover(); v != nil {
				if rec.status == 0 {
					rec.status = http.StatusInternalServerError
				}
				m.endHTTP(rec, start, logged, slot)
				panic(v)
			}
			m.endHTTP(rec, start, logged, slot)
		}()
		h.ServeHTTP(rec, r)
	})
}

func (m *Metrics) endHTTP(rec *recorder, start time.Time, logged bool, slot *auth.CallerSlot) {
	d := time.Since(start)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	surface, op, cache := rec.labels()
	st := strconv.Itoa(rec.status)
	m.requests.WithLabelValues(surface, op, st).Inc()
	if rec.stream {
		m.streams.WithLabelValues(surface, op).Dec()
	} else {
		m.duration.WithLabelValues(surface, op).Observe(d.Seconds())
	}
	if logged {
		m.access.write(rec.r.Context(), surface, op, cache, st, d, slot)
	}
}

// recorder sees a response's status and whether it became a stream.
type recorder struct {
	http.ResponseWriter
	m       *Metrics
	name    Namer
	r       *http.Request
	status  int
	stream  bool
	named   bool
	surface string
	op      string
	cache   string
}

func (rec *recorder) labels() (surface, op, cache string) {
	if !rec.named {
		rec.surface, rec.op, rec.cache = rec.name(rec.r)
		rec.named = true
	}
	return rec.surface, rec.op, rec.cache
}

func (rec *recorder) startStream() {
	if !rec.stream {
		rec.stream = true
		surface, op, _ := rec.labels()
		rec.m.streams.WithLabelValues(surface, op).Inc()
	}
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			rec.startStream()
		}
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	return rec.ResponseWriter.Write(b)
}

// Flush passes through (server-sent events flush every event).
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// Hijack passes through; a hijacked connection (a WebSocket) is a stream
// with status 101.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err == nil {
		if rec.status == 0 {
			rec.status = http.StatusSwitchingProtocols
		}
		rec.startStream()
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// httpMethod is r's method, or "OTHER" for one outside the standard set
// (the method is the client's to choose: labels must stay bounded).
func httpMethod(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return r.Method
	}
	return "OTHER"
}

// RouteNamer names the requests of a ServeMux listener by the pattern that
// matched them ("GET /console/api/caches/{cache}"; "other" when none did)
// and their surface by the longest of surfaces' path prefixes that starts
// the pattern's path (e.g. "/console/" → "console"; none: "http"). The cache
// is the {cache} path value, when the pattern has one.
func RouteNamer(surfaces map[string]string) Namer {
	return func(r *http.Request) (string, string, string) {
		if r.Pattern == "" {
			return "http", "other", ""
		}
		path := r.Pattern
		if i := strings.IndexByte(path, ' '); i >= 0 {
			path = path[i+1:]
		}
		surface, best := "http", -1
		for prefix, name := range surfaces {
			if len(prefix) > best && strings.HasPrefix(path, prefix) {
				surface, best = name, len(prefix)
			}
		}
		return surface, r.Pattern, r.PathValue("cache")
	}
}

// cosmosTypes are the resource types of Cosmos DB REST paths.
var cosmosTypes = map[string]bool{
	"dbs": true, "colls": true, "docs": true, "pkranges": true, "offers": true, "users": true,
	"permissions": true, "sprocs": true, "triggers": true, "udfs": true, "conflicts": true,
}

// CosmosNamer names Cosmos DB REST requests by method and resource path
// with the ids taken out ("GET /dbs/{}/colls/{}/docs"; a change-feed read
// is "GET /dbs/{}/colls/{}/docs changefeed"); the cache is the container's
// "<db>/<coll>". Unknown resource types are "other".
func CosmosNamer(r *http.Request) (surface, op, cache string) {
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	method := httpMethod(r)
	var b strings.Builder
	b.WriteString(method)
	b.WriteString(" /")
	var db, coll string
	for i, s := range segs {
		if i%2 == 0 {
			if s == "" && len(segs) == 1 {
				break
			}
			if !cosmosTypes[s] {
				return "cosmos", method + " other", ""
			}
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(s)
			continue
		}
		b.WriteString("/{}")
		v, _ := url.PathUnescape(s)
		switch segs[i-1] {
		case "dbs":
			db = v
		case "colls":
			coll = v
		}
	}
	if strings.EqualFold(r.Header.Get("A-IM"), "Incremental feed") {
		b.WriteString(" changefeed")
	}
	if db != "" && coll != "" {
		cache = db + "/" + coll
	}
	return "cosmos", b.String(), cache
}

// GraphQLNamer names AppSync requests by method and path (the GraphQL
// endpoint and the real-time WebSocket paths; anything else is "other").
func GraphQLNamer(r *http.Request) (surface, op, cache string) {
	switch r.URL.Path {
	case "/graphql", "/graphql/realtime", "/realtime":
		return "appsync", httpMethod(r) + " " + r.URL.Path, ""
	}
	return "appsync", httpMethod(r) + " other", ""
}
