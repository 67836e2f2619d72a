package client

import (
	"context"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// ListPushRequest adds values at one end of a list: the request of
// ListPushFront, ListPushBack, ListConcatenateFront and ListConcatenateBack.
// TruncateToSize > 0 then drops elements from the other end until at most
// that many remain (truncate_back_to_size for the front calls,
// truncate_front_to_size for the back calls).
type ListPushRequest struct {
	CacheName      string
	ListName       string
	Values         []Value
	TruncateToSize uint32
	Ttl            *CollectionTtl
}

// ListPushResponse is *ListPushSuccess.
type ListPushResponse interface{ isListPushResponse() }

// ListPushSuccess carries the list's new length.
type ListPushSuccess struct{ length uint32 }

func (*ListPushSuccess) isListPushResponse() {}

// ListLength is the list's length after the push.
func (r *ListPushSuccess) ListLength() uint32 { return r.length }

func (c *CacheClient) listPush(ctx context.Context, op string, r *ListPushRequest, front, concat bool) (ListPushResponse, error) {
	if r == nil {
		return nil, nilRequest(op)
	}
	vals, err := prepareValues(r.Values, "value")
	if err != nil {
		return nil, err
	}
	if !concat && len(vals) != 1 {
		return nil, invalidArgument("%s: exactly one value is required, got %d", op, len(vals))
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	length, err := collCall(c, ctx, op, false, r.CacheName, r.ListName, func(ctx context.Context, n []byte) (uint32, error) {
		switch {
		case front && concat:
			resp, err := c.data.ListConcatenateFront(ctx, &pb.ListConcatenateFrontRequest{ListName: n, Values: vals, TtlMilliseconds: ms, RefreshTtl: refresh, TruncateBackToSize: r.TruncateToSize})
			return resp.GetListLength(), err
		case front:
			resp, err := c.data.ListPushFront(ctx, &pb.ListPushFrontRequest{ListName: n, Value: vals[0], TtlMilliseconds: ms, RefreshTtl: refresh, TruncateBackToSize: r.TruncateToSize})
			return resp.GetListLength(), err
		case concat:
			resp, err := c.data.ListConcatenateBack(ctx, &pb.ListConcatenateBackRequest{ListName: n, Values: vals, TtlMilliseconds: ms, RefreshTtl: refresh, TruncateFrontToSize: r.TruncateToSize})
			return resp.GetListLength(), err
		default:
			resp, err := c.data.ListPushBack(ctx, &pb.ListPushBackRequest{ListName: n, Value: vals[0], TtlMilliseconds: ms, RefreshTtl: refresh, TruncateFrontToSize: r.TruncateToSize})
			return resp.GetListLength(), err
		}
	})
	if err != nil {
		return nil, err
	}
	return &ListPushSuccess{length: length}, nil
}

// ListPushFront adds one value (Values[0]) at the front.
func (c *CacheClient) ListPushFront(ctx context.Context, r *ListPushRequest) (ListPushResponse, error) {
	return c.listPush(ctx, "ListPushFront", r, true, false)
}

// ListPushBack adds one value (Values[0]) at the back.
func (c *CacheClient) ListPushBack(ctx context.Context, r *ListPushRequest) (ListPushResponse, error) {
	return c.listPush(ctx, "ListPushBack", r, false, false)
}

// ListConcatenateFront adds Values, in order, before the first element.
func (c *CacheClient) ListConcatenateFront(ctx context.Context, r *ListPushRequest) (ListPushResponse, error) {
	return c.listPush(ctx, "ListConcatenateFront", r, true, true)
}

// ListConcatenateBack adds Values, in order, after the last element.
func (c *CacheClient) ListConcatenateBack(ctx context.Context, r *ListPushRequest) (ListPushResponse, error) {
	return c.listPush(ctx, "ListConcatenateBack", r, false, true)
}

// ListPopRequest removes the first or last element.
type ListPopRequest struct {
	CacheName string
	ListName  string
}

func (r *ListPopRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.ListName
}

// ListPopResponse is *ListPopHit or *ListPopMiss.
type ListPopResponse interface{ isListPopResponse() }

// ListPopHit carries the removed element.
type ListPopHit struct {
	value  []byte
	length uint32
}

// ListPopMiss: the list does not exist.
type ListPopMiss struct{}

func (*ListPopHit) isListPopResponse()  {}
func (*ListPopMiss) isListPopResponse() {}

// ValueString is the removed element.
func (r *ListPopHit) ValueString() string { return string(r.value) }

// ValueByte is the removed element.
func (r *ListPopHit) ValueByte() []byte { return r.value }

// ListLength is the length after the pop.
func (r *ListPopHit) ListLength() uint32 { return r.length }

// ListPopFront removes and returns the first element.
func (c *CacheClient) ListPopFront(ctx context.Context, r *ListPopRequest) (ListPopResponse, error) {
	resp, err := collCall(c, ctx, "ListPopFront", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.ListPopFrontResponse, error) {
		return c.data.ListPopFront(ctx, &pb.ListPopFrontRequest{ListName: n})
	})
	if err != nil {
		return nil, err
	}
	if f := resp.GetFound(); f != nil {
		return &ListPopHit{value: f.Front, length: f.ListLength}, nil
	}
	return &ListPopMiss{}, nil
}

// ListPopBack removes and returns the last element.
func (c *CacheClient) ListPopBack(ctx context.Context, r *ListPopRequest) (ListPopResponse, error) {
	resp, err := collCall(c, ctx, "ListPopBack", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.ListPopBackResponse, error) {
		return c.data.ListPopBack(ctx, &pb.ListPopBackRequest{ListName: n})
	})
	if err != nil {
		return nil, err
	}
	if f := resp.GetFound(); f != nil {
		return &ListPopHit{value: f.Back, length: f.ListLength}, nil
	}
	return &ListPopMiss{}, nil
}

