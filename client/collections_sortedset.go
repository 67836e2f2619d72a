package client

import (
	"context"
	"time"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// SortedSetOrder is the order of a sorted-set fetch or rank.
type SortedSetOrder int

const (
	ASCENDING SortedSetOrder = iota
	DESCENDING
)

func (o SortedSetOrder) wire() pb.Order {
	if o == DESCENDING {
		return pb.Order_DESCENDING
	}
	return pb.Order_ASCENDING
}

// SortedSetElement is an element with its score.
type SortedSetElement struct {
	Value Value
	Score float64
}

// SortedSetScoredElement is an element read from a sorted set.
type SortedSetScoredElement struct {
	Value []byte
	Score float64
}

// SortedSetPutElementsRequest sets the scores of elements.
type SortedSetPutElementsRequest struct {
	CacheName string
	SetName   string
	Elements  []SortedSetElement
	Ttl       *CollectionTtl
}

// SortedSetPutElementsResponse is *SortedSetPutElementsSuccess.
type SortedSetPutElementsResponse interface{ isSortedSetPutElementsResponse() }

// SortedSetPutElementsSuccess: the elements have their scores.
type SortedSetPutElementsSuccess struct{}

func (*SortedSetPutElementsSuccess) isSortedSetPutElementsResponse() {}

// SortedSetPutElements sets the scores of elements, creating the set if needed.
func (c *CacheClient) SortedSetPutElements(ctx context.Context, r *SortedSetPutElementsRequest) (SortedSetPutElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetPutElements")
	}
	es := make([]*pb.SortedSetElement, len(r.Elements))
	for i, e := range r.Elements {
		v, err := prepareValue(e.Value, "element")
		if err != nil {
			return nil, err
		}
		es[i] = &pb.SortedSetElement{Value: v, Score: e.Score}
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "SortedSetPutElements", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetPutResponse, error) {
		return c.data.SortedSetPut(ctx, &pb.SortedSetPutRequest{SetName: n, Elements: es, TtlMilliseconds: ms, RefreshTtl: refresh})
	})
	if err != nil {
		return nil, err
	}
	return &SortedSetPutElementsSuccess{}, nil
}

// SortedSetFetchResponse is *SortedSetFetchHit or *SortedSetFetchMiss.
type SortedSetFetchResponse interface{ isSortedSetFetchResponse() }

// SortedSetFetchHit carries the elements in the requested order.
type SortedSetFetchHit struct{ elements []SortedSetScoredElement }

// SortedSetFetchMiss: the sorted set does not exist.
type SortedSetFetchMiss struct{}

func (*SortedSetFetchHit) isSortedSetFetchResponse()  {}
func (*SortedSetFetchMiss) isSortedSetFetchResponse() {}

// Elements returns the elements with their scores.
func (r *SortedSetFetchHit) Elements() []SortedSetScoredElement { return r.elements }

// ValueStrings returns the elements as strings.
func (r *SortedSetFetchHit) ValueStrings() []string {
	out := make([]string, len(r.elements))
	for i, e := range r.elements {
		out[i] = string(e.Value)
	}
	return out
}

// SortedSetFetchByRankRequest reads the ranks [StartRank, EndRank) in
// Order; nil ranks are unbounded, negative ones count from the end.
type SortedSetFetchByRankRequest struct {
	CacheName string
	SetName   string
	Order     SortedSetOrder
	StartRank *int32
	EndRank   *int32
}

// SortedSetFetchByScoreRequest reads the elements with MinScore <= score
// <= MaxScore (nil: unbounded) in Order, skipping Offset and returning at
// most Count (nil: all).
type SortedSetFetchByScoreRequest struct {
	CacheName string
	SetName   string
	Order     SortedSetOrder
	MinScore  *float64
	MaxScore  *float64
	Offset    *uint32
	Count     *uint32
}

