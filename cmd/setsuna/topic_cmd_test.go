package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// startTopicCLIServer starts a node and returns its address.
func startTopicCLIServer(t *testing.T) string {
	t.Helper()
	return testnode.Start(t, embed.Config{}).Addr()
}

func topicCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runTopicIO(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTopicCLIUsage(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, exitUsage, "Usage: setsuna topic"},
		{[]string{"nope"}, exitUsage, "unknown topic command"},
		{[]string{"publish", "c", "t"}, exitUsage, "takes arguments <cache> <topic> <value>"},
		{[]string{"subscribe", "c"}, exitUsage, "takes arguments <cache> <topic>"},
		{[]string{"subscribe", "c", "t", "--bogus"}, exitUsage, "unknown flag"},
		{[]string{"publish", "c", "t", "v", "--timeout", "0s"}, exitUsage, "--timeout must be positive"},
	}
	for _, c := range cases {
		code, _, stderr := topicCLI(ctx, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("topic %v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
	if code, stdout, _ := topicCLI(ctx, "-h"); code != exitOK || !strings.Contains(stdout, "subscribe <cache> <topic>") {
		t.Errorf("topic -h: %d %q", code, stdout)
	}
}

func TestTopicCLIPublishSubscribe(t *testing.T) {
	addr := startTopicCLIServer(t)
	if code, _, stderr := cacheCLI("create", "--addr", addr, "c"); code != exitOK {
		t.Fatalf("create cache: %d %s", code, stderr)
	}
	if code, _, stderr := topicCLI(context.Background(), "publish", "--addr", addr, "missing", "t", "v"); code != exitFailure || !strings.Contains(stderr, "cache not found: missing") {
		t.Fatalf("publish to a missing cache: %d %q", code, stderr)
	}
	if code, _, stderr := topicCLI(context.Background(), "subscribe", "--addr", addr, "missing", "t"); code != exitFailure || !strings.Contains(stderr, "cache not found: missing") {
		t.Fatalf("subscribe to a missing cache: %d %q", code, stderr)
	}
	if code, _, stderr := topicCLI(context.Background(), "publish", "--addr", addr, "c", "t", ""); code != exitUsage || !strings.Contains(stderr, "invalid argument") {
		t.Fatalf("publish an empty value: %d %q", code, stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- runTopicIO(ctx, []string{"subscribe", "--addr", addr, "c", "t"}, &out, &errOut) }()

	// The subscriber prints nothing until its subscription is open; publish
	// until the first message shows, then the rest.
	deadline := time.Now().Add(30 * time.Second)
	for out.String() == "" {
		if code, _, stderr := topicCLI(context.Background(), "publish", "--addr", addr, "c", "t", "first"); code != exitOK {
			t.Fatalf("publish: %d %s", code, stderr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber printed nothing; stderr %q", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, v := range []string{"two words", "line\nbreak"} {
		if code, _, stderr := topicCLI(context.Background(), "publish", "--addr", addr, "c", "t", v); code != exitOK {
			t.Fatalf("publish: %d %s", code, stderr)
		}
	}
	for !strings.Contains(out.String(), "line\\nbreak") {
		if time.Now().After(deadline) {
			t.Fatalf("subscriber output %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("subscribe exit %d, stderr %q", code, errOut.String())
	}
	// Consecutive sequence numbers; "first" until the last two.
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	n := len(lines)
	first, err := strconv.Atoi(strings.SplitN(lines[0], "\t", 2)[0])
	if err != nil || n < 3 {
		t.Fatalf("subscriber output:\n%s", out.String())
	}
	for i, l := range lines {
		want := "first"
		switch i {
		case n - 2:
			want = "two words"
		case n - 1:
			want = "line\\nbreak"
		}
		if l != strconv.Itoa(first+i)+"\t"+want {
			t.Fatalf("line %d is %q, want value %q; output:\n%s", i, l, want, out.String())
		}
	}
}

func TestFormatTopicValue(t *testing.T) {
	if got := formatTopicValue(client.Bytes{0xca, 0xfe}); got != "0xcafe" {
		t.Errorf("bytes: %q", got)
	}
	if got := formatTopicValue(client.String("a\\b\nc")); got != `a\\b\nc` {
		t.Errorf("text: %q", got)
	}
}
