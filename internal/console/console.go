// Package console is Setsuna's web console: a single-page app served at
// /console/ on the HTTP listener (assets built from web/ and embedded, see
// assets.go) and the small JSON API under /console/api/ that it talks to.
// The API is a surface like any other: it authenticates every request
// (httpx.Authenticator: a Setsuna API key as "Authorization: Bearer <key>";
// none in dev mode), calls the cache, topics and feed services, which
// authorize, and maps their errors with httpx. The key lives in the
// browser's sessionStorage only; the server keeps no console session.
//
// Every API request must carry the header "X-Setsuna-Console: 1": a page of
// another origin cannot send it without a CORS preflight, which the API
// never grants, so a dev-mode server (no keys) cannot be driven by a
// foreign page through the visitor's browser.
//
// Keys without a scan API: the key browser reads the cache's latest-version
// change feed from the beginning, which lists every live item exactly once,
// at its last change, and keeps the keys with the prefix (see keys in
// api.go). It costs a read of the feed (bounded per request, continued with
// a token), so it is a console tool, not a query path.
package console

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/httpx"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Options are what the console serves from.
type Options struct {
	Cache  *cache.Service
	Topics *topics.Service
	Feed   *feed.Service
	Auth   *auth.Service // nil in dev mode
	Logger *slog.Logger
}

// Console is the console's API and assets.
type Console struct {
	o     Options
	authn httpx.Authenticator
	rep   *errs.Reporter
}

// New returns the console.
func New(o Options) *Console {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Console{o: o, authn: httpx.Authenticator{Auth: o.Auth}, rep: errs.NewReporter(o.Logger)}
}

// Mux is where the console registers its routes.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register adds the console's routes to mux: the app at /console/ and its
// API at /console/api/.
func (c *Console) Register(mux Mux) {
	mux.Handle("GET /console/{$}", assets())
	mux.Handle("GET /console/assets/", assets())
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, c.guard(c.authn.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				c.fail(w, r, err)
			}
		}), nil)))
	}
	api("GET /console/api/session", c.session)
	api("GET /console/api/caches", c.listCaches)
	api("POST /console/api/caches", c.createCache)
	api("DELETE /console/api/caches/{cache}", c.deleteCache)
	api("POST /console/api/caches/{cache}/flush", c.flushCache)
	api("GET /console/api/caches/{cache}/keys", c.keys)
	api("GET /console/api/caches/{cache}/item", c.getItem)
	api("PUT /console/api/caches/{cache}/item", c.setItem)
	api("DELETE /console/api/caches/{cache}/item", c.deleteItem)
	api("POST /console/api/caches/{cache}/topics/{topic}/messages", c.publish)
	api("GET /console/api/caches/{cache}/topics/{topic}/events", c.subscribe)
	api("GET /console/api/caches/{cache}/feed/ranges", c.feedRanges)
	api("GET /console/api/caches/{cache}/feed/events", c.tail)
	api("POST /console/api/keys", c.mintKey)
	api("POST /console/api/keys/revoke", c.revokeKey)
}

// guard refuses API requests without the console's header (see the
// package doc).
func (c *Console) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Setsuna-Console") != "1" {
			httpx.WriteError(w, errs.ErrInvalidArgument.Msgf("console API requests need the header X-Setsuna-Console: 1"))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, c.rep.Public("serve the console ("+r.Pattern+")", err))
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// maxBody bounds request bodies: an item is at most 5 MB, as text.
const maxBody = 8 << 20

func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.ErrInvalidArgument.Msgf("invalid JSON body: %v", err)
	}
	return nil
}

// Bytes are shown as text when they are UTF-8, else as base64.
type Bytes struct {
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"`
}

func bytesOf(b []byte) Bytes {
	if utf8.Valid(b) {
		return Bytes{Text: string(b)}
	}
	return Bytes{Base64: base64.StdEncoding.EncodeToString(b)}
}

// decode reads a Bytes given as text or base64.
func (b Bytes) decode() ([]byte, error) {
	if b.Base64 != "" {
		v, err := base64.StdEncoding.DecodeString(b.Base64)
		if err != nil {
			return nil, errs.ErrInvalidArgument.Msgf("invalid base64: %v", err)
		}
		return v, nil
	}
	return []byte(b.Text), nil
}

// keyParam reads the item key of a request: ?key=<text> or ?key_b64=.
func keyParam(r *http.Request) ([]byte, error) {
	q := r.URL.Query()
	return Bytes{Text: q.Get("key"), Base64: q.Get("key_b64")}.decode()
}
