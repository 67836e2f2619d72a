package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitListening waits until s accepts TCP connections, or fails with the
// tail of its log if it exits first.
func waitListening(ctx context.Context, s *Server, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("%s exited during start-up (%v): %s", s.Name, err, s.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not listen on %s within %v: %s", s.Name, s.Addr, limit, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// PinnedEnv is set in the re-executed, pinned load generator.
const PinnedEnv = "SETSUNA_BENCH_PINNED"

// cpusAllowed returns this process's Cpus_allowed_list ("0-1", "1", ...).
func cpusAllowed() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// onlineCPUs counts the CPUs of the machine (not of this process's mask).
func onlineCPUs() int {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return 0
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(data)), ",") {
		var a, b int
		if _, err := fmt.Sscanf(part, "%d-%d", &a, &b); err == nil {
			n += b - a + 1
		} else if _, err := fmt.Sscanf(part, "%d", &a); err == nil {
			n++
		}
	}
	return n
}

// ReexecPinned runs this program again under `taskset -c 1` so that the
// load generator has CPU 1 to itself while servers get CPU 0. It returns
// ran=false (and the caller goes on) when already pinned, when the machine
// has fewer than 2 CPUs, or when taskset is missing.
func ReexecPinned(args []string, stdout, stderr *os.File) (ran bool, code int) {
	if os.Getenv(PinnedEnv) != "" || cpusAllowed() == "1" || onlineCPUs() < 2 {
		return false, 0
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return false, 0
	}
	exe, err := os.Executable()
	if err != nil {
		return false, 0
	}
	cmd := exec.Command(taskset, append([]string{"-c", "1", exe}, args...)...)
	cmd.Env = append(os.Environ(), PinnedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return true, ee.ExitCode()
		}
		fmt.Fprintf(stderr, "setsuna bench: cannot re-run pinned: %v\n", err)
		return true, 1
	}
	return true, 0
}
