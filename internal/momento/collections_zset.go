package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func (d *dataServer) SortedSetPut(ctx context.Context, req *pb.SortedSetPutRequest) (*pb.SortedSetPutResponse, error) {
	cache, ttl, err := collCall(ctx, req.SetName, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	es := make([]store.ScoredElement, len(req.Elements))
	for i, e := range req.Elements {
		es[i] = store.ScoredElement{Value: e.GetValue(), Score: e.GetScore()}
	}
	if err := d.s.store.SortedSetPut(ctx, cache, req.SetName, es, ttl); err != nil {
		return nil, d.fail(ctx, "sorted set put", err)
	}
	return &pb.SortedSetPutResponse{}, nil
}

var (
	minBound = store.ScoreBound{Score: math.Inf(-1)}
	maxBound = store.ScoreBound{Score: math.Inf(1)}
)

func (d *dataServer) SortedSetFetch(ctx context.Context, req *pb.SortedSetFetchRequest) (*pb.SortedSetFetchResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	desc := req.Order == pb.Order_DESCENDING
	var es []store.ScoredElement
	var found bool
	switch r := req.Range.(type) {
	case *pb.SortedSetFetchRequest_ByIndex:
		start, end := 0, store.Unbounded
		if s, ok := r.ByIndex.GetStart().(*pb.ByIndex_InclusiveStartIndex); ok {
			start = int(s.InclusiveStartIndex)
		}
		if e, ok := r.ByIndex.GetEnd().(*pb.ByIndex_ExclusiveEndIndex); ok {
			end = int(e.ExclusiveEndIndex)
		}
		es, found, err = d.s.store.SortedSetFetchByRank(ctx, cache, req.SetName, start, end, desc)
	case *pb.SortedSetFetchRequest_ByScore:
		lo, hi := minBound, maxBound
		if m, ok := r.ByScore.GetMin().(*pb.ByScore_MinScore); ok {
			lo = store.ScoreBound{Score: m.MinScore.GetScore(), Exclusive: m.MinScore.GetExclusive()}
		}
		if m, ok := r.ByScore.GetMax().(*pb.ByScore_MaxScore); ok {
			hi = store.ScoreBound{Score: m.MaxScore.GetScore(), Exclusive: m.MaxScore.GetExclusive()}
		}
		es, found, err = d.s.store.SortedSetFetchByScore(ctx, cache, req.SetName, lo, hi, desc, int(r.ByScore.GetOffset()), int(r.ByScore.GetCount()))
	default:
		// No range: the whole set.
		es, found, err = d.s.store.SortedSetFetchByRank(ctx, cache, req.SetName, 0, store.Unbounded, desc)
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
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	scores, present, found, err := d.s.store.SortedSetGetScores(ctx, cache, req.SetName, req.Values)
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
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	var values [][]byte
	switch r := req.RemoveElements.(type) {
	case *pb.SortedSetRemoveRequest_Some:
		values = r.Some.GetValues()
	case *pb.SortedSetRemoveRequest_All:
		es, _, err := d.s.store.SortedSetFetchByRank(ctx, cache, req.SetName, 0, store.Unbounded, false)
		if err != nil {
			return nil, d.fail(ctx, "sorted set remove", err)
		}
		for _, e := range es {
			values = append(values, e.Value)
		}
	default:
		return nil, invalidArg("sorted set remove: missing some or all")
	}
	if err := d.s.store.SortedSetRemove(ctx, cache, req.SetName, values); err != nil {
		return nil, d.fail(ctx, "sorted set remove", err)
	}
	return &pb.SortedSetRemoveResponse{}, nil
}

func (d *dataServer) SortedSetIncrement(ctx context.Context, req *pb.SortedSetIncrementRequest) (*pb.SortedSetIncrementResponse, error) {
	cache, ttl, err := collCall(ctx, req.SetName, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	s, err := d.s.store.SortedSetIncrement(ctx, cache, req.SetName, req.Value, req.Amount, ttl)
	if err != nil {
		return nil, d.fail(ctx, "sorted set increment", err)
	}
	return &pb.SortedSetIncrementResponse{Score: s}, nil
}

func (d *dataServer) SortedSetGetRank(ctx context.Context, req *pb.SortedSetGetRankRequest) (*pb.SortedSetGetRankResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	rank, present, found, err := d.s.store.SortedSetGetRank(ctx, cache, req.SetName, req.Value, req.Order == pb.Order_DESCENDING)
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
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.store.SortedSetLength(ctx, cache, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "sorted set length", err)
	}
	if !found {
		return &pb.SortedSetLengthResponse{SortedSet: &pb.SortedSetLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SortedSetLengthResponse{SortedSet: &pb.SortedSetLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}

func (d *dataServer) SortedSetLengthByScore(ctx context.Context, req *pb.SortedSetLengthByScoreRequest) (*pb.SortedSetLengthByScoreResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	lo, hi := minBound, maxBound
	switch m := req.Min.(type) {
	case *pb.SortedSetLengthByScoreRequest_InclusiveMin:
		lo = store.ScoreBound{Score: m.InclusiveMin}
	case *pb.SortedSetLengthByScoreRequest_ExclusiveMin:
		lo = store.ScoreBound{Score: m.ExclusiveMin, Exclusive: true}
	}
	switch m := req.Max.(type) {
	case *pb.SortedSetLengthByScoreRequest_InclusiveMax:
		hi = store.ScoreBound{Score: m.InclusiveMax}
	case *pb.SortedSetLengthByScoreRequest_ExclusiveMax:
		hi = store.ScoreBound{Score: m.ExclusiveMax, Exclusive: true}
	}
	n, found, err := d.s.store.SortedSetLengthByScore(ctx, cache, req.SetName, lo, hi)
	if err != nil {
		return nil, d.fail(ctx, "sorted set length by score", err)
	}
	if !found {
		return &pb.SortedSetLengthByScoreResponse{SortedSet: &pb.SortedSetLengthByScoreResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SortedSetLengthByScoreResponse{SortedSet: &pb.SortedSetLengthByScoreResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}

func (d *dataServer) SortedSetUnionStore(ctx context.Context, req *pb.SortedSetUnionStoreRequest) (*pb.SortedSetUnionStoreResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	ttl, err := ttlFrom(req.TtlMilliseconds)
	if err != nil {
		return nil, err
	}
	var agg store.Aggregate
	switch req.Aggregate {
	case pb.AggregateFunction_SUM:
		agg = store.AggregateSum
	case pb.AggregateFunction_MIN:
		agg = store.AggregateMin
	case pb.AggregateFunction_MAX:
		agg = store.AggregateMax
	default:
		return nil, invalidArg("sorted set union store: unknown aggregate %d", req.Aggregate)
	}
	sources := make([]store.UnionSource, len(req.Sources))
	for i, s := range req.Sources {
		if err := checkKey(s.GetSetName()); err != nil {
			return nil, err
		}
		sources[i] = store.UnionSource{Key: s.GetSetName(), Weight: float64(s.GetWeight())}
	}
	n, err := d.s.store.SortedSetUnionStore(ctx, cache, req.SetName, sources, agg, ttl)
	if err != nil {
		return nil, d.fail(ctx, "sorted set union store", err)
	}
	return &pb.SortedSetUnionStoreResponse{Length: u32(n)}, nil
}
