package harness

import (
	"context"
	"fmt"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// GET 100 B at fixed arrival rates (open loop) to find the latency knee.
func init() {
	Register(&Scenario{
		Name:  "get-100b-open",
		Title: "GET 100 B at fixed arrival rates (open loop, latency from intended start)",
		Order: 40,
		Run:   runOpenLoop,
	})
}

var openRates = []float64{5000, 10000, 20000, 40000}

const openWorkers = 128

func runOpenLoop(e *Env) (*Table, error) {
	p, err := startCachePair(e, openWorkers)
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
	for _, rate := range openRates {
		var res [2]*loadgen.Result
		i := 0
		err := p.each(func(kv drivers.KV, s *Server) error {
			r, err := e.measure(s, openWorkers, rate, func(ctx context.Context, wk *loadgen.Worker) error {
				return kv.Get(ctx, keys[wk.Rand.IntN(len(keys))])
			})
			res[i] = r
			i++
			return err
		})
		if err != nil {
			return t, err
		}
		t.compare(fmt.Sprintf("%s/s", fmtRate(rate)), "redis", res[0], res[1])
	}
	t.AddNote("Open loop: requests are due at a fixed rate and served by up to %d concurrent workers; latency runs from the due time, so queueing behind a slow server counts (no coordinated omission). Past the knee, ops/s stays below the offered rate and p99 climbs; requests never issued are counted as errors.", openWorkers)
	return t, nil
}
