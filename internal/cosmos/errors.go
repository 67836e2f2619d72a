package cosmos

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Errors a Backend returns (wrapped or not) so that the surface can give
// the service's status codes. Any other error is a 500.
var (
	ErrNotFound = errors.New("cosmos: resource not found")
	ErrConflict = errors.New("cosmos: resource already exists")
	// ErrPreconditionFailed: an IfLSN condition did not hold.
	ErrPreconditionFailed = errors.New("cosmos: precondition failed")
	// ErrInvalid: the backend refused an argument (a name it cannot
	// hold, a limit); the error text is shown to the client.
	ErrInvalid  = errors.New("cosmos: invalid argument")
	ErrTooLarge = errors.New("cosmos: request entity too large")
	// ErrRangeGone: the partition key range id no longer exists (split).
	ErrRangeGone = errors.New("cosmos: partition key range is gone")
	// ErrRetention: an all-versions read starts before what is retained.
	ErrRetention = errors.New("cosmos: change feed position outside the retention period")
	// ErrThrottled: the caller is over a quota; retry later.
	ErrThrottled = errors.New("cosmos: request rate is too large")
	// ErrUnavailable: the backend cannot serve now (shutting down, ...).
	ErrUnavailable = errors.New("cosmos: service unavailable")
)

// Substatus codes the SDKs act on.
const (
	subPartitionKeyMismatch = 1001
	subRangeGone            = 1002
)

// retentionMessage is the service's text for all-versions-and-deletes
// reads from the beginning, a point in time or an expired continuation;
// the SDK's own tests assert it.
const retentionMessage = "You must read the change feed from within the retention period."

// Error is a Cosmos error response: an HTTP status, the body's code and
// message, and an optional x-ms-substatus.
type Error struct {
	Status    int
	Code      string
	Message   string
	Substatus int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, msg string) *Error {
	return &Error{Status: status, Code: codeOf(status), Message: msg}
}

func badRequest(msg string) *Error { return newError(http.StatusBadRequest, msg) }

func codeOf(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusMethodNotAllowed:
		return "MethodNotAllowed"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusGone:
		return "Gone"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusRequestEntityTooLarge:
		return "RequestEntityTooLarge"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	}
	return "InternalServerError"
}

// fromBackend maps a Backend error to the response the service gives.
func fromBackend(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrNotFound):
		return newError(http.StatusNotFound, "Entity with the specified id does not exist in the system.")
	case errors.Is(err, ErrConflict):
		return newError(http.StatusConflict, "Entity with the specified id already exists in the system.")
	case errors.Is(err, ErrPreconditionFailed):
		return newError(http.StatusPreconditionFailed, "One of the specified pre-condition is not met.")
	case errors.Is(err, ErrInvalid):
		return badRequest(err.Error())
	case errors.Is(err, ErrTooLarge):
		return newError(http.StatusRequestEntityTooLarge, "Request size is too large.")
	case errors.Is(err, ErrRangeGone):
		return &Error{Status: http.StatusGone, Code: "Gone", Message: "The requested partition key range is gone.", Substatus: subRangeGone}
	case errors.Is(err, ErrRetention):
		return badRequest(retentionMessage)
	case errors.Is(err, ErrThrottled):
		return newError(http.StatusTooManyRequests, "Request rate is large.")
	case errors.Is(err, ErrUnavailable):
		return newError(http.StatusServiceUnavailable, "The service is unavailable.")
	}
	return newError(http.StatusInternalServerError, "internal error")
}

// writeError sends e as the service does: a JSON body {code, message}
// (the SDK parses every error body as JSON) and x-ms-substatus.
func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.Substatus != 0 {
		h.Set("x-ms-substatus", strconv.Itoa(e.Substatus))
	}
	if e.Status == http.StatusTooManyRequests {
		h.Set("x-ms-retry-after-ms", "100")
	}
	body, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.WriteHeader(e.Status)
	w.Write(body)
}
