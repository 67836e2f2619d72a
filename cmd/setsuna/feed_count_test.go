package main

import (
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
)

// feed tail --count N exits after N changes.
func TestFeedTailCount(t *testing.T) {
	addr, cc := startFeedCLIServer(t)
	for _, k := range []string{"a", "b", "c"} {
		if _, err := cc.Set(t.Context(), &client.SetRequest{CacheName: "c", Key: client.String(k), Value: client.String("v"), Ttl: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := feedCLI(t.Context(), "tail", "c", "--addr", addr, "--from", "beginning", "--count", "2")
	if code != exitOK || strings.Count(out, "\n") != 2 {
		t.Fatalf("tail --count 2: %d %q %q", code, out, stderr)
	}
}
