package client

import (
	"context"
	"time"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// CollectionTtl is the TTL of a collection write, as in the Momento SDKs. A
// write that creates the collection gives it Ttl; a write to an existing
// collection replaces its TTL only when RefreshTtl is set. A nil
// *CollectionTtl in a request means the client's DefaultTTL with refresh.
type CollectionTtl struct {
	// Ttl is the TTL; zero means the client's DefaultTTL.
	Ttl time.Duration
	// RefreshTtl also applies Ttl to a collection that already exists.
	RefreshTtl bool
}

// WithNoRefreshTtlOnUpdates returns the TTL of a write that keeps an
// existing collection's TTL.
func WithNoRefreshTtlOnUpdates(ttl time.Duration) *CollectionTtl {
	return &CollectionTtl{Ttl: ttl}
}

func (c *CacheClient) collTTL(ttl *CollectionTtl) (ms uint64, refresh bool, err error) {
	if ttl == nil {
		ms, err = c.ttlMillis(0)
		return ms, true, err
	}
	ms, err = c.ttlMillis(ttl.Ttl)
	return ms, ttl.RefreshTtl, err
}

// collCall validates the cache and collection names and runs fn with the
// call context. Errors of fn are converted like those of every call.
func collCall[T any](c *CacheClient, ctx context.Context, op string, isNil bool, cacheName, name string, fn func(ctx context.Context, name []byte) (T, error)) (T, error) {
	var zero T
	if isNil {
		return zero, nilRequest(op)
	}
	if err := prepareCacheName(cacheName, true); err != nil {
		return zero, err
	}
	if name == "" {
		return zero, invalidArgument("%s: collection name cannot be empty", op)
	}
	ctx, cancel := c.callContext(ctx, cacheName)
	defer cancel()
	resp, err := fn(ctx, []byte(name))
	if err != nil {
		return zero, convertError(err)
	}
	return resp, nil
}

func prepareValues(vs []Value, label string) ([][]byte, error) {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		b, err := prepareValue(v, label)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func byteStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// ---- Dictionary ----

// DictionaryElement is one field and its value.
type DictionaryElement struct {
	Field Value
	Value Value
}

// DictionarySetFieldRequest writes one field.
type DictionarySetFieldRequest struct {
	CacheName      string
	DictionaryName string
	Field          Value
	Value          Value
	Ttl            *CollectionTtl
}

// DictionarySetFieldsRequest writes several fields.
type DictionarySetFieldsRequest struct {
	CacheName      string
	DictionaryName string
	Elements       []DictionaryElement
	Ttl            *CollectionTtl
}

// DictionarySetFieldResponse is *DictionarySetFieldSuccess.
type DictionarySetFieldResponse interface{ isDictionarySetFieldResponse() }

// DictionarySetFieldSuccess: the field was written.
type DictionarySetFieldSuccess struct{}

func (*DictionarySetFieldSuccess) isDictionarySetFieldResponse() {}

// DictionarySetFieldsResponse is *DictionarySetFieldsSuccess.
type DictionarySetFieldsResponse interface{ isDictionarySetFieldsResponse() }

// DictionarySetFieldsSuccess: the fields were written.
type DictionarySetFieldsSuccess struct{}

func (*DictionarySetFieldsSuccess) isDictionarySetFieldsResponse() {}

func (c *CacheClient) dictionarySet(ctx context.Context, op, cacheName, name string, elems []DictionaryElement, ttl *CollectionTtl) error {
	ms, refresh, err := c.collTTL(ttl)
	if err != nil {
		return err
	}
	items := make([]*pb.DictionaryFieldValuePair, len(elems))
	for i, e := range elems {
		f, err := prepareValue(e.Field, "field")
		if err != nil {
			return err
		}
		v, err := prepareValue(e.Value, "value")
		if err != nil {
			return err
		}
		items[i] = &pb.DictionaryFieldValuePair{Field: f, Value: v}
	}
	_, err = collCall(c, ctx, op, false, cacheName, name, func(ctx context.Context, n []byte) (*pb.DictionarySetResponse, error) {
		return c.data.DictionarySet(ctx, &pb.DictionarySetRequest{DictionaryName: n, Items: items, TtlMilliseconds: ms, RefreshTtl: refresh})
	})
	return err
}

// DictionarySetField writes one field of a dictionary, creating it if needed.
func (c *CacheClient) DictionarySetField(ctx context.Context, r *DictionarySetFieldRequest) (DictionarySetFieldResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionarySetField")
	}
	if err := c.dictionarySet(ctx, "DictionarySetField", r.CacheName, r.DictionaryName, []DictionaryElement{{r.Field, r.Value}}, r.Ttl); err != nil {
		return nil, err
	}
	return &DictionarySetFieldSuccess{}, nil
}

// DictionarySetFields writes several fields of a dictionary in one change.
func (c *CacheClient) DictionarySetFields(ctx context.Context, r *DictionarySetFieldsRequest) (DictionarySetFieldsResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionarySetFields")
	}
	if err := c.dictionarySet(ctx, "DictionarySetFields", r.CacheName, r.DictionaryName, r.Elements, r.Ttl); err != nil {
		return nil, err
	}
	return &DictionarySetFieldsSuccess{}, nil
}