// ListFetchRequest reads the slice [StartIndex, EndIndex) of a list; nil
// indexes are unbounded, negative ones count from the end (Python slicing).
type ListFetchRequest struct {
	CacheName  string
	ListName   string
	StartIndex *int32
	EndIndex   *int32
}

// ListFetchResponse is *ListFetchHit or *ListFetchMiss.
type ListFetchResponse interface{ isListFetchResponse() }

// ListFetchHit carries the elements of the slice.
type ListFetchHit struct{ values [][]byte }

// ListFetchMiss: the list does not exist.
type ListFetchMiss struct{}

func (*ListFetchHit) isListFetchResponse()  {}
func (*ListFetchMiss) isListFetchResponse() {}

// ValueList returns the elements as strings, in list order.
func (r *ListFetchHit) ValueList() []string { return byteStrings(r.values) }

// ValueListByte returns the elements as bytes.
func (r *ListFetchHit) ValueListByte() [][]byte { return r.values }

// ListFetch reads a slice of a list.
func (c *CacheClient) ListFetch(ctx context.Context, r *ListFetchRequest) (ListFetchResponse, error) {
	if r == nil {
		return nil, nilRequest("ListFetch")
	}
	req := &pb.ListFetchRequest{StartIndex: &pb.ListFetchRequest_UnboundedStart{UnboundedStart: &pb.Unbounded{}}, EndIndex: &pb.ListFetchRequest_UnboundedEnd{UnboundedEnd: &pb.Unbounded{}}}
	if r.StartIndex != nil {
		req.StartIndex = &pb.ListFetchRequest_InclusiveStart{InclusiveStart: *r.StartIndex}
	}
	if r.EndIndex != nil {
		req.EndIndex = &pb.ListFetchRequest_ExclusiveEnd{ExclusiveEnd: *r.EndIndex}
	}
	resp, err := collCall(c, ctx, "ListFetch", false, r.CacheName, r.ListName, func(ctx context.Context, n []byte) (*pb.ListFetchResponse, error) {
		req.ListName = n
		return c.data.ListFetch(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	if f := resp.GetFound(); f != nil {
		return &ListFetchHit{values: f.Values}, nil
	}
	return &ListFetchMiss{}, nil
}

// ListRetainRequest keeps only the slice [StartIndex, EndIndex).
type ListRetainRequest struct {
	CacheName  string
	ListName   string
	StartIndex *int32
	EndIndex   *int32
	Ttl        *CollectionTtl
}

// ListRetainResponse is *ListRetainSuccess.
type ListRetainResponse interface{ isListRetainResponse() }

// ListRetainSuccess: the list holds only the slice (or did not exist).
type ListRetainSuccess struct{}

func (*ListRetainSuccess) isListRetainResponse() {}

// ListRetain keeps only a slice of a list; an empty slice deletes it.
func (c *CacheClient) ListRetain(ctx context.Context, r *ListRetainRequest) (ListRetainResponse, error) {
	if r == nil {
		return nil, nilRequest("ListRetain")
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	req := &pb.ListRetainRequest{StartIndex: &pb.ListRetainRequest_UnboundedStart{UnboundedStart: &pb.Unbounded{}}, EndIndex: &pb.ListRetainRequest_UnboundedEnd{UnboundedEnd: &pb.Unbounded{}},
		TtlMilliseconds: ms, RefreshTtl: refresh}
	if r.StartIndex != nil {
		req.StartIndex = &pb.ListRetainRequest_InclusiveStart{InclusiveStart: *r.StartIndex}
	}
	if r.EndIndex != nil {
		req.EndIndex = &pb.ListRetainRequest_ExclusiveEnd{ExclusiveEnd: *r.EndIndex}
	}
	_, err = collCall(c, ctx, "ListRetain", false, r.CacheName, r.ListName, func(ctx context.Context, n []byte) (*pb.ListRetainResponse, error) {
		req.ListName = n
		return c.data.ListRetain(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	return &ListRetainSuccess{}, nil
}

// ListRemoveValueRequest removes every element equal to Value.
type ListRemoveValueRequest struct {
	CacheName string
	ListName  string
	Value     Value
}

// ListRemoveValueResponse is *ListRemoveValueSuccess.
type ListRemoveValueResponse interface{ isListRemoveValueResponse() }

// ListRemoveValueSuccess: no element equals the value any more.
type ListRemoveValueSuccess struct{}

func (*ListRemoveValueSuccess) isListRemoveValueResponse() {}

// ListRemoveValue removes every element equal to Value.
func (c *CacheClient) ListRemoveValue(ctx context.Context, r *ListRemoveValueRequest) (ListRemoveValueResponse, error) {
	if r == nil {
		return nil, nilRequest("ListRemoveValue")
	}
	v, err := prepareValue(r.Value, "value")
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "ListRemoveValue", false, r.CacheName, r.ListName, func(ctx context.Context, n []byte) (*pb.ListRemoveResponse, error) {
		return c.data.ListRemove(ctx, &pb.ListRemoveRequest{ListName: n, Remove: &pb.ListRemoveRequest_AllElementsWithValue{AllElementsWithValue: v}})
	})
	if err != nil {
		return nil, err
	}
	return &ListRemoveValueSuccess{}, nil
}

// ListLengthRequest counts the elements of a list.
type ListLengthRequest struct {
	CacheName string
	ListName  string
}

func (r *ListLengthRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.ListName
}

// ListLength counts the elements of a list.
func (c *CacheClient) ListLength(ctx context.Context, r *ListLengthRequest) (LengthResponse, error) {
	resp, err := collCall(c, ctx, "ListLength", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.ListLengthResponse, error) {
		return c.data.ListLength(ctx, &pb.ListLengthRequest{ListName: n})
	})
	if err != nil {
		return nil, err
	}
	return lengthFrom(resp.GetFound()), nil
}
