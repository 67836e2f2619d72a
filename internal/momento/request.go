package momento

import (
	"context"
	"math"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/setsuna-io/setsuna/internal/store"
)

// cacheName reads the cache name the SDKs send in the "cache" header of every
// cache_client.Scs call.
func cacheName(ctx context.Context) (string, error) {
	// ValueFromIncomingContext reads one header without copying the map,
	// which FromIncomingContext does on every call (a hot-path cost).
	v := metadata.ValueFromIncomingContext(ctx, "cache")
	if len(v) == 0 || v[0] == "" {
		return "", invalidArg("missing cache name: set the \"cache\" request header")
	}
	if !store.ValidCacheName(v[0]) {
		return "", invalidArg("invalid cache name %q", truncate(v[0]))
	}
	return v[0], nil
}

// ttlFrom converts a wire TTL in milliseconds. Zero means "never expires".
func ttlFrom(ms uint64) (time.Duration, error) {
	if ms > uint64(store.MaxTTL/time.Millisecond) {
		return 0, invalidArg("ttl of %d ms is over the limit of %d ms", ms, store.MaxTTL/time.Millisecond)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// remainingMillis is what ItemGetTtl reports; an item that never expires
// reports the largest int64, which every SDK can represent.
func remainingMillis(expiresAt, now time.Time) uint64 {
	if expiresAt.IsZero() {
		return math.MaxInt64
	}
	d := expiresAt.Sub(now)
	if d < 0 {
		return 0
	}
	return uint64(d / time.Millisecond)
}

// keyedCache is cacheName for a call on one key.
func keyedCache(ctx context.Context, key []byte) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return cacheName(ctx)
}

func checkKey(key []byte) error {
	if len(key) == 0 {
		return invalidArg("cache key must not be empty")
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