// DictionaryGetFieldRequest reads one field.
type DictionaryGetFieldRequest struct {
	CacheName      string
	DictionaryName string
	Field          Value
}

// DictionaryGetFieldResponse is *DictionaryGetFieldHit or *DictionaryGetFieldMiss.
type DictionaryGetFieldResponse interface{ isDictionaryGetFieldResponse() }

// DictionaryGetFieldHit carries the field's value.
type DictionaryGetFieldHit struct{ field, value []byte }

// DictionaryGetFieldMiss: the dictionary or the field does not exist.
type DictionaryGetFieldMiss struct{ field []byte }

func (*DictionaryGetFieldHit) isDictionaryGetFieldResponse()  {}
func (*DictionaryGetFieldMiss) isDictionaryGetFieldResponse() {}

// FieldString is the requested field.
func (r *DictionaryGetFieldHit) FieldString() string { return string(r.field) }

// ValueString is the field's value.
func (r *DictionaryGetFieldHit) ValueString() string { return string(r.value) }

// ValueByte is the field's value.
func (r *DictionaryGetFieldHit) ValueByte() []byte { return r.value }

// FieldString is the requested field.
func (r *DictionaryGetFieldMiss) FieldString() string { return string(r.field) }

// DictionaryGetFieldsRequest reads several fields.
type DictionaryGetFieldsRequest struct {
	CacheName      string
	DictionaryName string
	Fields         []Value
}

// DictionaryGetFieldsResponse is *DictionaryGetFieldsHit or *DictionaryGetFieldsMiss.
type DictionaryGetFieldsResponse interface{ isDictionaryGetFieldsResponse() }

// DictionaryGetFieldsHit holds one *DictionaryGetFieldHit or
// *DictionaryGetFieldMiss per requested field.
type DictionaryGetFieldsHit struct{ responses []DictionaryGetFieldResponse }

// DictionaryGetFieldsMiss: the dictionary does not exist.
type DictionaryGetFieldsMiss struct{}

func (*DictionaryGetFieldsHit) isDictionaryGetFieldsResponse()  {}
func (*DictionaryGetFieldsMiss) isDictionaryGetFieldsResponse() {}

// Responses returns one response per requested field, in request order.
func (r *DictionaryGetFieldsHit) Responses() []DictionaryGetFieldResponse { return r.responses }

// ValueMap maps each field that was found to its value.
func (r *DictionaryGetFieldsHit) ValueMap() map[string]string {
	m := map[string]string{}
	for _, x := range r.responses {
		if h, ok := x.(*DictionaryGetFieldHit); ok {
			m[string(h.field)] = string(h.value)
		}
	}
	return m
}

func (c *CacheClient) dictionaryGet(ctx context.Context, op, cacheName, name string, fields []Value) (*pb.DictionaryGetResponse, [][]byte, error) {
	fs, err := prepareValues(fields, "field")
	if err != nil {
		return nil, nil, err
	}
	resp, err := collCall(c, ctx, op, false, cacheName, name, func(ctx context.Context, n []byte) (*pb.DictionaryGetResponse, error) {
		return c.data.DictionaryGet(ctx, &pb.DictionaryGetRequest{DictionaryName: n, Fields: fs})
	})
	return resp, fs, err
}

