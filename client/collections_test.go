package client_test

import (
	"slices"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
)

func TestDictionary(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()
	if r := must(c.DictionaryFetch(ctx, &client.DictionaryFetchRequest{CacheName: cache, DictionaryName: "d"}))(t); r == nil {
		t.Fatal("DictionaryFetch(missing) = nil")
	} else if _, ok := r.(*client.DictionaryFetchMiss); !ok {
		t.Fatalf("DictionaryFetch(missing) = %T", r)
	}
	must(c.DictionarySetFields(ctx, &client.DictionarySetFieldsRequest{CacheName: cache, DictionaryName: "d",
		Elements: []client.DictionaryElement{{Field: client.String("a"), Value: client.String("1")}, {Field: client.String("b"), Value: client.Bytes("2")}}}))(t)
	must(c.DictionarySetField(ctx, &client.DictionarySetFieldRequest{CacheName: cache, DictionaryName: "d", Field: client.String("c"), Value: client.String("3")}))(t)
	r := must(c.DictionaryGetFields(ctx, &client.DictionaryGetFieldsRequest{CacheName: cache, DictionaryName: "d", Fields: []client.Value{client.String("a"), client.String("x")}}))(t)
	hit, ok := r.(*client.DictionaryGetFieldsHit)
	if !ok || len(hit.ValueMap()) != 1 || hit.ValueMap()["a"] != "1" {
		t.Fatalf("DictionaryGetFields = %#v", r)
	}
	if _, ok := hit.Responses()[1].(*client.DictionaryGetFieldMiss); !ok {
		t.Fatalf("absent field = %T, want a miss", hit.Responses()[1])
	}
	inc := must(c.DictionaryIncrement(ctx, &client.DictionaryIncrementRequest{CacheName: cache, DictionaryName: "d", Field: client.String("a"), Amount: 41}))(t)
	if inc.(*client.DictionaryIncrementSuccess).Value() != 42 {
		t.Fatalf("DictionaryIncrement = %v", inc)
	}
	must(c.DictionarySetField(ctx, &client.DictionarySetFieldRequest{CacheName: cache, DictionaryName: "d", Field: client.String("s"), Value: client.String("x")}))(t)
	_, err := c.DictionaryIncrement(ctx, &client.DictionaryIncrementRequest{CacheName: cache, DictionaryName: "d", Field: client.String("s"), Amount: 1})
	wantCode(t, err, client.FailedPreconditionError)
	must(c.DictionaryRemoveFields(ctx, &client.DictionaryRemoveFieldsRequest{CacheName: cache, DictionaryName: "d", Fields: []client.Value{client.String("s"), client.String("b")}}))(t)
	f := must(c.DictionaryFetch(ctx, &client.DictionaryFetchRequest{CacheName: cache, DictionaryName: "d"}))(t).(*client.DictionaryFetchHit)
	if m := f.ValueMap(); len(m) != 2 || m["a"] != "42" || m["c"] != "3" {
		t.Fatalf("DictionaryFetch = %v", m)
	}
	if l := must(c.DictionaryLength(ctx, &client.DictionaryLengthRequest{CacheName: cache, DictionaryName: "d"}))(t); l.(*client.LengthHit).Length() != 2 {
		t.Fatalf("DictionaryLength = %v", l)
	}
	_, err = c.DictionaryFetch(ctx, nil)
	wantCode(t, err, client.InvalidArgumentError)
	_, err = c.DictionaryFetch(ctx, &client.DictionaryFetchRequest{CacheName: cache})
	wantCode(t, err, client.InvalidArgumentError)
}

