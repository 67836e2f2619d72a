package memstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics/topicstest"
)

func TestTopicExtrasSuite(t *testing.T) { storetest.RunTopicExtras(t, newTopicLog) }

// Hubs over one log, as nodes over one engine.
func TestSharedHubSuite(t *testing.T) { topicstest.RunShared(t, newTopicLog) }

// A full stripe forgets its oldest keys first and keeps the newest.
func TestIdempotencyKeysBounded(t *testing.T) {
	l := NewTopicLog(TopicLogOptions{MaxIdempotencyKeys: dedupStripes}) // one key per stripe
	defer l.Close()
	ref := store.TopicRef{Cache: "c", Epoch: 1, Name: "t"}
	ctx := context.Background()
	for i := range 200 {
		if _, _, _, err := l.AppendOnce(ctx, ref, store.TopicValue{Data: []byte("m")}, "", fmt.Sprint("k", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	kept := 0
	for i := range 200 {
		if _, _, found, _ := l.Appended(ctx, ref, fmt.Sprint("k", i)); found {
			kept++
		}
	}
	if kept == 0 || kept > dedupStripes {
		t.Fatalf("%d keys kept, want 1..%d", kept, dedupStripes)
	}
	if _, _, found, _ := l.Appended(ctx, ref, "k199"); !found {
		t.Fatal("the newest key was forgotten")
	}
}
