package pubsubproc_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testnode.CleanupBinary()
	os.Exit(code)
}

// listener records what a client is told; wait waits for a condition on it.
type listener struct {
	mu       sync.Mutex
	msgs     []*client.PubSubMessage
	statuses []string
	changed  chan struct{}
}

func newListener() *listener { return &listener{changed: make(chan struct{})} }

func (l *listener) OnMessage(m *client.PubSubMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, m)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *listener) OnStatus(status, info string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses = append(l.statuses, status+" "+info)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *listener) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ok, ch := cond(), l.changed
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("timed out waiting for %s; statuses %q", what, l.statuses)
		}
	}
}

func (l *listener) count(content string) int {
	n := 0
	for _, m := range l.msgs {
		if string(m.Content) == content {
			n++
		}
	}
	return n
}

func createCache(t *testing.T, addr, name string) {
	t.Helper()
	cc, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := cc.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: name}); err != nil {
		t.Fatal(err)
	}
}

func newClient(t *testing.T, cfg client.PubSubConfig) (*client.PubSubClient, *listener) {
	t.Helper()
	l := newListener()
	cfg.Listener = l
	c, err := client.NewPubSubClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Disconnect)
	return c, l
}

// A server stopped with SIGSTOP answers nothing: TIMEOUT. Published again
// with the same key once it runs again, the message lands once.
func TestTimeoutThenIdempotentRetry(t *testing.T) {
	p := testnode.StartProc(t)
	createCache(t, p.Addr, "sport")
	c, l := newClient(t, client.PubSubConfig{Servers: []string{p.Addr}, PublishTimeout: 300 * time.Millisecond})
	if err := c.Subscribe("/sport/football"); err != nil {
		t.Fatal(err)
	}
	l.wait(t, "subscribed", func() bool { return slices.Contains(l.statuses, client.NotifySubscribeAllow+" /sport/football") })

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	m := &client.PubSubMessage{Subject: "/sport/football", Content: []byte("goal"), Closure: "c-17", IdempotencyKey: "goal-17"}
	res, err := c.Publish(context.Background(), m)
	if err != nil || res.Status != client.PublishTimeout || res.Closure != "c-17" {
		t.Fatalf("publish to a stopped server: %+v, %v", res, err)
	}
	p.Signal(syscall.SIGCONT)

	retry := *m
	var r client.PublishResult
	for {
		r, err = c.Publish(context.Background(), &retry)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != client.PublishTimeout {
			break // the server is answering again
		}
	}
	if r.Status != client.PublishOK {
		t.Fatalf("retry: %+v", r)
	}
	end, err := c.Publish(context.Background(), &client.PubSubMessage{Subject: "/sport/football", Content: []byte("end")})
	if err != nil || end.Status != client.PublishOK {
		t.Fatalf("end: %+v %v", end, err)
	}
	l.wait(t, "end", func() bool { return l.count("end") == 1 })
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.count("goal"); n != 1 {
		t.Fatalf("the message landed %d times (retry duplicate=%v)", n, r.Duplicate)
	}
	if !slices.Contains(l.statuses, string(client.PublishTimeout)+" c-17") {
		t.Fatalf("no TIMEOUT notification with the closure: %q", l.statuses)
	}
}

