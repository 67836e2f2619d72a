package momento

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

func (d *dataServer) listPush(ctx context.Context, op string, key []byte, values [][]byte, front bool, trunc uint32, ms uint64, refresh bool) (uint32, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return 0, err
	}
	ttl := collTTL(ms, refresh)
	n, err := d.s.cache.ListPush(ctx, c, key, values, front, int(trunc), ttl)
	if err != nil {
		return 0, d.fail(ctx, op, err)
	}
	return u32(n), nil
}

func (d *dataServer) ListPushFront(ctx context.Context, req *pb.ListPushFrontRequest) (*pb.ListPushFrontResponse, error) {
	n, err := d.listPush(ctx, "list push front", req.ListName, [][]byte{req.Value}, true, req.TruncateBackToSize, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	return &pb.ListPushFrontResponse{ListLength: n}, nil
}

func (d *dataServer) ListPushBack(ctx context.Context, req *pb.ListPushBackRequest) (*pb.ListPushBackResponse, error) {
	n, err := d.listPush(ctx, "list push back", req.ListName, [][]byte{req.Value}, false, req.TruncateFrontToSize, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	return &pb.ListPushBackResponse{ListLength: n}, nil
}

func (d *dataServer) ListConcatenateFront(ctx context.Context, req *pb.ListConcatenateFrontRequest) (*pb.ListConcatenateFrontResponse, error) {
	n, err := d.listPush(ctx, "list concatenate front", req.ListName, req.Values, true, req.TruncateBackToSize, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	return &pb.ListConcatenateFrontResponse{ListLength: n}, nil
}

func (d *dataServer) ListConcatenateBack(ctx context.Context, req *pb.ListConcatenateBackRequest) (*pb.ListConcatenateBackResponse, error) {
	n, err := d.listPush(ctx, "list concatenate back", req.ListName, req.Values, false, req.TruncateFrontToSize, req.TtlMilliseconds, req.RefreshTtl)
	if err != nil {
		return nil, err
	}
	return &pb.ListConcatenateBackResponse{ListLength: n}, nil
}

func (d *dataServer) listPop(ctx context.Context, op string, key []byte, front bool) ([]byte, uint32, bool, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	v, n, found, err := d.s.cache.ListPop(ctx, c, key, front)
	if err != nil {
		return nil, 0, false, d.fail(ctx, op, err)
	}
	return v, u32(n), found, nil
}

func (d *dataServer) ListPopFront(ctx context.Context, req *pb.ListPopFrontRequest) (*pb.ListPopFrontResponse, error) {
	v, n, found, err := d.listPop(ctx, "list pop front", req.ListName, true)
	if err != nil {
		return nil, err
	}
	if !found {
		return &pb.ListPopFrontResponse{List: &pb.ListPopFrontResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListPopFrontResponse{List: &pb.ListPopFrontResponse_Found{Found: &pb.ListPopFrontFound{Front: v, ListLength: n}}}, nil
}

func (d *dataServer) ListPopBack(ctx context.Context, req *pb.ListPopBackRequest) (*pb.ListPopBackResponse, error) {
	v, n, found, err := d.listPop(ctx, "list pop back", req.ListName, false)
	if err != nil {
		return nil, err
	}
	if !found {
		return &pb.ListPopBackResponse{List: &pb.ListPopBackResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListPopBackResponse{List: &pb.ListPopBackResponse_Found{Found: &pb.ListPopBackFound{Back: v, ListLength: n}}}, nil
}

// listSlice converts the start/end oneofs of ListFetch and ListRetain.
func listSlice(start, end any) (int, int) {
	s, e := 0, cache.Unbounded
	switch v := start.(type) {
	case *pb.ListFetchRequest_InclusiveStart:
		s = int(v.InclusiveStart)
	case *pb.ListRetainRequest_InclusiveStart:
		s = int(v.InclusiveStart)
	}
	switch v := end.(type) {
	case *pb.ListFetchRequest_ExclusiveEnd:
		e = int(v.ExclusiveEnd)
	case *pb.ListRetainRequest_ExclusiveEnd:
		e = int(v.ExclusiveEnd)
	}
	return s, e
}

func (d *dataServer) ListFetch(ctx context.Context, req *pb.ListFetchRequest) (*pb.ListFetchResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	start, end := listSlice(req.StartIndex, req.EndIndex)
	values, found, err := d.s.cache.ListFetch(ctx, c, req.ListName, start, end)
	if err != nil {
		return nil, d.fail(ctx, "list fetch", err)
	}
	if !found {
		return &pb.ListFetchResponse{List: &pb.ListFetchResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListFetchResponse{List: &pb.ListFetchResponse_Found{Found: &pb.ListValues{Values: values}}}, nil
}

func (d *dataServer) ListRetain(ctx context.Context, req *pb.ListRetainRequest) (*pb.ListRetainResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	ttl := collTTL(req.TtlMilliseconds, req.RefreshTtl)
	start, end := listSlice(req.StartIndex, req.EndIndex)
	n, found, err := d.s.cache.ListRetain(ctx, c, req.ListName, start, end, ttl)
	if err != nil {
		return nil, d.fail(ctx, "list retain", err)
	}
	if !found {
		return &pb.ListRetainResponse{List: &pb.ListRetainResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListRetainResponse{List: &pb.ListRetainResponse_Found{Found: &pb.ListLength{ListLength: u32(n)}}}, nil
}

func (d *dataServer) ListRemove(ctx context.Context, req *pb.ListRemoveRequest) (*pb.ListRemoveResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := req.Remove.(*pb.ListRemoveRequest_AllElementsWithValue)
	if !ok {
		return nil, invalidArg("list remove: missing all_elements_with_value")
	}
	n, found, err := d.s.cache.ListRemove(ctx, c, req.ListName, r.AllElementsWithValue)
	if err != nil {
		return nil, d.fail(ctx, "list remove", err)
	}
	if !found {
		return &pb.ListRemoveResponse{List: &pb.ListRemoveResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListRemoveResponse{List: &pb.ListRemoveResponse_Found{Found: &pb.ListLength{ListLength: u32(n)}}}, nil
}

func (d *dataServer) ListErase(ctx context.Context, req *pb.ListEraseRequest) (*pb.ListEraseResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	var ranges []cache.IndexRange
	switch e := req.Erase.(type) {
	case *pb.ListEraseRequest_All:
	case *pb.ListEraseRequest_Some:
		ranges = make([]cache.IndexRange, 0, len(e.Some.GetRanges()))
		for _, r := range e.Some.GetRanges() {
			ranges = append(ranges, cache.IndexRange{Start: int(r.BeginIndex), Count: int(r.Count)})
		}
	default:
		return nil, invalidArg("list erase: missing some or all")
	}
	n, found, err := d.s.cache.ListErase(ctx, c, req.ListName, ranges)
	if err != nil {
		return nil, d.fail(ctx, "list erase", err)
	}
	if !found {
		return &pb.ListEraseResponse{List: &pb.ListEraseResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListEraseResponse{List: &pb.ListEraseResponse_Found{Found: &pb.ListLength{ListLength: u32(n)}}}, nil
}

func (d *dataServer) ListLength(ctx context.Context, req *pb.ListLengthRequest) (*pb.ListLengthResponse, error) {
	c, err := cacheName(ctx)
	if err != nil {
		return nil, err
	}
	n, found, err := d.s.cache.ListLength(ctx, c, req.ListName)
	if err != nil {
		return nil, d.fail(ctx, "list length", err)
	}
	if !found {
		return &pb.ListLengthResponse{List: &pb.ListLengthResponse_Missing{Missing: &pb.Missing{}}}, nil
	}
	return &pb.ListLengthResponse{List: &pb.ListLengthResponse_Found{Found: &pb.LengthFound{Length: u32(n)}}}, nil
}
