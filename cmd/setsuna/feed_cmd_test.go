package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/server"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// startFeedCLIServer starts a node with cache "c".
func startFeedCLIServer(t *testing.T) (string, *client.CacheClient) {
	t.Helper()
	addr := testnode.Start(t, embed.Config{}).Addr()
	cc, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	if _, err := cc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	return addr, cc
}

func feedCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runFeedIO(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFeedCLIUsage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{nil, "Usage: setsuna feed"},
		{[]string{"nope"}, "unknown feed command"},
		{[]string{"tail"}, "takes one argument"},
		{[]string{"tail", "c", "--mode", "some"}, "--mode must be latest or all"},
		{[]string{"tail", "c", "--from", "yesterday"}, "--from"},
		{[]string{"tail", "c", "--range", `{"Range":{}}`}, "--range"},
		{[]string{"tail", "c", "--range", `{"PK":"a"}`, "--key", "a"}, "not both"},
	} {
		if code, _, stderr := feedCLI(ctx, tc.args...); code != exitUsage || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("feed %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.stderr)
		}
	}
}

func TestFeedCLI(t *testing.T) {
	addr, cc := startFeedCLIServer(t)
	ctx := t.Context()
	code, out, stderr := feedCLI(ctx, "ranges", "c", "--addr", addr)
	if code != exitOK || strings.Count(out, "\n") != server.DefaultPartitions || !strings.Contains(out, `0	{"Range":{"min":"","max":"1000"}}`) {
		t.Fatalf("ranges: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := feedCLI(ctx, "ranges", "missing", "--addr", addr); code != exitFailure || !strings.Contains(stderr, "cache not found") {
		t.Fatalf("ranges of a missing cache: %d %q", code, stderr)
	}
	for _, k := range []string{"a", "b", "a"} {
		if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String(k), Value: client.Bytes{0xff, 0x00}, Ttl: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	// tail from the beginning prints the changes, then polls until stopped.
	tctx, cancel := context.WithCancel(ctx)
	var buf syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runFeedIO(tctx, []string{"tail", "c", "--addr", addr, "--from", "beginning", "--poll", "5ms"}, &buf, &buf)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(buf.String(), "\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String("later"), Value: client.String("x"), Ttl: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for strings.Count(buf.String(), "\n") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("tail exit %d: %s", code, buf.String())
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("tail printed %q", buf.String())
	}
	var last changeJSON
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil || last.Key != "later" || last.Value != "x" || last.Op != "create" || last.Continuation == "" {
		t.Fatalf("last line %q: %+v %v", lines[2], last, err)
	}
	var first changeJSON
	json.Unmarshal([]byte(lines[0]), &first)
	if first.Value != "0xff00" || first.Kind != "scalar" {
		t.Fatalf("binary value line %q", lines[0])
	}
	// Resume from the printed token: nothing new until a write.
	tctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	code, out, stderr = feedCLI(tctx, "tail", "c", "--addr", addr, "--from", last.Continuation, "--poll", "5ms")
	if code != exitOK || out != "" {
		t.Fatalf("resume: %d %q %q", code, out, stderr)
	}
	// All versions from the beginning is refused with Cosmos DB's message.
	code, _, stderr = feedCLI(ctx, "tail", "c", "--addr", addr, "--from", "beginning", "--mode", "all")
	if code != exitUsage || !strings.Contains(stderr, "retention period") {
		t.Fatalf("all versions from the beginning: %d %q", code, stderr)
	}
}
