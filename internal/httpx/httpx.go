// Package httpx holds what Setsuna's HTTP surfaces (the Momento HTTP API,
// publish over HTTP/SSE, metrics and health, the console) share on their
// one listener: authentication of every request, the mapping of errs codes
// to HTTP statuses, and JSON error bodies for surfaces that have no format
// of their own. Authorization is not here: services do it.
package httpx

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

var httpStatus = [...]int{
	errs.CodeInternal:           http.StatusInternalServerError,
	errs.CodeNotFound:           http.StatusNotFound,
	errs.CodeAlreadyExists:      http.StatusConflict,
	errs.CodeInvalidArgument:    http.StatusBadRequest,
	errs.CodeFailedPrecondition: http.StatusPreconditionFailed,
	errs.CodePermissionDenied:   http.StatusForbidden,
	errs.CodeUnauthenticated:    http.StatusUnauthorized,
	errs.CodeResourceExhausted:  http.StatusTooManyRequests,
	errs.CodeUnavailable:        http.StatusServiceUnavailable,
	errs.CodeOutOfRange:         http.StatusBadRequest,
	errs.CodeCanceled:           499, // client closed the request (nginx's convention)
	errs.CodeDeadlineExceeded:   http.StatusGatewayTimeout,
	errs.CodeUnimplemented:      http.StatusNotImplemented,
}

// Status is the HTTP status of an errs code.
func Status(c errs.Code) int {
	if int(c) < len(httpStatus) {
		return httpStatus[c]
	}
	return http.StatusInternalServerError
}

// WriteError writes e as {"error": {"code": reason, "message": msg}} with
// its HTTP status.
func WriteError(w http.ResponseWriter, e *errs.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(Status(e.Code))
	_ = json.NewEncoder(w).Encode(struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{Error: struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.Reason, e.Msg}})
}

// Token is the caller's token of r: the Authorization header (raw, as the
// Momento SDKs send it, or "Bearer <token>") or the token query parameter,
// as Momento's HTTP API accepts it.
func Token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return h
	}
	return r.URL.Query().Get("token")
}

// Authenticator authenticates requests and puts the caller into their
// context for the services. Without an auth service (dev mode) every
// caller is auth.DevPrincipal.
type Authenticator struct {
	Auth *auth.Service
}

// Authenticate returns the caller of r.
func (a Authenticator) Authenticate(r *http.Request) (*auth.Principal, error) {
	if a.Auth == nil {
		return auth.DevPrincipal, nil
	}
	return a.Auth.Verify(Token(r))
}

// Require wraps h so that it runs only for an authenticated caller, with the
// caller in the request context; others get fail(w, err) (WriteError when
// fail is nil). Long-lived responses (server-sent events) end when the
// caller's token is revoked or expires.
func (a Authenticator) Require(h http.Handler, fail func(http.ResponseWriter, *errs.Error)) http.Handler {
	if fail == nil {
		fail = WriteError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			e := errs.As(err)
			if e == nil {
				e = errs.ErrUnauthenticated
			}
			fail(w, e)
			return
		}
		ctx := auth.NewContext(r.Context(), p)
		if a.Auth != nil {
			var stop func()
			ctx, stop = a.Auth.Watch(ctx, p)
			defer stop()
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
