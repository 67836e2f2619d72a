package client

import (
	"context"
	"time"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// SetIfResponse is the result of the conditional writes SetIfAbsent,
// SetIfPresent, SetIfEqual, SetIfNotEqual, SetIfPresentAndNotEqual and
// SetIfAbsentOrEqual: *SetIfStored or *SetIfNotStored.
type SetIfResponse interface{ isSetIfResponse() }

// SetIfStored: the condition held and the value was written.
type SetIfStored struct{}

// SetIfNotStored: the condition did not hold; nothing changed.
type SetIfNotStored struct{}

func (*SetIfStored) isSetIfResponse()    {}
func (*SetIfNotStored) isSetIfResponse() {}

// SetIfAbsentRequest writes Value only if Key does not exist.
type SetIfAbsentRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Ttl       time.Duration
}

// SetIfPresentRequest writes Value only if Key exists.
type SetIfPresentRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Ttl       time.Duration
}

// SetIfEqualRequest writes Value only if Key exists and holds Equal.
type SetIfEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Equal     Value
	Ttl       time.Duration
}

// SetIfNotEqualRequest writes Value if Key does not exist or does not hold
// NotEqual.
type SetIfNotEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	NotEqual  Value
	Ttl       time.Duration
}

// SetIfPresentAndNotEqualRequest writes Value only if Key exists and does not
// hold NotEqual.
type SetIfPresentAndNotEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	NotEqual  Value
	Ttl       time.Duration
}

// SetIfAbsentOrEqualRequest writes Value if Key does not exist or holds Equal.
type SetIfAbsentOrEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Equal     Value
	Ttl       time.Duration
}

// SetIfAbsent writes a key only if it does not exist.
func (c *CacheClient) SetIfAbsent(ctx context.Context, req *SetIfAbsentRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfAbsent")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, nil, "",
		func([]byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_Absent{Absent: &pb.Absent{}}}
		})
}

// SetIfPresent writes a key only if it exists.
func (c *CacheClient) SetIfPresent(ctx context.Context, req *SetIfPresentRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfPresent")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, nil, "",
		func([]byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_Present{Present: &pb.Present{}}}
		})
}

// SetIfEqual writes a key only if it exists and holds req.Equal.
func (c *CacheClient) SetIfEqual(ctx context.Context, req *SetIfEqualRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfEqual")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, req.Equal, "equal",
		func(check []byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_Equal{Equal: &pb.Equal{ValueToCheck: check}}}
		})
}

// SetIfNotEqual writes a key if it does not exist or does not hold
// req.NotEqual.
func (c *CacheClient) SetIfNotEqual(ctx context.Context, req *SetIfNotEqualRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfNotEqual")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, req.NotEqual, "notEqual",
		func(check []byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_NotEqual{NotEqual: &pb.NotEqual{ValueToCheck: check}}}
		})
}

// SetIfPresentAndNotEqual writes a key only if it exists and does not hold
// req.NotEqual.
func (c *CacheClient) SetIfPresentAndNotEqual(ctx context.Context, req *SetIfPresentAndNotEqualRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfPresentAndNotEqual")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, req.NotEqual, "notEqual",
		func(check []byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_PresentAndNotEqual{
				PresentAndNotEqual: &pb.PresentAndNotEqual{ValueToCheck: check}}}
		})
}

// SetIfAbsentOrEqual writes a key if it does not exist or holds req.Equal.
func (c *CacheClient) SetIfAbsentOrEqual(ctx context.Context, req *SetIfAbsentOrEqualRequest) (SetIfResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfAbsentOrEqual")
	}
	return c.setIf(ctx, req.CacheName, req.Key, req.Value, req.Ttl, req.Equal, "equal",
		func(check []byte) *pb.SetIfRequest {
			return &pb.SetIfRequest{Condition: &pb.SetIfRequest_AbsentOrEqual{
				AbsentOrEqual: &pb.AbsentOrEqual{ValueToCheck: check}}}
		})
}

