package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
	"github.com/setsuna-io/setsuna/internal/auth"
)

// GET 100 B with auth on (every call carries a cache-scoped API key, as the
// SDKs send it) beside the same GET in dev mode: what authentication costs
// the server per call. The peer is Setsuna itself.
func init() {
	Register(&Scenario{
		Name:  "get-100b-auth",
		Title: "GET 100 B with auth on (cache-scoped API key) vs dev mode (closed loop)",
		Quick: true,
		Order: 12,
		Run:   runAuth,
	})
}

func runAuth(e *Env) (*Table, error) {
	workers := e.WorkerCounts([]int{16, 64})
	ctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
	defer cancel()
	dev, err := e.startSetsunaWith()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "setsuna-bench-auth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	on, err := e.startSetsunaWith("--auth", "--data-dir", dir)
	if err != nil {
		return nil, err
	}
	// The server made its keyring at start-up; sign with it offline.
	kr, err := auth.LoadOrCreateKeyring(filepath.Join(dir, auth.KeyFileName))
	if err != nil {
		return nil, err
	}
	mint := func(req auth.MintRequest) (string, error) {
		m, err := auth.MintAPIKey(kr, "", req, time.Now())
		return m.JWT, err
	}
	admin, err := mint(auth.MintRequest{SuperUser: true})
	if err != nil {
		return nil, err
	}
	scoped, err := mint(auth.MintRequest{Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: drivers.CacheName}}})
	if err != nil {
		return nil, err
	}
	creator, err := drivers.NewSetsunaToken(ctx, on.Addr, admin, true)
	if err != nil {
		return nil, err
	}
	creator.Close()
	dd, err := drivers.NewSetsuna(ctx, dev.Addr)
	if err != nil {
		return nil, err
	}
	defer dd.Close()
	ad, err := drivers.NewSetsunaToken(ctx, on.Addr, scoped, false)
	if err != nil {
		return nil, err
	}
	defer ad.Close()
	keys := makeKeys(kvKeyspace)
	value := makeValue(100)
	for _, kv := range []drivers.KV{dd, ad} {
		if err := kv.Load(e.Context(), keys, value, drivers.TTL); err != nil {
			return nil, fmt.Errorf("preload: %w", err)
		}
	}
	t := &Table{Header: LatencyHeader}
	for _, w := range workers {
		var res [2]*loadgen.Result
		for i, x := range []struct {
			kv drivers.KV
			s  *Server
		}{{ad, on}, {dd, dev}} {
			r, err := e.measure(x.s, w, 0, func(ctx context.Context, wk *loadgen.Worker) error {
				return x.kv.Get(ctx, keys[wk.Rand.IntN(len(keys))])
			})
			if err != nil {
				return t, err
			}
			res[i] = r
		}
		label := fmt.Sprintf("%d workers", w)
		t.Rows = append(t.Rows, resultRow(label, "setsuna auth", res[0]), resultRow(label, "setsuna dev", res[1]), ratioRow(label, "dev (auth/dev)", res[0], res[1]))
		for i, name := range []string{"auth", "dev"} {
			if res[i].Errors > 0 {
				t.AddNote("%s %s: %d errors: %s", label, name, res[i].Errors, res[i].ErrorSummary())
			}
			if res[i].Saturated() {
				t.AddNote("%s %s: the load generator was saturated (%.0f%% of its %d CPU); read server CPU/op.", label, name, 100*res[i].GenCPU, res[i].GenCores)
			}
		}
		if w == workers[len(workers)-1] {
			ratio := float64(res[0].ServerCPUPerOp()) / float64(res[1].ServerCPUPerOp())
			t.Goals = append(t.Goals, Goal{Name: "auth on, GET 100 B", Met: ratio <= 1.1 && res[0].Errors == 0,
				Detail: fmt.Sprintf("server CPU/op with auth %s vs dev mode %s = %.2f× at %d workers (goal ≤ 1.1×)", fmtDur(res[0].ServerCPUPerOp()), fmtDur(res[1].ServerCPUPerOp()), ratio, w)})
		}
	}
	t.AddNote("Both servers are Setsuna, started alike; auth: `serve --auth --data-dir D`, the client sends a cache-scoped read-write API key (the inner JWT, as the SDKs do) with every call, verified from the server's token cache after the first. Keyspace %d keys, 1 h TTL, one shared client per server.", kvKeyspace)
	return t, nil
}
