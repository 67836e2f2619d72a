package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/hist"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// One publisher fanning out to 1, 100 and 1,000 subscribers of one topic:
// Setsuna topics vs nats-server core pub/sub.
func init() {
	Register(&Scenario{
		Name:  "topics-fanout",
		Title: "topics fan-out: 1 publisher → 1 / 100 / 1,000 subscribers, 100 B messages (Setsuna vs NATS core)",
		Quick: true,
		Order: 50,
		Run:   runTopics,
	})
}

const (
	topicPayload    = 100
	topicPublishers = 16 // goroutines of the one publisher (Setsuna's Publish is a unary call)
	topicShards     = 16
)

type topicResult struct {
	published, delivered float64 // per second over the window
	hist                 *hist.Histogram
	lost, errs           uint64
	errSample            string
	genCPU, serverCPU    float64
	unavailable          string
}

func runTopics(e *Env) (*Table, error) {
	fanouts := []int{1, 100, 1000}
	if e.Quick() {
		fanouts = []int{100}
	}
	nats, err := e.StartNATS()
	if err != nil {
		return nil, err
	}
	sets, err := e.StartSetsuna()
	if err != nil {
		return nil, err
	}
	// The bench cache must exist for Setsuna topics.
	cctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
	kv, err := drivers.NewSetsuna(cctx, sets.Addr)
	cancel()
	if err != nil {
		return nil, err
	}
	kv.Close()

	t := &Table{Header: []string{"subscribers", "system", "publish msg/s", "delivered msg/s", "p50", "p99", "p99.9", "max", "lost / errors", "gen CPU", "server CPU"}}
	for _, n := range fanouts {
		conns := min(n, 100)
		var res [2]*topicResult
		for i, sys := range []struct {
			srv *Server
			new func() (drivers.Topics, error)
		}{
			{sets, func() (drivers.Topics, error) {
				if drivers.NewSetsunaTopics == nil {
					return nil, nil
				}
				return drivers.NewSetsunaTopics(sets.Addr, conns)
			}},
			{nats, func() (drivers.Topics, error) {
				ctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
				defer cancel()
				return drivers.NewNATS(ctx, "nats://"+nats.Addr, conns)
			}},
		} {
			d, err := sys.new()
			if err != nil {
				res[i] = &topicResult{unavailable: err.Error()}
				continue
			}
			if d == nil {
				res[i] = &topicResult{unavailable: "setsuna topics not available"}
				continue
			}
			res[i] = fanout(e, d, sys.srv, n, fmt.Sprintf("fanout-%d", n))
			d.Close()
		}
		label := fmt.Sprint(n)
		t.Rows = append(t.Rows, topicRow(label, "setsuna", res[0]), topicRow(label, "nats", res[1]))
		s, p := res[0], res[1]
		if s.unavailable == "" && p.unavailable == "" {
			q := func(r *topicResult, x float64) float64 { return float64(r.hist.Quantile(x)) }
			t.Rows = append(t.Rows, []string{label, "setsuna/nats", fmtRatio(s.published, p.published), fmtRatio(s.delivered, p.delivered),
				fmtRatio(q(s, 0.5), q(p, 0.5)), fmtRatio(q(s, 0.99), q(p, 0.99)), fmtRatio(q(s, 0.999), q(p, 0.999)), fmtRatio(float64(s.hist.Max()), float64(p.hist.Max())), "", "", ""})
		}
		for j, name := range []string{"setsuna", "nats"} {
			r := res[j]
			switch {
			case r.unavailable != "":
				t.AddNote("%d subscribers, %s: %s", n, name, r.unavailable)
			case r.errs > 0 || r.lost > 0:
				t.AddNote("%d subscribers, %s: %d publish errors, %d deliveries lost %s", n, name, r.errs, r.lost, r.errSample)
			}
			if r.unavailable == "" && r.genCPU >= 0.9*float64(runtime.GOMAXPROCS(0)) {
				t.AddNote("%d subscribers, %s: load generator saturated (%.0f%% CPU) — it publishes and receives every delivery, so this row is bounded by the generator.", n, name, 100*r.genCPU)
			}
		}
		if n == 1000 {
			t.Goals = append(t.Goals, topicGoal(s, p))
		}
	}
	t.AddNote("One publisher (%d goroutines sharing one connection: Setsuna's Publish is a unary gRPC call, NATS's is buffered) publishes %d B messages carrying a timestamp; it stays at most a window of messages ahead of the slowest delivery count, so the rate found is the sustainable one. Subscribers are spread over min(n, 100) connections for both systems. Latency is publish-to-delivery. lost = published × subscribers − delivered after a 3 s drain.", topicPublishers, topicPayload)
	return t, nil
}

func topicRow(label, system string, r *topicResult) []string {
	if r.unavailable != "" {
		return []string{label, system, "n/a", "n/a", "", "", "", "", "", "", ""}
	}
	cpu := fmt.Sprintf("%.0f%%", 100*r.genCPU)
	if r.genCPU >= 0.9*float64(runtime.GOMAXPROCS(0)) {
		cpu += " ⚠SAT"
	}
	return []string{label, system, fmtRate(r.published), fmtRate(r.delivered),
		fmtDur(r.hist.QuantileDuration(0.5)), fmtDur(r.hist.QuantileDuration(0.99)), fmtDur(r.hist.QuantileDuration(0.999)), fmtDur(time.Duration(r.hist.Max())),
		fmt.Sprintf("%d / %d", r.lost, r.errs), cpu, fmt.Sprintf("%.0f%%", 100*r.serverCPU)}
}