func (c *CacheClient) sortedSetFetch(ctx context.Context, op, cacheName, name string, req *pb.SortedSetFetchRequest) (SortedSetFetchResponse, error) {
	resp, err := collCall(c, ctx, op, false, cacheName, name, func(ctx context.Context, n []byte) (*pb.SortedSetFetchResponse, error) {
		req.SetName, req.WithScores = n, true
		return c.data.SortedSetFetch(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	f := resp.GetFound()
	if f == nil {
		return &SortedSetFetchMiss{}, nil
	}
	es := f.GetValuesWithScores().GetElements()
	out := make([]SortedSetScoredElement, len(es))
	for i, e := range es {
		out[i] = SortedSetScoredElement{Value: e.Value, Score: e.Score}
	}
	return &SortedSetFetchHit{elements: out}, nil
}

// SortedSetFetchByRank reads a slice of a sorted set by rank.
func (c *CacheClient) SortedSetFetchByRank(ctx context.Context, r *SortedSetFetchByRankRequest) (SortedSetFetchResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetFetchByRank")
	}
	bi := &pb.ByIndex{Start: &pb.ByIndex_UnboundedStart{UnboundedStart: &pb.Unbounded{}}, End: &pb.ByIndex_UnboundedEnd{UnboundedEnd: &pb.Unbounded{}}}
	if r.StartRank != nil {
		bi.Start = &pb.ByIndex_InclusiveStartIndex{InclusiveStartIndex: *r.StartRank}
	}
	if r.EndRank != nil {
		bi.End = &pb.ByIndex_ExclusiveEndIndex{ExclusiveEndIndex: *r.EndRank}
	}
	return c.sortedSetFetch(ctx, "SortedSetFetchByRank", r.CacheName, r.SetName,
		&pb.SortedSetFetchRequest{Order: r.Order.wire(), Range: &pb.SortedSetFetchRequest_ByIndex{ByIndex: bi}})
}

// SortedSetFetchByScore reads the elements of a score range.
func (c *CacheClient) SortedSetFetchByScore(ctx context.Context, r *SortedSetFetchByScoreRequest) (SortedSetFetchResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetFetchByScore")
	}
	if r.MinScore != nil && r.MaxScore != nil && *r.MinScore > *r.MaxScore {
		return nil, invalidArgument("SortedSetFetchByScore: MinScore must not exceed MaxScore")
	}
	bs := &pb.ByScore{Min: &pb.ByScore_UnboundedMin{UnboundedMin: &pb.Unbounded{}}, Max: &pb.ByScore_UnboundedMax{UnboundedMax: &pb.Unbounded{}}, Count: -1}
	if r.MinScore != nil {
		bs.Min = &pb.ByScore_MinScore{MinScore: &pb.ScoreBound{Score: *r.MinScore}}
	}
	if r.MaxScore != nil {
		bs.Max = &pb.ByScore_MaxScore{MaxScore: &pb.ScoreBound{Score: *r.MaxScore}}
	}
	if r.Offset != nil {
		bs.Offset = *r.Offset
	}
	if r.Count != nil {
		bs.Count = int32(min(*r.Count, 1<<31-1))
	}
	return c.sortedSetFetch(ctx, "SortedSetFetchByScore", r.CacheName, r.SetName,
		&pb.SortedSetFetchRequest{Order: r.Order.wire(), Range: &pb.SortedSetFetchRequest_ByScore{ByScore: bs}})
}

// SortedSetGetScoresRequest reads the scores of elements.
type SortedSetGetScoresRequest struct {
	CacheName string
	SetName   string
	Values    []Value
}

// SortedSetGetScoreResponse is *SortedSetGetScoreHit or *SortedSetGetScoreMiss.
type SortedSetGetScoreResponse interface{ isSortedSetGetScoreResponse() }

// SortedSetGetScoreHit carries an element's score.
type SortedSetGetScoreHit struct {
	value []byte
	score float64
}

// SortedSetGetScoreMiss: the element (or the set) does not exist.
type SortedSetGetScoreMiss struct{ value []byte }

func (*SortedSetGetScoreHit) isSortedSetGetScoreResponse()  {}
func (*SortedSetGetScoreMiss) isSortedSetGetScoreResponse() {}

// Score is the element's score.
func (r *SortedSetGetScoreHit) Score() float64 { return r.score }

// ValueString is the element.
func (r *SortedSetGetScoreHit) ValueString() string { return string(r.value) }

// ValueString is the element.
func (r *SortedSetGetScoreMiss) ValueString() string { return string(r.value) }

// SortedSetGetScoresResponse is *SortedSetGetScoresHit or *SortedSetGetScoresMiss.
type SortedSetGetScoresResponse interface{ isSortedSetGetScoresResponse() }

// SortedSetGetScoresHit holds one *SortedSetGetScoreHit or
// *SortedSetGetScoreMiss per requested element.
type SortedSetGetScoresHit struct{ responses []SortedSetGetScoreResponse }

// SortedSetGetScoresMiss: the sorted set does not exist.
type SortedSetGetScoresMiss struct{}

func (*SortedSetGetScoresHit) isSortedSetGetScoresResponse()  {}
func (*SortedSetGetScoresMiss) isSortedSetGetScoresResponse() {}

// Responses returns one response per requested element, in request order.
func (r *SortedSetGetScoresHit) Responses() []SortedSetGetScoreResponse { return r.responses }

// SortedSetGetScores reads the scores of elements.
func (c *CacheClient) SortedSetGetScores(ctx context.Context, r *SortedSetGetScoresRequest) (SortedSetGetScoresResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetGetScores")
	}
	vs, err := prepareValues(r.Values, "element")
	if err != nil {
		return nil, err
	}
	resp, err := collCall(c, ctx, "SortedSetGetScores", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetGetScoreResponse, error) {
		return c.data.SortedSetGetScore(ctx, &pb.SortedSetGetScoreRequest{SetName: n, Values: vs})
	})
	if err != nil {
		return nil, err
	}
	f := resp.GetFound()
	if f == nil {
		return &SortedSetGetScoresMiss{}, nil
	}
	if len(f.Elements) != len(vs) {
		return nil, unexpected("SortedSetGetScores", resp)
	}
	out := make([]SortedSetGetScoreResponse, len(vs))
	for i, p := range f.Elements {
		if p.Result == pb.ECacheResult_Hit {
			out[i] = &SortedSetGetScoreHit{value: vs[i], score: p.Score}
		} else {
			out[i] = &SortedSetGetScoreMiss{value: vs[i]}
		}
	}
	return &SortedSetGetScoresHit{responses: out}, nil
}

