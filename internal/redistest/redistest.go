// Package redistest starts real redis-server processes for tests: a single
// server or a Redis Cluster of primaries and replicas on loopback, each in
// a directory of its own. redis-server and redis-cli come from Debian's
// redis-server package (.ci/run installs it); a test that needs Redis fails
// when it is missing, it is never skipped.
//
// A package starts one cluster in TestMain and shares it between its tests
// (engine suites use unique cache names), so the cost of starting six
// processes is paid once per package:
//
//	var cluster *redistest.Cluster
//
//	func TestMain(m *testing.M) {
//		os.Exit(redistest.Main(m, redistest.Options{Primaries: 3, Replicas: 1}, &cluster))
//	}
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options say what to start.
type Options struct {
	// Primaries is the number of primaries; 0 starts one standalone server
	// (no cluster mode).
	Primaries int
	// Replicas per primary (cluster mode only).
	Replicas int
	// Password, when set, is required of clients (requirepass, masterauth).
	Password string
	// Args are extra redis-server arguments for every server.
	Args []string
}

// Server is one redis-server process.
type Server struct {
	Addr string // host:port
	Dir  string
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Cluster is what Start started: a standalone server or a cluster.
type Cluster struct {
	Servers []*Server
	opts    Options
	dir     string
}

// Addrs are the addresses of every server, for --redis-addrs.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Addr
	}
	return out
}

// Main starts a cluster for a package's tests, sets *c to it, runs them
// and stops it; it returns the exit code. A failure to start is printed and
// the tests are not run (exit code 1).
func Main(m *testing.M, o Options, c **Cluster) int {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cl, err := start(dir, o)
	if cl != nil {
		defer cl.Stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	*c = cl
	return m.Run()
}

// Start starts a cluster that is stopped when t ends.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	c, err := start(t.TempDir(), o)
	if c != nil {
		t.Cleanup(c.Stop)
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// StartIn starts a cluster with its files in dir, for programs (Stop it).
func StartIn(dir string, o Options) (*Cluster, error) { return start(dir, o) }

func start(dir string, o Options) (*Cluster, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
	}
	c := &Cluster{opts: o, dir: dir}
	n := 1
	if o.Primaries > 0 {
		n = o.Primaries * (1 + o.Replicas)
	}
	ports, err := freePorts(n, o.Primaries > 0)
	if err != nil {
		return nil, err
	}
	for i, port := range ports {
		sdir := filepath.Join(dir, "redis-"+strconv.Itoa(port))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return c, err
		}
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", sdir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "redis.log",
			"--protected-mode", "no"}
		if o.Primaries > 0 {
			args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "2000",
				// Replicas sync at once and may always take over: a test
				// kills a primary right after the cluster forms.
				"--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0")
		}
		if o.Password != "" {
			args = append(args, "--requirepass", o.Password, "--masterauth", o.Password)
		}
		args = append(args, o.Args...)
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: sdir, args: args}
		c.Servers = append(c.Servers, s)
		if err := s.Start(); err != nil {
			return c, fmt.Errorf("server %d: %w", i, err)
		}
	}
	for _, s := range c.Servers {
		if err := c.waitPing(s, 10*time.Second); err != nil {
			return c, err
		}
	}
	if o.Primaries == 0 {
		return c, nil
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(o.Replicas), "--cluster-yes")
	if out, err := c.cli("", args...); err != nil {
		return c, fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	return c, c.WaitHealthy(30 * time.Second)
}