// setIf validates the common fields, builds the request with cond (which
// receives the comparison value, if checkLabel is set) and calls SetIf.
func (c *CacheClient) setIf(ctx context.Context, cacheName string, k Key, v Value, ttl time.Duration,
	check Value, checkLabel string, cond func(check []byte) *pb.SetIfRequest) (SetIfResponse, error) {
	if err := prepareCacheName(cacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(k)
	if err != nil {
		return nil, err
	}
	value, err := prepareValue(v, "value")
	if err != nil {
		return nil, err
	}
	var checkBytes []byte
	if checkLabel != "" {
		if checkBytes, err = prepareValue(check, checkLabel); err != nil {
			return nil, err
		}
	}
	ms, err := c.ttlMillis(ttl)
	if err != nil {
		return nil, err
	}
	preq := cond(checkBytes)
	preq.CacheKey, preq.CacheBody, preq.TtlMilliseconds = key, value, ms
	ctx, cancel := c.callContext(ctx, cacheName)
	defer cancel()
	resp, err := c.data.SetIf(ctx, preq)
	if err != nil {
		return nil, convertError(err)
	}
	switch resp.GetResult().(type) {
	case *pb.SetIfResponse_Stored:
		return &SetIfStored{}, nil
	case *pb.SetIfResponse_NotStored:
		return &SetIfNotStored{}, nil
	}
	return nil, unexpected("SetIf", resp)
}

// ---- hashes ----

// The server stores a hash of every scalar value. GetWithHash returns it and
// SetWithHash / SetIf*Hash* return the hash of the value they stored; the
// conditional variants compare against a hash instead of a full value.

// GetWithHashRequest reads one item and its hash.
type GetWithHashRequest struct {
	CacheName string
	Key       Key
}

// GetWithHashResponse is *GetWithHashHit or *GetWithHashMiss.
type GetWithHashResponse interface{ isGetWithHashResponse() }

// GetWithHashHit carries the value and its hash.
type GetWithHashHit struct {
	value []byte
	hash  []byte
}

// GetWithHashMiss: the key does not exist.
type GetWithHashMiss struct{}

func (*GetWithHashHit) isGetWithHashResponse()  {}
func (*GetWithHashMiss) isGetWithHashResponse() {}

// ValueString returns the value as a string.
func (r *GetWithHashHit) ValueString() string { return string(r.value) }

// ValueByte returns the value's bytes.
func (r *GetWithHashHit) ValueByte() []byte { return r.value }

// Hash returns the server's hash of the value.
func (r *GetWithHashHit) Hash() []byte { return r.hash }

// GetWithHash reads a key and the hash of its value.
func (c *CacheClient) GetWithHash(ctx context.Context, req *GetWithHashRequest) (GetWithHashResponse, error) {
	if req == nil {
		return nil, nilRequest("GetWithHash")
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
	resp, err := c.data.GetWithHash(ctx, &pb.GetWithHashRequest{CacheKey: key})
	if err != nil {
		return nil, convertError(err)
	}
	switch r := resp.GetResult().(type) {
	case *pb.GetWithHashResponse_Found:
		v := r.Found.GetValue()
		if v == nil {
			v = []byte{}
		}
		return &GetWithHashHit{value: v, hash: r.Found.GetHash()}, nil
	case *pb.GetWithHashResponse_Missing:
		return &GetWithHashMiss{}, nil
	}
	return nil, unexpected("GetWithHash", resp)
}

// SetWithHashRequest writes one item unconditionally and returns its hash.
type SetWithHashRequest struct {
	CacheName string
	Key       Key
	Value     Value
	Ttl       time.Duration
}

// SetWithHashResponse is *SetWithHashStored or *SetWithHashNotStored.
type SetWithHashResponse interface{ isSetWithHashResponse() }

// SetWithHashStored carries the hash of the stored value.
type SetWithHashStored struct {
	hash []byte
}

// SetWithHashNotStored: the server declined the write.
type SetWithHashNotStored struct{}

func (*SetWithHashStored) isSetWithHashResponse()    {}
func (*SetWithHashNotStored) isSetWithHashResponse() {}

// Hash returns the server's hash of the stored value.
func (r *SetWithHashStored) Hash() []byte { return r.hash }

// SetWithHash writes a key and returns the hash of the stored value.
func (c *CacheClient) SetWithHash(ctx context.Context, req *SetWithHashRequest) (SetWithHashResponse, error) {
	if req == nil {
		return nil, nilRequest("SetWithHash")
	}
	resp, err := c.setIfHash(ctx, req.CacheName, req.Key, req.Value, req.Ttl,
		&pb.SetIfHashRequest{Condition: &pb.SetIfHashRequest_Unconditional{Unconditional: &pb.Unconditional{}}})
	if err != nil {
		return nil, err
	}
	switch r := resp.GetResult().(type) {
	case *pb.SetIfHashResponse_Stored:
		return &SetWithHashStored{hash: r.Stored.GetNewHash()}, nil
	case *pb.SetIfHashResponse_NotStored:
		return &SetWithHashNotStored{}, nil
	}
	return nil, unexpected("SetWithHash", resp)
}

// SetIfHashResponse is the result of the hash-conditional writes:
// *SetIfHashStored or *SetIfHashNotStored.
type SetIfHashResponse interface{ isSetIfHashResponse() }

// SetIfHashStored: the condition held; carries the hash of the new value.
type SetIfHashStored struct {
	hash []byte
}

// SetIfHashNotStored: the condition did not hold; nothing changed.
type SetIfHashNotStored struct{}

func (*SetIfHashStored) isSetIfHashResponse()    {}
func (*SetIfHashNotStored) isSetIfHashResponse() {}

// Hash returns the server's hash of the stored value.
func (r *SetIfHashStored) Hash() []byte { return r.hash }

// SetIfPresentAndHashEqualRequest writes Value only if Key exists and its
// value's hash is HashEqual.
type SetIfPresentAndHashEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	HashEqual []byte
	Ttl       time.Duration
}

// SetIfPresentAndHashNotEqualRequest writes Value only if Key exists and its
// value's hash is not HashNotEqual.
type SetIfPresentAndHashNotEqualRequest struct {
	CacheName    string
	Key          Key
	Value        Value
	HashNotEqual []byte
	Ttl          time.Duration
}

// SetIfAbsentOrHashEqualRequest writes Value if Key does not exist or its
// value's hash is HashEqual.
type SetIfAbsentOrHashEqualRequest struct {
	CacheName string
	Key       Key
	Value     Value
	HashEqual []byte
	Ttl       time.Duration
}

// SetIfAbsentOrHashNotEqualRequest writes Value if Key does not exist or its
// value's hash is not HashNotEqual.
type SetIfAbsentOrHashNotEqualRequest struct {
	CacheName    string
	Key          Key
	Value        Value
	HashNotEqual []byte
	Ttl          time.Duration
}

// SetIfPresentAndHashEqual writes a key only if it exists and the hash of its
// value equals req.HashEqual.
func (c *CacheClient) SetIfPresentAndHashEqual(ctx context.Context, req *SetIfPresentAndHashEqualRequest) (SetIfHashResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfPresentAndHashEqual")
	}
	return c.setIfHashCond(ctx, "SetIfPresentAndHashEqual", req.CacheName, req.Key, req.Value, req.Ttl,
		&pb.SetIfHashRequest{Condition: &pb.SetIfHashRequest_PresentAndHashEqual{
			PresentAndHashEqual: &pb.PresentAndHashEqual{HashToCheck: req.HashEqual}}})
}

