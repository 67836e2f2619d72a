package drivers

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis drives redis-server through go-redis: a pool of one connection per
// worker, so each worker has one request in flight on its own connection.
type Redis struct {
	c redis.UniversalClient
}

// NewRedis connects to addr with a pool of poolSize connections, opens them
// all, and waits until the server answers PING or ctx ends.
func NewRedis(ctx context.Context, addr string, poolSize int) (*Redis, error) {
	return ready(ctx, addr, redis.NewClient(&redis.Options{
		Addr:            addr,
		PoolSize:        poolSize,
		MinIdleConns:    poolSize,
		DisableIdentity: true,
		ReadTimeout:     10 * time.Second,
		WriteTimeout:    10 * time.Second,
	}))
}

// NewRedisCluster connects to a Redis Cluster through seed addrs, with a
// pool of poolSize connections per primary.
func NewRedisCluster(ctx context.Context, addrs []string, poolSize int) (*Redis, error) {
	return ready(ctx, fmt.Sprint(addrs), redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:           addrs,
		PoolSize:        poolSize,
		MinIdleConns:    poolSize,
		DisableIdentity: true,
		ReadTimeout:     10 * time.Second,
		WriteTimeout:    10 * time.Second,
	}))
}

// ready waits until c answers PING or ctx ends.
func ready(ctx context.Context, addr string, c redis.UniversalClient) (*Redis, error) {
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return &Redis{c: c}, nil
		}
		if ctx.Err() != nil {
			c.Close()
			return nil, fmt.Errorf("redis at %s not ready: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *Redis) Name() string { return "redis" }

func (r *Redis) Get(ctx context.Context, key string) error {
	_, err := r.c.Get(ctx, key).Bytes()
	if err == redis.Nil {
		return errMiss
	}
	return err
}

// Set stores the value with the same TTL Setsuna stores (SET key value EX).
func (r *Redis) Set(ctx context.Context, key string, value []byte) error {
	return r.c.Set(ctx, key, value, TTL).Err()
}

func (r *Redis) GetBatch(ctx context.Context, keys []string) error {
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	for _, v := range vals {
		if v == nil {
			return errMiss
		}
	}
	return nil
}

// SetBatch is MSET, which stores no TTL (Redis has no MSET with expiry);
// see the batch scenario's fairness note.
func (r *Redis) SetBatch(ctx context.Context, keys []string, value []byte) error {
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k, value)
	}
	return r.c.MSet(ctx, args...).Err()
}

func (r *Redis) Load(ctx context.Context, keys []string, value []byte, ttl time.Duration) error {
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		p := r.c.Pipeline()
		for _, k := range keys[start:end] {
			p.Set(ctx, k, value, ttl)
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *Redis) Close() error { return r.c.Close() }
