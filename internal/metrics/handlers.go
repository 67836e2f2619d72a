package metrics

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/httpx"
)

// Who may read what the handlers serve. They run behind the HTTP
// listener's authentication (httpx.Authenticator), so with auth on a key is
// needed: any valid key may read metrics and status (they hold names and
// counts, no data), profiles need a super user.
var (
	opReadMetrics = auth.Op{Name: "ReadMetrics", Access: auth.AccessAny}
	opProfile     = auth.Op{Name: "Profile", Access: auth.AccessControl}
)

func authorized(w http.ResponseWriter, r *http.Request, op auth.Op) bool {
	if err := auth.Check(r.Context(), op); err != nil {
		e := errs.As(err)
		if e == nil {
			e = errs.ErrPermissionDenied
		}
		httpx.WriteError(w, e)
		return false
	}
	return true
}

// Handler serves the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authorized(w, r, opReadMetrics) {
			h.ServeHTTP(w, r)
		}
	})
}

// Status is the JSON of /v1/status: the Snapshot and request totals.
type Status struct {
	Snapshot
	Requests map[string]RequestTotals `json:"requests"` // by surface
}

// RequestTotals count a surface's requests; Errors are those whose status
// is neither OK nor a 1xx-3xx HTTP status.
type RequestTotals struct {
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

// Status returns the node's status.
func (m *Metrics) Status(r *http.Request) Status {
	st := Status{Snapshot: m.Snapshot(r.Context()), Requests: map[string]RequestTotals{}}
	fams, _ := m.reg.Gather()
	for _, f := range fams {
		if f.GetName() != "setsuna_requests_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			var surface, status string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "surface":
					surface = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			n := uint64(mt.GetCounter().GetValue())
			t := st.Requests[surface]
			t.Total += n
			if !okStatus(status) {
				t.Errors += n
			}
			st.Requests[surface] = t
		}
	}
	return st
}

func okStatus(s string) bool {
	return s == "OK" || len(s) == 3 && s[0] >= '1' && s[0] <= '3'
}

// StatusHandler serves /v1/status.
func (m *Metrics) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r, opReadMetrics) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(m.Status(r))
	})
}

// PprofHandler serves net/http/pprof under /debug/pprof/ to super users.
func PprofHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r, opProfile) {
			return
		}
		switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
		case "cmdline":
			pprof.Cmdline(w, r)
		case "profile":
			pprof.Profile(w, r)
		case "symbol":
			pprof.Symbol(w, r)
		case "trace":
			pprof.Trace(w, r)
		default:
			pprof.Index(w, r) // the index, and the named profiles (heap, goroutine, ...)
		}
	})
}