// WaitHealthy waits until every running server reports cluster_state:ok and
// every slot is served by a reachable primary (after a failover: until the
// replica has taken over).
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	if c.opts.Primaries == 0 {
		return c.waitPing(c.Servers[0], timeout)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := c.healthy()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy after %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) healthy() error {
	for _, s := range c.Servers {
		if !s.Running() {
			continue
		}
		out, err := c.cli(s.Addr, "cluster", "info")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "cluster_state:ok") || !strings.Contains(out, "cluster_slots_ok:16384") {
			return fmt.Errorf("%s: %s", s.Addr, firstLine(out, "cluster_state"))
		}
		repl, err := c.cli(s.Addr, "info", "replication")
		if err != nil {
			return err
		}
		if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("replica %s is not in sync with its primary", s.Addr)
		}
		// Every primary that owns slots must be a running server (right
		// after a kill, the others still list the dead one for a while).
		nodes, err := c.cli(s.Addr, "cluster", "nodes")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) < 9 || !strings.Contains(f[2], "master") {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			if !c.running(addr) {
				return fmt.Errorf("%s still sees %s as the primary of slots %s", s.Addr, addr, f[8])
			}
		}
	}
	return nil
}

func (c *Cluster) running(addr string) bool {
	for _, s := range c.Servers {
		if s.Addr == addr {
			return s.Running()
		}
	}
	return false
}

// Primary returns the server that is the primary of the slot of key now.
func (c *Cluster) Primary(key string) (*Server, error) {
	for _, s := range c.Servers {
		if !s.Running() {
			continue
		}
		slot, err := c.cli(s.Addr, "cluster", "keyslot", key)
		if err != nil {
			return nil, err
		}
		nodes, err := c.cli(s.Addr, "cluster", "nodes")
		if err != nil {
			return nil, err
		}
		want, _ := strconv.Atoi(strings.TrimSpace(slot))
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
				continue
			}
			for _, r := range f[8:] {
				lo, hi, ok := strings.Cut(r, "-")
				if !ok {
					hi = lo
				}
				l, _ := strconv.Atoi(lo)
				h, _ := strconv.Atoi(hi)
				if want >= l && want <= h {
					addr, _, _ := strings.Cut(f[1], "@")
					for _, srv := range c.Servers {
						if srv.Addr == addr {
							return srv, nil
						}
					}
				}
			}
		}
		return nil, fmt.Errorf("no primary serves slot %d", want)
	}
	return nil, errors.New("no server is running")
}

// CLI runs redis-cli against addr ("" : the first running server) and
// returns its output.
func (c *Cluster) CLI(addr string, args ...string) (string, error) { return c.cli(addr, args...) }

func (c *Cluster) cli(addr string, args ...string) (string, error) {
	if addr == "" {
		for _, s := range c.Servers {
			if s.Running() {
				addr = s.Addr
				break
			}
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	full := []string{"-h", host, "-p", port}
	if c.opts.Password != "" {
		full = append(full, "--no-auth-warning", "-a", c.opts.Password)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append(full, args...)...).CombinedOutput()
	return string(out), err
}

func (c *Cluster) waitPing(s *Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.cli(s.Addr, "ping")
		if err == nil && strings.TrimSpace(out) == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not answer PING: %v %s (log: %s)", s.Addr, err, out, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills every server.
func (c *Cluster) Stop() {
	for _, s := range c.Servers {
		s.Kill()
	}
}

// Start starts the server (again, after Kill: with its nodes.conf, so it
// rejoins the cluster, as a replica when it was failed over).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	cmd := exec.Command("redis-server", s.args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	return nil
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Running reports whether the process was started and not killed.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func firstLine(out, prefix string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return strings.TrimSpace(sc.Text())
		}
	}
	return strings.TrimSpace(out)
}

// freePorts finds n ports that are free, and, for cluster mode, whose bus
// port (port + 10000) is free too.
func freePorts(n int, bus bool) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for tries := 0; len(out) < n && tries < 1000; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if seen[port] || (bus && port+10000 > 65535) {
			continue
		}
		if bus {
			b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
			if err != nil {
				continue
			}
			b.Close()
		}
		seen[port] = true
		out = append(out, port)
	}
	if len(out) < n {
		return nil, errors.New("cannot find free ports")
	}
	return out, nil
}

// PID is the process id (0 when not running).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