// DictionaryGetField reads one field.
func (c *CacheClient) DictionaryGetField(ctx context.Context, r *DictionaryGetFieldRequest) (DictionaryGetFieldResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionaryGetField")
	}
	resp, fs, err := c.dictionaryGet(ctx, "DictionaryGetField", r.CacheName, r.DictionaryName, []Value{r.Field})
	if err != nil {
		return nil, err
	}
	found := resp.GetFound()
	if found == nil || len(found.Items) != 1 || found.Items[0].Result != pb.ECacheResult_Hit {
		return &DictionaryGetFieldMiss{field: fs[0]}, nil
	}
	return &DictionaryGetFieldHit{field: fs[0], value: found.Items[0].CacheBody}, nil
}

// DictionaryGetFields reads several fields.
func (c *CacheClient) DictionaryGetFields(ctx context.Context, r *DictionaryGetFieldsRequest) (DictionaryGetFieldsResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionaryGetFields")
	}
	resp, fs, err := c.dictionaryGet(ctx, "DictionaryGetFields", r.CacheName, r.DictionaryName, r.Fields)
	if err != nil {
		return nil, err
	}
	found := resp.GetFound()
	if found == nil {
		return &DictionaryGetFieldsMiss{}, nil
	}
	if len(found.Items) != len(fs) {
		return nil, unexpected("DictionaryGetFields", resp)
	}
	out := make([]DictionaryGetFieldResponse, len(fs))
	for i, it := range found.Items {
		if it.Result == pb.ECacheResult_Hit {
			out[i] = &DictionaryGetFieldHit{field: fs[i], value: it.CacheBody}
		} else {
			out[i] = &DictionaryGetFieldMiss{field: fs[i]}
		}
	}
	return &DictionaryGetFieldsHit{responses: out}, nil
}

// DictionaryFetchRequest reads a whole dictionary.
type DictionaryFetchRequest struct {
	CacheName      string
	DictionaryName string
}

// DictionaryFetchResponse is *DictionaryFetchHit or *DictionaryFetchMiss.
type DictionaryFetchResponse interface{ isDictionaryFetchResponse() }

// DictionaryFetchHit carries every field.
type DictionaryFetchHit struct {
	items []*pb.DictionaryFieldValuePair
}

// DictionaryFetchMiss: the dictionary does not exist.
type DictionaryFetchMiss struct{}

func (*DictionaryFetchHit) isDictionaryFetchResponse()  {}
func (*DictionaryFetchMiss) isDictionaryFetchResponse() {}

// ValueMap returns the fields and values as strings.
func (r *DictionaryFetchHit) ValueMap() map[string]string {
	m := make(map[string]string, len(r.items))
	for _, it := range r.items {
		m[string(it.Field)] = string(it.Value)
	}
	return m
}

// ValueMapStringByte returns the values as bytes.
func (r *DictionaryFetchHit) ValueMapStringByte() map[string][]byte {
	m := make(map[string][]byte, len(r.items))
	for _, it := range r.items {
		m[string(it.Field)] = it.Value
	}
	return m
}

// DictionaryFetch reads every field of a dictionary.
func (c *CacheClient) DictionaryFetch(ctx context.Context, r *DictionaryFetchRequest) (DictionaryFetchResponse, error) {
	resp, err := collCall(c, ctx, "DictionaryFetch", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.DictionaryFetchResponse, error) {
		return c.data.DictionaryFetch(ctx, &pb.DictionaryFetchRequest{DictionaryName: n})
	})
	if err != nil {
		return nil, err
	}
	if f := resp.GetFound(); f != nil {
		return &DictionaryFetchHit{items: f.Items}, nil
	}
	return &DictionaryFetchMiss{}, nil
}

// DictionaryIncrementRequest adds Amount to an integer field.
type DictionaryIncrementRequest struct {
	CacheName      string
	DictionaryName string
	Field          Value
	Amount         int64
	Ttl            *CollectionTtl
}

// DictionaryIncrementResponse is *DictionaryIncrementSuccess.
type DictionaryIncrementResponse interface{ isDictionaryIncrementResponse() }

// DictionaryIncrementSuccess carries the field's new value.
type DictionaryIncrementSuccess struct{ value int64 }

func (*DictionaryIncrementSuccess) isDictionaryIncrementResponse() {}

// Value is the field's new value.
func (r *DictionaryIncrementSuccess) Value() int64 { return r.value }