func TestSetAndList(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()
	must(c.SetAddElements(ctx, &client.SetAddElementsRequest{CacheName: cache, SetName: "s", Elements: []client.Value{client.String("a"), client.String("b"), client.String("c")}}))(t)
	must(c.SetRemoveElements(ctx, &client.SetRemoveElementsRequest{CacheName: cache, SetName: "s", Elements: []client.Value{client.String("b")}}))(t)
	els := must(c.SetFetch(ctx, &client.SetFetchRequest{CacheName: cache, SetName: "s"}))(t).(*client.SetElementsHit).ValueString()
	slices.Sort(els)
	if !slices.Equal(els, []string{"a", "c"}) {
		t.Fatalf("SetFetch = %v", els)
	}
	ce := must(c.SetContainsElements(ctx, &client.SetContainsElementsRequest{CacheName: cache, SetName: "s", Elements: []client.Value{client.String("a"), client.String("b")}}))(t)
	if got := ce.(*client.SetContainsElementsHit).ContainsElements(); !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("SetContainsElements = %v", got)
	}
	if s := must(c.SetSample(ctx, &client.SetSampleRequest{CacheName: cache, SetName: "s", Limit: 1}))(t).(*client.SetElementsHit); len(s.ValueString()) != 1 {
		t.Fatalf("SetSample(1) = %v", s.ValueString())
	}
	if p := must(c.SetPop(ctx, &client.SetPopRequest{CacheName: cache, SetName: "s", Count: 5}))(t).(*client.SetElementsHit); len(p.ValueString()) != 2 {
		t.Fatalf("SetPop(5) = %v", p.ValueString())
	}
	if _, ok := must(c.SetLength(ctx, &client.SetLengthRequest{CacheName: cache, SetName: "s"}))(t).(*client.LengthMiss); !ok {
		t.Fatal("SetLength after popping everything is not a miss")
	}

	push := func(f func(*client.ListPushRequest) (client.ListPushResponse, error), want uint32, trunc uint32, vals ...string) {
		t.Helper()
		var vs []client.Value
		for _, v := range vals {
			vs = append(vs, client.String(v))
		}
		r := must(f(&client.ListPushRequest{CacheName: cache, ListName: "l", Values: vs, TruncateToSize: trunc}))(t)
		if got := r.(*client.ListPushSuccess).ListLength(); got != want {
			t.Fatalf("push %v: length %d, want %d", vals, got, want)
		}
	}
	push(func(r *client.ListPushRequest) (client.ListPushResponse, error) { return c.ListPushBack(ctx, r) }, 1, 0, "b")
	push(func(r *client.ListPushRequest) (client.ListPushResponse, error) { return c.ListPushFront(ctx, r) }, 2, 0, "a")
	push(func(r *client.ListPushRequest) (client.ListPushResponse, error) { return c.ListConcatenateBack(ctx, r) }, 4, 0, "c", "d")
	push(func(r *client.ListPushRequest) (client.ListPushResponse, error) {
		return c.ListConcatenateFront(ctx, r)
	}, 4, 4, "z")
	start, end := int32(1), int32(-1)
	lf := must(c.ListFetch(ctx, &client.ListFetchRequest{CacheName: cache, ListName: "l", StartIndex: &start, EndIndex: &end}))(t)
	if got := lf.(*client.ListFetchHit).ValueList(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("ListFetch(1, -1) = %v", got)
	}
	if p := must(c.ListPopBack(ctx, &client.ListPopRequest{CacheName: cache, ListName: "l"}))(t).(*client.ListPopHit); p.ValueString() != "c" || p.ListLength() != 3 {
		t.Fatalf("ListPopBack = %q %d", p.ValueString(), p.ListLength())
	}
	must(c.ListRemoveValue(ctx, &client.ListRemoveValueRequest{CacheName: cache, ListName: "l", Value: client.String("a")}))(t)
	must(c.ListRetain(ctx, &client.ListRetainRequest{CacheName: cache, ListName: "l", StartIndex: &start}))(t)
	lf = must(c.ListFetch(ctx, &client.ListFetchRequest{CacheName: cache, ListName: "l"}))(t)
	if got := lf.(*client.ListFetchHit).ValueList(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("ListFetch after remove+retain = %v", got)
	}
	if l := must(c.ListLength(ctx, &client.ListLengthRequest{CacheName: cache, ListName: "l"}))(t); l.(*client.LengthHit).Length() != 1 {
		t.Fatalf("ListLength = %v", l)
	}
	_, err := c.ListPushBack(ctx, &client.ListPushRequest{CacheName: cache, ListName: "s2", Values: nil})
	wantCode(t, err, client.InvalidArgumentError)
	_, err = c.SetAddElements(ctx, &client.SetAddElementsRequest{CacheName: cache, SetName: "l", Elements: []client.Value{client.String("x")}})
	wantCode(t, err, client.FailedPreconditionError)
}

