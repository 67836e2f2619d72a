package momento_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/testnode"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

type harness struct {
	conn    *grpc.ClientConn
	data    pb.ScsClient
	control pb.ScsControlClient
}

// newHarness starts a node and dials it.
func newHarness(t *testing.T) *harness {
	t.Helper()
	conn := testnode.Start(t, embed.Config{}).Dial(t)
	return &harness{conn: conn, data: pb.NewScsClient(conn), control: pb.NewScsControlClient(conn)}
}

func withCache(t *testing.T, name string) context.Context {
	return metadata.AppendToOutgoingContext(t.Context(), "cache", name)
}

func (h *harness) createCache(t *testing.T, name string) {
	t.Helper()
	if _, err := h.control.CreateCache(context.Background(), &pb.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatalf("create cache %s: %v", name, err)
	}
}

func wantCode(t *testing.T, err error, code codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("status = %v (%v), want %v", st.Code(), err, code)
	}
	if !strings.Contains(st.Message(), msgPart) {
		t.Fatalf("message %q does not contain %q", st.Message(), msgPart)
	}
}

func TestControlPlaneStatuses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.createCache(t, "c1")
	_, err := h.control.CreateCache(ctx, &pb.CreateCacheRequest{CacheName: "c1"})
	wantCode(t, err, codes.AlreadyExists, "")
	_, err = h.control.DeleteCache(ctx, &pb.DeleteCacheRequest{CacheName: "nope"})
	wantCode(t, err, codes.NotFound, "")
	_, err = h.control.FlushCache(ctx, &pb.FlushCacheRequest{CacheName: "nope"})
	wantCode(t, err, codes.NotFound, "")

	for _, bad := range []string{"", strings.Repeat("x", 256), "has space", "naïve"} {
		_, err = h.control.CreateCache(ctx, &pb.CreateCacheRequest{CacheName: bad})
		wantCode(t, err, codes.InvalidArgument, "invalid cache name")
	}

	h.createCache(t, "a0")
	resp, err := h.control.ListCaches(ctx, &pb.ListCachesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range resp.Cache {
		names = append(names, c.CacheName)
		if c.CacheLimits.GetMaxItemSizeKb() == 0 {
			t.Fatalf("cache %s advertises no item size limit", c.CacheName)
		}
	}
	if strings.Join(names, ",") != "a0,c1" {
		t.Fatalf("ListCaches = %v, want [a0 c1]", names)
	}
}

func TestDataPlaneBadInput(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "c")
	ctx := withCache(t, "c")
	if _, err := h.data.Set(ctx, &pb.SetRequest{CacheKey: []byte("k"), CacheBody: []byte("v")}); err != nil {
		t.Fatal(err)
	}

	_, err := h.data.Get(context.Background(), &pb.GetRequest{CacheKey: []byte("k")})
	wantCode(t, err, codes.InvalidArgument, "cache")
	_, err = h.data.Get(withCache(t, "unknown"), &pb.GetRequest{CacheKey: []byte("k")})
	wantCode(t, err, codes.NotFound, "")
	_, err = h.data.Get(withCache(t, "bad name"), &pb.GetRequest{CacheKey: []byte("k")})
	wantCode(t, err, codes.InvalidArgument, "invalid cache name")
	_, err = h.data.Set(ctx, &pb.SetRequest{CacheKey: nil, CacheBody: []byte("v")})
	wantCode(t, err, codes.InvalidArgument, "key")
	_, err = h.data.Set(ctx, &pb.SetRequest{CacheKey: []byte("k"), CacheBody: []byte("x"), TtlMilliseconds: 1 << 62})
	wantCode(t, err, codes.InvalidArgument, "ttl")
	_, err = h.data.SetIf(ctx, &pb.SetIfRequest{CacheKey: []byte("k"), CacheBody: []byte("x")})
	wantCode(t, err, codes.InvalidArgument, "condition")
	_, err = h.data.SetIfHash(ctx, &pb.SetIfHashRequest{CacheKey: []byte("k"), CacheBody: []byte("x")})
	wantCode(t, err, codes.InvalidArgument, "condition")
	_, err = h.data.UpdateTtl(ctx, &pb.UpdateTtlRequest{CacheKey: []byte("k")})
	wantCode(t, err, codes.InvalidArgument, "update ttl")
	_, err = h.data.UpdateTtl(ctx, &pb.UpdateTtlRequest{CacheKey: []byte("k"), UpdateTtl: &pb.UpdateTtlRequest_OverwriteToMilliseconds{}})
	wantCode(t, err, codes.InvalidArgument, "positive")
	_, err = h.data.KeysExist(ctx, &pb.KeysExistRequest{CacheKeys: [][]byte{[]byte("k"), nil}})
	wantCode(t, err, codes.InvalidArgument, "key")

	// Over the item size: RESOURCE_EXHAUSTED with the err trailer and keyword.
	var trailer metadata.MD
	_, err = h.data.Set(ctx, &pb.SetRequest{CacheKey: []byte("k"), CacheBody: make([]byte, cache.MaxItemSize)}, grpc.Trailer(&trailer))
	wantCode(t, err, codes.ResourceExhausted, "item size")
	if got := trailer.Get("err"); len(got) != 1 || got[0] != "item_size_limit_exceeded" {
		t.Fatalf("err trailer = %v, want item_size_limit_exceeded", got)
	}

	// Increment of a non-integer: FAILED_PRECONDITION, value kept.
	_, err = h.data.Increment(ctx, &pb.IncrementRequest{CacheKey: []byte("k"), Amount: 1})
	wantCode(t, err, codes.FailedPrecondition, "")

	// Nothing above changed the stored value.
	resp, err := h.data.Get(ctx, &pb.GetRequest{CacheKey: []byte("k")})
	if err != nil || resp.Result != pb.ECacheResult_Hit || string(resp.CacheBody) != "v" {
		t.Fatalf("after bad input get = %v, %v; want Hit v", resp, err)
	}
}

