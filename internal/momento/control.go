package momento

import (
	"context"
	"sort"

	pb "github.com/setsuna-io/setsuna/proto/momentopb"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Limits advertised by ListCaches; the SDKs show them to users.
var (
	advertisedCacheLimits = &pb.CacheLimits{
		MaxItemSizeKb: store.MaxItemSize / 1024,
		MaxTtlSeconds: uint64(store.MaxTTL.Seconds()),
	}
)

type controlServer struct {
	pb.UnimplementedScsControlServer
	s *Service
}

var _ pb.ScsControlServer = (*controlServer)(nil)

func validName(name string) error {
	if !store.ValidCacheName(name) {
		return invalidArg("invalid cache name %q: it must be 1-%d printable ASCII bytes without spaces", truncate(name), store.MaxCacheNameLen)
	}
	return nil
}

func (c *controlServer) CreateCache(ctx context.Context, req *pb.CreateCacheRequest) (*pb.CreateCacheResponse, error) {
	if err := validName(req.CacheName); err != nil {
		return nil, err
	}
	if err := c.s.store.CreateCache(ctx, req.CacheName); err != nil {
		return nil, toStatus(ctx, c.s.log, "create cache", err)
	}
	c.s.log.Info("cache created", "cache", req.CacheName)
	return &pb.CreateCacheResponse{}, nil
}

func (c *controlServer) DeleteCache(ctx context.Context, req *pb.DeleteCacheRequest) (*pb.DeleteCacheResponse, error) {
	if err := validName(req.CacheName); err != nil {
		return nil, err
	}
	if err := c.s.store.DeleteCache(ctx, req.CacheName); err != nil {
		return nil, toStatus(ctx, c.s.log, "delete cache", err)
	}
	c.s.deleteCacheTopics(req.CacheName)
	c.s.log.Info("cache deleted", "cache", req.CacheName)
	return &pb.DeleteCacheResponse{}, nil
}

func (c *controlServer) FlushCache(ctx context.Context, req *pb.FlushCacheRequest) (*pb.FlushCacheResponse, error) {
	if err := validName(req.CacheName); err != nil {
		return nil, err
	}
	if err := c.s.store.FlushCache(ctx, req.CacheName); err != nil {
		return nil, toStatus(ctx, c.s.log, "flush cache", err)
	}
	return &pb.FlushCacheResponse{}, nil
}

func (c *controlServer) ListCaches(ctx context.Context, _ *pb.ListCachesRequest) (*pb.ListCachesResponse, error) {
	infos, err := c.s.store.ListCaches(ctx)
	if err != nil {
		return nil, toStatus(ctx, c.s.log, "list caches", err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	resp := &pb.ListCachesResponse{Cache: make([]*pb.CacheInfo, 0, len(infos))}
	for _, info := range infos {
		resp.Cache = append(resp.Cache, &pb.CacheInfo{
			CacheName:   info.Name,
			CacheLimits: advertisedCacheLimits,
			TopicLimits: c.s.topicLimits(),
		})
	}
	return resp, nil
}

func (s *Service) topicLimits() *pb.TopicLimits {
	o := s.tp.topicOpts
	return &pb.TopicLimits{
		MaxSubscriptionCount:    uint32(o.MaxSubscriptions),
		MaxPublishMessageSizeKb: uint32((o.MaxPayloadBytes + 1023) / 1024),
	}
}

type pingServer struct {
	pb.UnimplementedPingServer
}

func (pingServer) Ping(context.Context, *pb.PingRequest) (*pb.PingResponse, error) {
	return &pb.PingResponse{}, nil
}
