// Package drivers adapts each system under test to the operations the bench
// scenarios need, so that a scenario is written once for every system.
package drivers

import (
	"context"
	"time"
)

// KV is a cache: Setsuna through its Go client, Redis through go-redis.
// A miss on Get is an error: scenarios read keys they loaded.
type KV interface {
	Name() string
	Get(ctx context.Context, key string) error
	Set(ctx context.Context, key string, value []byte) error
	// GetBatch and SetBatch are one request carrying many keys (Setsuna
	// GetBatch/SetBatch, Redis MGET/MSET).
	GetBatch(ctx context.Context, keys []string) error
	SetBatch(ctx context.Context, keys []string, value []byte) error
	// Load writes keys with the TTL in batches of about 100 keys per round
	// trip, for preloading (Setsuna SetBatch, Redis pipelined SET EX).
	Load(ctx context.Context, keys []string, value []byte, ttl time.Duration) error
	Close() error
}

// TTL is the lifetime of every item a scenario writes: long enough never to
// expire during a run, and stored by both systems.
const TTL = time.Hour

// Topics is a pub/sub system: NATS core through nats.go, Setsuna topics
// through its Go client.
type Topics interface {
	Name() string
	// Subscribe registers handler for every message on topic; subscriber i
	// should use connection i % conns of the driver. Messages may arrive on
	// any goroutine, but one subscriber's handler is never called
	// concurrently with itself.
	Subscribe(ctx context.Context, i int, topic string, handler func(payload []byte)) error
	// Publish sends one message (it may buffer).
	Publish(ctx context.Context, topic string, payload []byte) error
	// Dropped reports messages the client itself discarded (slow consumer).
	Dropped() int64
	Close() error
}

// NewSetsunaTopics is set by the file that implements Setsuna topics once the
// Go client has them; while it is nil the topics scenario reports Setsuna as
// not available.
var NewSetsunaTopics func(addr string, conns int) (Topics, error)
