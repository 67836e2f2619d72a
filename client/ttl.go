package client

import (
	"context"
	"math"
	"time"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// UpdateTtlResponse is the result of UpdateTtl, IncreaseTtl and DecreaseTtl:
// *UpdateTtlSet, *UpdateTtlNotSet or *UpdateTtlMiss.
type UpdateTtlResponse interface{ isUpdateTtlResponse() }

// UpdateTtlSet: the item's TTL was changed.
type UpdateTtlSet struct{}

// UpdateTtlNotSet: the item exists but its TTL was left alone, because the new
// TTL was not longer (IncreaseTtl) or not shorter (DecreaseTtl).
type UpdateTtlNotSet struct{}

// UpdateTtlMiss: the key does not exist.
type UpdateTtlMiss struct{}

func (*UpdateTtlSet) isUpdateTtlResponse()    {}
func (*UpdateTtlNotSet) isUpdateTtlResponse() {}
func (*UpdateTtlMiss) isUpdateTtlResponse()   {}

// UpdateTtlRequest sets the remaining TTL of an item to Ttl, which must be
// positive.
type UpdateTtlRequest struct {
	CacheName string
	Key       Key
	Ttl       time.Duration
}

// IncreaseTtlRequest sets the remaining TTL of an item to Ttl if that is
// longer than the current one.
type IncreaseTtlRequest struct {
	CacheName string
	Key       Key
	Ttl       time.Duration
}

// DecreaseTtlRequest sets the remaining TTL of an item to Ttl if that is
// shorter than the current one.
type DecreaseTtlRequest struct {
	CacheName string
	Key       Key
	Ttl       time.Duration
}

// UpdateTtl overwrites the TTL of an item.
func (c *CacheClient) UpdateTtl(ctx context.Context, req *UpdateTtlRequest) (UpdateTtlResponse, error) {
	if req == nil {
		return nil, nilRequest("UpdateTtl")
	}
	return c.updateTtl(ctx, "UpdateTtl", req.CacheName, req.Key, req.Ttl, func(ms uint64) *pb.UpdateTtlRequest {
		return &pb.UpdateTtlRequest{UpdateTtl: &pb.UpdateTtlRequest_OverwriteToMilliseconds{OverwriteToMilliseconds: ms}}
	})
}

// IncreaseTtl lengthens the TTL of an item; a shorter req.Ttl yields
// *UpdateTtlNotSet.
func (c *CacheClient) IncreaseTtl(ctx context.Context, req *IncreaseTtlRequest) (UpdateTtlResponse, error) {
	if req == nil {
		return nil, nilRequest("IncreaseTtl")
	}
	return c.updateTtl(ctx, "IncreaseTtl", req.CacheName, req.Key, req.Ttl, func(ms uint64) *pb.UpdateTtlRequest {
		return &pb.UpdateTtlRequest{UpdateTtl: &pb.UpdateTtlRequest_IncreaseToMilliseconds{IncreaseToMilliseconds: ms}}
	})
}

// DecreaseTtl shortens the TTL of an item; a longer req.Ttl yields
// *UpdateTtlNotSet.
func (c *CacheClient) DecreaseTtl(ctx context.Context, req *DecreaseTtlRequest) (UpdateTtlResponse, error) {
	if req == nil {
		return nil, nilRequest("DecreaseTtl")
	}
	return c.updateTtl(ctx, "DecreaseTtl", req.CacheName, req.Key, req.Ttl, func(ms uint64) *pb.UpdateTtlRequest {
		return &pb.UpdateTtlRequest{UpdateTtl: &pb.UpdateTtlRequest_DecreaseToMilliseconds{DecreaseToMilliseconds: ms}}
	})
}

func (c *CacheClient) updateTtl(ctx context.Context, op, cacheName string, k Key, ttl time.Duration,
	build func(ms uint64) *pb.UpdateTtlRequest) (UpdateTtlResponse, error) {
	if err := prepareCacheName(cacheName, true); err != nil {
		return nil, err
	}
	key, err := prepareKey(k)
	if err != nil {
		return nil, err
	}
	ms, err := positiveMillis(ttl)
	if err != nil {
		return nil, err
	}
	preq := build(ms)
	preq.CacheKey = key
	ctx, cancel := c.callContext(ctx, cacheName)
	defer cancel()
	resp, err := c.data.UpdateTtl(ctx, preq)
	if err != nil {
		return nil, convertError(err)
	}
	switch resp.GetResult().(type) {
	case *pb.UpdateTtlResponse_Set:
		return &UpdateTtlSet{}, nil
	case *pb.UpdateTtlResponse_NotSet:
		return &UpdateTtlNotSet{}, nil
	case *pb.UpdateTtlResponse_Missing:
		return &UpdateTtlMiss{}, nil
	}
	return nil, unexpected(op, resp)
}

// ---- ItemGetTtl ----

// ItemGetTtlRequest reads the remaining TTL of an item.
type ItemGetTtlRequest struct {
	CacheName string
	Key       Key
}

// ItemGetTtlResponse is *ItemGetTtlHit or *ItemGetTtlMiss.
type ItemGetTtlResponse interface{ isItemGetTtlResponse() }

// ItemGetTtlHit carries the remaining TTL.
type ItemGetTtlHit struct {
	remaining time.Duration
}

// ItemGetTtlMiss: the key does not exist.
type ItemGetTtlMiss struct{}

func (*ItemGetTtlHit) isItemGetTtlResponse()  {}
func (*ItemGetTtlMiss) isItemGetTtlResponse() {}

// RemainingTtl returns how long the item has left. An item that never expires
// reports the largest time.Duration.
func (r *ItemGetTtlHit) RemainingTtl() time.Duration { return r.remaining }

// ItemGetTtl reads the remaining TTL of an item of any type.
func (c *CacheClient) ItemGetTtl(ctx context.Context, req *ItemGetTtlRequest) (ItemGetTtlResponse, error) {
	if req == nil {
		return nil, nilRequest("ItemGetTtl")
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
	resp, err := c.data.ItemGetTtl(ctx, &pb.ItemGetTtlRequest{CacheKey: key})
	if err != nil {
		return nil, convertError(err)
	}
	switch r := resp.GetResult().(type) {
	case *pb.ItemGetTtlResponse_Found:
		return &ItemGetTtlHit{remaining: millisDuration(r.Found.GetRemainingTtlMillis())}, nil
	case *pb.ItemGetTtlResponse_Missing:
		return &ItemGetTtlMiss{}, nil
	}
	return nil, unexpected("ItemGetTtl", resp)
}

// millisDuration converts milliseconds, saturating instead of overflowing.
func millisDuration(ms uint64) time.Duration {
	if ms > uint64(math.MaxInt64/int64(time.Millisecond)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// ---- ItemGetType ----

// ItemType is the type of an item.
type ItemType int

// Item types. They mirror the wire enum.
const (
	ItemTypeScalar ItemType = iota
	ItemTypeDictionary
	ItemTypeSet
	ItemTypeList
	ItemTypeSortedSet
)

// String returns the lower-case name of t ("scalar", "sorted_set", ...).
func (t ItemType) String() string {
	switch t {
	case ItemTypeScalar:
		return "scalar"
	case ItemTypeDictionary:
		return "dictionary"
	case ItemTypeSet:
		return "set"
	case ItemTypeList:
		return "list"
	case ItemTypeSortedSet:
		return "sorted_set"
	}
	return "unknown"
}

// ItemGetTypeRequest reads the type of an item.
type ItemGetTypeRequest struct {
	CacheName string
	Key       Key
}

// ItemGetTypeResponse is *ItemGetTypeHit or *ItemGetTypeMiss.
type ItemGetTypeResponse interface{ isItemGetTypeResponse() }

// ItemGetTypeHit carries the item's type.
type ItemGetTypeHit struct {
	itemType ItemType
}

// ItemGetTypeMiss: the key does not exist.
type ItemGetTypeMiss struct{}

func (*ItemGetTypeHit) isItemGetTypeResponse()  {}
func (*ItemGetTypeMiss) isItemGetTypeResponse() {}

// Type returns the item's type.
func (r *ItemGetTypeHit) Type() ItemType { return r.itemType }

// ItemGetType reads the type of an item.
func (c *CacheClient) ItemGetType(ctx context.Context, req *ItemGetTypeRequest) (ItemGetTypeResponse, error) {
	if req == nil {
		return nil, nilRequest("ItemGetType")
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
	resp, err := c.data.ItemGetType(ctx, &pb.ItemGetTypeRequest{CacheKey: key})
	if err != nil {
		return nil, convertError(err)
	}
	switch r := resp.GetResult().(type) {
	case *pb.ItemGetTypeResponse_Found:
		switch t := r.Found.GetItemType(); t {
		case pb.ItemType_SCALAR, pb.ItemType_DICTIONARY, pb.ItemType_SET, pb.ItemType_LIST, pb.ItemType_SORTED_SET:
			return &ItemGetTypeHit{itemType: ItemType(t)}, nil
		}
	case *pb.ItemGetTypeResponse_Missing:
		return &ItemGetTypeMiss{}, nil
	}
	return nil, unexpected("ItemGetType", resp)
}
