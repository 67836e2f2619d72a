// Package loadgen drives one operation from many workers and measures it.
//
// Closed loop (Config.Rate == 0): Workers goroutines each keep exactly one
// request in flight; latency is the time of each call.
//
// Open loop (Config.Rate > 0): requests are scheduled at a fixed total rate
// (request i is due at start + i/Rate) and picked up by up to Workers
// goroutines. Latency is measured from the request's intended start, not from
// when a worker got round to it, so a stalled server is charged for the
// requests it delayed (no coordinated omission). Requests due in the window
// that were never issued before the hard stop are counted as errors.
//
// Both modes run a warm-up (not recorded) and then the measured window. Only
// operations that start (closed loop) or are due (open loop) inside the
// window count. Errors are counted and sampled, never dropped.
package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/setsuna-io/setsuna/bench/hist"
)

// Worker is the per-goroutine state handed to an Op.
type Worker struct {
	ID   int
	Seq  uint64     // number of ops this worker started before this one
	Rand *rand.Rand // private to the worker
	// Scratch is free for the Op to keep per-worker buffers in.
	Scratch any
}

// Op performs one request. A non-nil error is counted as a failed request.
type Op func(ctx context.Context, w *Worker) error

// Config describes one run.
type Config struct {
	Workers  int           // closed loop: concurrency; open loop: max in flight
	Rate     float64       // ops/s in total; 0 selects the closed loop
	Warmup   time.Duration // run but do not record
	Duration time.Duration // measured window
	// ServerPIDs, if set, are sampled for CPU time over the window
	// (/proc/<pid>/stat), reported as Result.ServerCPU.
	ServerPIDs []int
	// Drain bounds how long the open loop keeps working off its backlog after
	// the window (default: max(Duration, 2s)).
	Drain time.Duration
}

// maxErrorKinds bounds the distinct error messages kept per run.
const maxErrorKinds = 8

// Result is the outcome of one run.
type Result struct {
	Mode      string // "closed" or "open"
	Workers   int
	Rate      float64
	Ops       uint64 // successful ops in the window
	Errors    uint64 // failed ops in the window (incl. open-loop requests never issued)
	ErrorKind map[string]uint64
	Elapsed   time.Duration // measured wall time
	Hist      *hist.Histogram
	// GenCPU is the generator process's CPU time over the window divided by
	// wall time (1.0 = one core busy); GenCores is how many CPUs it may use.
	GenCPU   float64
	GenCores int
	// ServerCPU is the same ratio for the ServerPIDs (summed), -1 if unknown.
	ServerCPU float64
}

// Throughput is successful ops per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// Saturated reports whether the generator used ≥ 90 % of the CPUs it may use;
// then the run measured the generator as much as the server.
func (r *Result) Saturated() bool {
	return r.GenCores > 0 && r.GenCPU >= 0.9*float64(r.GenCores)
}

// ServerCPUPerOp is the server's CPU time per successful op (0 if unknown).
func (r *Result) ServerCPUPerOp() time.Duration {
	if r.ServerCPU < 0 || r.Ops == 0 {
		return 0
	}
	return time.Duration(r.ServerCPU * float64(r.Elapsed) / float64(r.Ops))
}

// ErrorSummary renders the error kinds, most frequent first.
func (r *Result) ErrorSummary() string {
	if r.Errors == 0 {
		return ""
	}
	type kv struct {
		k string
		n uint64
	}
	var list []kv
	for k, n := range r.ErrorKind {
		list = append(list, kv{k, n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n || (list[i].n == list[j].n && list[i].k < list[j].k) })
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%d× %s", e.n, e.k)
	}
	return strings.Join(parts, "; ")
}

// workerStats is what each worker accumulates privately.
type workerStats struct {
	h      *hist.Histogram
	ops    uint64
	errs   uint64
	errMap map[string]uint64
}

func (s *workerStats) fail(err error) {
	s.errs++
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	if _, ok := s.errMap[msg]; !ok && len(s.errMap) >= maxErrorKinds {
		msg = "(other errors)"
	}
	s.errMap[msg]++
}

func newWorkerStats() *workerStats {
	return &workerStats{h: hist.New(), errMap: map[string]uint64{}}
}

func newWorker(id int) *Worker {
	return &Worker{ID: id, Rand: rand.New(rand.NewPCG(uint64(id)+1, 0x5e75))}
}

