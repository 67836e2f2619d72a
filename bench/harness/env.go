// Package harness runs the bench scenarios: it starts Setsuna and its peers
// (redis-server, nats-server) on free loopback ports pinned to CPU 0, drives
// them from this process (pinned to CPU 1) with bench/loadgen, and prints
// one table per scenario with the ratio Setsuna/peer.
package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Options configure a run.
type Options struct {
	Scenarios []string      // names to run; empty: all (or the quick subset)
	Quick     bool          // the ~60 s subset with shorter windows
	Warmup    time.Duration // per measured case
	Duration  time.Duration // per measured case
	Workers   []int         // overrides the worker counts of the cache scenarios
	Out       string        // results file; "" means bench/results/<date>.md, "-" none
	// CPUProfile / MemProfile: Setsuna server profiles, one file per
	// scenario (the scenario name is inserted before the extension).
	CPUProfile, MemProfile string
	// SetsunaArgs returns the argv of a Setsuna server listening on addr with
	// the memory bound maxMemory (e.g. "1GiB"), writing the given profiles
	// when they are not empty.
	SetsunaArgs func(addr, maxMemory, cpuProfile, memProfile string) []string
	// ToolsDir is searched for nats-server before PATH.
	ToolsDir string
	Stdout   io.Writer // tables
	Stderr   io.Writer // progress
}

// Server is a process under test.
type Server struct {
	Name    string
	Addr    string
	PID     int
	cmd     *exec.Cmd
	logTail *tailBuffer
	done    chan error
}

// Env is what a scenario gets: its options and the means to start servers.
type Env struct {
	ctx      context.Context
	opts     *Options
	scenario string
	pinned   bool
	servers  []*Server
	tools    *Tools
}

// Context is the run's context (cancelled on interrupt).
func (e *Env) Context() context.Context { return e.ctx }

// Quick reports whether this is the quick subset.
func (e *Env) Quick() bool { return e.opts.Quick }

// Warmup and Duration of each measured case.
func (e *Env) Warmup() time.Duration   { return e.opts.Warmup }
func (e *Env) Duration() time.Duration { return e.opts.Duration }

// WorkerCounts returns the --workers override, else def (only its largest
// entry in quick mode).
func (e *Env) WorkerCounts(def []int) []int {
	if len(e.opts.Workers) > 0 {
		return e.opts.Workers
	}
	if e.opts.Quick {
		return def[len(def)-1:]
	}
	return def
}

// Logf prints progress to stderr.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.opts.Stderr, "  [%s] %s\n", e.scenario, fmt.Sprintf(format, args...))
}

// MaxMemory is the memory bound given to Setsuna and Redis alike.
const (
	MaxMemory      = "1GiB"
	maxMemoryBytes = 1 << 30
)

// StartSetsuna starts a Setsuna server on CPU 0.
func (e *Env) StartSetsuna() (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	argv := e.opts.SetsunaArgs(addr, MaxMemory, profilePath(e.opts.CPUProfile, e.scenario), profilePath(e.opts.MemProfile, e.scenario))
	return e.start("setsuna", addr, argv)
}

// StartRedis starts redis-server on CPU 0: no persistence, the same memory
// bound as Setsuna with LRU eviction (Setsuna evicts by sampled LRU).
func (e *Env) StartRedis() (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	dir, err := os.MkdirTemp("", "setsuna-bench-redis-")
	if err != nil {
		return nil, err
	}
	argv := []string{e.tools.Redis, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--maxmemory", fmt.Sprint(maxMemoryBytes), "--maxmemory-policy", "allkeys-lru",
		"--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", dir}
	s, err := e.start("redis", addr, argv)
	if err != nil {
		os.RemoveAll(dir)
	}
	return s, err
}

// StartNATS starts nats-server on CPU 0.
func (e *Env) StartNATS() (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	return e.start("nats", addr, []string{e.tools.NATS, "-a", "127.0.0.1", "-p", port})
}

func (e *Env) start(name, addr string, argv []string) (*Server, error) {
	if e.pinned {
		argv = append([]string{e.tools.Taskset, "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	tail := &tailBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &Server{Name: name, Addr: addr, PID: cmd.Process.Pid, cmd: cmd, logTail: tail, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	e.servers = append(e.servers, s)
	// taskset execs the server, so the PID is the server's own; wait until
	// it has done so before anyone reads /proc/<pid>.
	if err := waitListening(e.ctx, s, 20*time.Second); err != nil {
		return nil, err
	}
	return s, nil
}

// stopAll stops every server of the scenario (SIGTERM, then SIGKILL).
func (e *Env) stopAll() {
	for _, s := range e.servers {
		s.Stop()
	}
	e.servers = nil
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Log returns the tail of the server's output.
func (s *Server) Log() string { return s.logTail.String() }

// profilePath inserts "-<scenario>" before the extension of p.
func profilePath(p, scenario string) string {
	if p == "" {
		return ""
	}
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + "-" + scenario + ext
}

// Tools are the external programs the harness runs.
type Tools struct {
	Redis, NATS, Taskset string
	RedisVersion         string
	NATSVersion          string
}

// findTools locates redis-server, nats-server and taskset. bench/run.sh
// installs whatever is missing.
func findTools(toolsDir string) (*Tools, error) {
	t := &Tools{}
	var missing []string
	look := func(name string, dirs ...string) string {
		for _, d := range dirs {
			if d == "" {
				continue
			}
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			return ""
		}
		return p
	}
	t.Redis = look("redis-server")
	t.NATS = look("nats-server", toolsDir, os.Getenv("SETSUNA_BENCH_TOOLS"))
	t.Taskset = look("taskset")
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s: run bench/run.sh (or `make bench`), which installs them (apt-get install redis-server util-linux; go install github.com/nats-io/nats-server/v2)", strings.Join(missing, ", "))
	}
	t.RedisVersion = firstLine(exec.Command(t.Redis, "--version").Output())
	t.NATSVersion = firstLine(exec.Command(t.NATS, "--version").Output())
	return t, nil
}

func firstLine(out []byte, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	s, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return s
}

// Machine describes the host for the results file.
func Machine(t *Tools) []string {
	model := "unknown"
	cores := 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if model == "unknown" {
					model = strings.TrimSpace(v)
				}
			case "processor":
				cores++
			}
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		mem = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return []string{
		"CPU: " + model,
		fmt.Sprintf("Cores: %d (logical CPUs in /proc/cpuinfo)", cores),
		"Memory: " + mem,
		"Kernel: Linux " + strings.TrimSpace(string(kernel)),
		"Go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"redis-server: " + t.RedisVersion,
		"nats-server: " + t.NATSVersion,
	}
}