// DictionaryIncrement adds Amount to a base-10 integer field, creating the
// dictionary and the field as needed. A non-integer field is a
// FailedPreconditionError.
func (c *CacheClient) DictionaryIncrement(ctx context.Context, r *DictionaryIncrementRequest) (DictionaryIncrementResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionaryIncrement")
	}
	f, err := prepareValue(r.Field, "field")
	if err != nil {
		return nil, err
	}
	ms, refresh, err := c.collTTL(r.Ttl)
	if err != nil {
		return nil, err
	}
	resp, err := collCall(c, ctx, "DictionaryIncrement", false, r.CacheName, r.DictionaryName, func(ctx context.Context, n []byte) (*pb.DictionaryIncrementResponse, error) {
		return c.data.DictionaryIncrement(ctx, &pb.DictionaryIncrementRequest{DictionaryName: n, Field: f, Amount: r.Amount, TtlMilliseconds: ms, RefreshTtl: refresh})
	})
	if err != nil {
		return nil, err
	}
	return &DictionaryIncrementSuccess{value: resp.Value}, nil
}

// DictionaryRemoveFieldsRequest removes fields.
type DictionaryRemoveFieldsRequest struct {
	CacheName      string
	DictionaryName string
	Fields         []Value
}

// DictionaryRemoveFieldsResponse is *DictionaryRemoveFieldsSuccess.
type DictionaryRemoveFieldsResponse interface{ isDictionaryRemoveFieldsResponse() }

// DictionaryRemoveFieldsSuccess: the fields are gone (missing ones included).
type DictionaryRemoveFieldsSuccess struct{}

func (*DictionaryRemoveFieldsSuccess) isDictionaryRemoveFieldsResponse() {}

// DictionaryRemoveFields removes fields; a dictionary left empty is deleted.
func (c *CacheClient) DictionaryRemoveFields(ctx context.Context, r *DictionaryRemoveFieldsRequest) (DictionaryRemoveFieldsResponse, error) {
	if r == nil {
		return nil, nilRequest("DictionaryRemoveFields")
	}
	fs, err := prepareValues(r.Fields, "field")
	if err != nil {
		return nil, err
	}
	_, err = collCall(c, ctx, "DictionaryRemoveFields", false, r.CacheName, r.DictionaryName, func(ctx context.Context, n []byte) (*pb.DictionaryDeleteResponse, error) {
		return c.data.DictionaryDelete(ctx, &pb.DictionaryDeleteRequest{DictionaryName: n, Delete: &pb.DictionaryDeleteRequest_Some{Some: &pb.DictionaryFields{Fields: fs}}})
	})
	if err != nil {
		return nil, err
	}
	return &DictionaryRemoveFieldsSuccess{}, nil
}

// DictionaryLengthRequest counts the fields of a dictionary.
type DictionaryLengthRequest struct {
	CacheName      string
	DictionaryName string
}

// LengthResponse is *LengthHit or *LengthMiss: the answer of every
// collection length call (DictionaryLength, SetLength, ListLength,
// SortedSetLength, SortedSetLengthByScore).
type LengthResponse interface{ isLengthResponse() }

// LengthHit carries the length of an existing collection.
type LengthHit struct{ length uint32 }

// LengthMiss: the collection does not exist.
type LengthMiss struct{}

func (*LengthHit) isLengthResponse()  {}
func (*LengthMiss) isLengthResponse() {}

// Length is the number of elements.
func (r *LengthHit) Length() uint32 { return r.length }

func lengthFrom(found *pb.LengthFound) LengthResponse {
	if found == nil {
		return &LengthMiss{}
	}
	return &LengthHit{length: found.Length}
}

// DictionaryLength counts the fields of a dictionary.
func (c *CacheClient) DictionaryLength(ctx context.Context, r *DictionaryLengthRequest) (LengthResponse, error) {
	resp, err := collCall(c, ctx, "DictionaryLength", r == nil, cacheOf(r), nameOf(r), func(ctx context.Context, n []byte) (*pb.DictionaryLengthResponse, error) {
		return c.data.DictionaryLength(ctx, &pb.DictionaryLengthRequest{DictionaryName: n})
	})
	if err != nil {
		return nil, err
	}
	return lengthFrom(resp.GetFound()), nil
}

// cacheOf and nameOf read the names of the requests that are only names,
// tolerating nil (collCall then reports the nil request).
// Their names methods are nil-safe.
type namer interface{ names() (string, string) }

func cacheOf(r namer) string { c, _ := r.names(); return c }
func nameOf(r namer) string  { _, n := r.names(); return n }

func (r *DictionaryFetchRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.DictionaryName
}

func (r *DictionaryLengthRequest) names() (string, string) {
	if r == nil {
		return "", ""
	}
	return r.CacheName, r.DictionaryName
}
