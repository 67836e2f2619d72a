package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// No assertion here depends on how fast the machine is: only on counts that
// the schedule fixes or that must add up.

func TestClosedLoopCountsAndErrors(t *testing.T) {
	var calls atomic.Int64
	op := func(ctx context.Context, w *Worker) error {
		n := calls.Add(1)
		if n%3 == 0 {
			return errors.New("boom")
		}
		time.Sleep(100 * time.Microsecond)
		return nil
	}
	res, err := Run(context.Background(), Config{Workers: 4, Warmup: 10 * time.Millisecond, Duration: 50 * time.Millisecond}, op)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "closed" || res.Workers != 4 {
		t.Fatalf("mode %q workers %d", res.Mode, res.Workers)
	}
	if res.Ops == 0 || res.Errors == 0 {
		t.Fatalf("ops %d errors %d: both should be positive", res.Ops, res.Errors)
	}
	if res.Hist.Count() != res.Ops {
		t.Fatalf("histogram holds %d values for %d ops (errors must not be recorded as latencies)", res.Hist.Count(), res.Ops)
	}
	if got := res.Ops + res.Errors; got > uint64(calls.Load()) {
		t.Fatalf("counted %d ops in the window, but only %d calls were made", got, calls.Load())
	}
	if res.ErrorKind["boom"] != res.Errors || !strings.Contains(res.ErrorSummary(), "boom") {
		t.Fatalf("error kinds %v, summary %q", res.ErrorKind, res.ErrorSummary())
	}
	if res.Elapsed <= 0 || res.Throughput() <= 0 || res.GenCores < 1 {
		t.Fatalf("elapsed %v throughput %v cores %d", res.Elapsed, res.Throughput(), res.GenCores)
	}
}

func TestClosedLoopWorkersAreDistinct(t *testing.T) {
	var seen [8]atomic.Int64
	op := func(ctx context.Context, w *Worker) error {
		seen[w.ID].Add(1)
		if w.Scratch == nil {
			w.Scratch = w.ID
		} else if w.Scratch.(int) != w.ID {
			return fmt.Errorf("worker %d got scratch of %v", w.ID, w.Scratch)
		}
		time.Sleep(50 * time.Microsecond)
		return nil
	}
	res, err := Run(context.Background(), Config{Workers: 8, Duration: 30 * time.Millisecond}, op)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatal(res.ErrorSummary())
	}
	for i := range seen {
		if seen[i].Load() == 0 {
			t.Fatalf("worker %d never ran", i)
		}
	}
}

// In the open loop every request due in the window is accounted for, as a
// success or an error, whatever the machine's speed.
func TestOpenLoopAccountsForEveryDueRequest(t *testing.T) {
	op := func(ctx context.Context, w *Worker) error { return nil }
	res, err := Run(context.Background(), Config{Workers: 4, Rate: 2000, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond, Drain: 5 * time.Second}, op)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "open" || res.Rate != 2000 {
		t.Fatalf("mode %q rate %v", res.Mode, res.Rate)
	}
	if got := res.Ops + res.Errors; got != 200 {
		t.Fatalf("ops %d + errors %d = %d, want the 200 due in 100ms at 2000/s", res.Ops, res.Errors, got)
	}
	if res.Errors != 0 {
		t.Fatalf("no-op requests failed: %s", res.ErrorSummary())
	}
	if res.Throughput() != 2000 {
		t.Fatalf("throughput %v, want 2000", res.Throughput())
	}
}

// A server that never answers: the requests that were issued fail when the
// drain runs out, the rest are counted as never issued. Nothing vanishes.
func TestOpenLoopStalledServerIsCharged(t *testing.T) {
	op := func(ctx context.Context, w *Worker) error {
		<-ctx.Done()
		return ctx.Err()
	}
	res, err := Run(context.Background(), Config{Workers: 2, Rate: 1000, Duration: 50 * time.Millisecond, Drain: 20 * time.Millisecond}, op)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 0 || res.Errors != 50 {
		t.Fatalf("ops %d errors %d, want 0 and 50", res.Ops, res.Errors)
	}
	if res.ErrorKind["not issued before the hard stop (backlog)"] == 0 {
		t.Fatalf("backlog not reported: %v", res.ErrorKind)
	}
}

func TestErrorKindsAreBounded(t *testing.T) {
	st := newWorkerStats()
	for i := 0; i < 100; i++ {
		st.fail(fmt.Errorf("error %d", i))
	}
	if st.errs != 100 || len(st.errMap) != maxErrorKinds+1 || st.errMap["(other errors)"] != 100-maxErrorKinds {
		t.Fatalf("errs %d kinds %d: %v", st.errs, len(st.errMap), st.errMap)
	}
}

func TestConfigValidation(t *testing.T) {
	op := func(context.Context, *Worker) error { return nil }
	for _, cfg := range []Config{{Workers: 0, Duration: time.Second}, {Workers: 1}, {Workers: 1, Duration: time.Second, Rate: -1}} {
		if _, err := Run(context.Background(), cfg, op); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestSaturatedAndCPUPerOp(t *testing.T) {
	r := &Result{GenCPU: 0.95, GenCores: 1, ServerCPU: 0.5, Ops: 1000, Elapsed: time.Second}
	if !r.Saturated() {
		t.Error("0.95 of one core should be saturated")
	}
	if r.ServerCPUPerOp() != 500*time.Microsecond {
		t.Errorf("cpu/op %v", r.ServerCPUPerOp())
	}
	r = &Result{GenCPU: 0.95, GenCores: 2, ServerCPU: -1}
	if r.Saturated() || r.ServerCPUPerOp() != 0 {
		t.Error("0.95 of two cores is not saturated; unknown server CPU has no per-op cost")
	}
}

func TestParseStat(t *testing.T) {
	line := "1234 (redis server) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 4 0 100 1000000 500 18446744073709551615"
	d, err := parseStatCPU(line)
	if err != nil || d != 3*time.Second {
		t.Fatalf("got %v, %v; want 3s", d, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseVmRSS(t *testing.T) {
	n, err := parseVmRSS("Name:\tx\nVmPeak:\t 10 kB\nVmRSS:\t    2048 kB\nThreads: 1\n")
	if err != nil || n != 2048*1024 {
		t.Fatalf("got %d, %v", n, err)
	}
	if _, err := parseVmRSS("Name: x\n"); err == nil {
		t.Fatal("missing VmRSS accepted")
	}
	if n, err := RSS(os.Getpid()); err != nil || n <= 0 {
		t.Fatalf("own RSS %d, %v", n, err)
	}
}