func topicGoal(s, p *topicResult) Goal {
	g := Goal{Name: "topics fan-out 1,000 subscribers"}
	if s.unavailable != "" || p.unavailable != "" {
		g.Detail = fmt.Sprintf("not measured: setsuna: %q, nats: %q", s.unavailable, p.unavailable)
		return g
	}
	ratio := s.delivered / p.delivered
	g.Met = ratio >= 0.5
	g.Detail = fmt.Sprintf("Setsuna delivered %s msg/s vs NATS %s msg/s = %.2f× (goal ≥ 0.5×", fmtRate(s.delivered), fmtRate(p.delivered), ratio)
	if !g.Met {
		g.Detail += fmt.Sprintf(", short by %.0f%%", 100*(1-ratio/0.5))
	}
	g.Detail += ")"
	return g
}

// fanout measures one system with n subscribers on a fresh topic.
func fanout(e *Env, d drivers.Topics, srv *Server, n int, topic string) *topicResult {
	ctx := e.Context()
	base := time.Now()
	var phase atomic.Int32 // 0 warm-up, 1 measure, 2 stop
	var delivered, measured atomic.Int64
	var ready atomic.Int64
	seen := make([]atomic.Bool, n)
	shards := make([]struct {
		sync.Mutex
		h *hist.Histogram
	}, topicShards)
	for i := range shards {
		shards[i].h = hist.New()
	}
	res := &topicResult{hist: hist.New()}
	for i := 0; i < n; i++ {
		sh := &shards[i%topicShards]
		handler := func(p []byte) {
			if len(p) < 8 {
				return
			}
			ts := int64(binary.LittleEndian.Uint64(p))
			if ts == 0 { // readiness ping
				if !seen[i].Swap(true) {
					ready.Add(1)
				}
				return
			}
			delivered.Add(1)
			if phase.Load() == 1 {
				lat := int64(time.Since(base)) - ts
				measured.Add(1)
				sh.Lock()
				sh.h.Record(lat)
				sh.Unlock()
			}
		}
		if err := d.Subscribe(ctx, i, topic, handler); err != nil {
			res.unavailable = fmt.Sprintf("subscribe %d failed: %v", i, err)
			return res
		}
	}
	// Wait until every subscriber receives a ping: subscriptions are live.
	ping := make([]byte, topicPayload)
	deadline := time.Now().Add(30 * time.Second)
	for ready.Load() < int64(n) {
		if err := d.Publish(ctx, topic, ping); err != nil {
			res.unavailable = fmt.Sprintf("publish failed: %v", err)
			return res
		}
		if time.Now().After(deadline) {
			res.unavailable = fmt.Sprintf("only %d of %d subscribers became ready", ready.Load(), n)
			return res
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let stray pings drain

	window := int64(min(max(100000/n, 10), 1000))
	var published atomic.Int64
	var errs atomic.Uint64
	var errOnce sync.Once
	var wg sync.WaitGroup
	for g := 0; g < topicPublishers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, topicPayload)
			for phase.Load() != 2 && ctx.Err() == nil {
				if published.Load()*int64(n)-delivered.Load() > window*int64(n) {
					runtime.Gosched()
					continue
				}
				published.Add(1)
				binary.LittleEndian.PutUint64(buf, uint64(max(int64(time.Since(base)), 1)))
				if err := d.Publish(ctx, topic, buf); err != nil {
					published.Add(-1)
					errs.Add(1)
					errOnce.Do(func() { res.errSample = "(first error: " + err.Error() + ")" })
				}
			}
		}()
	}
	time.Sleep(e.Warmup())
	p0, d0 := published.Load(), delivered.Load()
	self0 := loadgen.SelfCPU()
	srv0, _ := loadgen.ProcCPU(srv.PID)
	t0 := time.Now()
	phase.Store(1)
	time.Sleep(e.Duration())
	phase.Store(2)
	el := time.Since(t0)
	p1, d1 := published.Load(), delivered.Load()
	self1 := loadgen.SelfCPU()
	srv1, _ := loadgen.ProcCPU(srv.PID)
	wg.Wait()
	// Drain: everything published should arrive.
	total := published.Load() * int64(n)
	for end := time.Now().Add(3 * time.Second); delivered.Load() < total && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if lost := total - delivered.Load(); lost > 0 {
		res.lost = uint64(lost)
	}
	res.errs = errs.Load()
	res.published = float64(p1-p0) / el.Seconds()
	res.delivered = float64(d1-d0) / el.Seconds()
	res.genCPU = float64(self1-self0) / float64(el)
	res.serverCPU = float64(srv1-srv0) / float64(el)
	for i := range shards {
		shards[i].Lock()
		res.hist.Merge(shards[i].h)
		shards[i].Unlock()
	}
	e.Logf("%-7s %4d subs: publish %s msg/s, delivered %s msg/s, p99 %s, lost %d, errors %d, gen CPU %.0f%%",
		srv.Name, n, fmtRate(res.published), fmtRate(res.delivered), fmtDur(res.hist.QuantileDuration(0.99)), res.lost, res.errs, 100*res.genCPU)
	return res
}