// Three servers; the connected one is killed mid-stream. The client moves
// to another on its first reconnection attempt (so within the policy's
// first delay), and the subscriber sees every message once or is told
// that it resynced (memory engines share nothing, so it must be told).
func TestFailoverSIGKILL(t *testing.T) {
	procs := map[string]*testnode.Proc{}
	var servers []string
	for range 3 {
		p := testnode.StartProc(t)
		createCache(t, p.Addr, "sport")
		procs[p.Addr] = p
		servers = append(servers, p.Addr)
	}
	const subject = "/sport/live"
	c, l := newClient(t, client.PubSubConfig{
		Servers:   servers,
		Reconnect: client.ReconnectPolicy{QuickInitialDelay: 200 * time.Millisecond},
	})
	if err := c.Subscribe(subject); err != nil {
		t.Fatal(err)
	}
	l.wait(t, "subscribed", func() bool { return slices.Contains(l.statuses, client.NotifySubscribeAllow+" "+subject) })
	first := c.Server()

	type outcome struct {
		content string
		status  client.PublishStatus
		overlap bool // the publication was under way when the server was killed
	}
	var (
		mu       sync.Mutex
		killed   bool
		outcomes []outcome
	)
	stop := make(chan struct{})
	published := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			content := fmt.Sprint("m", i)
			mu.Lock()
			before := killed
			mu.Unlock()
			res, err := c.Publish(context.Background(), &client.PubSubMessage{Subject: subject, Content: []byte(content)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			outcomes = append(outcomes, outcome{content: content, status: res.Status, overlap: !before && killed})
			mu.Unlock()
			select {
			case published <- struct{}{}:
			default:
			}
		}
	}()
	okCount := func(afterKill bool) int {
		mu.Lock()
		defer mu.Unlock()
		n, seenKill := 0, false
		for _, o := range outcomes {
			seenKill = seenKill || o.overlap
			if o.status == client.PublishOK && (!afterKill || seenKill && !o.overlap) {
				n++
			}
		}
		return n
	}
	// Mid-stream: messages are flowing when the server dies.
	l.wait(t, "messages before the kill", func() bool { return len(l.msgs) >= 20 })
	mu.Lock()
	killed = true
	mu.Unlock()
	procs[first].Kill()

	// Wait for 20 messages published and accepted after the failover.
	for okCount(true) < 20 {
		<-published
	}
	close(stop)
	<-done

	mu.Lock()
	all := slices.Clone(outcomes)
	mu.Unlock()
	var wantAfter []string
	afterKill := false
	for _, o := range all {
		if o.overlap {
			afterKill = true
			continue
		}
		if afterKill && o.status == client.PublishOK {
			wantAfter = append(wantAfter, o.content)
		}
	}
	l.wait(t, "every message accepted after the failover", func() bool {
		for _, c := range wantAfter {
			if l.count(c) == 0 {
				return false
			}
		}
		return true
	})

	l.mu.Lock()
	defer l.mu.Unlock()
	// The client moved on its first attempt: the down of the killed server
	// is followed by the up of another, with no failed attempt between.
	down := slices.Index(l.statuses, client.NotifyServerDown+" "+first)
	if down < 0 {
		t.Fatalf("no server down for %s: %q", first, l.statuses)
	}
	var after []string
	for _, s := range l.statuses[down+1:] {
		if strings.HasPrefix(s, "NOTIFY_SERVER_") {
			after = append(after, s)
		}
	}
	if len(after) == 0 || !strings.HasPrefix(after[0], client.NotifyServerUp+" ") || after[0] == client.NotifyServerUp+" "+first {
		t.Fatalf("after %s went down: %q, want the up of another server first", first, after)
	}
	// Memory engines share nothing: the resume cannot be in sync, and the
	// client must say so.
	if !slices.Contains(l.statuses[down:], client.NotifyDataResync+" "+subject) {
		t.Fatalf("no resync reported after the failover: %q", l.statuses[down:])
	}
	// Every message: once, or (before the kill, or the one under way
	// during it) lost or twice, which the resync reported.
	afterKill = false
	for _, o := range all {
		n := l.count(o.content)
		switch {
		case o.overlap:
			afterKill = true
			if n > 2 {
				t.Errorf("%s (under way at the kill) delivered %d times", o.content, n)
			}
		case o.status != client.PublishOK:
			if n != 0 {
				t.Errorf("%s answered %s but delivered %d times", o.content, o.status, n)
			}
		case afterKill && n != 1, !afterKill && n > 1:
			t.Errorf("%s (after the kill: %v) delivered %d times", o.content, afterKill, n)
		}
	}
}
