package client

// These tests run the client against a scripted gRPC server to check what goes
// on the wire and how unusual responses and every status code are handled.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// fakeScs records the last request and answers with the scripted reply.
type fakeScs struct {
	pb.UnimplementedScsServer
	pb.UnimplementedScsControlServer

	mu      sync.Mutex
	last    proto.Message
	lastMD  metadata.MD
	reply   proto.Message   // unary reply
	stream  []proto.Message // streamed replies
	err     error
	listing []*pb.ListCachesResponse // pages, by request
}

func (f *fakeScs) note(ctx context.Context, req proto.Message) (proto.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = req
	f.lastMD, _ = metadata.FromIncomingContext(ctx)
	return f.reply, f.err
}

func (f *fakeScs) script(reply proto.Message, err error, stream ...proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply, f.err, f.stream = reply, err, stream
}

func (f *fakeScs) lastRequest() proto.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func unary[Resp proto.Message](f *fakeScs, ctx context.Context, req proto.Message) (Resp, error) {
	r, err := f.note(ctx, req)
	var zero Resp
	if err != nil {
		return zero, err
	}
	if r == nil {
		return zero, status.Error(codes.Internal, "no reply scripted")
	}
	return r.(Resp), nil
}

func (f *fakeScs) Get(ctx context.Context, r *pb.GetRequest) (*pb.GetResponse, error) {
	return unary[*pb.GetResponse](f, ctx, r)
}
func (f *fakeScs) Set(ctx context.Context, r *pb.SetRequest) (*pb.SetResponse, error) {
	return unary[*pb.SetResponse](f, ctx, r)
}
func (f *fakeScs) SetIf(ctx context.Context, r *pb.SetIfRequest) (*pb.SetIfResponse, error) {
	return unary[*pb.SetIfResponse](f, ctx, r)
}
func (f *fakeScs) SetIfHash(ctx context.Context, r *pb.SetIfHashRequest) (*pb.SetIfHashResponse, error) {
	return unary[*pb.SetIfHashResponse](f, ctx, r)
}
func (f *fakeScs) KeysExist(ctx context.Context, r *pb.KeysExistRequest) (*pb.KeysExistResponse, error) {
	return unary[*pb.KeysExistResponse](f, ctx, r)
}
func (f *fakeScs) Increment(ctx context.Context, r *pb.IncrementRequest) (*pb.IncrementResponse, error) {
	return unary[*pb.IncrementResponse](f, ctx, r)
}
func (f *fakeScs) UpdateTtl(ctx context.Context, r *pb.UpdateTtlRequest) (*pb.UpdateTtlResponse, error) {
	return unary[*pb.UpdateTtlResponse](f, ctx, r)
}
func (f *fakeScs) ItemGetTtl(ctx context.Context, r *pb.ItemGetTtlRequest) (*pb.ItemGetTtlResponse, error) {
	return unary[*pb.ItemGetTtlResponse](f, ctx, r)
}
func (f *fakeScs) ItemGetType(ctx context.Context, r *pb.ItemGetTypeRequest) (*pb.ItemGetTypeResponse, error) {
	return unary[*pb.ItemGetTypeResponse](f, ctx, r)
}
func (f *fakeScs) CreateCache(ctx context.Context, r *pb.CreateCacheRequest) (*pb.CreateCacheResponse, error) {
	return unary[*pb.CreateCacheResponse](f, ctx, r)
}

func (f *fakeScs) ListCaches(ctx context.Context, r *pb.ListCachesRequest) (*pb.ListCachesResponse, error) {
	f.note(ctx, r)
	f.mu.Lock()
	defer f.mu.Unlock()
	var page int
	fmt.Sscanf(r.NextToken, "page%d", &page)
	return f.listing[page], nil
}

func (f *fakeScs) GetBatch(r *pb.GetBatchRequest, s grpc.ServerStreamingServer[pb.GetResponse]) error {
	return sendAll(f, s.Context(), r, s.Send)
}

func (f *fakeScs) SetBatch(r *pb.SetBatchRequest, s grpc.ServerStreamingServer[pb.SetResponse]) error {
	return sendAll(f, s.Context(), r, s.Send)
}

