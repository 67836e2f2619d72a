package graphql

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error is one entry of a response's "errors", in AppSync's shape: the spec's
// message/locations/path plus AppSync's errorType (and errorInfo/data when a
// resolver set them).
type Error struct {
	Message   string     `json:"message"`
	ErrorType string     `json:"errorType,omitempty"`
	Locations []Location `json:"locations,omitempty"`
	Path      []any      `json:"path,omitempty"`
	ErrorInfo any        `json:"errorInfo,omitempty"`
	Data      any        `json:"data,omitempty"`
}

// Location is a 1-based line and column in the request document.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (e *Error) Error() string {
	s := e.Message
	if len(e.Locations) > 0 {
		s = strconv.Itoa(e.Locations[0].Line) + ":" + strconv.Itoa(e.Locations[0].Column) + ": " + s
	}
	return s
}

// Errors is a list of GraphQL errors; it is itself an error so that a request
// that fails before execution can be returned as one value.
type Errors []*Error

func (l Errors) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	if len(l) == 1 {
		return l[0].Error()
	}
	return l[0].Error() + " (and " + strconv.Itoa(len(l)-1) + " more)"
}

// Error types AppSync uses that callers of this package match on.
const (
	ErrTypeValidation   = "ValidationError"  // document or variables rejected before execution
	ErrTypeUnauthorized = "Unauthorized"     // "Not Authorized to access X on type Y"
	ErrTypeNonNull      = "NonNullViolation" // a null in a non-null position
	ErrTypeUnsupported  = "UnsupportedOperation"
	ErrTypeInternal     = "InternalFailure"
)

// ResolverError is what a resolver or data source returns to control the
// GraphQL error it becomes (AppSync's util.error(message, errorType, data, errorInfo)).
type ResolverError struct {
	Message   string
	Type      string
	Data      any
	ErrorInfo any
}

func (e *ResolverError) Error() string { return e.Message }

// fromGQL converts gqlparser errors, keeping their locations and paths.
func fromGQL(list gqlerror.List, errType string) Errors {
	out := make(Errors, 0, len(list))
	for _, ge := range list {
		out = append(out, fromGQLOne(ge, errType))
	}
	return out
}

func fromGQLOne(ge *gqlerror.Error, errType string) *Error {
	e := &Error{Message: ge.Message, ErrorType: errType}
	for _, l := range ge.Locations {
		e.Locations = append(e.Locations, Location{Line: l.Line, Column: l.Column})
	}
	for _, p := range ge.Path {
		switch p := p.(type) {
		case ast.PathName:
			e.Path = append(e.Path, string(p))
		case ast.PathIndex:
			e.Path = append(e.Path, int(p))
		}
	}
	return e
}

// asGQLError wraps any error returned by gqlparser helpers.
func asGQLError(err error, errType string) *Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return fromGQLOne(ge, errType)
	}
	return &Error{Message: err.Error(), ErrorType: errType}
}

func posLocation(p *ast.Position) []Location {
	if p == nil {
		return nil
	}
	return []Location{{Line: p.Line, Column: p.Column}}
}

// MarshalErrors is a helper for surfaces that need the errors array alone.
func MarshalErrors(errs Errors) []byte {
	b, _ := json.Marshal(errs)
	return b
}
