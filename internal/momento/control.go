package momento

import (
	"context"
	"math"

	"github.com/setsuna-io/setsuna/internal/cache"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// Limits advertised by ListCaches; the SDKs show them to users. They are
// the limits the services enforce: item size (key + value), the longest
// TTL; the topic limits come from the topics service. Setsuna has no cache
// rate limits, which the SDKs read as 0 (max_traffic_rate,
// max_throughput_kbps); max_publish_rate is the per-key publish quota.
var advertisedCacheLimits = &pb.CacheLimits{
	MaxItemSizeKb: cache.MaxItemSize / 1024,
	MaxTtlSeconds: uint64(cache.MaxTTL.Seconds()),
}

type controlServer struct {
	pb.UnimplementedScsControlServer
	s *Service
}

var _ pb.ScsControlServer = (*controlServer)(nil)

func (c *controlServer) CreateCache(ctx context.Context, req *pb.CreateCacheRequest) (*pb.CreateCacheResponse, error) {
	if _, err := c.s.cache.CreateCache(ctx, req.CacheName, cache.CacheConfig{}); err != nil {
		return nil, c.s.status(ctx, "create cache", err)
	}
	return &pb.CreateCacheResponse{}, nil
}

func (c *controlServer) DeleteCache(ctx context.Context, req *pb.DeleteCacheRequest) (*pb.DeleteCacheResponse, error) {
	if err := c.s.cache.DeleteCache(ctx, req.CacheName); err != nil {
		return nil, c.s.status(ctx, "delete cache", err)
	}
	return &pb.DeleteCacheResponse{}, nil
}

func (c *controlServer) FlushCache(ctx context.Context, req *pb.FlushCacheRequest) (*pb.FlushCacheResponse, error) {
	if err := c.s.cache.FlushCache(ctx, req.CacheName); err != nil {
		return nil, c.s.status(ctx, "flush cache", err)
	}
	return &pb.FlushCacheResponse{}, nil
}

func (c *controlServer) ListCaches(ctx context.Context, _ *pb.ListCachesRequest) (*pb.ListCachesResponse, error) {
	infos, err := c.s.cache.ListCaches(ctx)
	if err != nil {
		return nil, c.s.status(ctx, "list caches", err)
	}
	limits := c.s.topicLimits()
	resp := &pb.ListCachesResponse{Cache: make([]*pb.CacheInfo, 0, len(infos))}
	for _, info := range infos {
		resp.Cache = append(resp.Cache, &pb.CacheInfo{CacheName: info.Name, CacheLimits: advertisedCacheLimits, TopicLimits: limits})
	}
	return resp, nil
}

func (s *Service) topicLimits() *pb.TopicLimits {
	if s.topics == nil {
		return &pb.TopicLimits{}
	}
	l := s.topics.Limits()
	limits := &pb.TopicLimits{
		MaxSubscriptionCount: uint32(l.MaxSubscriptions),
		// Rounded down: a message of the advertised size is always accepted.
		MaxPublishMessageSizeKb: uint32(l.MaxPayloadBytes / 1024),
		// Per API key, and only keys are bounded: dev mode has none.
		MaxPublishRate: uint32(min(max(l.Publish.Messages, 0), math.MaxInt32)),
	}
	if s.auth == nil {
		limits.MaxPublishRate = 0
	}
	return limits
}

type pingServer struct {
	pb.UnimplementedPingServer
}

func (pingServer) Ping(context.Context, *pb.PingRequest) (*pb.PingResponse, error) {
	return &pb.PingResponse{}, nil
}
