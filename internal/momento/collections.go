package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Collection RPCs of cache_client.Scs: dictionaries, sets, lists and sorted
// sets. Each one is a thin translation to a cache.Collections call; every
// response sets its oneof, and a missing collection is the `missing` case,
// never an error.

// ---- dictionaries ----

func (d *dataServer) DictionarySet(ctx context.Context, req *pb.DictionarySetRequest) (*pb.DictionarySetResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	items := make([]cache.FieldValue, len(req.Items))
	for i, it := range req.Items {
		items[i] = cache.FieldValue{Field: it.Field, Value: it.Value}
	}
	if err := d.s.cache.DictionarySet(ctx, c, req.DictionaryName, items, ttl); err != nil {
		return nil, d.fail(ctx, "dictionary set", err)
	}
	return &pb.DictionarySetResponse{}, nil
}

func (d *dataServer) DictionaryGet(ctx context.Context, req *pb.DictionaryGetRequest) (*pb.DictionaryGetResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	values, present, found, err := d.s.cache.DictionaryGet(ctx, c, req.DictionaryName, req.Fields)
	if err != nil {
		return nil, d.fail(ctx, "dictionary get", err)
	}
	if !found {
		return &pb.DictionaryGetResponse{Dictionary: &pb.DictionaryGetResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	parts := make([]*pb.DictionaryGetPart, len(values))
	for i, v := range values {
		if present[i] {
			parts[i] = &pb.DictionaryGetPart{Result: pb.ECacheResult_Hit, CacheBody: v}
		} else {
			parts[i] = &pb.DictionaryGetPart{Result: pb.ECacheResult_Miss}
		}
	}
	return &pb.DictionaryGetResponse{Dictionary: &pb.DictionaryGetResponse_Found{Found: &pb.DictionaryGetFound{Items: parts}}}, nil
}

func (d *dataServer) DictionaryFetch(ctx context.Context, req *pb.DictionaryFetchRequest) (*pb.DictionaryFetchResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	items, found, err := d.s.cache.DictionaryFetch(ctx, c, req.DictionaryName)
	if err != nil {
		return nil, d.fail(ctx, "dictionary fetch", err)
	}
	if !found {
		return &pb.DictionaryFetchResponse{Dictionary: &pb.DictionaryFetchResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	out := make([]*pb.DictionaryFieldValuePair, len(items))
	for i, it := range items {
		out[i] = &pb.DictionaryFieldValuePair{Field: it.Field, Value: it.Value}
	}
	return &pb.DictionaryFetchResponse{Dictionary: &pb.DictionaryFetchResponse_Found{Found: &pb.DictionaryFetchFound{Items: out}}}, nil
}

func (d *dataServer) DictionaryIncrement(ctx context.Context, req *pb.DictionaryIncrementRequest) (*pb.DictionaryIncrementResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	v, err := d.s.cache.DictionaryIncrement(ctx, c, req.DictionaryName, req.Field, req.Amount, ttl)
	if err != nil {
		return nil, d.fail(ctx, "dictionary increment", err)
	}
	return &pb.DictionaryIncrementResponse{Value: v}, nil
}

func (d *dataServer) DictionaryDelete(ctx context.Context, req *pb.DictionaryDeleteRequest) (*pb.DictionaryDeleteResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	switch del := req.Delete.(type) {
	case *pb.DictionaryDeleteRequest_Some:
		err = d.s.cache.DictionaryDelete(ctx, c, req.DictionaryName, del.Some.GetFields())
	case *pb.DictionaryDeleteRequest_All:
		err = d.s.cache.DictionaryDeleteAll(ctx, c, req.DictionaryName)
	default:
		return nil, invalidArg("dictionary delete: missing some or all")
	}
	if err != nil {
		return nil, d.fail(ctx, "dictionary delete", err)
	}
	return &pb.DictionaryDeleteResponse{}, nil
}

func (d *dataServer) DictionaryLength(ctx context.Context, req *pb.DictionaryLengthRequest) (*pb.DictionaryLengthResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.cache.DictionaryLength(ctx, c, req.DictionaryName)
	if err != nil {
		return nil, d.fail(ctx, "dictionary length", err)
	}
	if !found {
		return &pb.DictionaryLengthResponse{Dictionary: &pb.DictionaryLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.DictionaryLengthResponse{Dictionary: &pb.DictionaryLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}

// ---- sets ----

func (d *dataServer) SetUnion(ctx context.Context, req *pb.SetUnionRequest) (*pb.SetUnionResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	if err := d.s.cache.SetAdd(ctx, c, req.SetName, req.Elements, ttl); err != nil {
		return nil, d.fail(ctx, "set union", err)
	}
	return &pb.SetUnionResponse{}, nil
}

func (d *dataServer) SetDifference(ctx context.Context, req *pb.SetDifferenceRequest) (*pb.SetDifferenceResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	var found bool
	switch diff := req.Difference.(type) {
	case *pb.SetDifferenceRequest_Subtrahend:
		switch sub := diff.Subtrahend.GetSubtrahendSet().(type) {
		case *pb.Subtrahend_Set:
			found, err = d.s.cache.SetRemove(ctx, c, req.SetName, sub.Set.GetElements())
		case *pb.Subtrahend_Identity:
			// The set minus itself: every element goes.
			found, err = d.s.cache.SetRemoveAll(ctx, c, req.SetName)
		default:
			return nil, invalidArg("set difference: missing subtrahend set or identity")
		}
	case *pb.SetDifferenceRequest_Minuend:
		return nil, invalidArg("set difference: a minuend is not supported; send a subtrahend")
	default:
		return nil, invalidArg("set difference: missing subtrahend")
	}
	if err != nil {
		return nil, d.fail(ctx, "set difference", err)
	}
	if !found {
		return &pb.SetDifferenceResponse{Set: &pb.SetDifferenceResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetDifferenceResponse{Set: &pb.SetDifferenceResponse_Found{Found: &pb.Found{}}}, nil
}

func (d *dataServer) SetFetch(ctx context.Context, req *pb.SetFetchRequest) (*pb.SetFetchResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.cache.SetFetch(ctx, c, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "set fetch", err)
	}
	if !found {
		return &pb.SetFetchResponse{Set: &pb.SetFetchResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetFetchResponse{Set: &pb.SetFetchResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetSample(ctx context.Context, req *pb.SetSampleRequest) (*pb.SetSampleResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.cache.SetSample(ctx, c, req.SetName, int(min(req.Limit, math.MaxInt32)))
	if err != nil {
		return nil, d.fail(ctx, "set sample", err)
	}
	if !found {
		return &pb.SetSampleResponse{Set: &pb.SetSampleResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetSampleResponse{Set: &pb.SetSampleResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetPop(ctx context.Context, req *pb.SetPopRequest) (*pb.SetPopResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.cache.SetPop(ctx, c, req.SetName, int(req.Count))
	if err != nil {
		return nil, d.fail(ctx, "set pop", err)
	}
	if !found {
		return &pb.SetPopResponse{Set: &pb.SetPopResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetPopResponse{Set: &pb.SetPopResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetContains(ctx context.Context, req *pb.SetContainsRequest) (*pb.SetContainsResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	contains, found, err := d.s.cache.SetContains(ctx, c, req.SetName, req.Elements)
	if err != nil {
		return nil, d.fail(ctx, "set contains", err)
	}
	if !found {
		return &pb.SetContainsResponse{Set: &pb.SetContainsResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetContainsResponse{Set: &pb.SetContainsResponse_Found{Found: &pb.ContainsFound{Contains: contains}}}, nil
}

func (d *dataServer) SetLength(ctx context.Context, req *pb.SetLengthRequest) (*pb.SetLengthResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.cache.SetLength(ctx, c, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "set length", err)
	}
	if !found {
		return &pb.SetLengthResponse{Set: &pb.SetLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetLengthResponse{Set: &pb.SetLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}
