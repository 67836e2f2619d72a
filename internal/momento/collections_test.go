package momento_test

import (
	"bytes"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func TestCollectionStatuses(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "c")
	ctx := withCache(t, "c")
	name := []byte("coll")

	// Missing collections answer the missing oneof, never an error.
	df, err := h.data.DictionaryFetch(ctx, &pb.DictionaryFetchRequest{DictionaryName: name})
	if err != nil || df.GetMissing() == nil {
		t.Fatalf("DictionaryFetch(missing) = %v, %v", df, err)
	}
	lf, err := h.data.ListFetch(ctx, &pb.ListFetchRequest{ListName: name})
	if err != nil || lf.GetMissing() == nil {
		t.Fatalf("ListFetch(missing) = %v, %v", lf, err)
	}
	rk, err := h.data.SortedSetGetRank(ctx, &pb.SortedSetGetRankRequest{SetName: name, Value: []byte("x")})
	if err != nil || rk.GetMissing() == nil {
		t.Fatalf("SortedSetGetRank(missing) = %v, %v", rk, err)
	}
	sd, err := h.data.SetDifference(ctx, &pb.SetDifferenceRequest{SetName: name, Difference: &pb.SetDifferenceRequest_Subtrahend{
		Subtrahend: &pb.Subtrahend{SubtrahendSet: &pb.Subtrahend_Set{Set: &pb.Elements{Elements: [][]byte{[]byte("x")}}}}}})
	if err != nil || sd.GetMissing() == nil {
		t.Fatalf("SetDifference(missing) = %v, %v", sd, err)
	}

	// A present collection with absent elements answers per-part misses.
	if _, err := h.data.DictionarySet(ctx, &pb.DictionarySetRequest{DictionaryName: name, TtlMilliseconds: 60000,
		Items: []*pb.DictionaryFieldValuePair{{Field: []byte("f"), Value: []byte("text")}}}); err != nil {
		t.Fatal(err)
	}
	dg, err := h.data.DictionaryGet(ctx, &pb.DictionaryGetRequest{DictionaryName: name, Fields: [][]byte{[]byte("f"), []byte("g")}})
	parts := dg.GetFound().GetItems()
	if err != nil || len(parts) != 2 || parts[0].Result != pb.ECacheResult_Hit || string(parts[0].CacheBody) != "text" || parts[1].Result != pb.ECacheResult_Miss {
		t.Fatalf("DictionaryGet = %v, %v", dg, err)
	}
	typ, err := h.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: name})
	if err != nil || typ.GetFound().GetItemType() != pb.ItemType_DICTIONARY {
		t.Fatalf("ItemGetType(dictionary) = %v, %v", typ, err)
	}
	ttl, err := h.data.ItemGetTtl(ctx, &pb.ItemGetTtlRequest{CacheKey: name})
	if err != nil || ttl.GetFound() == nil || ttl.GetFound().RemainingTtlMillis > 60000 {
		t.Fatalf("ItemGetTtl(dictionary) = %v, %v", ttl, err)
	}

	// Non-integer increment: FAILED_PRECONDITION.
	_, err = h.data.DictionaryIncrement(ctx, &pb.DictionaryIncrementRequest{DictionaryName: name, Field: []byte("f"), Amount: 1})
	wantCode(t, err, codes.FailedPrecondition, "not a base-10")

	// Wrong type: FAILED_PRECONDITION, for reads and writes.
	_, err = h.data.ListPushBack(ctx, &pb.ListPushBackRequest{ListName: name, Value: []byte("v")})
	wantCode(t, err, codes.FailedPrecondition, "dictionary")
	_, err = h.data.SortedSetFetch(ctx, &pb.SortedSetFetchRequest{SetName: name})
	wantCode(t, err, codes.FailedPrecondition, "")
	_, err = h.data.Get(ctx, &pb.GetRequest{CacheKey: name})
	wantCode(t, err, codes.FailedPrecondition, "")

	// Oversized element: RESOURCE_EXHAUSTED with the err trailer.
	var trailer metadata.MD
	big := bytes.Repeat([]byte("x"), cache.MaxElementSize+1)
	_, err = h.data.SetUnion(ctx, &pb.SetUnionRequest{SetName: []byte("s"), Elements: [][]byte{big}}, grpc.Trailer(&trailer))
	wantCode(t, err, codes.ResourceExhausted, "element size")
	if got := trailer.Get("err"); len(got) != 1 || got[0] != "element_size_limit_exceeded" {
		t.Fatalf("err trailer = %v, want %s", got, "element_size_limit_exceeded")
	}

	// Unknown cache, empty name, missing cache header.
	_, err = h.data.SetFetch(withCache(t, "nope"), &pb.SetFetchRequest{SetName: name})
	wantCode(t, err, codes.NotFound, "")
	_, err = h.data.SetFetch(ctx, &pb.SetFetchRequest{})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = h.data.SetFetch(t.Context(), &pb.SetFetchRequest{SetName: name})
	wantCode(t, err, codes.InvalidArgument, "cache")
	_, err = h.data.ListRemove(ctx, &pb.ListRemoveRequest{ListName: name})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = h.data.SortedSetPut(ctx, &pb.SortedSetPutRequest{SetName: []byte("z"), TtlMilliseconds: uint64(cache.MaxTTL.Milliseconds()) + 1,
		Elements: []*pb.SortedSetElement{{Value: []byte("a")}}})
	wantCode(t, err, codes.InvalidArgument, "ttl")

	// Delete removes the collection.
	if _, err := h.data.Delete(ctx, &pb.DeleteRequest{CacheKey: name}); err != nil {
		t.Fatal(err)
	}
	df, _ = h.data.DictionaryFetch(ctx, &pb.DictionaryFetchRequest{DictionaryName: name})
	if df.GetMissing() == nil {
		t.Fatalf("DictionaryFetch after Delete = %v", df)
	}
}

