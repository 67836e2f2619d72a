package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// GET and SET of one key per request at 1, 16 and 64 workers, 100 B and
// 10 KB values, over a preloaded keyspace of 10,000 keys chosen uniformly.
func init() {
	order := 10
	for _, op := range []string{"get", "set"} {
		for _, size := range []int{100, 10 << 10} {
			label := "100b"
			if size != 100 {
				label = "10kb"
			}
			Register(&Scenario{
				Name:  op + "-" + label,
				Title: fmt.Sprintf("%s, %s values, Setsuna vs Redis (closed loop)", map[string]string{"get": "GET", "set": "SET"}[op], map[int]string{100: "100 B", 10 << 10: "10 KB"}[size]),
				Quick: size == 100,
				Order: order,
				Run:   func(e *Env) (*Table, error) { return runKV(e, op, size) },
			})
			order++
		}
	}
}

const kvKeyspace = 10000

func runKV(e *Env, op string, size int) (*Table, error) {
	workers := e.WorkerCounts([]int{1, 16, 64})
	p, err := startCachePair(e, maxInt(workers))
	if err != nil {
		return nil, err
	}
	defer p.close()
	keys := makeKeys(kvKeyspace)
	value := makeValue(size)
	if err := p.each(func(kv drivers.KV, _ *Server) error {
		return kv.Load(e.Context(), keys, value, drivers.TTL)
	}); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	t := &Table{Header: LatencyHeader}
	for _, w := range workers {
		var res [2]*loadgen.Result
		i := 0
		if err := p.each(func(kv drivers.KV, s *Server) error {
			var fn loadgen.Op
			if op == "get" {
				fn = func(ctx context.Context, wk *loadgen.Worker) error { return kv.Get(ctx, keys[wk.Rand.IntN(len(keys))]) }
			} else {
				fn = func(ctx context.Context, wk *loadgen.Worker) error {
					return kv.Set(ctx, keys[wk.Rand.IntN(len(keys))], value)
				}
			}
			r, err := e.measure(s, w, 0, fn)
			res[i] = r
			i++
			return err
		}); err != nil {
			return t, err
		}
		label := fmt.Sprintf("%d workers", w)
		t.compare(label, "redis", res[0], res[1])
		if w == 64 {
			t.Goals = append(t.Goals, kvGoal(e, op, size, res[0], res[1]))
		}
	}
	t.AddNote("Keyspace %d keys, uniformly random; every item has a 1 h TTL in both systems (Redis: SET key value EX 3600). Setsuna: one shared client (one HTTP/2 connection, all workers multiplexed); Redis: go-redis with one connection per worker. No pipelining.", kvKeyspace)
	return t, nil
}

func kvGoal(e *Env, op string, size int, s, r *loadgen.Result) Goal {
	ratio := s.Throughput() / r.Throughput()
	p99 := s.Hist.QuantileDuration(0.99)
	met := ratio >= 1.0 && p99 <= time.Millisecond && s.Errors == 0
	detail := fmt.Sprintf("%s %s at 64 workers: throughput %.2f× Redis (goal ≥ 1.0×", op, map[int]string{100: "100 B", 10 << 10: "10 KB"}[size], ratio)
	if ratio < 1 {
		detail += fmt.Sprintf(", short by %.0f%%", 100*(1-ratio))
	}
	detail += fmt.Sprintf("), Setsuna p99 %s (goal ≤ 1 ms", fmtDur(p99))
	if p99 > time.Millisecond {
		detail += fmt.Sprintf(", %.1f× over", float64(p99)/float64(time.Millisecond))
	}
	detail += fmt.Sprintf("); server CPU/op %s vs %s", fmtDur(s.ServerCPUPerOp()), fmtDur(r.ServerCPUPerOp()))
	if s.Saturated() || r.Saturated() {
		detail += "; ⚠ load generator saturated, see the table"
	}
	return Goal{Name: "cache " + op + " 64 workers", Met: met, Detail: detail}
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
