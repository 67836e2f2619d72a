package client

import (
	"context"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// SetAddElementsRequest adds elements to a set.
type SetAddElementsRequest struct {
	CacheName string
	SetName   string
	Elements  []Value
	Ttl       *CollectionTtl
}

// SetAddElementsResponse is *SetAddElementsSuccess.
type SetAddElementsResponse interface{ isSetAddElementsResponse() }

// SetAddElementsSuccess: the elements are in the set.
type SetAddElementsSuccess struct{}

func (*SetAddElementsSuccess) isSetAddElementsResponse() {}

// SetAddElements adds elements to a set, creating it if needed.
func (c *CacheClient) SetAddElements(ctx context.Context, r *SetAddElementsRequest) (SetAddElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SetAddElements")
	}
	el, err := prepareValues(r.Elements, "element")
	if err != nil {
		return nil, err
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "SetAddElements", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SetUnionResponse, error) {
		return c.data.SetUnion(ctx, &pb.SetUnionRequest{SetName: n, Elements: el, TtlMilliseconds: ms, RefreshTtl: refresh})
	})
	if err != nil {
		return nil, err
	}
	return &SetAddElementsSuccess{}, nil
}

// SetRemoveElementsRequest removes elements from a set.
type SetRemoveElementsRequest struct {
	CacheName string
	SetName   string
	Elements  []Value
}

// SetRemoveElementsResponse is *SetRemoveElementsSuccess.
type SetRemoveElementsResponse interface{ isSetRemoveElementsResponse() }

// SetRemoveElementsSuccess: the elements are not in the set (any more).
type SetRemoveElementsSuccess struct{}

func (*SetRemoveElementsSuccess) isSetRemoveElementsResponse() {}

// SetRemoveElements removes elements; a set left empty is deleted.
func (c *CacheClient) SetRemoveElements(ctx context.Context, r *SetRemoveElementsRequest) (SetRemoveElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SetRemoveElements")
	}
	el, err := prepareValues(r.Elements, "element")
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "SetRemoveElements", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SetDifferenceResponse, error) {
		return c.data.SetDifference(ctx, &pb.SetDifferenceRequest{SetName: n, Difference: &pb.SetDifferenceRequest_Subtrahend{
			Subtrahend: &pb.Subtrahend{SubtrahendSet: &pb.Subtrahend_Set{Set: &pb.Elements{Elements: el}}}}})
	})
	if err != nil {
		return nil, err
	}
	return &SetRemoveElementsSuccess{}, nil
}

// SetFetchRequest reads a whole set.
type SetFetchRequest struct {
	CacheName string
	SetName   string
}

// SetSampleRequest reads up to Limit random elements.
type SetSampleRequest struct {
	CacheName string
	SetName   string
	Limit     uint64
}

// SetPopRequest removes and returns up to Count random elements.
type SetPopRequest struct {
	CacheName string
	SetName   string
	Count     uint32
}

// SetElementsResponse is *SetElementsHit or *SetElementsMiss: the answer of
// SetFetch, SetSample and SetPop.
type SetElementsResponse interface{ isSetElementsResponse() }

// SetElementsHit carries elements of an existing set.
type SetElementsHit struct{ elements [][]byte }

// SetElementsMiss: the set does not exist.
type SetElementsMiss struct{}

func (*SetElementsHit) isSetElementsResponse()  {}
func (*SetElementsMiss) isSetElementsResponse() {}

// ValueString returns the elements as strings, in no particular order.
func (r *SetElementsHit) ValueString() []string { return byteStrings(r.elements) }

// ValueByte returns the elements as bytes.
func (r *SetElementsHit) ValueByte() [][]byte { return r.elements }

func setElements(found *pb.Elements) SetElementsResponse {
	if found == nil {
		return &SetElementsMiss{}
	}
	return &SetElementsHit{elements: found.Elements}
}

func (r *SetFetchRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.SetName
}

// SetFetch reads every element of a set.
func (c *CacheClient) SetFetch(ctx context.Context, r *SetFetchRequest) (SetElementsResponse, error) {
	resp, err := collCall(c, ctx, "SetFetch", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.SetFetchResponse, error) {
		return c.data.SetFetch(ctx, &pb.SetFetchRequest{SetName: n})
	})
	if err != nil {
		return nil, err
	}
	return setElements(resp.GetFound()), nil
}

// SetSample reads up to Limit distinct random elements.
func (c *CacheClient) SetSample(ctx context.Context, r *SetSampleRequest) (SetElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SetSample")
	}
	resp, err := collCall(c, ctx, "SetSample", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SetSampleResponse, error) {
		return c.data.SetSample(ctx, &pb.SetSampleRequest{SetName: n, Limit: r.Limit})
	})
	if err != nil {
		return nil, err
	}
	return setElements(resp.GetFound()), nil
}

// SetPop removes and returns up to Count random elements.
func (c *CacheClient) SetPop(ctx context.Context, r *SetPopRequest) (SetElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SetPop")
	}
	resp, err := collCall(c, ctx, "SetPop", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SetPopResponse, error) {
		return c.data.SetPop(ctx, &pb.SetPopRequest{SetName: n, Count: r.Count})
	})
	if err != nil {
		return nil, err
	}
	return setElements(resp.GetFound()), nil
}

// SetContainsElementsRequest tests membership.
type SetContainsElementsRequest struct {
	CacheName string
	SetName   string
	Elements  []Value
}

// SetContainsElementsResponse is *SetContainsElementsHit or *SetContainsElementsMiss.
type SetContainsElementsResponse interface{ isSetContainsElementsResponse() }

// SetContainsElementsHit reports membership per requested element.
type SetContainsElementsHit struct{ contains []bool }

// SetContainsElementsMiss: the set does not exist.
type SetContainsElementsMiss struct{}

func (*SetContainsElementsHit) isSetContainsElementsResponse()  {}
func (*SetContainsElementsMiss) isSetContainsElementsResponse() {}

// ContainsElements reports, in request order, which elements are members.
func (r *SetContainsElementsHit) ContainsElements() []bool { return r.contains }

// SetContainsElements tests which elements are members of a set.
func (c *CacheClient) SetContainsElements(ctx context.Context, r *SetContainsElementsRequest) (SetContainsElementsResponse, error) {
	if r == nil {
		return nil, nilRequest("SetContainsElements")
	}
	el, err := prepareValues(r.Elements, "element")
	if err != nil {
		return nil, err
	}
	resp, err := collCall(c, ctx, "SetContainsElements", false, r.CacheName, r.SetName, func(ctx context.Context, n []byte) (*pb.SetContainsResponse, error) {
		return c.data.SetContains(ctx, &pb.SetContainsRequest{SetName: n, Elements: el})
	})
	if err != nil {
		return nil, err
	}
	f := resp.GetFound()
	if f == nil {
		return &SetContainsElementsMiss{}, nil
	}
	if len(f.Contains) != len(el) {
		return nil, unexpected("SetContainsElements", resp)
	}
	return &SetContainsElementsHit{contains: f.Contains}, nil
}

// SetLengthRequest counts the elements of a set.
type SetLengthRequest struct {
	CacheName string
	SetName   string
}

func (r *SetLengthRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.SetName
}

// SetLength counts the elements of a set.
func (c *CacheClient) SetLength(ctx context.Context, r *SetLengthRequest) (LengthResponse, error) {
	resp, err := collCall(c, ctx, "SetLength", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.SetLengthResponse, error) {
		return c.data.SetLength(ctx, &pb.SetLengthRequest{SetName: n})
	})
	if err != nil {
		return nil, err
	}
	return lengthFrom(resp.GetFound()), nil
}
