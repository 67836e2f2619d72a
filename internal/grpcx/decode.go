package grpcx

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// BadRequests makes a request body that does not decode INVALID_ARGUMENT,
// as the Momento service answers, instead of grpc-go's INTERNAL ("error
// unmarshalling request"), which the SDKs would report as a server fault.
// grpc-go turns any codec error into INTERNAL before an interceptor runs,
// so the codec reports success, remembers the message, and the
// interceptors refuse it before a handler sees it.
type BadRequests struct {
	base    encoding.CodecV2
	pending atomic.Int64 // messages in bad; zero keeps the hot path to one load
	bad     sync.Map     // message pointer -> decode error
}

// NewBadRequests wraps the registered protobuf codec.
func NewBadRequests() *BadRequests {
	return &BadRequests{base: encoding.GetCodecV2("proto")}
}

// ServerOption installs the codec on a server.
func (b *BadRequests) ServerOption() grpc.ServerOption { return grpc.ForceServerCodecV2(b) }

// Name is the codec's name: it stands in for the protobuf codec.
func (b *BadRequests) Name() string { return b.base.Name() }

// Marshal encodes as the protobuf codec does.
func (b *BadRequests) Marshal(v any) (mem.BufferSlice, error) { return b.base.Marshal(v) }

// Unmarshal decodes; a failure is remembered for the interceptors.
func (b *BadRequests) Unmarshal(data mem.BufferSlice, v any) error {
	if err := b.base.Unmarshal(data, v); err != nil {
		b.bad.Store(v, err)
		b.pending.Add(1)
	}
	return nil
}

// check returns the INVALID_ARGUMENT of a message that did not decode.
func (b *BadRequests) check(v any) error {
	if b.pending.Load() == 0 {
		return nil
	}
	e, ok := b.bad.LoadAndDelete(v)
	if !ok {
		return nil
	}
	b.pending.Add(-1)
	return status.Errorf(codes.InvalidArgument, "malformed request: %v", e)
}

// Unary refuses a unary request that did not decode.
func (b *BadRequests) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := b.check(req); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

// Stream refuses stream messages that did not decode.
func (b *BadRequests) Stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &checkedStream{ServerStream: ss, b: b})
}

type checkedStream struct {
	grpc.ServerStream
	b *BadRequests
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.b.check(m)
}
