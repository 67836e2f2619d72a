package harness

import (
	"context"
	"fmt"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// Sorted sets and lists at 10^5 elements: Setsuna's collection RPCs against
// Redis ZADD / ZRANK / ZRANGE WITHSCORES and RPUSH / LPOP, 16 workers.
func init() {
	Register(&Scenario{
		Name:  "zset",
		Title: fmt.Sprintf("sorted set of %d elements: put, rank, range of 10 (Setsuna vs Redis)", collElements),
		Order: 40,
		Run:   runZSet,
	})
	Register(&Scenario{
		Name:  "list",
		Title: fmt.Sprintf("list of %d elements: push back, pop front (Setsuna vs Redis)", collElements),
		Order: 41,
		Run:   runList,
	})
}

const (
	collElements = 100_000
	collWorkers  = 16
)

// runCollectionOps loads both systems with load, then measures each op on
// Setsuna and Redis in turn and adds a comparison row per op.
func runCollectionOps(e *Env, load func(drivers.Collections) error, ops []string, op func(c drivers.Collections, name string, wk *loadgen.Worker, ctx context.Context) error) (*Table, error) {
	workers := collWorkers
	if len(e.opts.Workers) > 0 {
		workers = e.opts.Workers[0]
	}
	p, err := startCachePair(e, workers)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if err := p.each(func(kv drivers.KV, _ *Server) error { return load(kv.(drivers.Collections)) }); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	t := &Table{Header: LatencyHeader}
	for _, name := range ops {
		var res [2]*loadgen.Result
		i := 0
		if err := p.each(func(kv drivers.KV, s *Server) error {
			c := kv.(drivers.Collections)
			r, err := e.measure(s, workers, 0, func(ctx context.Context, wk *loadgen.Worker) error { return op(c, name, wk, ctx) })
			res[i] = r
			i++
			return err
		}); err != nil {
			return t, err
		}
		t.compare(fmt.Sprintf("%s, %d workers", name, workers), "redis", res[0], res[1])
	}
	return t, nil
}

func runZSet(e *Env) (*Table, error) {
	members := make([]string, collElements)
	for i := range members {
		members[i] = drivers.Member(i)
	}
	t, err := runCollectionOps(e,
		func(c drivers.Collections) error { return c.ZLoad(e.Context(), "board", members) },
		[]string{"put", "rank", "range"},
		func(c drivers.Collections, name string, wk *loadgen.Worker, ctx context.Context) error {
			switch name {
			case "put":
				return c.ZAdd(ctx, "board", members[wk.Rand.IntN(len(members))], float64(wk.Rand.IntN(10*collElements)))
			case "rank":
				return c.ZRank(ctx, "board", members[wk.Rand.IntN(len(members))])
			}
			return c.ZRange(ctx, "board", wk.Rand.IntN(collElements-10), 10)
		})
	if t != nil {
		t.AddNote("One sorted set of %d members preloaded with scores 0..n-1; put re-scores a random member (the set keeps its size), rank asks a random member's rank, range reads 10 elements with scores from a random rank. Setsuna: one gRPC call each; Redis: one command each.", collElements)
	}
	return t, err
}

func runList(e *Env) (*Table, error) {
	value := makeValue(100)
	t, err := runCollectionOps(e,
		func(c drivers.Collections) error {
			for i := 0; i < collElements; i++ {
				if err := c.Push(e.Context(), "queue", value); err != nil {
					return err
				}
			}
			return nil
		},
		[]string{"push", "pop"},
		func(c drivers.Collections, name string, _ *loadgen.Worker, ctx context.Context) error {
			if name == "push" {
				return c.Push(ctx, "queue", value)
			}
			return c.Pop(ctx, "queue")
		})
	if t != nil {
		t.AddNote("One list preloaded with %d × 100 B elements (one push per request for both systems); push appends at the back, pop removes from the front, so the list stays large through the pop phase.", collElements)
	}
	return t, err
}
