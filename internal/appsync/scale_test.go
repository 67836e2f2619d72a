package appsync_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestManyIdleSubscribers holds 10,000 subscribed WebSocket connections on one
// server and reports what an idle one costs the server, then checks that one
// mutation reaches every one of them. The clients run in a child process (the
// test binary again) so that their memory and file descriptors are not counted.
func TestManyIdleSubscribers(t *testing.T) {
	n := 10000
	if v := os.Getenv("SETSUNA_WS_SUBSCRIBERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	e := newEnv(t, opts{})

	before := memNow()
	goroutinesBefore := runtime.NumGoroutine()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSubscriberProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), "SETSUNA_HELPER_URL="+e.wsURL("/graphql/realtime"), "SETSUNA_HELPER_N="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	waitLine := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("helper process ended before %q: %v", prefix, lines.Err())
		return ""
	}
	waitLine("READY")
	if p := os.Getenv("SETSUNA_HEAP_PROFILE"); p != "" {
		f, _ := os.Create(p)
		runtime.GC()
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
	if got := e.h.Connections(); got != n {
		t.Fatalf("server has %d connections, want %d", got, n)
	}
	after := memNow()
	goroutines := runtime.NumGoroutine() - goroutinesBefore
	t.Logf("%d idle subscribed connections: heap+stacks %d bytes/conn (heap %d, stacks %d), runtime total %d bytes/conn, %.2f goroutines/conn",
		n, (after.heap+after.stack-before.heap-before.stack)/uint64(n), (after.heap-before.heap)/uint64(n),
		(after.stack-before.stack)/uint64(n), (after.sys-before.sys)/uint64(n), float64(goroutines)/float64(n))

	status, _, body := e.post(t, testKey, addPostMut, nil)
	if status != 200 {
		t.Fatalf("mutation: %d %s", status, body)
	}
	got := waitLine("RECEIVED")
	if got != fmt.Sprintf("RECEIVED %d", n) {
		t.Fatalf("helper: %s, want every one of %d subscribers to get the event", got, n)
	}
}

type memSample struct{ heap, stack, sys uint64 }

func memNow() memSample {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSample{heap: m.HeapInuse, stack: m.StackInuse, sys: m.Sys - m.HeapReleased}
}

// TestHelperSubscriberProcess is the client side of TestManyIdleSubscribers;
// it does nothing unless started by it.
func TestHelperSubscriberProcess(t *testing.T) {
	url := os.Getenv("SETSUNA_HELPER_URL")
	if url == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("SETSUNA_HELPER_N"))
	want := `{"type":"data","id":"s","payload":{"data":{"addedPost":{"id":"p1","author":"a","title":"hello"}}}}`
	proto := []string{"graphql-ws", "header-" + b64url(map[string]any{"x-api-key": testKey})}
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := subscribeOne(url, proto)
				if err != nil {
					failed.Store(fmt.Sprintf("connection %d: %v", i, err))
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
	fmt.Println("READY")
	var received atomic.Int64
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if string(b) == `{"type":"ka"}` {
					continue
				}
				if string(b) == want {
					received.Add(1)
				}
				return
			}
		}()
	}
	wg.Wait()
	fmt.Printf("RECEIVED %d\n", received.Load())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
	for _, c := range conns {
		_ = c.CloseNow()
	}
}

func subscribeOne(url string, proto []string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: proto})
	if err != nil {
		return nil, err
	}
	send := func(s string) error { return c.Write(ctx, websocket.MessageText, []byte(s)) }
	expectFrame := func(want string) error {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if string(b) == `{"type":"ka"}` {
				continue
			}
			if string(b) != want {
				return fmt.Errorf("got %s, want %s", b, want)
			}
			return nil
		}
	}
	if err := send(`{"type":"connection_init"}`); err != nil {
		return nil, err
	}
	if err := expectFrame(`{"type":"connection_ack","payload":{"connectionTimeoutMs":300000}}`); err != nil {
		return nil, err
	}
	if err := send(startFrame("s", testKey, addedPostSub)); err != nil {
		return nil, err
	}
	if err := expectFrame(`{"id":"s","type":"start_ack"}`); err != nil {
		return nil, err
	}
	return c, nil
}
