package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
	"github.com/setsuna-io/setsuna/internal/redistest"
)

// cluster-kv: GET and SET of 100 B through 1, 2 and 3 Setsuna nodes on the
// redis engine over a Redis Cluster of three primaries, beside the memory
// engine and beside the same Redis Cluster used directly (go-redis
// ClusterClient). Every server process (Setsuna nodes and redis-servers) is
// on CPU 0, the generator on CPU 1: the same total cores for every row, so
// adding nodes shows what a node costs, not more hardware. Server CPU is
// the sum over every server process; "redis calls/op" is Redis's
// commands per op (total_commands_processed, those run inside scripts
// included) and scripts per op (EVALSHA/EVAL calls: the engine's round
// trips; a direct GET is one command and no script).
func init() {
	Register(&Scenario{
		Name:  "cluster-kv",
		Title: "Cluster: GET/SET 100 B through 1, 2, 3 nodes on Redis Cluster, beside the memory engine and Redis Cluster directly",
		Order: 90,
		Run:   runClusterKV,
	})
}

func runClusterKV(e *Env) (*Table, error) {
	workers := 64
	if ws := e.WorkerCounts([]int{64}); len(ws) > 0 {
		workers = ws[len(ws)-1]
	}
	dir, err := os.MkdirTemp("", "setsuna-bench-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rc, err := redistest.StartIn(dir, redistest.Options{Primaries: 3, Args: []string{"--maxmemory", fmt.Sprint(maxMemoryBytes), "--maxmemory-policy", "noeviction"}})
	if rc != nil {
		defer rc.Stop()
	}
	if err != nil {
		return nil, err
	}
	var redisPIDs []int
	for _, s := range rc.Servers {
		redisPIDs = append(redisPIDs, s.PID())
		if e.pinned {
			if out, err := exec.Command(e.tools.Taskset, "-a", "-p", "-c", "0", strconv.Itoa(s.PID())).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("pin redis-server: %v: %s", err, out)
			}
		}
	}
	seeds := strings.Join(rc.Addrs(), ",")

	// Nodes: the memory engine, then three on the redis engine.
	mem, err := e.StartSetsuna()
	if err != nil {
		return nil, err
	}
	var nodes []*Server
	for i := range 3 {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		argv := e.opts.SetsunaArgs(addr, "0", "", "")
		argv = append(argv, "--engine", "redis", "--redis-addrs", seeds, "--node-id", fmt.Sprint("bench-", i))
		s, err := e.start(fmt.Sprint("setsuna-redis-", i+1), addr, argv)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, s)
	}

	ctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
	defer cancel()
	memKV, err := drivers.NewSetsuna(ctx, mem.Addr)
	if err != nil {
		return nil, err
	}
	defer memKV.Close()
	direct, err := drivers.NewRedisCluster(ctx, rc.Addrs(), workers)
	if err != nil {
		return nil, err
	}
	defer direct.Close()
	var nodeKVs []drivers.KV
	for _, n := range nodes {
		kv, err := drivers.NewSetsuna(ctx, n.Addr)
		if err != nil {
			return nil, err
		}
		defer kv.Close()
		nodeKVs = append(nodeKVs, kv)
	}

	keys := makeKeys(kvKeyspace)
	value := makeValue(100)
	for _, kv := range []drivers.KV{memKV, direct, nodeKVs[0]} {
		if err := kv.Load(e.Context(), keys, value, drivers.TTL); err != nil {
			return nil, fmt.Errorf("preload %s: %w", kv.Name(), err)
		}
	}

	t := &Table{Header: append(append([]string{}, LatencyHeader...), "redis commands/op", "scripts/op")}
	// counters sums, over the primaries, the commands Redis ran (those
	// inside scripts included) and the scripts (EVAL/EVALSHA: one round
	// trip each).
	counters := func() (commands, scripts uint64) {
		for _, s := range rc.Servers {
			out, err := rc.CLI(s.Addr, "info", "all")
			if err != nil {
				continue
			}
			for _, line := range strings.Split(out, "\n") {
				line = strings.TrimSpace(line)
				if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
					n, _ := strconv.ParseUint(v, 10, 64)
					commands += n
				}
				for _, cmd := range []string{"cmdstat_evalsha:", "cmdstat_eval:"} {
					if v, ok := strings.CutPrefix(line, cmd); ok {
						calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
						n, _ := strconv.ParseUint(calls, 10, 64)
						scripts += n
					}
				}
			}
		}
		return commands, scripts
	}
	for _, op := range []string{"get", "set"} {
		run := func(system string, kvs []drivers.KV, pids []int, viaRedis bool) (*loadgen.Result, error) {
			cmd0, scr0 := counters()
			r, err := loadgen.Run(e.Context(), loadgen.Config{Workers: workers, Warmup: e.Warmup(), Duration: e.Duration(), ServerPIDs: pids},
				func(ctx context.Context, wk *loadgen.Worker) error {
					kv := kvs[wk.ID%len(kvs)]
					k := keys[wk.Rand.IntN(len(keys))]
					if op == "get" {
						return kv.Get(ctx, k)
					}
					return kv.Set(ctx, k, value)
				})
			if err != nil {
				return nil, err
			}
			row := resultRow(fmt.Sprintf("%s %d workers", strings.ToUpper(op), workers), system, r)
			commands, scripts := "—", "—"
			if viaRedis && r.Ops > 0 {
				// The warm-up's commands count too: divide by every op
				// the run made, at the measured rate.
				all := float64(r.Ops) * (e.Warmup() + e.Duration()).Seconds() / r.Elapsed.Seconds()
				cmd1, scr1 := counters()
				commands = fmt.Sprintf("%.2f", float64(cmd1-cmd0)/all)
				scripts = fmt.Sprintf("%.2f", float64(scr1-scr0)/all)
			}
			t.Rows = append(t.Rows, append(row, commands, scripts))
			e.Logf("%-22s %s %9s ops/s  p99 %s  server CPU/op %s  redis commands/op %s scripts/op %s", system, op, fmtRate(r.Throughput()), fmtDur(r.Hist.QuantileDuration(0.99)), fmtDur(r.ServerCPUPerOp()), commands, scripts)
			return r, nil
		}
		if _, err := run("setsuna memory", []drivers.KV{memKV}, []int{mem.PID}, false); err != nil {
			return t, err
		}
		if _, err := run("redis cluster direct", []drivers.KV{direct}, redisPIDs, true); err != nil {
			return t, err
		}
		for n := 1; n <= 3; n++ {
			pids := append([]int{}, redisPIDs...)
			for _, s := range nodes[:n] {
				pids = append(pids, s.PID)
			}
			if _, err := run(fmt.Sprintf("setsuna redis ×%d", n), nodeKVs[:n], pids, true); err != nil {
				return t, err
			}
		}
	}
	t.AddNote("Redis Cluster: 3 primaries, no replicas, no persistence (redistest). Every server process is pinned to CPU 0 and the generator to CPU 1, so every row has the same two cores: more Setsuna nodes add hops and processes, not hardware. Server CPU sums every Setsuna node and every redis-server of the row (the memory row: its one process). Workers are spread over the nodes (worker i uses node i mod n), one shared Go client per node. Redis commands/op counts every command Redis ran over warm-up and window, those inside Lua scripts included; scripts/op counts EVALSHA/EVAL calls, the engine's round trips (the rest are the node registry's heartbeats, the sweep and the change-feed polls).")
	return t, nil
}