func TestCollectionRPCShapes(t *testing.T) {
	h := newHarness(t)
	h.createCache(t, "c")
	ctx := withCache(t, "c")
	z := []byte("z")
	if _, err := h.data.SortedSetPut(ctx, &pb.SortedSetPutRequest{SetName: z, Elements: []*pb.SortedSetElement{
		{Value: []byte("a"), Score: 1}, {Value: []byte("b"), Score: 2}, {Value: []byte("c"), Score: 3}}}); err != nil {
		t.Fatal(err)
	}
	// Without scores: the values oneof; descending by index with a negative start.
	f, err := h.data.SortedSetFetch(ctx, &pb.SortedSetFetchRequest{SetName: z, Order: pb.Order_DESCENDING,
		Range: &pb.SortedSetFetchRequest_ByIndex{ByIndex: &pb.ByIndex{Start: &pb.ByIndex_InclusiveStartIndex{InclusiveStartIndex: -2}, End: &pb.ByIndex_UnboundedEnd{UnboundedEnd: &pb.Unbounded{}}}}})
	if vs := f.GetFound().GetValues().GetValues(); err != nil || len(vs) != 2 || string(vs[0]) != "b" || string(vs[1]) != "a" {
		t.Fatalf("SortedSetFetch(values, desc, -2:) = %v, %v", f, err)
	}
	f, err = h.data.SortedSetFetch(ctx, &pb.SortedSetFetchRequest{SetName: z, WithScores: true,
		Range: &pb.SortedSetFetchRequest_ByScore{ByScore: &pb.ByScore{Min: &pb.ByScore_MinScore{MinScore: &pb.ScoreBound{Score: 1, Exclusive: true}},
			Max: &pb.ByScore_UnboundedMax{UnboundedMax: &pb.Unbounded{}}, Count: -1}}})
	es := f.GetFound().GetValuesWithScores().GetElements()
	if err != nil || len(es) != 2 || string(es[0].Value) != "b" || es[1].Score != 3 {
		t.Fatalf("SortedSetFetch(by score (1, inf)) = %v, %v", f, err)
	}
	rk, err := h.data.SortedSetGetRank(ctx, &pb.SortedSetGetRankRequest{SetName: z, Value: []byte("nope")})
	if err != nil || rk.GetElementRank().GetResult() != pb.ECacheResult_Miss {
		t.Fatalf("SortedSetGetRank(absent element) = %v, %v", rk, err)
	}
	n, err := h.data.SortedSetLengthByScore(ctx, &pb.SortedSetLengthByScoreRequest{SetName: z,
		Min: &pb.SortedSetLengthByScoreRequest_ExclusiveMin{ExclusiveMin: 1}, Max: &pb.SortedSetLengthByScoreRequest_InclusiveMax{InclusiveMax: 3}})
	if err != nil || n.GetFound().GetLength() != 2 {
		t.Fatalf("SortedSetLengthByScore = %v, %v", n, err)
	}
	u, err := h.data.SortedSetUnionStore(ctx, &pb.SortedSetUnionStoreRequest{SetName: []byte("u"), Aggregate: pb.AggregateFunction_MAX,
		Sources: []*pb.UnionSource{{SetName: z, Weight: 2}, {SetName: []byte("none"), Weight: 1}}})
	if err != nil || u.Length != 3 {
		t.Fatalf("SortedSetUnionStore = %v, %v", u, err)
	}

	l := []byte("l")
	if _, err := h.data.ListConcatenateBack(ctx, &pb.ListConcatenateBackRequest{ListName: l, Values: [][]byte{[]byte("1"), []byte("2"), []byte("3"), []byte("4")}}); err != nil {
		t.Fatal(err)
	}
	lf, err := h.data.ListFetch(ctx, &pb.ListFetchRequest{ListName: l, StartIndex: &pb.ListFetchRequest_InclusiveStart{InclusiveStart: 1},
		EndIndex: &pb.ListFetchRequest_ExclusiveEnd{ExclusiveEnd: -1}})
	if vs := lf.GetFound().GetValues(); err != nil || len(vs) != 2 || string(vs[0]) != "2" || string(vs[1]) != "3" {
		t.Fatalf("ListFetch(1:-1) = %v, %v", lf, err)
	}
	pf, err := h.data.ListPushFront(ctx, &pb.ListPushFrontRequest{ListName: l, Value: []byte("0"), TruncateBackToSize: 3})
	if err != nil || pf.ListLength != 3 {
		t.Fatalf("ListPushFront(truncate 3) = %v, %v", pf, err)
	}
	pb2, err := h.data.ListPopBack(ctx, &pb.ListPopBackRequest{ListName: l})
	if err != nil || string(pb2.GetFound().GetBack()) != "2" || pb2.GetFound().GetListLength() != 2 {
		t.Fatalf("ListPopBack = %v, %v", pb2, err)
	}
	er, err := h.data.ListErase(ctx, &pb.ListEraseRequest{ListName: l, Erase: &pb.ListEraseRequest_All{All: &pb.All{}}})
	if err != nil || er.GetFound() == nil || er.GetFound().ListLength != 0 {
		t.Fatalf("ListErase(all) = %v, %v", er, err)
	}
	typ, _ := h.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: l})
	if typ.GetMissing() == nil {
		t.Fatalf("ItemGetType of an erased list = %v", typ)
	}

	s := []byte("s")
	if _, err := h.data.SetUnion(ctx, &pb.SetUnionRequest{SetName: s, Elements: [][]byte{[]byte("a"), []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	sc, err := h.data.SetContains(ctx, &pb.SetContainsRequest{SetName: s, Elements: [][]byte{[]byte("b"), []byte("x")}})
	if c := sc.GetFound().GetContains(); err != nil || len(c) != 2 || !c[0] || c[1] {
		t.Fatalf("SetContains = %v, %v", sc, err)
	}
	sd, err := h.data.SetDifference(ctx, &pb.SetDifferenceRequest{SetName: s, Difference: &pb.SetDifferenceRequest_Subtrahend{
		Subtrahend: &pb.Subtrahend{SubtrahendSet: &pb.Subtrahend_Identity{Identity: &pb.Identity{}}}}})
	if err != nil || sd.GetFound() == nil {
		t.Fatalf("SetDifference(identity) = %v, %v", sd, err)
	}
	typ, _ = h.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: s})
	if typ.GetMissing() == nil {
		t.Fatalf("ItemGetType of an emptied set = %v", typ)
	}
	_, err = h.data.SetDifference(ctx, &pb.SetDifferenceRequest{SetName: s, Difference: &pb.SetDifferenceRequest_Minuend{Minuend: &pb.Elements{}}})
	wantCode(t, err, codes.InvalidArgument, "minuend")

	d := []byte("d")
	inc, err := h.data.DictionaryIncrement(ctx, &pb.DictionaryIncrementRequest{DictionaryName: d, Field: []byte("n"), Amount: 5})
	if err != nil || inc.Value != 5 {
		t.Fatalf("DictionaryIncrement = %v, %v", inc, err)
	}
	if _, err := h.data.DictionaryDelete(ctx, &pb.DictionaryDeleteRequest{DictionaryName: d, Delete: &pb.DictionaryDeleteRequest_All{All: &pb.All{}}}); err != nil {
		t.Fatal(err)
	}
	dl, _ := h.data.DictionaryLength(ctx, &pb.DictionaryLengthRequest{DictionaryName: d})
	if dl.GetMissing() == nil {
		t.Fatalf("DictionaryLength after delete all = %v", dl)
	}
}
