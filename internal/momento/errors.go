package momento

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/grpcx"
)

// Values of the "err" trailer that the Momento SDKs read to pick an error
// class; see shared/protocols/momento-grpc.md §3.2.
const (
	errTrailerItemSize      = "item_size_limit_exceeded"
	errTrailerElementSize   = "element_size_limit_exceeded"
	errTrailerSubscriptions = "topic_subscriptions_limit_exceeded"
	errTrailerRate          = "operations_rate_limit_exceeded"
	errTrailerThroughput    = "throughput_rate_limit_exceeded"
)

// status maps a service error to the status the SDKs expect. A
// RESOURCE_EXHAUSTED carries both the err trailer (Go SDK) and a keyword in
// its message (the Node SDK reads only the message: "request limit",
// "element size", "subscribers").
func (s *Service) status(ctx context.Context, op string, err error) error {
	e := s.rep.Public(op, err)
	switch e.Reason {
	case errs.ErrItemTooLarge.Reason:
		return withTrailer(ctx, errTrailerItemSize, codes.ResourceExhausted, "over the request limit: "+e.Msg)
	case errs.ErrElementTooLarge.Reason, errs.ErrPayloadTooLarge.Reason:
		return withTrailer(ctx, errTrailerElementSize, codes.ResourceExhausted, e.Msg)
	case errs.ErrTooManySubscriptions.Reason:
		return withTrailer(ctx, errTrailerSubscriptions, codes.ResourceExhausted, e.Msg)
	case errs.ErrPublishRateExceeded.Reason:
		return withTrailer(ctx, errTrailerRate, codes.ResourceExhausted, e.Msg)
	case errs.ErrPublishThroughputExceeded.Reason:
		return withTrailer(ctx, errTrailerThroughput, codes.ResourceExhausted, e.Msg)
	}
	return grpcx.Status(e)
}

func withTrailer(ctx context.Context, value string, code codes.Code, msg string) error {
	// SetTrailer fails only outside a handler; the message still carries
	// the keyword.
	_ = grpc.SetTrailer(ctx, metadata.Pairs("err", value))
	return status.Error(code, msg)
}

// invalidArg is a malformed request the surface refuses itself.
func invalidArg(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
