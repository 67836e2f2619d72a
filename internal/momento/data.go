package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// dataServer implements cache_client.Scs. Every response sets its oneof
// explicitly: the SDKs branch on the case.
type dataServer struct {
	pb.UnimplementedScsServer
	s *Service
}

var _ pb.ScsServer = (*dataServer)(nil)

func (d *dataServer) fail(ctx context.Context, op string, err error) error {
	return d.s.status(ctx, op, err)
}

func (d *dataServer) Get(ctx context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	v, found, err := d.s.cache.Get(ctx, c, req.CacheKey)
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
	c, err := cacheName(ctx)
	if err != nil {
		return err
	}
	keys := make([][]byte, len(req.Items))
	for i, it := range req.Items {
		keys[i] = it.CacheKey
	}
	// Read everything first so that an unknown cache fails the stream before
	// any message, then send in request order.
	values, found, err := d.s.cache.GetBatch(ctx, c, keys)
	if err != nil {
		return d.fail(ctx, "get batch", err)
	}
	for i := range values {
		if err := stream.Send(getResponse(values[i], found[i])); err != nil {
			return err
		}
	}
	return nil
}

func (d *dataServer) GetWithHash(ctx context.Context, req *pb.GetWithHashRequest) (*pb.GetWithHashResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	v, found, err := d.s.cache.Get(ctx, c, req.CacheKey)
	if err != nil {
		return nil, d.fail(ctx, "get with hash", err)
	}
	if !found {
		return &pb.GetWithHashResponse{Result: &pb.GetWithHashResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.GetWithHashResponse{Result: &pb.GetWithHashResponse_Found{
		Found: &pb.HashedValue{Value: v, Hash: cache.Hash(v)},
	}}, nil
}

func (d *dataServer) Set(ctx context.Context, req *pb.SetRequest) (*pb.SetResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.s.cache.Set(ctx, c, req.CacheKey, req.CacheBody, wireTTL(req.TtlMilliseconds)); err != nil {
		return nil, d.fail(ctx, "set", err)
	}
	return &pb.SetResponse{Result: pb.ECacheResult_Ok}, nil
}

func (d *dataServer) SetBatch(req *pb.SetBatchRequest, stream pb.Scs_SetBatchServer) error {
	ctx := stream.Context()
	c, err := cacheName(ctx)
	if err != nil {
		return err
	}
	items := make([]cache.Item, len(req.Items))
	for i, it := range req.Items {
		items[i] = cache.Item{Key: it.CacheKey, Value: it.CacheBody, TTL: wireTTL(it.TtlMilliseconds)}
	}
	if err := d.s.cache.SetBatch(ctx, c, items); err != nil {
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
func (d *dataServer) setIf(ctx context.Context, op string, key, value []byte, ttlMs uint64, cond cache.Condition) (bool, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return false, err
	}
	res, err := d.s.cache.SetIf(ctx, c, key, value, wireTTL(ttlMs), cond)
	if err != nil {
		return false, d.fail(ctx, op, err)
	}
	return res.Stored, nil
}

func (d *dataServer) SetIf(ctx context.Context, req *pb.SetIfRequest) (*pb.SetIfResponse, error) {
	var cond cache.Condition
	switch c := req.Condition.(type) {
	case *pb.SetIfRequest_Present:
		cond = cache.Condition{Kind: cache.CondPresent}
	case *pb.SetIfRequest_Absent:
		cond = cache.Condition{Kind: cache.CondAbsent}
	case *pb.SetIfRequest_Equal:
		cond = cache.Condition{Kind: cache.CondEqual, Value: c.Equal.ValueToCheck}
	case *pb.SetIfRequest_NotEqual:
		cond = cache.Condition{Kind: cache.CondNotEqual, Value: c.NotEqual.ValueToCheck}
	case *pb.SetIfRequest_PresentAndNotEqual:
		cond = cache.Condition{Kind: cache.CondPresentAndNotEqual, Value: c.PresentAndNotEqual.ValueToCheck}
	case *pb.SetIfRequest_AbsentOrEqual:
		cond = cache.Condition{Kind: cache.CondAbsentOrEqual, Value: c.AbsentOrEqual.ValueToCheck}
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
	var cond cache.Condition
	switch c := req.Condition.(type) {
	case *pb.SetIfHashRequest_Unconditional:
		cond = cache.Condition{Kind: cache.CondAlways}
	case *pb.SetIfHashRequest_PresentAndHashEqual:
		cond = cache.Condition{Kind: cache.CondPresentAndHashEqual, Value: c.PresentAndHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_PresentAndNotHashEqual:
		cond = cache.Condition{Kind: cache.CondPresentAndHashNotEqual, Value: c.PresentAndNotHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_AbsentOrHashEqual:
		cond = cache.Condition{Kind: cache.CondAbsentOrHashEqual, Value: c.AbsentOrHashEqual.HashToCheck}
	case *pb.SetIfHashRequest_AbsentOrNotHashEqual:
		cond = cache.Condition{Kind: cache.CondAbsentOrHashNotEqual, Value: c.AbsentOrNotHashEqual.HashToCheck}
	default:
		return nil, invalidArg("set if hash: missing condition")
	}
	stored, err := d.setIf(ctx, "set if hash", req.CacheKey, req.CacheBody, req.TtlMilliseconds, cond)
	if err != nil {
		return nil, err
	}
	if stored {
		return &pb.SetIfHashResponse{Result: &pb.SetIfHashResponse_Stored{
			Stored: &pb.StoredHash{NewHash: cache.Hash(req.CacheBody)},
		}}, nil
	}
	return &pb.SetIfHashResponse{Result: &pb.SetIfHashResponse_NotStored{NotStored: &pb.NotStored{}}}, nil
}

func (d *dataServer) SetIfNotExists(ctx context.Context, req *pb.SetIfNotExistsRequest) (*pb.SetIfNotExistsResponse, error) {
	stored, err := d.setIf(ctx, "set if not exists", req.CacheKey, req.CacheBody, req.TtlMilliseconds, cache.Condition{Kind: cache.CondAbsent})
	if err != nil {
		return nil, err
	}
	if stored {
		return &pb.SetIfNotExistsResponse{Result: &pb.SetIfNotExistsResponse_Stored{Stored: &pb.Stored{}}}, nil
	}
	return &pb.SetIfNotExistsResponse{Result: &pb.SetIfNotExistsResponse_NotStored{NotStored: &pb.NotStored{}}}, nil
}

func (d *dataServer) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.s.cache.Delete(ctx, c, req.CacheKey); err != nil {
		return nil, d.fail(ctx, "delete", err)
	}
	return &pb.DeleteResponse{}, nil
}

func (d *dataServer) KeysExist(ctx context.Context, req *pb.KeysExistRequest) (*pb.KeysExistResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	exists, err := d.s.cache.KeysExist(ctx, c, req.CacheKeys)
	if err != nil {
		return nil, d.fail(ctx, "keys exist", err)
	}
	return &pb.KeysExistResponse{Exists: exists}, nil
}

func (d *dataServer) Increment(ctx context.Context, req *pb.IncrementRequest) (*pb.IncrementResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	v, err := d.s.cache.Increment(ctx, c, req.CacheKey, req.Amount, wireTTL(req.TtlMilliseconds))
	if err != nil {
		return nil, d.fail(ctx, "increment", err)
	}
	return &pb.IncrementResponse{Value: v}, nil
}

func (d *dataServer) UpdateTtl(ctx context.Context, req *pb.UpdateTtlRequest) (*pb.UpdateTtlResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	var mode cache.TTLMode
	var ms uint64
	switch u := req.UpdateTtl.(type) {
	case *pb.UpdateTtlRequest_OverwriteToMilliseconds:
		mode, ms = cache.TTLOverwrite, u.OverwriteToMilliseconds
	case *pb.UpdateTtlRequest_IncreaseToMilliseconds:
		mode, ms = cache.TTLIncrease, u.IncreaseToMilliseconds
	case *pb.UpdateTtlRequest_DecreaseToMilliseconds:
		mode, ms = cache.TTLDecrease, u.DecreaseToMilliseconds
	default:
		return nil, invalidArg("update ttl: missing overwrite, increase or decrease")
	}
	res, err := d.s.cache.UpdateTTL(ctx, c, req.CacheKey, mode, wireTTL(ms))
	if err != nil {
		return nil, d.fail(ctx, "update ttl", err)
	}
	switch res {
	case cache.TTLSet:
		return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_Set{Set: &pb.TtlSet{}}}, nil
	case cache.TTLNotSet:
		return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_NotSet{NotSet: &pb.TtlNotSet{}}}, nil
	}
	return &pb.UpdateTtlResponse{Result: &pb.UpdateTtlResponse_Missing{Missing: &pb.Missing{}}}, nil
}

func (d *dataServer) meta(ctx context.Context, op string, key []byte) (cache.Meta, bool, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return cache.Meta{}, false, err
	}
	m, found, err := d.s.cache.ItemMeta(ctx, c, key)
	if err != nil {
		return cache.Meta{}, false, d.fail(ctx, op, err)
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
	// An item that never expires reports the largest int64, which every SDK
	// can represent.
	ms := uint64(math.MaxInt64)
	if left, ok := d.s.cache.Remaining(m.ExpiresAt); ok {
		ms = uint64(left.Milliseconds())
	}
	return &pb.ItemGetTtlResponse{Result: &pb.ItemGetTtlResponse_Found{Found: &pb.RemainingTtl{RemainingTtlMillis: ms}}}, nil
}

var itemTypes = [...]pb.ItemType{
	cache.KindScalar:     pb.ItemType_SCALAR,
	cache.KindDictionary: pb.ItemType_DICTIONARY,
	cache.KindSet:        pb.ItemType_SET,
	cache.KindList:       pb.ItemType_LIST,
	cache.KindSortedSet:  pb.ItemType_SORTED_SET,
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
