package store

import "context"

// Optional engine interfaces for operations (metrics, readiness). An
// engine that lacks one simply reports less: the node still serves.

// StatsReader is an engine that can say what it holds. Stats must be cheap
// enough to call on every metrics scrape: O(caches × partitions), never
// O(items).
type StatsReader interface {
	Stats(ctx context.Context) (EngineStats, error)
}

// EngineStats is a snapshot of an engine's contents.
type EngineStats struct {
	// Engine names the engine ("memory", "redis").
	Engine string
	// UsedBytes is the accounted size of the data (what MaxBytes bounds);
	// MaxBytes is the bound, 0 for none.
	UsedBytes, MaxBytes int64
	// Evictions and Expirations count, since the engine started, the items
	// removed to stay under MaxBytes and the expired items purged. They never
	// go down, even when caches are deleted.
	Evictions, Expirations uint64
	Caches                 []CacheStats // sorted by name
}

// CacheStats describes one cache.
type CacheStats struct {
	Name  string
	Epoch uint64
	// Items counts the items held, including expired ones not yet purged.
	Items int64
	Bytes int64
	// Evictions and Expirations of this epoch of the cache.
	Evictions, Expirations uint64
	// LSNs is the newest LSN of each partition (index = partition).
	LSNs []uint64
}

// Pinger is an engine that can check that it reaches its data (a network
// engine pings its servers). Ping returns errs.ErrUnavailable when not.
type Pinger interface {
	Ping(ctx context.Context) error
}
