package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorCode classifies an [Error]. The values are stable strings that match
// the error codes of Momento's Go SDK, so code written against that SDK can
// switch on the same names.
type ErrorCode string

// Error codes, one per class of failure. The comment on each names the gRPC
// status it is mapped from.
const (
	// InvalidArgumentError: INVALID_ARGUMENT, or a request that failed
	// client-side validation (empty cache name, empty key, negative TTL...).
	InvalidArgumentError ErrorCode = "InvalidArgumentError"
	// NotFoundError: NOT_FOUND; the cache does not exist. A missing item is
	// never an error: it is reported in-band as a Miss response.
	NotFoundError ErrorCode = "NotFoundError"
	// AlreadyExistsError: ALREADY_EXISTS. CreateCache turns it into a
	// *CreateCacheAlreadyExists response instead.
	AlreadyExistsError ErrorCode = "AlreadyExistsError"
	// PermissionError: PERMISSION_DENIED.
	PermissionError ErrorCode = "PermissionError"
	// AuthenticationError: UNAUTHENTICATED.
	AuthenticationError ErrorCode = "AuthenticationError"
	// LimitExceededError: RESOURCE_EXHAUSTED, e.g. an item over the size limit.
	LimitExceededError ErrorCode = "LimitExceededError"
	// FailedPreconditionError: FAILED_PRECONDITION, e.g. Increment of a value
	// that is not a base-10 integer.
	FailedPreconditionError ErrorCode = "FailedPreconditionError"
	// TimeoutError: DEADLINE_EXCEEDED, including the client's own deadline.
	TimeoutError ErrorCode = "TimeoutError"
	// CanceledError: CANCELLED, including cancellation of the caller's context.
	CanceledError ErrorCode = "CanceledError"
	// ServerUnavailableError: UNAVAILABLE, e.g. nothing listens at the address.
	ServerUnavailableError ErrorCode = "ServerUnavailableError"
	// InternalServerError: INTERNAL, DATA_LOSS or ABORTED, or a response the
	// client cannot interpret.
	InternalServerError ErrorCode = "InternalServerError"
	// BadRequestError: OUT_OF_RANGE or UNIMPLEMENTED.
	BadRequestError ErrorCode = "BadRequestError"
	// UnknownServiceError: UNKNOWN.
	UnknownServiceError ErrorCode = "UnknownServiceError"
	// ClientSdkError: a failure inside the client that is not a gRPC status,
	// or any status not listed above.
	ClientSdkError ErrorCode = "ClientSdkError"
)

// Error is the error type returned by every [CacheClient] method. Inspect it
// with errors.As, or compare it with errors.Is against the Err* sentinels:
//
//	var cerr *client.Error
//	if errors.As(err, &cerr) && cerr.Code() == client.NotFoundError { ... }
//	if errors.Is(err, client.ErrCacheNotFound) { ... }
//
// An Error with code TimeoutError also matches context.DeadlineExceeded, and
// one with code CanceledError matches context.Canceled.
type Error struct {
	code     ErrorCode
	message  string
	cause    error
	sentinel bool
}

func newError(code ErrorCode, message string, cause error) *Error {
	return &Error{code: code, message: message, cause: cause}
}

func invalidArgument(format string, args ...any) *Error {
	return newError(InvalidArgumentError, fmt.Sprintf(format, args...), nil)
}

// Code reports the class of the error.
func (e *Error) Code() ErrorCode { return e.code }

// Message is the human-readable detail: the server's status message, or the
// reason client-side validation failed.
func (e *Error) Message() string { return e.message }

// Error formats the error as "<Code>: <Message>".
func (e *Error) Error() string {
	if e.message == "" {
		return string(e.code)
	}
	return string(e.code) + ": " + e.message
}

// Unwrap returns the underlying gRPC status error (usable with
// status.FromError), or nil for errors raised by client-side validation.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is the sentinel for e's code, or the context
// error that corresponds to a TimeoutError or CanceledError.
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok {
		return t.sentinel && t.code == e.code
	}
	switch target {
	case context.DeadlineExceeded:
		return e.code == TimeoutError
	case context.Canceled:
		return e.code == CanceledError
	}
	return false
}

func sentinel(code ErrorCode) *Error { return &Error{code: code, sentinel: true} }

// Sentinels for errors.Is. Each matches every *Error with the same code.
var (
	ErrInvalidArgument    = sentinel(InvalidArgumentError)
	ErrCacheNotFound      = sentinel(NotFoundError)
	ErrAlreadyExists      = sentinel(AlreadyExistsError)
	ErrPermissionDenied   = sentinel(PermissionError)
	ErrAuthentication     = sentinel(AuthenticationError)
	ErrLimitExceeded      = sentinel(LimitExceededError)
	ErrFailedPrecondition = sentinel(FailedPreconditionError)
	ErrTimeout            = sentinel(TimeoutError)
	ErrCanceled           = sentinel(CanceledError)
	ErrServerUnavailable  = sentinel(ServerUnavailableError)
	ErrInternalServer     = sentinel(InternalServerError)
	ErrBadRequest         = sentinel(BadRequestError)
	ErrUnknownService     = sentinel(UnknownServiceError)
	ErrClientSdk          = sentinel(ClientSdkError)
)

// codeFor maps a gRPC status code exactly as the Momento SDKs do.
func codeFor(c codes.Code) ErrorCode {
	switch c {
	case codes.InvalidArgument:
		return InvalidArgumentError
	case codes.NotFound:
		return NotFoundError
	case codes.AlreadyExists:
		return AlreadyExistsError
	case codes.PermissionDenied:
		return PermissionError
	case codes.Unauthenticated:
		return AuthenticationError
	case codes.ResourceExhausted:
		return LimitExceededError
	case codes.FailedPrecondition:
		return FailedPreconditionError
	case codes.DeadlineExceeded:
		return TimeoutError
	case codes.Canceled:
		return CanceledError
	case codes.Unavailable:
		return ServerUnavailableError
	case codes.Internal, codes.DataLoss, codes.Aborted:
		return InternalServerError
	case codes.OutOfRange, codes.Unimplemented:
		return BadRequestError
	case codes.Unknown:
		return UnknownServiceError
	}
	return ClientSdkError
}

// convertError turns an error from a gRPC call into an *Error.
func convertError(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	st, ok := status.FromError(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return newError(TimeoutError, err.Error(), err)
		case errors.Is(err, context.Canceled):
			return newError(CanceledError, err.Error(), err)
		}
		return newError(ClientSdkError, err.Error(), err)
	}
	return newError(codeFor(st.Code()), st.Message(), err)
}

// unexpected reports a response the client does not know how to interpret.
func unexpected(op string, resp any) *Error {
	return newError(InternalServerError, fmt.Sprintf("%s: unexpected response %v", op, resp), nil)
}
