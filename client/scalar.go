package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// ---- Get ----

// GetRequest reads one item.
type GetRequest struct {
	CacheName string
	Key       Key
}

// GetResponse is *GetHit or *GetMiss.
type GetResponse interface{ isGetResponse() }

// GetHit carries the value that was found.
type GetHit struct {
	value []byte
}

// GetMiss: the key does not exist (or has expired).
type GetMiss struct{}

func (*GetHit) isGetResponse()  {}
func (*GetMiss) isGetResponse() {}

// ValueString returns the value as a string.
func (r *GetHit) ValueString() string { return string(r.value) }

// ValueByte returns the value's bytes.
func (r *GetHit) ValueByte() []byte { return r.value }

func getResponseFrom(op string, resp *pb.GetResponse) (GetResponse, error) {
	switch resp.GetResult() {
	case pb.ECacheResult_Hit:
		v := resp.GetCacheBody()
		if v == nil {
			v = []byte{}
		}
		return &GetHit{value: v}, nil
	case pb.ECacheResult_Miss:
		return &GetMiss{}, nil
	}
	return nil, newError(InternalServerError,
		fmt.Sprintf("%s: unexpected result %v: %s", op, resp.GetResult(), resp.GetMessage()), nil)
}

// Get reads the value of a key.
func (c *CacheClient) Get(ctx context.Context, req *GetRequest) (GetResponse, error) {
	if req == nil {
		return nil, nilRequest("Get")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(req.Key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	resp, err := c.data.Get(ctx, &pb.GetRequest{CacheKey: key})
	if err != nil {
		return nil, convertError(err)
	}
	return getResponseFrom("Get", resp)
}

// ---- GetBatch ----

// GetBatchRequest reads several items in one call.
type GetBatchRequest struct {
	CacheName string
	Keys      []Key
}

// GetBatchResponse is *GetBatchSuccess.
type GetBatchResponse interface{ isGetBatchResponse() }

// GetBatchSuccess holds one *GetHit or *GetMiss per requested key.
type GetBatchSuccess struct {
	results []GetResponse
	keys    [][]byte
}

func (*GetBatchSuccess) isGetBatchResponse() {}

// Results returns one response per requested key, in request order.
func (r *GetBatchSuccess) Results() []GetResponse { return r.results }

// ValueMap maps each key that was found to its value, both as strings.
// Misses are left out.
func (r *GetBatchSuccess) ValueMap() map[string]string {
	m := make(map[string]string, len(r.results))
	for i, res := range r.results {
		if hit, ok := res.(*GetHit); ok {
			m[string(r.keys[i])] = hit.ValueString()
		}
	}
	return m
}

// ValueMapStringBytes is ValueMap with the values as bytes.
func (r *GetBatchSuccess) ValueMapStringBytes() map[string][]byte {
	m := make(map[string][]byte, len(r.results))
	for i, res := range r.results {
		if hit, ok := res.(*GetHit); ok {
			m[string(r.keys[i])] = hit.ValueByte()
		}
	}
	return m
}

// GetBatch reads several keys. The results are in the order of req.Keys.
func (c *CacheClient) GetBatch(ctx context.Context, req *GetBatchRequest) (GetBatchResponse, error) {
	if req == nil {
		return nil, nilRequest("GetBatch")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	keys, err := prepareKeys(req.Keys)
	if err != nil {
		return nil, err
	}
	items := make([]*pb.GetRequest, len(keys))
	for i, k := range keys {
		items[i] = &pb.GetRequest{CacheKey: k}
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	stream, err := c.data.GetBatch(ctx, &pb.GetBatchRequest{Items: items})
	if err != nil {
		return nil, convertError(err)
	}
	results := make([]GetResponse, 0, len(keys))
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, convertError(err)
		}
		if len(results) == len(keys) {
			return nil, newError(InternalServerError,
				fmt.Sprintf("GetBatch: server sent more than the %d results requested", len(keys)), nil)
		}
		r, err := getResponseFrom("GetBatch", resp)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if len(results) != len(keys) {
		return nil, newError(InternalServerError,
			fmt.Sprintf("GetBatch: server sent %d results for %d keys", len(results), len(keys)), nil)
	}
	return &GetBatchSuccess{results: results, keys: keys}, nil
}

// ---- Set ----

// SetRequest writes one item. A zero Ttl means the client's DefaultTTL.
type SetRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Ttl       time.Duration
}

// SetResponse is *SetSuccess.
type SetResponse interface{ isSetResponse() }

// SetSuccess: the item was stored.
type SetSuccess struct{}

func (*SetSuccess) isSetResponse() {}

// Set writes a key, replacing any previous value.
func (c *CacheClient) Set(ctx context.Context, req *SetRequest) (SetResponse, error) {
	if req == nil {
		return nil, nilRequest("Set")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(req.Key)
	if err != nil {
		return nil, err
	}
	value, err := prepareValue(req.Value, "value")
	if err != nil {
		return nil, err
	}
	ttl, err := c.ttlMillis(req.Ttl)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	if _, err := c.data.Set(ctx, &pb.SetRequest{CacheKey: key, CacheBody: value, TtlMilliseconds: ttl}); err != nil {
		return nil, convertError(err)
	}
	return &SetSuccess{}, nil
}

// ---- SetBatch ----

// BatchSetItem is one item of a SetBatchRequest. A zero Ttl means the
// request's Ttl.
type BatchSetItem struct {
	Key   Key
	Value Value
	Ttl   time.Duration
}

// SetBatchRequest writes several items in one call. A zero Ttl means the
// client's DefaultTTL.
type SetBatchRequest struct {
	CacheName string
	Items     []BatchSetItem
	Ttl       time.Duration
}

// SetBatchResponse is *SetBatchSuccess.
type SetBatchResponse interface{ isSetBatchResponse() }

// SetBatchSuccess holds one *SetSuccess per item, in request order.
type SetBatchSuccess struct {
	results []SetResponse
}

func (*SetBatchSuccess) isSetBatchResponse() {}

// Results returns one response per item, in request order.
func (r *SetBatchSuccess) Results() []SetResponse { return r.results }

// SetBatch writes several items. If the server reports that an item was not
// stored, SetBatch fails with an error naming the item.
func (c *CacheClient) SetBatch(ctx context.Context, req *SetBatchRequest) (SetBatchResponse, error) {
	if req == nil {
		return nil, nilRequest("SetBatch")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	if req.Ttl < 0 {
		return nil, invalidArgument("ttl must not be negative, got %v", req.Ttl)
	}
	items := make([]*pb.SetRequest, len(req.Items))
	for i, it := range req.Items {
		key, err := prepareKey(it.Key)
		if err != nil {
			return nil, err
		}
		value, err := prepareValue(it.Value, "value")
		if err != nil {
			return nil, err
		}
		ttl := it.Ttl
		if ttl == 0 {
			ttl = req.Ttl
		}
		ms, err := c.ttlMillis(ttl)
		if err != nil {
			return nil, err
		}
		items[i] = &pb.SetRequest{CacheKey: key, CacheBody: value, TtlMilliseconds: ms}
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	stream, err := c.data.SetBatch(ctx, &pb.SetBatchRequest{Items: items})
	if err != nil {
		return nil, convertError(err)
	}
	results := make([]SetResponse, 0, len(items))
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, convertError(err)
		}
		if len(results) == len(items) {
			return nil, newError(InternalServerError,
				fmt.Sprintf("SetBatch: server sent more than the %d results expected", len(items)), nil)
		}
		if resp.GetResult() != pb.ECacheResult_Ok {
			return nil, newError(UnknownServiceError,
				fmt.Sprintf("SetBatch: item %d not stored (%v): %s", len(results), resp.GetResult(), resp.GetMessage()), nil)
		}
		results = append(results, &SetSuccess{})
	}
	if len(results) != len(items) {
		return nil, newError(InternalServerError,
			fmt.Sprintf("SetBatch: server sent %d results for %d items", len(results), len(items)), nil)
	}
	return &SetBatchSuccess{results: results}, nil
}

// ---- Delete ----

// DeleteRequest removes one item of any type.
type DeleteRequest struct {
	CacheName string
	Key       Key
}

// DeleteResponse is *DeleteSuccess.
type DeleteResponse interface{ isDeleteResponse() }

// DeleteSuccess: the key no longer exists (whether or not it existed before).
type DeleteSuccess struct{}

func (*DeleteSuccess) isDeleteResponse() {}

// Delete removes a key. Deleting a missing key succeeds.
func (c *CacheClient) Delete(ctx context.Context, req *DeleteRequest) (DeleteResponse, error) {
	if req == nil {
		return nil, nilRequest("Delete")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(req.Key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	if _, err := c.data.Delete(ctx, &pb.DeleteRequest{CacheKey: key}); err != nil {
		return nil, convertError(err)
	}
	return &DeleteSuccess{}, nil
}

// ---- KeysExist ----

// KeysExistRequest checks which of several keys exist.
type KeysExistRequest struct {
	CacheName string
	Keys      []Key
}

// KeysExistResponse is *KeysExistSuccess.
type KeysExistResponse interface{ isKeysExistResponse() }

// KeysExistSuccess holds one flag per requested key.
type KeysExistSuccess struct {
	exists []bool
}

func (*KeysExistSuccess) isKeysExistResponse() {}

// Exists returns, in request order, whether each key exists.
func (r *KeysExistSuccess) Exists() []bool { return r.exists }

// KeysExist reports which keys exist.
func (c *CacheClient) KeysExist(ctx context.Context, req *KeysExistRequest) (KeysExistResponse, error) {
	if req == nil {
		return nil, nilRequest("KeysExist")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	keys, err := prepareKeys(req.Keys)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	resp, err := c.data.KeysExist(ctx, &pb.KeysExistRequest{CacheKeys: keys})
	if err != nil {
		return nil, convertError(err)
	}
	exists := resp.GetExists()
	if len(exists) != len(keys) {
		return nil, newError(InternalServerError,
			fmt.Sprintf("KeysExist: server sent %d flags for %d keys", len(exists), len(keys)), nil)
	}
	if exists == nil {
		exists = []bool{}
	}
	return &KeysExistSuccess{exists: exists}, nil
}

// ---- Increment ----

// IncrementRequest adds Amount to the integer stored at Key. A missing key is
// created holding Amount. A zero Ttl means the client's DefaultTTL.
type IncrementRequest struct {
	CacheName string
	Key       Key
	Amount    int64
	Ttl       time.Duration
}

// IncrementResponse is *IncrementSuccess.
type IncrementResponse interface{ isIncrementResponse() }

// IncrementSuccess carries the value after the increment.
type IncrementSuccess struct {
	value int64
}

func (*IncrementSuccess) isIncrementResponse() {}

// Value returns the new value.
func (r *IncrementSuccess) Value() int64 { return r.value }

// Increment adds to an integer value stored as base-10 text. A value that is
// not an integer fails with FailedPreconditionError.
func (c *CacheClient) Increment(ctx context.Context, req *IncrementRequest) (IncrementResponse, error) {
	if req == nil {
		return nil, nilRequest("Increment")
	}
	if err := prepareCacheName(req.CacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(req.Key)
	if err != nil {
		return nil, err
	}
	ttl, err := c.ttlMillis(req.Ttl)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, req.CacheName)
	defer cancel()
	resp, err := c.data.Increment(ctx, &pb.IncrementRequest{CacheKey: key, Amount: req.Amount, TtlMilliseconds: ttl})
	if err != nil {
		return nil, convertError(err)
	}
	return &IncrementSuccess{value: resp.GetValue()}, nil
}

// ---- Ping ----

// PingRequest checks that the server answers. It has no fields; nil is
// accepted.
type PingRequest struct{}

// PingResponse is *PingSuccess.
type PingResponse interface{ isPingResponse() }

// PingSuccess: the server answered.
type PingSuccess struct{}

func (*PingSuccess) isPingResponse() {}

// Ping calls /cache_client.Ping/Ping.
func (c *CacheClient) Ping(ctx context.Context, _ *PingRequest) (PingResponse, error) {
	ctx, cancel := c.callContext(ctx, "")
	defer cancel()
	if _, err := c.ping.Ping(ctx, &pb.PingRequest{}); err != nil {
		return nil, convertError(err)
	}
	return &PingSuccess{}, nil
}