// SortedSetGetRankRequest reads the 0-based rank of an element.
type SortedSetGetRankRequest struct {
	CacheName string
	SetName   string
	Value     Value
	Order     SortedSetOrder
}

// SortedSetGetRankResponse is *SortedSetGetRankHit or *SortedSetGetRankMiss.
type SortedSetGetRankResponse interface{ isSortedSetGetRankResponse() }

// SortedSetGetRankHit carries the rank.
type SortedSetGetRankHit struct{ rank uint64 }

// SortedSetGetRankMiss: the element or the set does not exist.
type SortedSetGetRankMiss struct{}

func (*SortedSetGetRankHit) isSortedSetGetRankResponse()  {}
func (*SortedSetGetRankMiss) isSortedSetGetRankResponse() {}

// Rank is the 0-based rank in the requested order.
func (r *SortedSetGetRankHit) Rank() uint64 { return r.rank }

// SortedSetGetRank reads the rank of an element.
func (c *CacheClient) SortedSetGetRank(ctx context.Context, r *SortedSetGetRankRequest) (SortedSetGetRankResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetGetRank")
	}
	v, err := prepareValue(r.Value, "element")
	if err != nil {
		return nil, err
	}
	resp, err := collCall(c, ctx, "SortedSetGetRank", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetGetRankResponse, error) {
		return c.data.SortedSetGetRank(ctx, &pb.SortedSetGetRankRequest{SetName: n, Value: v, Order: r.Order.wire()})
	})
	if err != nil {
		return nil, err
	}
	if p := resp.GetElementRank(); p != nil && p.Result == pb.ECacheResult_Hit {
		return &SortedSetGetRankHit{rank: p.Rank}, nil
	}
	return &SortedSetGetRankMiss{}, nil
}