func sendAll[M proto.Message](f *fakeScs, ctx context.Context, req proto.Message, send func(M) error) error {
	if _, err := f.note(ctx, req); err != nil {
		return err
	}
	f.mu.Lock()
	msgs := f.stream
	f.mu.Unlock()
	for _, m := range msgs {
		if err := send(m.(M)); err != nil {
			return err
		}
	}
	return nil
}

func startFake(t *testing.T) (*fakeScs, *CacheClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeScs{}
	gs := grpc.NewServer()
	pb.RegisterScsServer(gs, f)
	pb.RegisterScsControlServer(gs, f)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	c, err := NewCacheClient(Config{Address: lis.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return f, c
}

func TestWireTTL(t *testing.T) {
	f, c := startFake(t)
	f.script(&pb.SetResponse{Result: pb.ECacheResult_Ok}, nil)
	for _, tt := range []struct {
		ttl  time.Duration
		want uint64
	}{
		{0, 60_000},
		{1500 * time.Millisecond, 1500},
		{500 * time.Microsecond, 1},
		{25 * time.Hour, 90_000_000},
	} {
		_, err := c.Set(t.Context(), &SetRequest{CacheName: "c", Key: String("k"), Value: String("v"), Ttl: tt.ttl})
		if err != nil {
			t.Fatal(err)
		}
		got := f.lastRequest().(*pb.SetRequest)
		if got.TtlMilliseconds != tt.want || string(got.CacheKey) != "k" || string(got.CacheBody) != "v" {
			t.Errorf("Ttl %v: sent %v, want ttl_milliseconds %d", tt.ttl, got, tt.want)
		}
	}
	f.mu.Lock()
	md := f.lastMD
	f.mu.Unlock()
	if md.Get("cache")[0] != "c" || len(md.Get("authorization")) != 1 {
		t.Errorf("metadata = %v", md)
	}
}

func TestWireConditions(t *testing.T) {
	f, c := startFake(t)
	ctx := t.Context()
	k, v, x := String("k"), String("v"), String("x")
	f.script(&pb.SetIfResponse{Result: &pb.SetIfResponse_Stored{Stored: &pb.Stored{}}}, nil)
	setIfs := []struct {
		call func() (SetIfResponse, error)
		want proto.Message
	}{
		{func() (SetIfResponse, error) {
			return c.SetIfAbsent(ctx, &SetIfAbsentRequest{CacheName: "c", Key: k, Value: v})
		}, &pb.Absent{}},
		{func() (SetIfResponse, error) {
			return c.SetIfPresent(ctx, &SetIfPresentRequest{CacheName: "c", Key: k, Value: v})
		}, &pb.Present{}},
		{func() (SetIfResponse, error) {
			return c.SetIfEqual(ctx, &SetIfEqualRequest{CacheName: "c", Key: k, Value: v, Equal: x})
		}, &pb.Equal{ValueToCheck: []byte("x")}},
		{func() (SetIfResponse, error) {
			return c.SetIfNotEqual(ctx, &SetIfNotEqualRequest{CacheName: "c", Key: k, Value: v, NotEqual: x})
		}, &pb.NotEqual{ValueToCheck: []byte("x")}},
		{func() (SetIfResponse, error) {
			return c.SetIfPresentAndNotEqual(ctx, &SetIfPresentAndNotEqualRequest{CacheName: "c", Key: k, Value: v, NotEqual: x})
		}, &pb.PresentAndNotEqual{ValueToCheck: []byte("x")}},
		{func() (SetIfResponse, error) {
			return c.SetIfAbsentOrEqual(ctx, &SetIfAbsentOrEqualRequest{CacheName: "c", Key: k, Value: v, Equal: x})
		}, &pb.AbsentOrEqual{ValueToCheck: []byte("x")}},
	}
	for i, tt := range setIfs {
		if _, err := tt.call(); err != nil {
			t.Fatalf("setIf %d: %v", i, err)
		}
		req := f.lastRequest().(*pb.SetIfRequest)
		cond := req.ProtoReflect().WhichOneof(req.ProtoReflect().Descriptor().Oneofs().ByName("condition"))
		got := req.ProtoReflect().Get(cond).Message().Interface()
		if !proto.Equal(got, tt.want) || req.TtlMilliseconds != 60_000 || string(req.CacheBody) != "v" {
			t.Errorf("setIf %d sent %v, want condition %v", i, req, tt.want)
		}
	}

	f.script(&pb.SetIfHashResponse{Result: &pb.SetIfHashResponse_Stored{Stored: &pb.StoredHash{NewHash: []byte("h")}}}, nil)
	hash := []byte("abc")
	hashes := []struct {
		call func() error
		want proto.Message
	}{
		{func() error {
			_, err := c.SetWithHash(ctx, &SetWithHashRequest{CacheName: "c", Key: k, Value: v})
			return err
		}, &pb.Unconditional{}},
		{func() error {
			_, err := c.SetIfPresentAndHashEqual(ctx, &SetIfPresentAndHashEqualRequest{CacheName: "c", Key: k, Value: v, HashEqual: hash})
			return err
		}, &pb.PresentAndHashEqual{HashToCheck: hash}},
		{func() error {
			_, err := c.SetIfPresentAndHashNotEqual(ctx, &SetIfPresentAndHashNotEqualRequest{CacheName: "c", Key: k, Value: v, HashNotEqual: hash})
			return err
		}, &pb.PresentAndNotHashEqual{HashToCheck: hash}},
		{func() error {
			_, err := c.SetIfAbsentOrHashEqual(ctx, &SetIfAbsentOrHashEqualRequest{CacheName: "c", Key: k, Value: v, HashEqual: hash})
			return err
		}, &pb.AbsentOrHashEqual{HashToCheck: hash}},
		{func() error {
			_, err := c.SetIfAbsentOrHashNotEqual(ctx, &SetIfAbsentOrHashNotEqualRequest{CacheName: "c", Key: k, Value: v, HashNotEqual: hash})
			return err
		}, &pb.AbsentOrNotHashEqual{HashToCheck: hash}},
	}
	for i, tt := range hashes {
		if err := tt.call(); err != nil {
			t.Fatalf("hash %d: %v", i, err)
		}
		req := f.lastRequest().(*pb.SetIfHashRequest)
		cond := req.ProtoReflect().WhichOneof(req.ProtoReflect().Descriptor().Oneofs().ByName("condition"))
		if got := req.ProtoReflect().Get(cond).Message().Interface(); !proto.Equal(got, tt.want) {
			t.Errorf("hash %d sent %v, want condition %v", i, req, tt.want)
		}
	}

	f.script(&pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_Set{Set: &pb.TtlSet{}}}, nil)
	ttls := []struct {
		call func() error
		want any
	}{
		{func() error {
			_, err := c.UpdateTtl(ctx, &UpdateTtlRequest{CacheName: "c", Key: k, Ttl: 7 * time.Second})
			return err
		}, &pb.UpdateTtlRequest_OverwriteToMilliseconds{OverwriteToMilliseconds: 7000}},
		{func() error {
			_, err := c.IncreaseTtl(ctx, &IncreaseTtlRequest{CacheName: "c", Key: k, Ttl: 8 * time.Second})
			return err
		}, &pb.UpdateTtlRequest_IncreaseToMilliseconds{IncreaseToMilliseconds: 8000}},
		{func() error {
			_, err := c.DecreaseTtl(ctx, &DecreaseTtlRequest{CacheName: "c", Key: k, Ttl: 9 * time.Second})
			return err
		}, &pb.UpdateTtlRequest_DecreaseToMilliseconds{DecreaseToMilliseconds: 9000}},
	}
	for i, tt := range ttls {
		if err := tt.call(); err != nil {
			t.Fatalf("ttl %d: %v", i, err)
		}
		got := f.lastRequest().(*pb.UpdateTtlRequest)
		if fmt.Sprint(got.UpdateTtl) != fmt.Sprint(tt.want) || string(got.CacheKey) != "k" {
			t.Errorf("ttl %d sent %v, want %v", i, got, tt.want)
		}
	}
}

func TestWireOddResponses(t *testing.T) {
	f, c := startFake(t)
	ctx := t.Context()
	k := String("k")
	tests := []struct {
		name   string
		reply  proto.Message
		stream []proto.Message
		call   func() error
	}{
		{"Get Invalid", &pb.GetResponse{Result: pb.ECacheResult_Invalid, Message: "boom"}, nil, func() error {
			_, err := c.Get(ctx, &GetRequest{CacheName: "c", Key: k})
			return err
		}},
		{"GetBatch short", nil, []proto.Message{&pb.GetResponse{Result: pb.ECacheResult_Miss}}, func() error {
			_, err := c.GetBatch(ctx, &GetBatchRequest{CacheName: "c", Keys: []Key{k, k}})
			return err
		}},
		{"GetBatch long", nil, []proto.Message{&pb.GetResponse{Result: pb.ECacheResult_Miss}, &pb.GetResponse{Result: pb.ECacheResult_Miss}}, func() error {
			_, err := c.GetBatch(ctx, &GetBatchRequest{CacheName: "c", Keys: []Key{k}})
			return err
		}},
		{"KeysExist wrong length", &pb.KeysExistResponse{Exists: []bool{true}}, nil, func() error {
			_, err := c.KeysExist(ctx, &KeysExistRequest{CacheName: "c", Keys: []Key{k, k}})
			return err
		}},
		{"SetIf no oneof", &pb.SetIfResponse{}, nil, func() error {
			_, err := c.SetIfAbsent(ctx, &SetIfAbsentRequest{CacheName: "c", Key: k, Value: k})
			return err
		}},
		{"ItemGetType no oneof", &pb.ItemGetTypeResponse{}, nil, func() error {
			_, err := c.ItemGetType(ctx, &ItemGetTypeRequest{CacheName: "c", Key: k})
			return err
		}},
		{"ItemGetType unknown type", &pb.ItemGetTypeResponse{Result: &pb.ItemGetTypeResponse_Found{Found: &pb.ItemTypeFound{ItemType: 42}}}, nil, func() error {
			_, err := c.ItemGetType(ctx, &ItemGetTypeRequest{CacheName: "c", Key: k})
			return err
		}},
		{"UpdateTtl no oneof", &pb.UpdateTtlResponse{}, nil, func() error {
			_, err := c.UpdateTtl(ctx, &UpdateTtlRequest{CacheName: "c", Key: k, Ttl: time.Second})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.script(tt.reply, nil, tt.stream...)
			err := tt.call()
			var ce *Error
			if !errors.As(err, &ce) || ce.Code() != InternalServerError {
				t.Fatalf("err = %v, want InternalServerError", err)
			}
		})
	}

	t.Run("SetBatch item not ok", func(t *testing.T) {
		f.script(nil, nil, &pb.SetResponse{Result: pb.ECacheResult_Ok}, &pb.SetResponse{Result: pb.ECacheResult_Invalid, Message: "nope"})
		_, err := c.SetBatch(ctx, &SetBatchRequest{CacheName: "c", Items: []BatchSetItem{{Key: k, Value: k}, {Key: k, Value: k}}})
		var ce *Error
		if !errors.As(err, &ce) || ce.Code() != UnknownServiceError {
			t.Fatalf("err = %v, want UnknownServiceError", err)
		}
	})

	t.Run("ItemGetTtl never expires", func(t *testing.T) {
		f.script(&pb.ItemGetTtlResponse{Result: &pb.ItemGetTtlResponse_Found{Found: &pb.RemainingTtl{RemainingTtlMillis: math.MaxInt64}}}, nil)
		r, err := c.ItemGetTtl(ctx, &ItemGetTtlRequest{CacheName: "c", Key: k})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.(*ItemGetTtlHit).RemainingTtl(); got != time.Duration(math.MaxInt64) {
			t.Fatalf("RemainingTtl = %v, want the largest Duration", got)
		}
	})

	t.Run("UpdateTtl not set", func(t *testing.T) {
		f.script(&pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_NotSet{NotSet: &pb.TtlNotSet{}}}, nil)
		r, err := c.IncreaseTtl(ctx, &IncreaseTtlRequest{CacheName: "c", Key: k, Ttl: time.Second})
		if _, ok := r.(*UpdateTtlNotSet); err != nil || !ok {
			t.Fatalf("IncreaseTtl = %T, %v", r, err)
		}
	})

	t.Run("ListCaches pages", func(t *testing.T) {
		f.mu.Lock()
		f.listing = []*pb.ListCachesResponse{
			{Cache: []*pb.CacheInfo{{CacheName: "a"}}, NextToken: "page1"},
			{Cache: []*pb.CacheInfo{{CacheName: "b"}, {CacheName: "c"}}, NextToken: "page2"},
			{Cache: []*pb.CacheInfo{{CacheName: "d"}}},
		}
		f.mu.Unlock()
		r, err := c.ListCaches(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(r.(*ListCachesSuccess).Caches()); got != "[{a} {b} {c} {d}]" {
			t.Fatalf("Caches = %s", got)
		}
	})
}

// TestErrorMapping sends every gRPC status code through a real call and checks
// the ErrorCode, following the Momento SDKs' table.
func TestErrorMapping(t *testing.T) {
	f, c := startFake(t)
	want := map[codes.Code]ErrorCode{
		codes.Canceled:           CanceledError,
		codes.Unknown:            UnknownServiceError,
		codes.InvalidArgument:    InvalidArgumentError,
		codes.DeadlineExceeded:   TimeoutError,
		codes.NotFound:           NotFoundError,
		codes.AlreadyExists:      AlreadyExistsError,
		codes.PermissionDenied:   PermissionError,
		codes.ResourceExhausted:  LimitExceededError,
		codes.FailedPrecondition: FailedPreconditionError,
		codes.Aborted:            InternalServerError,
		codes.OutOfRange:         BadRequestError,
		codes.Unimplemented:      BadRequestError,
		codes.Internal:           InternalServerError,
		codes.Unavailable:        ServerUnavailableError,
		codes.DataLoss:           InternalServerError,
		codes.Unauthenticated:    AuthenticationError,
	}
	sentinels := map[ErrorCode]error{
		CanceledError: ErrCanceled, UnknownServiceError: ErrUnknownService, InvalidArgumentError: ErrInvalidArgument,
		TimeoutError: ErrTimeout, NotFoundError: ErrCacheNotFound, AlreadyExistsError: ErrAlreadyExists,
		PermissionError: ErrPermissionDenied, LimitExceededError: ErrLimitExceeded, FailedPreconditionError: ErrFailedPrecondition,
		InternalServerError: ErrInternalServer, BadRequestError: ErrBadRequest, ServerUnavailableError: ErrServerUnavailable,
		AuthenticationError: ErrAuthentication,
	}
	for code, wantCode := range want {
		t.Run(code.String(), func(t *testing.T) {
			f.script(nil, status.Error(code, "msg "+code.String()))
			_, err := c.Get(t.Context(), &GetRequest{CacheName: "c", Key: String("k")})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %T %v", err, err)
			}
			if ce.Code() != wantCode || ce.Message() != "msg "+code.String() || status.Code(ce.Unwrap()) != code {
				t.Fatalf("got code %s message %q cause %v; want %s", ce.Code(), ce.Message(), ce.Unwrap(), wantCode)
			}
			if !errors.Is(err, sentinels[wantCode]) {
				t.Errorf("errors.Is(err, sentinel of %s) = false", wantCode)
			}
			for other, s := range sentinels {
				if other != wantCode && errors.Is(err, s) {
					t.Errorf("errors.Is(err, sentinel of %s) = true", other)
				}
			}
		})
	}

	t.Run("CreateCache ALREADY_EXISTS is a response", func(t *testing.T) {
		f.script(nil, status.Error(codes.AlreadyExists, "exists"))
		r, err := c.CreateCache(t.Context(), &CreateCacheRequest{CacheName: "c"})
		if _, ok := r.(*CreateCacheAlreadyExists); err != nil || !ok {
			t.Fatalf("CreateCache = %T, %v", r, err)
		}
	})

	t.Run("non-status errors", func(t *testing.T) {
		for _, tt := range []struct {
			err  error
			want ErrorCode
		}{
			{errors.New("plain"), ClientSdkError},
			{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), TimeoutError},
			{context.Canceled, CanceledError},
		} {
			var ce *Error
			if !errors.As(convertError(tt.err), &ce) || ce.Code() != tt.want || ce.Unwrap() != tt.err {
				t.Errorf("convertError(%v) = %v, want %s", tt.err, ce, tt.want)
			}
		}
		if convertError(nil) != nil {
			t.Error("convertError(nil) != nil")
		}
		if codeFor(codes.OK) != ClientSdkError {
			t.Error("codeFor(OK) is not ClientSdkError")
		}
	})
}