// Run executes cfg with op and returns the measurements of the window.
func Run(ctx context.Context, cfg Config, op Op) (*Result, error) {
	if cfg.Workers <= 0 {
		return nil, fmt.Errorf("loadgen: workers must be positive, got %d", cfg.Workers)
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("loadgen: duration must be positive, got %v", cfg.Duration)
	}
	if cfg.Warmup < 0 || cfg.Rate < 0 {
		return nil, fmt.Errorf("loadgen: warmup and rate must not be negative")
	}
	if cfg.Rate > 0 {
		return runOpen(ctx, cfg, op)
	}
	return runClosed(ctx, cfg, op)
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// window samples CPU use at the start and end of the measured window.
type window struct {
	pids              []int
	t0                time.Time
	self0             time.Duration
	srv0              time.Duration
	srvOK             bool
	elapsed           time.Duration
	genCPU, serverCPU float64
}

func (w *window) start(pids []int) {
	w.pids = pids
	w.self0 = SelfCPU()
	w.srv0, w.srvOK = procsCPU(pids)
	w.t0 = time.Now()
}

func (w *window) end() {
	w.elapsed = time.Since(w.t0)
	self1 := SelfCPU()
	w.genCPU = float64(self1-w.self0) / float64(w.elapsed)
	w.serverCPU = -1
	if w.srvOK {
		if srv1, ok := procsCPU(w.pids); ok {
			w.serverCPU = float64(srv1-w.srv0) / float64(w.elapsed)
		}
	}
}

func procsCPU(pids []int) (time.Duration, bool) {
	if len(pids) == 0 {
		return 0, false
	}
	var sum time.Duration
	for _, p := range pids {
		d, err := ProcCPU(p)
		if err != nil {
			return 0, false
		}
		sum += d
	}
	return sum, true
}

func runClosed(ctx context.Context, cfg Config, op Op) (*Result, error) {
	var phase atomic.Int32
	stats := make([]*workerStats, cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		st := newWorkerStats()
		stats[i] = st
		w := newWorker(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ph := phase.Load()
				if ph == phaseStop || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := op(ctx, w)
				lat := time.Since(t0)
				w.Seq++
				if ph != phaseMeasure {
					continue
				}
				if err != nil {
					st.fail(err)
					continue
				}
				st.ops++
				st.h.RecordDuration(lat)
			}
		}()
	}
	var win window
	sleepCtx(ctx, cfg.Warmup)
	win.start(cfg.ServerPIDs)
	phase.Store(phaseMeasure)
	sleepCtx(ctx, cfg.Duration)
	phase.Store(phaseStop)
	win.end()
	wg.Wait()
	res := collect(stats, &win)
	res.Mode, res.Workers = "closed", cfg.Workers
	return res, ctx.Err()
}

func runOpen(ctx context.Context, cfg Config, op Op) (*Result, error) {
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	if interval <= 0 {
		return nil, fmt.Errorf("loadgen: rate %v too high", cfg.Rate)
	}
	drain := cfg.Drain
	if drain <= 0 {
		drain = max(cfg.Duration, 2*time.Second)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	mStart := start.Add(cfg.Warmup)
	mEnd := mStart.Add(cfg.Duration)
	hardStop := mEnd.Add(drain)
	var next atomic.Int64
	var issuedInWindow atomic.Int64
	stats := make([]*workerStats, cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		st := newWorkerStats()
		stats[i] = st
		w := newWorker(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				due := start.Add(time.Duration(n) * interval)
				if !due.Before(mEnd) {
					return
				}
				now := time.Now()
				if now.After(hardStop) {
					return
				}
				if d := due.Sub(now); d > 0 {
					time.Sleep(d)
				}
				inWindow := !due.Before(mStart)
				err := op(ctx, w)
				lat := time.Since(due)
				w.Seq++
				if !inWindow {
					continue
				}
				issuedInWindow.Add(1)
				if err != nil {
					st.fail(err)
					continue
				}
				st.ops++
				st.h.RecordDuration(lat)
			}
		}()
	}
	var win window
	sleepUntil(ctx, mStart)
	win.start(cfg.ServerPIDs)
	sleepUntil(ctx, mEnd)
	win.end()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(hardStop)):
		cancel()
		<-done
	}
	res := collect(stats, &win)
	res.Mode, res.Workers, res.Rate = "open", cfg.Workers, cfg.Rate
	// The window's own length, not the sampled wall time: the schedule is
	// fixed, so this is the time those requests were due in.
	res.Elapsed = cfg.Duration
	due := int64(float64(cfg.Duration) / float64(interval))
	if missed := due - issuedInWindow.Load(); missed > 0 {
		res.Errors += uint64(missed)
		res.ErrorKind["not issued before the hard stop (backlog)"] += uint64(missed)
	}
	return res, nil
}

func collect(stats []*workerStats, win *window) *Result {
	res := &Result{
		Hist:      hist.New(),
		ErrorKind: map[string]uint64{},
		Elapsed:   win.elapsed,
		GenCPU:    win.genCPU,
		GenCores:  runtime.GOMAXPROCS(0),
		ServerCPU: win.serverCPU,
	}
	for _, st := range stats {
		res.Hist.Merge(st.h)
		res.Ops += st.ops
		res.Errors += st.errs
		for k, n := range st.errMap {
			res.ErrorKind[k] += n
		}
	}
	return res
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func sleepUntil(ctx context.Context, t time.Time) { sleepCtx(ctx, time.Until(t)) }
