package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Collection RPCs of cache_client.Scs: dictionaries, sets, lists and sorted
// sets. Each one is a thin translation to a store.Collections call; every
// response sets its oneof, and a missing collection is the `missing` case,
// never an error.

func collTTL(ms uint64, refresh bool) (store.CollectionTTL, error) {
	ttl, err := ttlFrom(ms)
	return store.CollectionTTL{TTL: ttl, Refresh: refresh}, err
}

// collCall resolves the cache of a call on collection key and its TTL.
func collCall(ctx context.Context, key []byte, ms uint64, refresh bool) (string, store.CollectionTTL, error) {
	cache, err := keyedCache(ctx, key)
	if err != nil {
		return "", store.CollectionTTL{}, err
	}
	ttl, err := collTTL(ms, refresh)
	return cache, ttl, err
}

func u32(n int) uint32 { return uint32(min(n, math.MaxUint32)) }

// ---- dictionaries ----

func (d *dataServer) DictionarySet(ctx context.Context, req *pb.DictionarySetRequest) (*pb.DictionarySetResponse, error) {
	cache, ttl, err := collCall(ctx, req.DictionaryName, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	items := make([]store.FieldValue, len(req.Items))
	for i, it := range req.Items {
		items[i] = store.FieldValue{Field: it.Field, Value: it.Value}
	}
	if err := d.s.store.DictionarySet(ctx, cache, req.DictionaryName, items, ttl); err != nil {
		return nil, d.fail(ctx, "dictionary set", err)
	}
	return &pb.DictionarySetResponse{}, nil
}

func (d *dataServer) DictionaryGet(ctx context.Context, req *pb.DictionaryGetRequest) (*pb.DictionaryGetResponse, error) {
	cache, err := keyedCache(ctx, req.DictionaryName)
	if err != nil {
		return nil, err
	}
	values, present, found, err := d.s.store.DictionaryGet(ctx, cache, req.DictionaryName, req.Fields)
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
	cache, err := keyedCache(ctx, req.DictionaryName)
	if err != nil {
		return nil, err
	}
	items, found, err := d.s.store.DictionaryFetch(ctx, cache, req.DictionaryName)
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
	cache, ttl, err := collCall(ctx, req.DictionaryName, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	v, err := d.s.store.DictionaryIncrement(ctx, cache, req.DictionaryName, req.Field, req.Amount, ttl)
	if err != nil {
		return nil, d.fail(ctx, "dictionary increment", err)
	}
	return &pb.DictionaryIncrementResponse{Value: v}, nil
}

func (d *dataServer) DictionaryDelete(ctx context.Context, req *pb.DictionaryDeleteRequest) (*pb.DictionaryDeleteResponse, error) {
	cache, err := keyedCache(ctx, req.DictionaryName)
	if err != nil {
		return nil, err
	}
	var fields [][]byte
	switch del := req.Delete.(type) {
	case *pb.DictionaryDeleteRequest_Some:
		fields = del.Some.GetFields()
	case *pb.DictionaryDeleteRequest_All:
		items, _, err := d.s.store.DictionaryFetch(ctx, cache, req.DictionaryName)
		if err != nil {
			return nil, d.fail(ctx, "dictionary delete", err)
		}
		for _, it := range items {
			fields = append(fields, it.Field)
		}
	default:
		return nil, invalidArg("dictionary delete: missing some or all")
	}
	if err := d.s.store.DictionaryDelete(ctx, cache, req.DictionaryName, fields); err != nil {
		return nil, d.fail(ctx, "dictionary delete", err)
	}
	return &pb.DictionaryDeleteResponse{}, nil
}

func (d *dataServer) DictionaryLength(ctx context.Context, req *pb.DictionaryLengthRequest) (*pb.DictionaryLengthResponse, error) {
	cache, err := keyedCache(ctx, req.DictionaryName)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.store.DictionaryLength(ctx, cache, req.DictionaryName)
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
	cache, ttl, err := collCall(ctx, req.SetName, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	if err := d.s.store.SetAdd(ctx, cache, req.SetName, req.Elements, ttl); err != nil {
		return nil, d.fail(ctx, "set union", err)
	}
	return &pb.SetUnionResponse{}, nil
}

func (d *dataServer) SetDifference(ctx context.Context, req *pb.SetDifferenceRequest) (*pb.SetDifferenceResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	var elements [][]byte
	switch diff := req.Difference.(type) {
	case *pb.SetDifferenceRequest_Subtrahend:
		switch sub := diff.Subtrahend.GetSubtrahendSet().(type) {
		case *pb.Subtrahend_Set:
			elements = sub.Set.GetElements()
		case *pb.Subtrahend_Identity:
			// The set minus itself: every element goes.
			all, _, err := d.s.store.SetFetch(ctx, cache, req.SetName)
			if err != nil {
				return nil, d.fail(ctx, "set difference", err)
			}
			elements = all
		default:
			return nil, invalidArg("set difference: missing subtrahend set or identity")
		}
	case *pb.SetDifferenceRequest_Minuend:
		return nil, invalidArg("set difference: a minuend is not supported; send a subtrahend")
	default:
		return nil, invalidArg("set difference: missing subtrahend")
	}
	found, err := d.s.store.SetRemove(ctx, cache, req.SetName, elements)
	if err != nil {
		return nil, d.fail(ctx, "set difference", err)
	}
	if !found {
		return &pb.SetDifferenceResponse{Set: &pb.SetDifferenceResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetDifferenceResponse{Set: &pb.SetDifferenceResponse_Found{Found: &pb.Found{}}}, nil
}

func (d *dataServer) SetFetch(ctx context.Context, req *pb.SetFetchRequest) (*pb.SetFetchResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.store.SetFetch(ctx, cache, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "set fetch", err)
	}
	if !found {
		return &pb.SetFetchResponse{Set: &pb.SetFetchResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetFetchResponse{Set: &pb.SetFetchResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetSample(ctx context.Context, req *pb.SetSampleRequest) (*pb.SetSampleResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.store.SetSample(ctx, cache, req.SetName, int(min(req.Limit, math.MaxInt32)))
	if err != nil {
		return nil, d.fail(ctx, "set sample", err)
	}
	if !found {
		return &pb.SetSampleResponse{Set: &pb.SetSampleResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetSampleResponse{Set: &pb.SetSampleResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetPop(ctx context.Context, req *pb.SetPopRequest) (*pb.SetPopResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	el, found, err := d.s.store.SetPop(ctx, cache, req.SetName, int(req.Count))
	if err != nil {
		return nil, d.fail(ctx, "set pop", err)
	}
	if !found {
		return &pb.SetPopResponse{Set: &pb.SetPopResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetPopResponse{Set: &pb.SetPopResponse_Found{Found: &pb.Elements{Elements: el}}}, nil
}

func (d *dataServer) SetContains(ctx context.Context, req *pb.SetContainsRequest) (*pb.SetContainsResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	c, found, err := d.s.store.SetContains(ctx, cache, req.SetName, req.Elements)
	if err != nil {
		return nil, d.fail(ctx, "set contains", err)
	}
	if !found {
		return &pb.SetContainsResponse{Set: &pb.SetContainsResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetContainsResponse{Set: &pb.SetContainsResponse_Found{Found: &pb.ContainsFound{Contains: c}}}, nil
}

func (d *dataServer) SetLength(ctx context.Context, req *pb.SetLengthRequest) (*pb.SetLengthResponse, error) {
	cache, err := keyedCache(ctx, req.SetName)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.store.SetLength(ctx, cache, req.SetName)
	if err != nil {
		return nil, d.fail(ctx, "set length", err)
	}
	if !found {
		return &pb.SetLengthResponse{Set: &pb.SetLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.SetLengthResponse{Set: &pb.SetLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}