func TestBatchesKeepRequestOrder(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "c")
	ctx := withCache(t, "c")
	var items []*pb.SetRequest
	for i := 0; i < 50; i++ {
		if i%3 == 0 {
			continue // leave some misses
		}
		items = append(items, &pb.SetRequest{CacheKey: []byte{byte(i)}, CacheBody: []byte{byte(i), 'v'}, TtlMilliseconds: 60000})
	}
	ss, err := h.data.SetBatch(ctx, &pb.SetBatchRequest{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Result != pb.ECacheResult_Ok {
			t.Fatalf("set batch result %v, want Ok", r.Result)
		}
		n++
	}
	if n != len(items) {
		t.Fatalf("set batch sent %d results for %d items", n, len(items))
	}

	var gets []*pb.GetRequest
	for i := 0; i < 50; i++ {
		gets = append(gets, &pb.GetRequest{CacheKey: []byte{byte(i)}})
	}
	gs, err := h.data.GetBatch(ctx, &pb.GetBatchRequest{Items: gets})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		r, err := gs.Recv()
		if err != nil {
			t.Fatalf("get batch item %d: %v", i, err)
		}
		if i%3 == 0 {
			if r.Result != pb.ECacheResult_Miss {
				t.Fatalf("item %d = %v, want Miss", i, r.Result)
			}
			continue
		}
		if r.Result != pb.ECacheResult_Hit || !bytes.Equal(r.CacheBody, []byte{byte(i), 'v'}) {
			t.Fatalf("item %d = %v %q, want Hit", i, r.Result, r.CacheBody)
		}
	}
	if _, err := gs.Recv(); err != io.EOF {
		t.Fatalf("get batch has extra results: %v", err)
	}

	// Unknown cache fails the stream before any message.
	gs, err = h.data.GetBatch(withCache(t, "nope"), &pb.GetBatchRequest{Items: gets})
	if err == nil {
		_, err = gs.Recv()
	}
	wantCode(t, err, codes.NotFound, "")
}

func TestOneofsAreAlwaysSet(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "c")
	ctx := withCache(t, "c")
	key := []byte("k")

	typ, err := h.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: key})
	if err != nil || typ.GetMissing() == nil {
		t.Fatalf("ItemGetType on missing = %v, %v; want missing", typ, err)
	}
	if _, err := h.data.Set(ctx, &pb.SetRequest{CacheKey: key, CacheBody: []byte("1"), TtlMilliseconds: 60000}); err != nil {
		t.Fatal(err)
	}
	typ, err = h.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: key})
	if err != nil || typ.GetFound() == nil || typ.GetFound().ItemType != pb.ItemType_SCALAR {
		t.Fatalf("ItemGetType on scalar = %v, %v; want found SCALAR", typ, err)
	}
	ttl, err := h.data.ItemGetTtl(ctx, &pb.ItemGetTtlRequest{CacheKey: key})
	if err != nil || ttl.GetFound() == nil || ttl.GetFound().RemainingTtlMillis == 0 || ttl.GetFound().RemainingTtlMillis > 60000 {
		t.Fatalf("ItemGetTtl = %v, %v; want found in (0, 60000]", ttl, err)
	}
	wh, err := h.data.GetWithHash(ctx, &pb.GetWithHashRequest{CacheKey: key})
	if err != nil || wh.GetFound() == nil {
		t.Fatalf("GetWithHash = %v, %v", wh, err)
	}
	sh, err := h.data.SetIfHash(ctx, &pb.SetIfHashRequest{CacheKey: key, CacheBody: []byte("2"),
		Condition: &pb.SetIfHashRequest_PresentAndHashEqual{PresentAndHashEqual: &pb.PresentAndHashEqual{HashToCheck: wh.GetFound().Hash}}})
	if err != nil || sh.GetStored() == nil || !bytes.Equal(sh.GetStored().NewHash, cache.Hash([]byte("2"))) {
		t.Fatalf("SetIfHash with the read hash = %v, %v; want stored with the new hash", sh, err)
	}
	ut, err := h.data.UpdateTtl(ctx, &pb.UpdateTtlRequest{CacheKey: key, UpdateTtl: &pb.UpdateTtlRequest_IncreaseToMilliseconds{IncreaseToMilliseconds: 1000}})
	if err != nil || ut.GetNotSet() == nil {
		t.Fatalf("UpdateTtl increase to a shorter TTL = %v, %v; want not_set", ut, err)
	}
	ut, err = h.data.UpdateTtl(withCache(t, "c"), &pb.UpdateTtlRequest{CacheKey: []byte("nope"), UpdateTtl: &pb.UpdateTtlRequest_OverwriteToMilliseconds{OverwriteToMilliseconds: 1000}})
	if err != nil || ut.GetMissing() == nil {
		t.Fatalf("UpdateTtl on missing = %v, %v; want missing", ut, err)
	}
}
