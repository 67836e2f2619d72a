package momento

import (
	"context"
	"math"
	"time"

	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/grpcx"
)

// cacheName reads the cache name the SDKs send in the "cache" header of
// every cache_client.Scs call; the cache service validates it.
func cacheName(ctx context.Context) (string, error) {
	name := grpcx.Header(ctx, "cache")
	if name == "" {
		return "", invalidArg("missing cache name: set the \"cache\" request header")
	}
	return name, nil
}

// wireTTL converts a wire TTL in milliseconds. Zero means "never expires".
func wireTTL(ms uint64) time.Duration { return cache.TTLFromMillis(ms) }

func collTTL(ms uint64, refresh bool) cache.CollectionTTL {
	return cache.CollectionTTL{TTL: cache.TTLFromMillis(ms), Refresh: refresh}
}

func u32(n int) uint32 { return uint32(min(n, math.MaxUint32)) }
