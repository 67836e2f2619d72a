package testnode

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Nodes as separate processes, for tests that kill or stop a server
// (SIGKILL, SIGSTOP): the real binary, started on free ports.

var (
	binOnce sync.Once
	binPath string
	binDir  string
	binErr  error
)

// Binary returns the path of the setsuna binary: $SETSUNA_BIN when set
// (make builds it first), else one built once per test process (removed
// by CleanupBinary).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SETSUNA_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "setsuna-testbin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "setsuna")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binPath, "github.com/setsuna-io/setsuna/cmd/setsuna")
		cmd.Stderr = os.Stderr
		binErr = cmd.Run()
	})
	if binErr != nil {
		t.Fatalf("build setsuna: %v", binErr)
	}
	return binPath
}

// CleanupBinary removes the binary Binary built; call it from TestMain.
func CleanupBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// Proc is a node running as a process.
type Proc struct {
	Addr        string // gRPC
	HTTPAddr    string
	GraphQLAddr string // with --graphql-schema
	cmd         *exec.Cmd
	exited      chan struct{}

	mu   sync.Mutex
	logs []string // the "msg" of each log line so far
	more chan struct{}
}

// StartProc starts `setsuna serve` on free loopback ports with extra
// flags, waits until it listens, and kills it when the test ends.
func StartProc(t testing.TB, flags ...string) *Proc {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--cosmos-listen", "off", "--log-format", "json", "--log-level", "info"}, flags...)
	cmd := exec.Command(Binary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, exited: make(chan struct{}), more: make(chan struct{})}
	t.Cleanup(func() {
		p.Signal(syscall.SIGCONT)
		p.Signal(syscall.SIGKILL)
		<-p.exited
	})
	listening := make(chan [3]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var line struct {
				Msg     string `json:"msg"`
				GRPC    string `json:"grpc"`
				HTTP    string `json:"http"`
				GraphQL string `json:"graphql"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if !sent && line.Msg == "setsuna listening" {
				listening <- [3]string{line.GRPC, line.HTTP, line.GraphQL}
				sent = true
			}
			p.mu.Lock()
			p.logs = append(p.logs, line.Msg)
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(p.exited)
	}()
	select {
	case a := <-listening:
		p.Addr, p.HTTPAddr, p.GraphQLAddr = a[0], a[1], a[2]
	case <-p.exited:
		t.Fatalf("setsuna %v exited before listening", args)
	case <-time.After(30 * time.Second):
		t.Fatalf("setsuna %v did not listen within 30s", args)
	}
	return p
}

// Signal sends sig to the process (SIGSTOP, SIGCONT, SIGKILL).
func (p *Proc) Signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// Kill kills the process with SIGKILL and waits for it to exit.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGCONT)
	p.Signal(syscall.SIGKILL)
	<-p.exited
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitLog waits for the n-th log line (from 1) whose message is msg, so
// that a test can tell when the process has acted on a signal.
func (p *Proc) WaitLog(t testing.TB, msg string, n int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		seen := 0
		for _, m := range p.logs {
			if m == msg {
				seen++
			}
		}
		more := p.more
		p.mu.Unlock()
		if seen >= n {
			return
		}
		select {
		case <-more:
		case <-p.exited:
			t.Fatalf("setsuna exited before logging %q", msg)
		case <-timeout:
			t.Fatalf("setsuna did not log %q within 30s", msg)
		}
	}
}