// SetIfPresentAndHashNotEqual writes a key only if it exists and the hash of
// its value differs from req.HashNotEqual.
func (c *CacheClient) SetIfPresentAndHashNotEqual(ctx context.Context, req *SetIfPresentAndHashNotEqualRequest) (SetIfHashResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfPresentAndHashNotEqual")
	}
	return c.setIfHashCond(ctx, "SetIfPresentAndHashNotEqual", req.CacheName, req.Key, req.Value, req.Ttl,
		&pb.SetIfHashRequest{Condition: &pb.SetIfHashRequest_PresentAndNotHashEqual{
			PresentAndNotHashEqual: &pb.PresentAndNotHashEqual{HashToCheck: req.HashNotEqual}}})
}

// SetIfAbsentOrHashEqual writes a key if it does not exist or the hash of its
// value equals req.HashEqual.
func (c *CacheClient) SetIfAbsentOrHashEqual(ctx context.Context, req *SetIfAbsentOrHashEqualRequest) (SetIfHashResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfAbsentOrHashEqual")
	}
	return c.setIfHashCond(ctx, "SetIfAbsentOrHashEqual", req.CacheName, req.Key, req.Value, req.Ttl,
		&pb.SetIfHashRequest{Condition: &pb.SetIfHashRequest_AbsentOrHashEqual{
			AbsentOrHashEqual: &pb.AbsentOrHashEqual{HashToCheck: req.HashEqual}}})
}

// SetIfAbsentOrHashNotEqual writes a key if it does not exist or the hash of
// its value differs from req.HashNotEqual.
func (c *CacheClient) SetIfAbsentOrHashNotEqual(ctx context.Context, req *SetIfAbsentOrHashNotEqualRequest) (SetIfHashResponse, error) {
	if req == nil {
		return nil, nilRequest("SetIfAbsentOrHashNotEqual")
	}
	return c.setIfHashCond(ctx, "SetIfAbsentOrHashNotEqual", req.CacheName, req.Key, req.Value, req.Ttl,
		&pb.SetIfHashRequest{Condition: &pb.SetIfHashRequest_AbsentOrNotHashEqual{
			AbsentOrNotHashEqual: &pb.AbsentOrNotHashEqual{HashToCheck: req.HashNotEqual}}})
}

func (c *CacheClient) setIfHashCond(ctx context.Context, op, cacheName string, k Key, v Value, ttl time.Duration,
	preq *pb.SetIfHashRequest) (SetIfHashResponse, error) {
	resp, err := c.setIfHash(ctx, cacheName, k, v, ttl, preq)
	if err != nil {
		return nil, err
	}
	switch r := resp.GetResult().(type) {
	case *pb.SetIfHashResponse_Stored:
		return &SetIfHashStored{hash: r.Stored.GetNewHash()}, nil
	case *pb.SetIfHashResponse_NotStored:
		return &SetIfHashNotStored{}, nil
	}
	return nil, unexpected(op, resp)
}

// setIfHash validates the common fields, completes preq and calls SetIfHash.
func (c *CacheClient) setIfHash(ctx context.Context, cacheName string, k Key, v Value, ttl time.Duration,
	preq *pb.SetIfHashRequest) (*pb.SetIfHashResponse, error) {
	if err := prepareCacheName(cacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(k)
	if err != nil {
		return nil, err
	}
	value, err := prepareValue(v, "value")
	if err != nil {
		return nil, err
	}
	ms, err := c.ttlMillis(ttl)
	if err != nil {
		return nil, err
	}
	preq.CacheKey, preq.CacheBody, preq.TtlMilliseconds = key, value, ms
	ctx, cancel := c.callContext(ctx, cacheName)
	defer cancel()
	resp, err := c.data.SetIfHash(ctx, preq)
	if err != nil {
		return nil, convertError(err)
	}
	return resp, nil
}
