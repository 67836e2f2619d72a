package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// A node restarted on the same --data-dir keeps its caches, items, feed
// positions and topics: a continuation token saved before the restart
// resumes right after it, a subscriber resumes after its last message
// without a discontinuity.
func TestRestartKeepsFeedAndTopics(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	node := testnode.Start(t, embed.Config{DataDir: dir, Fsync: "always"})
	cc, fc, tc := clients(t, node.Addr())
	if _, err := cc.CreateCache(ctx, &client.CreateCacheRequest{CacheName: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String(k), Value: client.String("v-" + k), Ttl: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	token := drainFeed(t, fc.NewFeedIterator("c", client.StartFromBeginning(), client.LatestVersion, nil), 3)
	sub, err := tc.Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var last *client.TopicItem
	for i := range 3 {
		if _, err := tc.Publish(ctx, &client.TopicPublishRequest{CacheName: "c", TopicName: "t", Value: client.String("m" + string(rune('0'+i)))}); err != nil {
			t.Fatal(err)
		}
		last = nextItem(t, sub)
	}
	sub.Close()
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}

	node = testnode.Start(t, embed.Config{DataDir: dir, Fsync: "always"})
	cc, fc, tc = clients(t, node.Addr())
	if r, err := cc.Get(ctx, &client.GetRequest{CacheName: "c", Key: client.String("b")}); err != nil || r.(*client.GetHit).ValueString() != "v-b" {
		t.Fatalf("item after the restart: %v %v", r, err)
	}
	if _, err := cc.Set(ctx, &client.SetRequest{CacheName: "c", Key: client.String("d"), Value: client.String("v-d"), Ttl: time.Hour}); err != nil {
		t.Fatal(err)
	}
	it := fc.NewFeedIterator("c", client.StartFromContinuation(token), client.LatestVersion, nil)
	resp, err := it.ReadNext(ctx)
	if err != nil {
		t.Fatalf("resuming the feed with a token from before the restart: %v", err)
	}
	if len(resp.Items) != 1 || string(resp.Items[0].Key) != "d" {
		t.Fatalf("feed after the restart: %d changes %v, want exactly d", len(resp.Items), resp.Items)
	}

	sub, err = tc.Subscribe(ctx, &client.TopicSubscribeRequest{CacheName: "c", TopicName: "t",
		ResumeAtTopicSequenceNumber: last.SequenceNumber, SequencePage: last.SequencePage})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := tc.Publish(ctx, &client.TopicPublishRequest{CacheName: "c", TopicName: "t", Value: client.String("m3")}); err != nil {
		t.Fatal(err)
	}
	got := nextItem(t, sub)
	if got.SequenceNumber != last.SequenceNumber+1 || got.SequencePage != last.SequencePage {
		t.Fatalf("resumed at %d/%d after the restart, want %d/%d", got.SequenceNumber, got.SequencePage, last.SequenceNumber+1, last.SequencePage)
	}
}

func clients(t *testing.T, addr string) (*client.CacheClient, *client.FeedClient, *client.TopicClient) {
	t.Helper()
	cfg := client.Config{Address: addr}
	cc, err := client.NewCacheClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := client.NewFeedClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.NewTopicClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close(); fc.Close(); tc.Close() })
	return cc, fc, tc
}

// drainFeed reads until n changes came and the feed is not modified, and
// returns the continuation token.
func drainFeed(t *testing.T, it *client.FeedIterator, n int) string {
	t.Helper()
	got := 0
	for {
		resp, err := it.ReadNext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got += len(resp.Items)
		if resp.NotModified() {
			if got != n {
				t.Fatalf("feed gave %d changes, want %d", got, n)
			}
			return resp.ContinuationToken()
		}
	}
}

// nextItem returns the next event, which must be a message.
func nextItem(t *testing.T, sub *client.TopicSubscription) *client.TopicItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ev, err := sub.Event(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch ev := ev.(type) {
		case *client.TopicItem:
			return ev
		case *client.TopicDiscontinuity:
			t.Fatalf("discontinuity %+v", ev)
		}
	}
}
