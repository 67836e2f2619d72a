// Package errs is the one error type that crosses Setsuna's layers. An
// engine or a service returns an *Error that carries a protocol-neutral Code,
// a stable Reason (one row of the table in table.go) and the message a client
// may read; each surface maps the Code (and, where its protocol has one, the
// Reason) to its wire: a gRPC status, a Cosmos JSON body, a GraphQL error.
// No layer parses another layer's error strings.
//
// Anything that is not an *Error (a bug, an I/O failure inside an engine) is
// internal: the surface logs it once with a request id (see Reporter) and the
// client reads only "internal error" and that id.
package errs

import (
	"context"
	"errors"
	"fmt"
)

// Code is the class of an error, as every surface understands it.
type Code uint8

const (
	CodeInternal Code = iota
	CodeNotFound
	CodeAlreadyExists
	CodeInvalidArgument
	CodeFailedPrecondition
	CodePermissionDenied
	CodeUnauthenticated
	CodeResourceExhausted
	CodeUnavailable
	CodeOutOfRange
	CodeCanceled
	CodeDeadlineExceeded
	CodeUnimplemented
)

var codeNames = [...]string{
	CodeInternal:           "internal",
	CodeNotFound:           "not found",
	CodeAlreadyExists:      "already exists",
	CodeInvalidArgument:    "invalid argument",
	CodeFailedPrecondition: "failed precondition",
	CodePermissionDenied:   "permission denied",
	CodeUnauthenticated:    "unauthenticated",
	CodeResourceExhausted:  "resource exhausted",
	CodeUnavailable:        "unavailable",
	CodeOutOfRange:         "out of range",
	CodeCanceled:           "canceled",
	CodeDeadlineExceeded:   "deadline exceeded",
	CodeUnimplemented:      "unimplemented",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", c)
}

// Error is a public error. Compare with errors.Is against a table entry:
// two *Error values match when their Reason is the same.
type Error struct {
	Code   Code
	Reason string // stable identifier of the table row, e.g. "cache_not_found"
	Msg    string // what a client reads
	cause  error  // internal detail for logs, never shown to clients
	// generic rows (one per code, such as invalid_argument) match every
	// error of their code in errors.Is.
	generic bool
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes the internal cause to errors.Is/As and to logs.
func (e *Error) Unwrap() error { return e.cause }

// Is matches table entries by Reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Reason == "" {
		return false
	}
	return t.Reason == e.Reason || t.generic && t.Code == e.Code
}

// Withf returns an error of the same row whose message adds a detail:
// "<message>: <detail>".
func (e *Error) Withf(format string, args ...any) *Error {
	return &Error{Code: e.Code, Reason: e.Reason, Msg: e.Msg + ": " + fmt.Sprintf(format, args...), cause: e.cause}
}

// Msgf returns an error of the same row with its own message; for rows
// such as invalid_argument whose table text adds nothing to the detail.
func (e *Error) Msgf(format string, args ...any) *Error {
	return &Error{Code: e.Code, Reason: e.Reason, Msg: fmt.Sprintf(format, args...), cause: e.cause}
}

// Because returns a copy that carries cause for the logs; the message stays.
func (e *Error) Because(cause error) *Error {
	return &Error{Code: e.Code, Reason: e.Reason, Msg: e.Msg, cause: cause}
}

// define adds a row to the table.
func define(code Code, reason, msg string) *Error {
	if _, dup := table[reason]; dup {
		panic("BUG: duplicate error reason " + reason)
	}
	e := &Error{Code: code, Reason: reason, Msg: msg}
	table[reason] = e
	return e
}

// defineGeneric adds the row that stands for its whole code.
func defineGeneric(code Code, reason, msg string) *Error {
	e := define(code, reason, msg)
	e.generic = true
	return e
}

var table = map[string]*Error{}

// Table returns every row, for tests and documentation.
func Table() []*Error {
	out := make([]*Error, 0, len(table))
	for _, e := range table {
		out = append(out, e)
	}
	return out
}

// As returns the public error err is or wraps. A context error becomes
// ErrCanceled or ErrDeadlineExceeded. Anything else returns nil: it is
// internal, and the caller reports it (Reporter.Public).
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ErrCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ErrDeadlineExceeded
	}
	return nil
}

// CodeOf is the code of err: its public code, or CodeInternal.
func CodeOf(err error) Code {
	if e := As(err); e != nil {
		return e.Code
	}
	return CodeInternal
}

// Prefixf puts context in front of a public error's message ("batch item 3:
// ..."), keeping its row; other errors are wrapped with fmt.Errorf.
func Prefixf(err error, format string, args ...any) error {
	if e := As(err); e != nil {
		return &Error{Code: e.Code, Reason: e.Reason, Msg: fmt.Sprintf(format, args...) + ": " + e.Msg, cause: e.cause, generic: false}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// ByReason returns the table row with this reason, for errors that cross a
// process boundary by reason (the redis engine's scripts answer with one).
func ByReason(reason string) (*Error, bool) {
	e, ok := table[reason]
	return e, ok
}
