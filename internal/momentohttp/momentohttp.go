// Package momentohttp is the Momento HTTP API surface, as Momento documents
// it for serverless functions and curl (host api.cache.<endpoint>):
//
//	GET    /cache/{cache}?key=K | key_base64=B          200 value, 404 miss
//	PUT    /cache/{cache}?key=K&ttl_seconds=N  (body)   204
//	DELETE /cache/{cache}?key=K                          204 (also for a missing key)
//	POST   /topics/{cache}/{topic}             (body)   204; text/plain or application/octet-stream
//
// The caller's key goes in the Authorization header or the token query
// parameter, not both (400). Errors are plain-text bodies with Momento's
// statuses: 400, 401, 403, 404 ("Cache Not Found", "Key Not Found"), 429,
// 500, 503. Like every surface it only authenticates, decodes, calls the
// cache and topics services and maps their errors.
package momentohttp

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/httpx"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Options configure the surface.
type Options struct {
	Cache  *cache.Service
	Topics *topics.Service // nil: publishing answers 501
	Auth   *auth.Service   // nil: dev mode, every caller may do anything
	Logger *slog.Logger
}

// Surface serves the Momento HTTP API.
type Surface struct {
	cache  *cache.Service
	topics *topics.Service
	authn  httpx.Authenticator
	rep    *errs.Reporter
}

// New returns the surface.
func New(o Options) *Surface {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Surface{cache: o.Cache, topics: o.Topics, authn: httpx.Authenticator{Auth: o.Auth}, rep: errs.NewReporter(o.Logger)}
}

// Register adds the routes to mux.
func (s *Surface) Register(mux *http.ServeMux) {
	mux.Handle("GET /cache/{cache}", s.guard(s.get))
	mux.Handle("PUT /cache/{cache}", s.guard(s.put))
	mux.Handle("DELETE /cache/{cache}", s.guard(s.delete))
	mux.Handle("POST /topics/{cache}/{topic}", s.guard(s.publish))
}

// guard refuses a key given twice, then authenticates.
func (s *Surface) guard(h http.HandlerFunc) http.Handler {
	authed := s.authn.Require(h, func(w http.ResponseWriter, e *errs.Error) { writeError(w, e) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" && r.URL.Query().Has("token") {
			writeError(w, errs.ErrInvalidArgument.Msgf("give the API key in the Authorization header or the token query parameter, not both"))
			return
		}
		if r.Header.Get("Authorization") == "" && r.URL.Query().Get("token") == "" && s.authn.Auth != nil {
			writeError(w, errs.ErrUnauthenticated.Withf("missing API key: set the Authorization header or the token query parameter"))
			return
		}
		authed.ServeHTTP(w, r)
	})
}

var statuses = map[errs.Code]int{
	errs.CodeInvalidArgument:    http.StatusBadRequest,
	errs.CodeFailedPrecondition: http.StatusBadRequest,
	errs.CodeOutOfRange:         http.StatusBadRequest,
	errs.CodeNotFound:           http.StatusNotFound,
	errs.CodeUnauthenticated:    http.StatusUnauthorized,
	errs.CodePermissionDenied:   http.StatusForbidden,
	errs.CodeResourceExhausted:  http.StatusTooManyRequests,
	errs.CodeUnavailable:        http.StatusServiceUnavailable,
	errs.CodeDeadlineExceeded:   http.StatusGatewayTimeout,
	errs.CodeCanceled:           499,
	errs.CodeUnimplemented:      http.StatusNotImplemented,
}

