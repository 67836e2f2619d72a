package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/setsuna-io/setsuna/bench/harness"
)

const benchUsage = `Usage: setsuna bench [flags]

Runs Setsuna beside redis-server (cache) and nats-server (topics) on this
machine, one scenario at a time: each server pinned to CPU 0, this load
generator pinned to CPU 1 (it re-runs itself under taskset). Prints one table
per scenario with Setsuna, the peer and the ratio Setsuna/peer, and writes
them to bench/results/YYYY-MM-DD.md. Needs redis-server, nats-server and
taskset: bench/run.sh installs them (make bench).

Flags:
`

// benchServeCmd is the hidden subcommand the harness starts instead of
// "serve" when Setsuna profiles are requested.
const benchServeCmd = "_serve"

func runBench(args []string) int {
	return bench(args, os.Stdout, os.Stderr)
}

func bench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == benchServeCmd {
		return benchServe(args[1:], stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nScenarios:")
		tw := tabwriter.NewWriter(stderr, 2, 4, 2, ' ', 0)
		for _, s := range harness.Scenarios() {
			q := ""
			if s.Quick {
				q = " (quick)"
			}
			fmt.Fprintf(tw, "  %s\t%s%s\n", s.Name, s.Title, q)
		}
		tw.Flush()
	}
	scenarios := fs.String("scenarios", "all", "comma-separated scenario names, or all")
	duration := fs.Duration("duration", 0, "measured window per case (default 5s, quick 3s)")
	warmup := fs.Duration("warmup", -1, "warm-up per case, not measured (default 2s, quick 1s)")
	quick := fs.Bool("quick", false, "run the ~60 s subset (the scenarios marked quick, 64 workers only)")
	out := fs.String("out", "", `results file (default bench/results/YYYY-MM-DD.md; "-" for none)`)
	workers := fs.String("workers", "", "comma-separated worker counts overriding the cache scenarios' 1,16,64")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of each Setsuna server to this file (scenario name inserted before the extension)")
	memprofile := fs.String("memprofile", "", "write a heap profile of each Setsuna server at its shutdown (scenario name inserted)")
	tools := fs.String("tools", "", "directory searched first for nats-server (default: .tools of the working directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "setsuna bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	opts := harness.Options{Quick: *quick, Out: *out, CPUProfile: *cpuprofile, MemProfile: *memprofile, ToolsDir: *tools, Stdout: stdout, Stderr: stderr}
	if *scenarios != "" && *scenarios != "all" {
		opts.Scenarios = strings.Split(*scenarios, ",")
	}
	for _, w := range strings.Split(*workers, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		n, err := strconv.Atoi(w)
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "setsuna bench: invalid --workers entry %q\n", w)
			return 2
		}
		opts.Workers = append(opts.Workers, n)
	}
	opts.Duration, opts.Warmup = 5*time.Second, 2*time.Second
	if *quick {
		opts.Duration, opts.Warmup = 3*time.Second, time.Second
	}
	if *duration > 0 {
		opts.Duration = *duration
	}
	if *warmup >= 0 {
		opts.Warmup = *warmup
	}
	if opts.ToolsDir == "" {
		opts.ToolsDir = ".tools"
	}
	for _, p := range []*string{&opts.CPUProfile, &opts.MemProfile} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				fmt.Fprintf(stderr, "setsuna bench: %v\n", err)
				return 2
			}
			*p = abs
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "setsuna bench: cannot find own executable: %v\n", err)
		return 1
	}
	opts.SetsunaArgs = func(addr, maxMemory, cpuProfile, memProfile string) []string {
		argv := []string{exe}
		if cpuProfile != "" || memProfile != "" {
			argv = append(argv, "bench", benchServeCmd, "--cpuprofile", cpuProfile, "--memprofile", memProfile)
		} else {
			argv = append(argv, "serve")
		}
		return append(argv, "--listen", addr, "--http-listen", "off", "--cosmos-listen", "off", "--max-memory", maxMemory, "--log-level", "warn")
	}

	// The load generator gets CPU 1 to itself: re-run pinned.
	if so, ok := stdout.(*os.File); ok {
		if se, ok := stderr.(*os.File); ok {
			if ran, code := harness.ReexecPinned(append([]string{"bench"}, args...), so, se); ran {
				return code
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := harness.Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "setsuna bench: %v\n", err)
		return 1
	}
	return 0
}

// benchServe is the server the harness starts: "setsuna serve", kept under
// this name so that older harness binaries keep working.
func benchServe(args []string, stderr io.Writer) int { return serve(args, stderr, nil) }
