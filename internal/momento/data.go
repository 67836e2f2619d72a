package momento

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/store"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// dataServer implements cache_client.Scs. Collection RPCs are answered
// UNIMPLEMENTED by the embedded type until the engine has collections.
// Every response sets its oneof explicitly: the SDKs branch on the case.
type dataServer struct {
	pb.UnimplementedScsServer
	s *Service
}

var _ pb.ScsServer = (*dataServer)(nil)

func (d *dataServer) fail(ctx context.Context, op string, err error) error {
	return toStatus(ctx, d.s.log, op, err)
}

func (d *dataServer) Get(ctx context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	v, found, err := d.s.store.Get(ctx, cache, req.CacheKey)
	if err != nil {
		return nil, d.fail(ctx, "get", err)
	}
	return getResponse(v, found), nil
}

func getResponse(v []byte, found bool) *pb.GetResponse {
	if !found {
		return &pb.GetResponse{Result: pb.ECacheResult_Miss}
	}
	return &pb.GetResponse{Result: pb.ECacheResult_Hit, CacheBody: v}
}

func (d *dataServer) GetBatch(req *pb.GetBatchRequest, stream pb.Scs_GetBatchServer) error {
	ctx := stream.Context()
	cache, err := cacheName(ctx)
	if err != nil {
		return err
	}
	for _, it := range req.Items {
		if err := checkKey(it.CacheKey); err != nil {
			return err
		}
	}
	// Read everything first so that an unknown cache fails the stream before
	// any message, then send in request order.
	resps := make([]*pb.GetResponse, len(req.Items))
	for i, it := range req.Items {
		v, found, err := d.s.store.Get(ctx, cache, it.CacheKey)
		if err != nil {
			return d.fail(ctx, "get batch", err)
		}
		resps[i] = getResponse(v, found)
	}
	for _, r := range resps {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	return nil
}

func (d *dataServer) GetWithHash(ctx context.Context, req *pb.GetWithHashRequest) (*pb.GetWithHashResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	v, found, err := d.s.store.Get(ctx, cache, req.CacheKey)
	if err != nil {
		return nil, d.fail(ctx, "get with hash", err)
	}
	if !found {
		return &pb.GetWithHashResponse{Result: &pb.GetWithHashResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.GetWithHashResponse{Result: &pb.GetWithHashResponse_Found{
		Found: &pb.HashedValue{Value: v, Hash: store.Hash(v)},
	}}, nil
}

func (d *dataServer) Set(ctx context.Context, req *pb.SetRequest) (*pb.SetResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	ttl, err := ttlFrom(req.TtlMilliseconds)
	if err != nil {
		return nil, err
	}
	if err := d.s.store.Set(ctx, cache, req.CacheKey, req.CacheBody, ttl); err != nil {
		return nil, d.fail(ctx, "set", err)
	}
	return &pb.SetResponse{Result: pb.ECacheResult_Ok}, nil
}

func (d *dataServer) SetBatch(req *pb.SetBatchRequest, stream pb.Scs_SetBatchServer) error {
	ctx := stream.Context()
	cache, err := cacheName(ctx)
	if err != nil {
		return err
	}
	items := make([]store.Item, len(req.Items))
	for i, it := range req.Items {
		if err := checkKey(it.CacheKey); err != nil {
			return err
		}
		ttl, err := ttlFrom(it.TtlMilliseconds)
		if err != nil {
			return err
		}
		items[i] = store.Item{Key: it.CacheKey, Value: it.CacheBody, TTL: ttl}
	}
	if err := d.s.store.SetBatch(ctx, cache, items); err != nil {
		return d.fail(ctx, "set batch", err)
	}
	for range items {
		if err := stream.Send(&pb.SetResponse{Result: pb.ECacheResult_Ok}); err != nil {
			return err
		}
	}
	return nil
}

// setIf is the shared path of SetIf, SetIfHash and SetIfNotExists.
func (d *dataServer) setIf(ctx context.Context, op string, key, value []byte, ttlMs uint64, cond store.Condition) (bool, error) {
	cache, err := keyedCache(ctx, key)
	if err != nil {
		return false, err
	}
	ttl, err := ttlFrom(ttlMs)
	if err != nil {
		return false, err
	}
	stored, err := d.s.store.SetIf(ctx, cache, key, value, ttl, cond)
	if err != nil {
		return false, d.fail(ctx, op, err)
	}
	return stored, nil
}

func (d *dataServer) SetIf(ctx context.Context, req *pb.SetIfRequest) (*pb.SetIfResponse, error) {
	var cond store.Condition
	switch c := req.Condition.(type) {
	case *pb.SetIfRequest_Present:
		cond = store.Condition{Kind: store.CondPresent}
	case *pb.SetIfRequest_Absent:
		cond = store.Condition{Kind: store.CondAbsent}
	case *pb.SetIfRequest_Equal:
		cond = store.Condition{Kind: store.CondEqual, Value: c.Equal.ValueToCheck}
	case *pb.SetIfRequest_NotEqual:
		cond = store.Condition{Kind: store.CondNotEqual, Value: c.NotEqual.ValueToCheck}
	case *pb.SetIfRequest_PresentAndNotEqual:
		cond = store.Condition{Kind: store.CondPresentAndNotEqual, Value: c.PresentAndNotEqual.ValueToCheck}
	case *pb.SetIfRequest_AbsentOrEqual:
		cond = store.Condition{Kind: store.CondAbsentOrEqual, Value: c.AbsentOrEqual.ValueToCheck}
	default:
		return nil, invalidArg("set if: missing condition")
	}
	stored, err := d.setIf(ctx, "set if", req.CacheKey, req.CacheBody, req.TtlMilliseconds, cond)
	if err != nil {
		return nil, err
	}
	if stored {
		return &pb.SetIfResponse{Result: &pb.SetIfResponse_Stored{Stored: &pb.Stored{}}}, nil
	}
	return &pb.SetIfResponse{Result: &pb.SetIfResponse_NotStored{NotStored: &pb.NotStored{}}}, nil
}

func (d *dataServer) SetIfHash(ctx context.Context, req *pb.SetIfHashRequest) (*pb.SetIfHashResponse, error) {
	var cond store.Condition
	switch c := req.Condition.(type) {
	case *pb.SetIfHashRequest_Unconditional:
		cond = store.Condition{Kind: store.CondAlways}
	case *pb.SetIfHashRequest_PresentAndHashEqual:
		cond = store.Condition{Kind: store.CondPresentAndHashEqual, Value: c.PresentAndHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_PresentAndNotHashEqual:
		cond = store.Condition{Kind: store.CondPresentAndHashNotEqual, Value: c.PresentAndNotHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_AbsentOrHashEqual:
		cond = store.Condition{Kind: store.CondAbsentOrHashEqual, Value: c.AbsentOrHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_AbsentOrNotHashEqual:
		cond = store.Condition{Kind: store.CondAbsentOrHashNotEqual, Value: c.AbsentOrNotHashEqual.HashToCheck}
	default:
		return nil, invalidArg("set if hash: missing condition")
	}
	stored, err := d.setIf(ctx, "set if hash", req.CacheKey, req.CacheBody, req.TtlMilliseconds, cond)
	if err != nil {
		return nil, err
	}
	if stored {
		return &pb.SetIfHashResponse{Result: &pb.SetIfHashResponse_Stored{
			Stored: &pb.StoredHash{NewHash: store.Hash(req.CacheBody)},
		}}, nil
	}
	return &pb.SetIfHashResponse{Result: &pb.SetIfHashResponse_NotStored{NotStored: &pb.NotStored{}}}, nil
}

func (d *dataServer) SetIfNotExists(ctx context.Context, req *pb.SetIfNotExistsRequest) (*pb.SetIfNotExistsResponse, error) {
	stored, err := d.setIf(ctx, "set if not exists", req.CacheKey, req.CacheBody, req.TtlMilliseconds, store.Condition{Kind: store.CondAbsent})
	if err != nil {
		return nil, err
	}
	if stored {
		return &pb.SetIfNotExistsResponse{Result: &pb.SetIfNotExistsResponse_Stored{Stored: &pb.Stored{}}}, nil
	}
	return &pb.SetIfNotExistsResponse{Result: &pb.SetIfNotExistsResponse_NotStored{NotStored: &pb.NotStored{}}}, nil
}

func (d *dataServer) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	if err := d.s.store.Delete(ctx, cache, req.CacheKey); err != nil {
		return nil, d.fail(ctx, "delete", err)
	}
	return &pb.DeleteResponse{}, nil
}

func (d *dataServer) KeysExist(ctx context.Context, req *pb.KeysExistRequest) (*pb.KeysExistResponse, error) {
	cache, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range req.CacheKeys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	exists, err := d.s.store.KeysExist(ctx, cache, req.CacheKeys)
	if err != nil {
		return nil, d.fail(ctx, "keys exist", err)
	}
	return &pb.KeysExistResponse{Exists: exists}, nil
}

func (d *dataServer) Increment(ctx context.Context, req *pb.IncrementRequest) (*pb.IncrementResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	ttl, err := ttlFrom(req.TtlMilliseconds)
	if err != nil {
		return nil, err
	}
	v, err := d.s.store.Increment(ctx, cache, req.CacheKey, req.Amount, ttl)
	if err != nil {
		return nil, d.fail(ctx, "increment", err)
	}
	return &pb.IncrementResponse{Value: v}, nil
}

func (d *dataServer) UpdateTtl(ctx context.Context, req *pb.UpdateTtlRequest) (*pb.UpdateTtlResponse, error) {
	cache, err := keyedCache(ctx, req.CacheKey)
	if err != nil {
		return nil, err
	}
	var mode store.TTLMode
	var ms uint64
	switch u := req.UpdateTtl.(type) {
	case *pb.UpdateTtlRequest_OverwriteToMilliseconds:
		mode, ms = store.TTLOverwrite, u.OverwriteToMilliseconds
	case *pb.UpdateTtlRequest_IncreaseToMilliseconds:
		mode, ms = store.TTLIncrease, u.IncreaseToMilliseconds
	case *pb.UpdateTtlRequest_DecreaseToMilliseconds:
		mode, ms = store.TTLDecrease, u.DecreaseToMilliseconds
	default:
		return nil, invalidArg("update ttl: missing overwrite, increase or decrease")
	}
	if ms == 0 {
		return nil, invalidArg("update ttl: ttl must be positive")
	}
	ttl, err := ttlFrom(ms)
	if err != nil {
		return nil, err
	}
	res, err := d.s.store.UpdateTTL(ctx, cache, req.CacheKey, mode, ttl)
	if err != nil {
		return nil, d.fail(ctx, "update ttl", err)
	}
	switch res {
	case store.TTLSet:
		return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_Set{Set: &pb.TtlSet{}}}, nil
	case store.TTLNotSet:
		return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_NotSet{NotSet: &pb.TtlNotSet{}}}, nil
	}
	return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_Missing{Missing: &pb.Missing{}}}, nil
}

func (d *dataServer) meta(ctx context.Context, op string, key []byte) (store.Meta, bool, error) {
	cache, err := keyedCache(ctx, key)
	if err != nil {
		return store.Meta{}, false, err
	}
	m, found, err := d.s.store.Meta(ctx, cache, key)
	if err != nil {
		return store.Meta{}, false, d.fail(ctx, op, err)
	}
	return m, found, nil
}

func (d *dataServer) ItemGetTtl(ctx context.Context, req *pb.ItemGetTtlRequest) (*pb.ItemGetTtlResponse, error) {
	m, found, err := d.meta(ctx, "item get ttl", req.CacheKey)
	if err != nil {
		return nil, err
	}
	if !found {
		return &pb.ItemGetTtlResponse{Result: &pb.ItemGetTtlResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ItemGetTtlResponse{Result: &pb.ItemGetTtlResponse_Found{
		Found: &pb.RemainingTtl{RemainingTtlMillis: remainingMillis(m.ExpiresAt, d.s.now())},
	}}, nil
}

var itemTypes = [...]pb.ItemType{
	store.KindScalar:     pb.ItemType_SCALAR,
	store.KindDictionary: pb.ItemType_DICTIONARY,
	store.KindSet:        pb.ItemType_SET,
	store.KindList:       pb.ItemType_LIST,
	store.KindSortedSet:  pb.ItemType_SORTED_SET,
}

func (d *dataServer) ItemGetType(ctx context.Context, req *pb.ItemGetTypeRequest) (*pb.ItemGetTypeResponse, error) {
	m, found, err := d.meta(ctx, "item get type", req.CacheKey)
	if err != nil {
		return nil, err
	}
	if !found {
		return &pb.ItemGetTypeResponse{Result: &pb.ItemGetTypeResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ItemGetTypeResponse{Result: &pb.ItemGetTypeResponse_Found{
		Found: &pb.ItemTypeFound{ItemType: itemTypes[m.Kind]},
	}}, nil
}
