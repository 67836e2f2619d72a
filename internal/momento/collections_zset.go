package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func (d *dataServer) SortedSetPut(ctx context.Context, req *pb.SortedSetPutRequest) (*pb.SortedSetPutResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	es := make([]cache.ScoredElement, len(req.Elements))
	for i, e := range req.Elements {
		es[i] = cache.ScoredElement{Value: e.GetValue(), Score: e.GetScore()}
	}
	if err := d.s.cache.SortedSetPut(ctx, c, req.SetName, es, ttl); err != nil {
		return nil, d.fail(ctx, "sorted set put", err)
	}
	return &pb.SortedSetPutResponse{}, nil
}

var (
	minBound = cache.ScoreBound{Score: math.Inf(-1)}
	maxBound = cache.ScoreBound{Score: math.Inf(1)}
)

func (d *dataServer) SortedSetFetch(ctx context.Context, req *pb.SortedSetFetchRequest) (*pb.SortedSetFetchResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	desc := req.Order == pb.Order_DESCENDING
	var es []cache.ScoredElement
	var found bool
	switch r := req.Range.(type) {
	case *pb.SortedSetFetchRequest_ByIndex:
		start, end := 0, cache.Unbounded
		if s, ok := r.ByIndex.GetStart().(*pb.ByIndex_InclusiveStartIndex); ok {
			start = int(s.InclusiveStartIndex)
		}
		if e, ok := r.ByIndex.GetEnd().(*pb.ByIndex_ExclusiveEndIndex); ok {
			end = int(e.ExclusiveEndIndex)
		}
		es, found, err = d.s.cache.SortedSetFetchByRank(ctx, c, req.SetName, start, end, desc)
	case *pb.SortedSetFetchRequest_ByScore:
		lo, hi := minBound, maxBound
		if m, ok := r.ByScore.GetMin().(*pb.ByScore_MinScore); ok {
			lo = cache.ScoreBound{Score: m.MinScore.GetScore(), Exclusive: m.MinScore.GetExclusive()}
		}
		if m, ok := r.ByScore.GetMax().(*pb.ByScore_MaxScore); ok {
			hi = cache.ScoreBound{Score: m.MaxScore.GetScore(), Exclusive: m.MaxScore.GetExclusive()}
		}
		es, found, err = d.s.cache.SortedSetFetchByScore(ctx, c, req.SetName, lo, hi, desc, int(r.ByScore.GetOffset()), int(r.ByScore.GetCount()))
	default:
		// No range: the whole set.
		es, found, err = d.s.cache.SortedSetFetchByRank(ctx, c, req.SetName, 0, cache.Unbounded, desc)
	}
	if err != nil {
		return nil, d.fail(ctx, "sorted set fetch", err)
	}
	if !found {
		return &pb.SortedSetFetchResponse{SortedSet: &pb.SortedSetFetchResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	f := &pb.SortedSetFetchFound{}
	if req.WithScores {
		out := make([]*pb.SortedSetElement, len(es))
		for i, e := range es {
			out[i] = &pb.SortedSetElement{Value: e.Value, Score: e.Score}
		}
		f.Elements = &pb.SortedSetFetchFound_ValuesWithScores{ValuesWithScores: &pb.SortedSetElements{Elements: out}}
	} else {
		out := make([][]byte, len(es))
		for i, e := range es {
			out[i] = e.Value
		}
		f.Elements = &pb.SortedSetFetchFound_Values{Values: &pb.SortedSetValues{Values: out}}
	}
	return &pb.SortedSetFetchResponse{SortedSet: &pb.SortedSetFetchResponse_Found{Found: f}}, nil
}

func (d *dataServer) SortedSetGetScore(ctx context.Context, req *pb.SortedSetGetScoreRequest) (*pb.SortedSetGetScoreResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	scores, present, found, err := d.s.cache.SortedSetGetScores(ctx, c, req.SetName, req.Values)
	if err != nil {
		return nil, d.fail(ctx, "sorted set get score", err)
	}
	if !found {
		return &pb.SortedSetGetScoreResponse{SortedSet: &pb.SortedSetGetScoreResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	parts := make([]*pb.SortedSetScorePart, len(scores))
	for i, s := range scores {
		if present[i] {
			parts[i] = &pb.SortedSetScorePart{Result: pb.ECacheResult_Hit, Score: s}
		} else {
			parts[i] = &pb.SortedSetScorePart{Result: pb.ECacheResult_Miss}
		}
	}
	return &pb.SortedSetGetScoreResponse{SortedSet: &pb.SortedSetGetScoreResponse_Found{Found: &pb.SortedSetScores{Elements: parts}}}, nil
}

func (d *dataServer) SortedSetRemove(ctx context.Context, req *pb.SortedSetRemoveRequest) (*pb.SortedSetRemoveResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	switch r := req.RemoveElements.(type) {
	case *pb.SortedSetRemoveRequest_Some:
		err = d.s.cache.SortedSetRemove(ctx, c, req.SetName, r.Some.GetValues())
	case *pb.SortedSetRemoveRequest_All:
		err = d.s.cache.SortedSetRemoveAll(ctx, c, req.SetName)
	default:
		return nil, invalidArg("sorted set remove: missing some or all")
	}
	if err != nil {
		return nil, d.fail(ctx, "sorted set remove", err)
	}
	return &pb.SortedSetRemoveResponse{}, nil
}

func (d *dataServer) SortedSetIncrement(ctx context.Context, req *pb.SortedSetIncrementRequest) (*pb.SortedSetIncrementResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	s, err := d.s.cache.SortedSetIncrement(ctx, c, req.SetName, req.Value, req.Amount, ttl)
	if err != nil {
		return nil, d.fail(ctx, "sorted set increment", err)
	}
	return &pb.SortedSetIncrementResponse{Score: s}, nil
}

func (d *dataServer) SortedSetGetRank(ctx context.Context, req *pb.SortedSetGetRankRequest) (*pb.SortedSetGetRankResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	rank, present, found, err := d.s.cache.SortedSetGetRank(ctx, c, req.SetName, req.Value, req.Order == pb.Order_DESCENDING)
	if err != nil {
		return nil, d.fail(ctx, "sorted set get rank", err)
	}
	if !found {
		return &pb.SortedSetGetRankResponse{Rank: &pb.SortedSetGetRankResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	part := &pb.RankPart{Result: pb.ECacheResult_Miss}
	if present {
		part = &pb.RankPart{Result: pb.ECacheResult_Hit, Rank: uint64(rank)}
	}
	return &pb.SortedSetGetRankResponse{Rank: &pb.SortedSetGetRankResponse_ElementRank{ElementRank: part}}, nil
}

func (d *dataServer) SortedSetLength(ctx context.Context, req *pb.SortedSetLengthRequest) (*pb.SortedSetLengthResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.cache.SortedSetLength(ctx, c, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "sorted set length", err)
	}
	if !found {
		return &pb.SortedSetLengthResponse{SortedSet: &pb.SortedSetLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SortedSetLengthResponse{SortedSet: &pb.SortedSetLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}

func (d *dataServer) SortedSetLengthByScore(ctx context.Context, req *pb.SortedSetLengthByScoreRequest) (*pb.SortedSetLengthByScoreResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	lo, hi := minBound, maxBound
	switch m := req.Min.(type) {
	case *pb.SortedSetLengthByScoreRequest_InclusiveMin:
		lo = cache.ScoreBound{Score: m.InclusiveMin}
	case *pb.SortedSetLengthByScoreRequest_ExclusiveMin:
		lo = cache.ScoreBound{Score: m.ExclusiveMin, Exclusive: true}
	}
	switch m := req.Max.(type) {
	case *pb.SortedSetLengthByScoreRequest_InclusiveMax:
		hi = cache.ScoreBound{Score: m.InclusiveMax}
	case *pb.SortedSetLengthByScoreRequest_ExclusiveMax:
		hi = cache.ScoreBound{Score: m.ExclusiveMax, Exclusive: true}
	}
	n, found, err := d.s.cache.SortedSetLengthByScore(ctx, c, req.SetName, lo, hi)
	if err != nil {
		return nil, d.fail(ctx, "sorted set length by score", err)
	}
	if !found {
		return &pb.SortedSetLengthByScoreResponse{SortedSet: &pb.SortedSetLengthByScoreResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SortedSetLengthByScoreResponse{SortedSet: &pb.SortedSetLengthByScoreResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}

func (d *dataServer) SortedSetUnionStore(ctx context.Context, req *pb.SortedSetUnionStoreRequest) (*pb.SortedSetUnionStoreResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	var agg cache.Aggregate
	switch req.Aggregate {
	case pb.AggregateFunction_SUM:
		agg = cache.AggregateSum
	case pb.AggregateFunction_MIN:
		agg = cache.AggregateMin
	case pb.AggregateFunction_MAX:
		agg = cache.AggregateMax
	default:
		return nil, invalidArg("sorted set union store: unknown aggregate %d", req.Aggregate)
	}
	sources := make([]cache.UnionSource, len(req.Sources))
	for i, s := range req.Sources {
		sources[i] = cache.UnionSource{Key: s.GetSetName(), Weight: float64(s.GetWeight())}
	}
	n, err := d.s.cache.SortedSetUnionStore(ctx, c, req.SetName, sources, agg, wireTTL(req.TtlMilliseconds))
	if err != nil {
		return nil, d.fail(ctx, "sorted set union store", err)
	}
	return &pb.SortedSetUnionStoreResponse{Length: u32(n)}, nil
}
