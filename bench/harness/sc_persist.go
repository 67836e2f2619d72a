package harness

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// SET throughput and latency per fsync policy: Setsuna with --data-dir and
// --fsync P beside Redis with appendonly yes and appendfsync P, both
// writing to data directories on the same file system (under the system's
// temporary directory), and both without persistence as the baseline.
func init() {
	Register(&Scenario{
		Name:  "persist-set",
		Title: "SET 100 B per fsync policy: Setsuna --fsync vs Redis AOF appendfsync (closed loop)",
		Order: 45,
		Run:   runPersist,
	})
}

func runPersist(e *Env) (*Table, error) {
	workers := e.WorkerCounts([]int{1, 16})
	keys := makeKeys(kvKeyspace)
	value := makeValue(100)
	t := &Table{Header: LatencyHeader}
	fs := "unknown"
	for _, policy := range []string{"off", "no", "everysec", "always"} {
		dirS, err := os.MkdirTemp("", "setsuna-bench-persist-")
		if err != nil {
			return t, err
		}
		defer os.RemoveAll(dirS)
		dirR, err := os.MkdirTemp("", "setsuna-bench-redis-aof-")
		if err != nil {
			return t, err
		}
		defer os.RemoveAll(dirR)
		fs = fsType(dirS)
		var sArgs, rArgs []string
		if policy != "off" {
			sArgs = []string{"--data-dir", dirS, "--fsync", policy}
			rArgs = []string{"--appendonly", "yes", "--appendfsync", policy}
		}
		s, err := e.startSetsunaWith(sArgs...)
		if err != nil {
			return t, err
		}
		r, err := e.startRedisWith(dirR, rArgs...)
		if err != nil {
			return t, err
		}
		ctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
		sd, err := drivers.NewSetsuna(ctx, s.Addr)
		if err != nil {
			cancel()
			return t, err
		}
		rd, err := drivers.NewRedis(ctx, r.Addr, maxInt(workers))
		cancel()
		if err != nil {
			sd.Close()
			return t, err
		}
		p := &cachePair{srv: s, peer: r, setsuna: sd, redis: rd}
		for _, w := range workers {
			var res [2]*loadgen.Result
			i := 0
			if err := p.each(func(kv drivers.KV, srv *Server) error {
				r, err := e.measure(srv, w, 0, func(ctx context.Context, wk *loadgen.Worker) error {
					return kv.Set(ctx, keys[wk.Rand.IntN(len(keys))], value)
				})
				res[i] = r
				i++
				return err
			}); err != nil {
				p.close()
				return t, err
			}
			t.compare(fmt.Sprintf("fsync %s, %d workers", policy, w), "redis", res[0], res[1])
		}
		p.close()
		s.Stop()
		r.Stop()
	}
	t.AddNote("Persistence: Setsuna `serve --data-dir D --fsync P` (append-only log with group commit; background snapshots); Redis `--appendonly yes --appendfsync P` (AOF; RDB snapshots off). \"off\": no persistence for either. Data directories on the same file system (%s). Keyspace %d keys, 1 h TTL. With always, both acknowledge a write only after its fsync, so latency is the disk's fsync time and throughput grows with concurrency (group commit).", fs, kvKeyspace)
	return t, nil
}

// startSetsunaWith starts a Setsuna server on CPU 0 with extra flags.
func (e *Env) startSetsunaWith(extra ...string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	argv := e.opts.SetsunaArgs(addr, MaxMemory, profilePath(e.opts.CPUProfile, e.scenario), profilePath(e.opts.MemProfile, e.scenario))
	return e.start("setsuna", addr, append(argv, extra...))
}

// startRedisWith starts redis-server on CPU 0 in dir with extra settings
// (the later of two equal settings wins, so extra overrides the defaults).
func (e *Env) startRedisWith(dir string, extra ...string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	argv := []string{e.tools.Redis, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--maxmemory", fmt.Sprint(maxMemoryBytes), "--maxmemory-policy", "allkeys-lru",
		"--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", dir}
	return e.start("redis", addr, append(argv, extra...))
}

// fsType names the file system holding dir (from /proc/mounts).
func fsType(dir string) string {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	best, typ := "", "unknown"
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(dir, f[1]) && len(f[1]) > len(best) {
			best, typ = f[1], f[2]+" on "+f[0]
		}
	}
	return typ
}