// Status is the HTTP status of an errs code on this API.
func Status(c errs.Code) int {
	if st, ok := statuses[c]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// writeError writes a plain-text error; a missing cache reads "Cache Not
// Found" as Momento's does.
func writeError(w http.ResponseWriter, e *errs.Error) {
	msg := e.Msg
	if errors.Is(e, errs.ErrCacheNotFound) {
		msg = "Cache Not Found: " + e.Msg
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(Status(e.Code))
	io.WriteString(w, msg+"\n")
}

func (s *Surface) fail(w http.ResponseWriter, op string, err error) {
	writeError(w, s.rep.Public(op, err))
}

// itemKey reads key (a string) or key_base64 (base64url, padded or not).
func itemKey(r *http.Request) ([]byte, error) {
	q := r.URL.Query()
	k, b := q.Get("key"), q.Get("key_base64")
	switch {
	case k != "" && b != "":
		return nil, errs.ErrInvalidArgument.Msgf("give key or key_base64, not both")
	case k != "":
		return []byte(k), nil
	case b != "":
		enc := base64.URLEncoding
		if len(b)%4 != 0 {
			enc = base64.RawURLEncoding
		}
		key, err := enc.DecodeString(b)
		if err != nil {
			return nil, errs.ErrInvalidArgument.Msgf("key_base64 is not base64url: %v", err)
		}
		return key, nil
	}
	return nil, errs.ErrInvalidArgument.Msgf("missing key: set the key or key_base64 query parameter")
}

func (s *Surface) get(w http.ResponseWriter, r *http.Request) {
	key, err := itemKey(r)
	if err != nil {
		s.fail(w, "http get", err)
		return
	}
	v, found, err := s.cache.Get(r.Context(), r.PathValue("cache"), key)
	if err != nil {
		s.fail(w, "http get", err)
		return
	}
	if !found {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Key Not Found\n")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(v)))
	w.WriteHeader(http.StatusOK)
	w.Write(v)
}

// readBody reads at most limit bytes; more is tooBig.
func readBody(w http.ResponseWriter, r *http.Request, limit int, tooBig *errs.Error) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooBig.Withf("the body is over %d bytes", limit)
	case err != nil:
		return nil, errs.ErrInvalidArgument.Msgf("cannot read the request body: %v", err)
	}
	return body, nil
}

func (s *Surface) put(w http.ResponseWriter, r *http.Request) {
	key, err := itemKey(r)
	if err != nil {
		s.fail(w, "http put", err)
		return
	}
	ttlText := r.URL.Query().Get("ttl_seconds")
	if ttlText == "" {
		s.fail(w, "http put", errs.ErrInvalidArgument.Msgf("missing ttl_seconds"))
		return
	}
	secs, err := strconv.ParseUint(ttlText, 10, 64)
	if err != nil || secs == 0 || secs > uint64(cache.MaxTTL/time.Second) {
		s.fail(w, "http put", errs.ErrInvalidArgument.Msgf("ttl_seconds must be a whole number from 1 to %d, got %q", uint64(cache.MaxTTL/time.Second), ttlText))
		return
	}
	value, err := readBody(w, r, cache.MaxItemSize, errs.ErrItemTooLarge)
	if err != nil {
		s.fail(w, "http put", err)
		return
	}
	if err := s.cache.Set(r.Context(), r.PathValue("cache"), key, value, time.Duration(secs)*time.Second); err != nil {
		s.fail(w, "http put", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Surface) delete(w http.ResponseWriter, r *http.Request) {
	key, err := itemKey(r)
	if err != nil {
		s.fail(w, "http delete", err)
		return
	}
	if err := s.cache.Delete(r.Context(), r.PathValue("cache"), key); err != nil {
		s.fail(w, "http delete", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Surface) publish(w http.ResponseWriter, r *http.Request) {
	if s.topics == nil {
		s.fail(w, "http publish", errs.ErrUnimplemented)
		return
	}
	body, err := readBody(w, r, s.topics.Limits().MaxPayloadBytes, errs.ErrPayloadTooLarge)
	if err != nil {
		s.fail(w, "http publish", err)
		return
	}
	// application/octet-stream publishes bytes; anything else (text/plain,
	// or curl -d's form type) publishes UTF-8 text.
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	v := topics.Value{Data: body, Binary: ct == "application/octet-stream"}
	if !v.Binary && !utf8.Valid(body) {
		s.fail(w, "http publish", errs.ErrInvalidArgument.Msgf("a text message must be UTF-8; send bytes as application/octet-stream"))
		return
	}
	if _, _, err := s.topics.Publish(r.Context(), r.PathValue("cache"), r.PathValue("topic"), v); err != nil {
		s.fail(w, "http publish", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