// SortedSetIncrementScoreRequest adds Amount to an element's score.
type SortedSetIncrementScoreRequest struct {
	CacheName string
	SetName   string
	Value     Value
	Amount    float64
	Ttl       *CollectionTtl
}

// SortedSetIncrementScoreResponse is *SortedSetIncrementScoreSuccess.
type SortedSetIncrementScoreResponse interface{ isSortedSetIncrementScoreResponse() }

// SortedSetIncrementScoreSuccess carries the new score.
type SortedSetIncrementScoreSuccess struct{ score float64 }

func (*SortedSetIncrementScoreSuccess) isSortedSetIncrementScoreResponse() {}

// Score is the element's new score.
func (r *SortedSetIncrementScoreSuccess) Score() float64 { return r.score }

// SortedSetIncrementScore adds Amount to an element's score (a missing
// element starts at 0).
func (c *CacheClient) SortedSetIncrementScore(ctx context.Context, r *SortedSetIncrementScoreRequest) (SortedSetIncrementScoreResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetIncrementScore")
	}
	v, err := prepareValue(r.Value, "element")
	if err != nil {
		return nil, err
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	resp, err := collCall(c, ctx, "SortedSetIncrementScore", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetIncrementResponse, error) {
		return c.data.SortedSetIncrement(ctx, &pb.SortedSetIncrementRequest{SetName: n, Value: v, Amount: r.Amount, TtlMilliseconds: ms, RefreshTtl: refresh})
	})
	if err != nil {
		return nil, err
	}
	return &SortedSetIncrementScoreSuccess{score: resp.Score}, nil
}

// SortedSetRemoveElementsRequest removes elements.
type SortedSetRemoveElementsRequest struct {
	CacheName string
	SetName   string
	Values    []Value
}

// SortedSetRemoveElementsResponse is *SortedSetRemoveElementsSuccess.
type SortedSetRemoveElementsResponse interface{ isSortedSetRemoveElementsResponse() }

// SortedSetRemoveElementsSuccess: the elements are gone.
type SortedSetRemoveElementsSuccess struct{}

func (*SortedSetRemoveElementsSuccess) isSortedSetRemoveElementsResponse() {}

// SortedSetRemoveElements removes elements; a set left empty is deleted.
func (c *CacheClient) SortedSetRemoveElements(ctx context.Context, r *SortedSetRemoveElementsRequest) (SortedSetRemoveElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetRemoveElements")
	}
	vs, err := prepareValues(r.Values, "element")
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "SortedSetRemoveElements", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetRemoveResponse, error) {
		return c.data.SortedSetRemove(ctx, &pb.SortedSetRemoveRequest{SetName: n, RemoveElements: &pb.SortedSetRemoveRequest_Some{Some: &pb.SortedSetValueList{Values: vs}}})
	})
	if err != nil {
		return nil, err
	}
	return &SortedSetRemoveElementsSuccess{}, nil
}

// SortedSetLengthRequest counts the elements of a sorted set.
type SortedSetLengthRequest struct {
	CacheName string
	SetName   string
}

func (r *SortedSetLengthRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.SetName
}

// SortedSetLength counts the elements of a sorted set.
func (c *CacheClient) SortedSetLength(ctx context.Context, r *SortedSetLengthRequest) (LengthResponse, error) {
	resp, err := collCall(c, ctx, "SortedSetLength", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.SortedSetLengthResponse, error) {
		return c.data.SortedSetLength(ctx, &pb.SortedSetLengthRequest{SetName: n})
	})
	if err != nil {
		return nil, err
	}
	return lengthFrom(resp.GetFound()), nil
}

