package grpcx_test

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// rawCodec sends bytes as they are, to put a malformed body on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// A body that does not decode is INVALID_ARGUMENT, unary and streaming,
// and the server keeps serving.
func TestMalformedBodyIsInvalidArgument(t *testing.T) {
	n := testnode.Start(t, embed.Config{})
	conn := n.Dial(t)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "cache", "c")
	bad := []byte{0x0a, 0xff, 0xff, 0xff} // field 1, length far past the end
	var out []byte
	err := conn.Invoke(ctx, "/cache_client.Scs/Get", &bad, &out, grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unary: %v, want INVALID_ARGUMENT", err)
	}
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/cache_client.pubsub.Pubsub/Subscribe", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(&bad); err != nil {
		t.Fatal(err)
	}
	cs.CloseSend()
	if err := cs.RecvMsg(&out); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("stream: %v, want INVALID_ARGUMENT", err)
	}
	good := []byte{0x0a, 0x01, 'k'}
	err = conn.Invoke(ctx, "/cache_client.Scs/Get", &good, &out, grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.NotFound { // cache c does not exist: the request decoded
		t.Fatalf("well-formed body after malformed ones: %v", err)
	}
}
