package harness

import (
	"context"
	"fmt"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// Batch get/set of 100 keys per request: Setsuna GetBatch/SetBatch vs Redis
// MGET/MSET, 100 B values, 16 workers.
func init() {
	for i, op := range []string{"get", "set"} {
		Register(&Scenario{
			Name:  "batch-" + op,
			Title: fmt.Sprintf("batch %s of 100 keys × 100 B (Setsuna %s vs Redis %s)", op, map[string]string{"get": "GetBatch", "set": "SetBatch"}[op], map[string]string{"get": "MGET", "set": "MSET"}[op]),
			Quick: op == "get",
			Order: 20 + i,
			Run:   func(e *Env) (*Table, error) { return runBatch(e, op) },
		})
	}
}

const batchSize = 100

func runBatch(e *Env, op string) (*Table, error) {
	workers := 16
	if len(e.opts.Workers) > 0 {
		workers = e.opts.Workers[0]
	}
	p, err := startCachePair(e, workers)
	if err != nil {
		return nil, err
	}
	defer p.close()
	keys := makeKeys(kvKeyspace)
	value := makeValue(100)
	if err := p.each(func(kv drivers.KV, _ *Server) error { return kv.Load(e.Context(), keys, value, drivers.TTL) }); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	t := &Table{Header: LatencyHeader}
	var res [2]*loadgen.Result
	i := 0
	err = p.each(func(kv drivers.KV, s *Server) error {
		fn := func(ctx context.Context, wk *loadgen.Worker) error {
			batch, _ := wk.Scratch.([]string)
			if batch == nil {
				batch = make([]string, batchSize)
				wk.Scratch = batch
			}
			start := wk.Rand.IntN(len(keys) - batchSize)
			copy(batch, keys[start:start+batchSize])
			if op == "get" {
				return kv.GetBatch(ctx, batch)
			}
			return kv.SetBatch(ctx, batch, value)
		}
		r, err := e.measure(s, workers, 0, fn)
		res[i] = r
		i++
		return err
	})
	if err != nil {
		return t, err
	}
	t.compare(fmt.Sprintf("%d workers, ops = batches", workers), "redis", res[0], res[1])
	t.AddNote("One op = one request of %d keys (keys/s = %d × ops/s).", batchSize, batchSize)
	if op == "get" {
		t.AddNote("Fairness: MGET is one command answered in one reply; Setsuna GetBatch is one gRPC call whose %d results come back as a server stream of %d messages (the Momento contract), so per-item framing costs are on Setsuna's side by design of the protocol.", batchSize, batchSize)
	} else {
		t.AddNote("Fairness: MSET stores no TTL (Redis has no MSET with expiry) and is atomic; Setsuna SetBatch stores each item with a 1 h TTL and answers per item. Redis does less work per batch here.")
	}
	return t, nil
}
