package main

import (
	"context"
	"testing"

	"github.com/setsuna-io/setsuna/client"
)

// subscribe --after N --count M: replays from the buffer after N and exits
// after M messages.
func TestTopicSubscribeAfterAndCount(t *testing.T) {
	addr := startTopicCLIServer(t)
	cc, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := cc.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"one", "two", "three"} {
		if code, _, stderr := topicCLI(context.Background(), "publish", "c", "t", v, "--addr", addr); code != exitOK {
			t.Fatalf("publish: %d %s", code, stderr)
		}
	}
	code, stdout, stderr := topicCLI(t.Context(), "subscribe", "c", "t", "--addr", addr, "--after", "1", "--count", "2")
	if code != exitOK || stdout != "2\ttwo\n3\tthree\n" {
		t.Fatalf("subscribe --after 1 --count 2: %d %q %s", code, stdout, stderr)
	}
}