func TestSortedSet(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()
	must(c.SortedSetPutElements(ctx, &client.SortedSetPutElementsRequest{CacheName: cache, SetName: "z", Ttl: &client.CollectionTtl{Ttl: time.Hour},
		Elements: []client.SortedSetElement{{Value: client.String("a"), Score: 1}, {Value: client.String("b"), Score: 2}, {Value: client.String("c"), Score: 3}}}))(t)
	start := int32(-2)
	r := must(c.SortedSetFetchByRank(ctx, &client.SortedSetFetchByRankRequest{CacheName: cache, SetName: "z", StartRank: &start, Order: client.DESCENDING}))(t)
	if got := r.(*client.SortedSetFetchHit).ValueStrings(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("SortedSetFetchByRank(-2:, desc) = %v", got)
	}
	lo, count := 2.0, uint32(1)
	r = must(c.SortedSetFetchByScore(ctx, &client.SortedSetFetchByScoreRequest{CacheName: cache, SetName: "z", MinScore: &lo, Count: &count}))(t)
	if es := r.(*client.SortedSetFetchHit).Elements(); len(es) != 1 || string(es[0].Value) != "b" || es[0].Score != 2 {
		t.Fatalf("SortedSetFetchByScore(>=2, count 1) = %v", es)
	}
	rk := must(c.SortedSetGetRank(ctx, &client.SortedSetGetRankRequest{CacheName: cache, SetName: "z", Value: client.String("c")}))(t)
	if rk.(*client.SortedSetGetRankHit).Rank() != 2 {
		t.Fatalf("SortedSetGetRank = %v", rk)
	}
	sc := must(c.SortedSetGetScores(ctx, &client.SortedSetGetScoresRequest{CacheName: cache, SetName: "z", Values: []client.Value{client.String("b"), client.String("x")}}))(t).(*client.SortedSetGetScoresHit)
	if s, ok := sc.Responses()[0].(*client.SortedSetGetScoreHit); !ok || s.Score() != 2 {
		t.Fatalf("score of b = %v", sc.Responses()[0])
	}
	if _, ok := sc.Responses()[1].(*client.SortedSetGetScoreMiss); !ok {
		t.Fatalf("score of x = %v", sc.Responses()[1])
	}
	inc := must(c.SortedSetIncrementScore(ctx, &client.SortedSetIncrementScoreRequest{CacheName: cache, SetName: "z", Value: client.String("a"), Amount: 10}))(t)
	if inc.(*client.SortedSetIncrementScoreSuccess).Score() != 11 {
		t.Fatalf("SortedSetIncrementScore = %v", inc)
	}
	hi := 3.0
	if l := must(c.SortedSetLengthByScore(ctx, &client.SortedSetLengthByScoreRequest{CacheName: cache, SetName: "z", MaxScore: &hi}))(t); l.(*client.LengthHit).Length() != 2 {
		t.Fatalf("SortedSetLengthByScore(<=3) = %v", l)
	}
	u := must(c.SortedSetUnionStore(ctx, &client.SortedSetUnionStoreRequest{CacheName: cache, SetName: "u", Aggregate: client.MAX,
		Sources: []client.SortedSetUnionSource{{SetName: "z", Weight: 2}}}))(t)
	if u.(*client.SortedSetUnionStoreSuccess).Length() != 3 {
		t.Fatalf("SortedSetUnionStore = %v", u)
	}
	must(c.SortedSetRemoveElements(ctx, &client.SortedSetRemoveElementsRequest{CacheName: cache, SetName: "z", Values: []client.Value{client.String("a")}}))(t)
	if l := must(c.SortedSetLength(ctx, &client.SortedSetLengthRequest{CacheName: cache, SetName: "z"}))(t); l.(*client.LengthHit).Length() != 2 {
		t.Fatalf("SortedSetLength = %v", l)
	}
}