// SortedSetLengthByScoreRequest counts the elements with MinScore <= score
// <= MaxScore (nil: unbounded).
type SortedSetLengthByScoreRequest struct {
	CacheName string
	SetName   string
	MinScore  *float64
	MaxScore  *float64
}

// SortedSetLengthByScore counts the elements of a score range.
func (c *CacheClient) SortedSetLengthByScore(ctx context.Context, r *SortedSetLengthByScoreRequest) (LengthResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetLengthByScore")
	}
	req := &pb.SortedSetLengthByScoreRequest{Min: &pb.SortedSetLengthByScoreRequest_UnboundedMin{UnboundedMin: &pb.Unbounded{}},
		Max: &pb.SortedSetLengthByScoreRequest_UnboundedMax{UnboundedMax: &pb.Unbounded{}}}
	if r.MinScore != nil {
		req.Min = &pb.SortedSetLengthByScoreRequest_InclusiveMin{InclusiveMin: *r.MinScore}
	}
	if r.MaxScore != nil {
		req.Max = &pb.SortedSetLengthByScoreRequest_InclusiveMax{InclusiveMax: *r.MaxScore}
	}
	resp, err := collCall(c, ctx, "SortedSetLengthByScore", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetLengthByScoreResponse, error) {
		req.SetName = n
		return c.data.SortedSetLengthByScore(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	return lengthFrom(resp.GetFound()), nil
}

// SortedSetAggregate combines the scores of an element found in several
// sources of a union.
type SortedSetAggregate int

const (
	SUM SortedSetAggregate = iota
	MIN
	MAX
)

// SortedSetUnionSource is one weighted input of a union.
type SortedSetUnionSource struct {
	SetName string
	Weight  float32
}

// SortedSetUnionStoreRequest replaces SetName with the union of Sources.
type SortedSetUnionStoreRequest struct {
	CacheName string
	SetName   string
	Sources   []SortedSetUnionSource
	Aggregate SortedSetAggregate
	// Ttl of the destination; zero means the client's DefaultTTL.
	Ttl time.Duration
}

// SortedSetUnionStoreResponse is *SortedSetUnionStoreSuccess.
type SortedSetUnionStoreResponse interface{ isSortedSetUnionStoreResponse() }

// SortedSetUnionStoreSuccess carries the destination's length.
type SortedSetUnionStoreSuccess struct{ length uint32 }

func (*SortedSetUnionStoreSuccess) isSortedSetUnionStoreResponse() {}

// Length is the number of elements stored (0: the destination was deleted).
func (r *SortedSetUnionStoreSuccess) Length() uint32 { return r.length }

// SortedSetUnionStore stores the weighted union of sources in SetName.
func (c *CacheClient) SortedSetUnionStore(ctx context.Context, r *SortedSetUnionStoreRequest) (SortedSetUnionStoreResponse, error) {
	if r == nil {
		return nil, nilRequest("SortedSetUnionStore")
	}
	ms, err := c.ttlMillis(r.Ttl)
	if err != nil {
		return nil, err
	}
	srcs := make([]*pb.UnionSource, len(r.Sources))
	for i, s := range r.Sources {
		if s.SetName == "" {
			return nil, invalidArgument("SortedSetUnionStore: source set name cannot be empty")
		}
		srcs[i] = &pb.UnionSource{SetName: []byte(s.SetName), Weight: s.Weight}
	}
	resp, err := collCall(c, ctx, "SortedSetUnionStore", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SortedSetUnionStoreResponse, error) {
		return c.data.SortedSetUnionStore(ctx, &pb.SortedSetUnionStoreRequest{SetName: n, Sources: srcs, Aggregate: pb.AggregateFunction(r.Aggregate), TtlMilliseconds: ms})
	})
	if err != nil {
		return nil, err
	}
	return &SortedSetUnionStoreSuccess{length: resp.Length}, nil
}
