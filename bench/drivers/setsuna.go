package drivers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setsuna-io/setsuna/client"
)

// CacheName is the cache every Setsuna scenario uses.
const CacheName = "bench"

// Setsuna drives a Setsuna server through the project's Go client: one
// CacheClient, shared by every worker as the client documents (one gRPC
// connection multiplexing all calls).
type Setsuna struct {
	c *client.CacheClient
}

// NewSetsuna connects to addr and creates the bench cache, retrying until
// the server answers or ctx ends.
func NewSetsuna(ctx context.Context, addr string) (*Setsuna, error) {
	return NewSetsunaToken(ctx, addr, "", true)
}

// NewSetsunaToken is NewSetsuna for a server with auth on: token goes with
// every call. With create false the bench cache must exist (a cache-scoped
// token may not create it); the driver then waits for the server with a
// read of a key nobody wrote.
func NewSetsunaToken(ctx context.Context, addr, token string, create bool) (*Setsuna, error) {
	c, err := client.NewCacheClient(client.Config{Address: addr, DefaultTTL: TTL, Timeout: 10 * time.Second, Token: token})
	if err != nil {
		return nil, err
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		if create {
			_, err = c.CreateCache(cctx, &client.CreateCacheRequest{CacheName: CacheName})
		} else {
			_, err = c.Get(cctx, &client.GetRequest{CacheName: CacheName, Key: client.String("bench:probe")})
		}
		cancel()
		if err == nil {
			return &Setsuna{c: c}, nil
		}
		if ctx.Err() != nil {
			c.Close()
			return nil, fmt.Errorf("setsuna at %s not ready: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Setsuna) Name() string { return "setsuna" }

var errMiss = errors.New("miss")

func (s *Setsuna) Get(ctx context.Context, key string) error {
	r, err := s.c.Get(ctx, &client.GetRequest{CacheName: CacheName, Key: client.String(key)})
	if err != nil {
		return err
	}
	if _, ok := r.(*client.GetHit); !ok {
		return errMiss
	}
	return nil
}

func (s *Setsuna) Set(ctx context.Context, key string, value []byte) error {
	_, err := s.c.Set(ctx, &client.SetRequest{CacheName: CacheName, Key: client.String(key), Value: client.Bytes(value), Ttl: TTL})
	return err
}

func (s *Setsuna) GetBatch(ctx context.Context, keys []string) error {
	ks := make([]client.Key, len(keys))
	for i, k := range keys {
		ks[i] = client.String(k)
	}
	r, err := s.c.GetBatch(ctx, &client.GetBatchRequest{CacheName: CacheName, Keys: ks})
	if err != nil {
		return err
	}
	for _, res := range r.(*client.GetBatchSuccess).Results() {
		if _, ok := res.(*client.GetHit); !ok {
			return errMiss
		}
	}
	return nil
}

func (s *Setsuna) SetBatch(ctx context.Context, keys []string, value []byte) error {
	items := make([]client.BatchSetItem, len(keys))
	for i, k := range keys {
		items[i] = client.BatchSetItem{Key: client.String(k), Value: client.Bytes(value)}
	}
	_, err := s.c.SetBatch(ctx, &client.SetBatchRequest{CacheName: CacheName, Items: items, Ttl: TTL})
	return err
}

func (s *Setsuna) Load(ctx context.Context, keys []string, value []byte, ttl time.Duration) error {
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		items := make([]client.BatchSetItem, end-start)
		for i, k := range keys[start:end] {
			items[i] = client.BatchSetItem{Key: client.String(k), Value: client.Bytes(value)}
		}
		if _, err := s.c.SetBatch(ctx, &client.SetBatchRequest{CacheName: CacheName, Items: items, Ttl: ttl}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Setsuna) Close() error { return s.c.Close() }
