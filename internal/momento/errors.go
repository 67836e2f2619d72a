package momento

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Values of the "err" trailer that the Momento SDKs read to pick an error
// class; see shared/protocols/momento-grpc.md §3.2.
const (
	errTrailerItemSize    = "item_size_limit_exceeded"
	errTrailerElementSize = "element_size_limit_exceeded"
)

// toStatus maps an engine error to the gRPC status the SDKs expect. A
// RESOURCE_EXHAUSTED carries both the err trailer (Go SDK) and a keyword in its
// details (Node SDK reads only the details).
func toStatus(ctx context.Context, log *slog.Logger, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrCacheNotFound):
		return status.Error(codes.NotFound, "cache not found")
	case errors.Is(err, store.ErrCacheExists):
		return status.Error(codes.AlreadyExists, "cache already exists")
	case errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrInvalidArgument):
		return status.Error(codes.InvalidArgument, public(err))
	case errors.Is(err, store.ErrNotInteger), errors.Is(err, store.ErrOverflow), errors.Is(err, store.ErrWrongType):
		return status.Error(codes.FailedPrecondition, public(err))
	case errors.Is(err, store.ErrItemTooLarge):
		// "request limit" is the keyword the Node SDK turns into its
		// request-size message; the Go SDK reads the trailer.
		return withErrTrailer(ctx, errTrailerItemSize, codes.ResourceExhausted, "item size limit exceeded, over the request limit: "+public(err))
	case errors.Is(err, store.ErrElementTooLarge):
		return withErrTrailer(ctx, errTrailerElementSize, codes.ResourceExhausted, "element size limit exceeded: "+public(err))
	case errors.Is(err, store.ErrOutOfMemory):
		return status.Error(codes.ResourceExhausted, "server memory limit reached: "+public(err))
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "request deadline exceeded")
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	log.Error("internal error", "op", op, "err", err)
	return status.Error(codes.Internal, fmt.Sprintf("cannot %s: internal error", op))
}

// public is an engine error as a client reads it: the engine's context
// ("memstore: increment \"k\": store: value is ...") without package prefixes.
func public(err error) string {
	parts := strings.Split(err.Error(), ": ")
	out := parts[:0]
	for _, p := range parts {
		if p == "memstore" || p == "store" || p == "auth" {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}

func withErrTrailer(ctx context.Context, value string, code codes.Code, msg string) error {
	// SetTrailer fails only outside a handler; the status still carries the keyword.
	_ = grpc.SetTrailer(ctx, metadata.Pairs("err", value))
	return status.Error(code, msg)
}

func invalidArg(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
