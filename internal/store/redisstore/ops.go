package redisstore

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Operations: readiness (/readyz) and what the engine holds (/metrics,
// /v1/status).

var (
	_ store.Pinger      = (*Store)(nil)
	_ store.StatsReader = (*Store)(nil)
)

// Ping checks that every primary answers: a node that cannot reach one of
// them cannot serve the slots it owns.
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if s.cluster != nil {
		err = s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.Ping(ctx).Err()
		})
	} else {
		err = s.c.Ping(ctx).Err()
	}
	if err != nil {
		reloadOnFailure(s.c, err)
		return errs.ErrUnavailable.Because(err)
	}
	return nil
}

// Stats reads, per cache, the item count and the LSN of every partition
// (HLEN of its meta hash and its state's lsn, pipelined: O(caches ×
// partitions) commands, never O(items)), and Redis's used memory summed
// over the primaries.
func (s *Store) Stats(ctx context.Context) (store.EngineStats, error) {
	out := store.EngineStats{Engine: "redis"}
	caches, err := s.ListCaches(ctx)
	if err != nil {
		return out, err
	}
	pipe := s.c.Pipeline()
	type partCmds struct {
		items *redis.IntCmd
		lsn   *redis.StringCmd
	}
	cmds := make([][]partCmds, len(caches))
	for i, c := range caches {
		cmds[i] = make([]partCmds, c.Partitions)
		for p := range c.Partitions {
			base := partBase(c.Epoch, p)
			cmds[i][p] = partCmds{items: pipe.HLen(ctx, base+"m"), lsn: pipe.HGet(ctx, base+"s", "lsn")}
		}
	}
	if len(caches) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return out, errs.ErrUnavailable.Because(err)
		}
	}
	for i, c := range caches {
		cs := store.CacheStats{Name: c.Name, Epoch: c.Epoch, LSNs: make([]uint64, c.Partitions)}
		for p, pc := range cmds[i] {
			cs.Items += pc.items.Val()
			cs.LSNs[p], _ = strconv.ParseUint(pc.lsn.Val(), 10, 64)
		}
		out.Caches = append(out.Caches, cs)
	}
	out.UsedBytes = s.usedMemory(ctx)
	return out, nil
}

// usedMemory sums INFO memory's used_memory over the primaries (0 when it
// cannot be read: a metric, not a reason to fail).
func (s *Store) usedMemory(ctx context.Context) int64 {
	var total int64
	read := func(c *redis.Client) {
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			return
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				total += n
			}
		}
	}
	if s.cluster != nil {
		var mu sync.Mutex // ForEachMaster calls in parallel
		_ = s.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			read(c)
			return nil
		})
		return total
	}
	if c, ok := s.c.(*redis.Client); ok {
		read(c)
	}
	return total
}
