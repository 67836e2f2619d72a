package client

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// CreateCacheRequest names the cache to create.
type CreateCacheRequest struct {
	CacheName string
}

// CreateCacheResponse is *CreateCacheSuccess or *CreateCacheAlreadyExists.
type CreateCacheResponse interface{ isCreateCacheResponse() }

// CreateCacheSuccess: the cache was created.
type CreateCacheSuccess struct{}

// CreateCacheAlreadyExists: a cache with that name already existed. This is
// not an error.
type CreateCacheAlreadyExists struct{}

func (*CreateCacheSuccess) isCreateCacheResponse()       {}
func (*CreateCacheAlreadyExists) isCreateCacheResponse() {}

// DeleteCacheRequest names the cache to delete.
type DeleteCacheRequest struct {
	CacheName string
}

// DeleteCacheResponse is *DeleteCacheSuccess. Deleting a cache that does not
// exist fails with NotFoundError.
type DeleteCacheResponse interface{ isDeleteCacheResponse() }

// DeleteCacheSuccess: the cache and all its items are gone.
type DeleteCacheSuccess struct{}

func (*DeleteCacheSuccess) isDeleteCacheResponse() {}

// ListCachesRequest lists every cache. It has no fields; nil is accepted.
type ListCachesRequest struct{}

// ListCachesResponse is *ListCachesSuccess.
type ListCachesResponse interface{ isListCachesResponse() }

// CacheInfo describes one cache.
type CacheInfo struct {
	Name string
}

// ListCachesSuccess holds the caches, in the order the server returned them.
type ListCachesSuccess struct {
	caches []CacheInfo
}

func (*ListCachesSuccess) isListCachesResponse() {}

// Caches returns the caches.
func (r *ListCachesSuccess) Caches() []CacheInfo { return r.caches }

// FlushCacheRequest names the cache to empty.
type FlushCacheRequest struct {
	CacheName string
}

// FlushCacheResponse is *FlushCacheSuccess.
type FlushCacheResponse interface{ isFlushCacheResponse() }

// FlushCacheSuccess: every item of the cache was removed; the cache remains.
type FlushCacheSuccess struct{}

func (*FlushCacheSuccess) isFlushCacheResponse() {}

// CreateCache creates a cache. A cache that already exists yields
// *CreateCacheAlreadyExists, not an error.
func (c *CacheClient) CreateCache(ctx context.Context, req *CreateCacheRequest) (CreateCacheResponse, error) {
	if req == nil {
		return nil, nilRequest("CreateCache")
	}
	if err := prepareCacheName(req.CacheName, false); err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, "")
	defer cancel()
	_, err := c.control.CreateCache(ctx, &pb.CreateCacheRequest{CacheName: req.CacheName})
	if err != nil {
		if status.Code(err) == codes.AlreadyExists {
			return &CreateCacheAlreadyExists{}, nil
		}
		return nil, convertError(err)
	}
	return &CreateCacheSuccess{}, nil
}

// DeleteCache deletes a cache and everything in it.
func (c *CacheClient) DeleteCache(ctx context.Context, req *DeleteCacheRequest) (DeleteCacheResponse, error) {
	if req == nil {
		return nil, nilRequest("DeleteCache")
	}
	if err := prepareCacheName(req.CacheName, false); err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, "")
	defer cancel()
	if _, err := c.control.DeleteCache(ctx, &pb.DeleteCacheRequest{CacheName: req.CacheName}); err != nil {
		return nil, convertError(err)
	}
	return &DeleteCacheSuccess{}, nil
}

// maxListPages bounds the pages ListCaches follows, in case a server keeps
// returning a next token.
const maxListPages = 1000

// ListCaches lists the caches, following next-page tokens if the server
// paginates.
func (c *CacheClient) ListCaches(ctx context.Context, _ *ListCachesRequest) (ListCachesResponse, error) {
	ctx, cancel := c.callContext(ctx, "")
	defer cancel()
	out := &ListCachesSuccess{caches: []CacheInfo{}}
	token := ""
	for range maxListPages {
		resp, err := c.control.ListCaches(ctx, &pb.ListCachesRequest{NextToken: token})
		if err != nil {
			return nil, convertError(err)
		}
		for _, ci := range resp.GetCache() {
			out.caches = append(out.caches, CacheInfo{Name: ci.GetCacheName()})
		}
		if resp.GetNextToken() == "" || resp.GetNextToken() == token {
			break
		}
		token = resp.GetNextToken()
	}
	return out, nil
}

// FlushCache removes every item from a cache.
func (c *CacheClient) FlushCache(ctx context.Context, req *FlushCacheRequest) (FlushCacheResponse, error) {
	if req == nil {
		return nil, nilRequest("FlushCache")
	}
	if err := prepareCacheName(req.CacheName, false); err != nil {
		return nil, err
	}
	ctx, cancel := c.callContext(ctx, "")
	defer cancel()
	if _, err := c.control.FlushCache(ctx, &pb.FlushCacheRequest{CacheName: req.CacheName}); err != nil {
		return nil, convertError(err)
	}
	return &FlushCacheSuccess{}, nil
}
