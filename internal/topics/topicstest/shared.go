package topicstest

import (
	"context"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// RunShared runs the suite of hubs that share one log, as the nodes of a
// cluster share their engine: presence and idempotent publication hold
// across the hubs. For engines whose log implements store.TopicPresence and
// store.TopicAppendOnce.
func RunShared(t *testing.T, newLog storetest.NewTopicLog) {
	t.Run("PresenceAcrossHubs", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, newLog)
		a := e.start(64, topics.HubOptions{})
		b := topics.NewHub(e.log, e.cat.epoch, topics.HubOptions{})
		t.Cleanup(b.Close)
		ctx := context.Background()
		present := func(h *topics.Hub, want bool) {
			t.Helper()
			got, err := h.Present(ctx, e.cache, "t")
			if err != nil || got != want {
				t.Fatalf("Present = %v, %v; want %v", got, err, want)
			}
		}
		present(a, false)
		present(b, false)
		s, err := a.Subscribe(ctx, e.cache, "t", topics.Position{})
		if err != nil {
			t.Fatal(err)
		}
		present(a, true)
		present(b, true) // the only subscriber is on the other hub
		s.Close()
		present(a, false)
		present(b, false)
	})
	t.Run("PublishOnceAcrossHubs", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, newLog)
		a := e.start(64, topics.HubOptions{})
		b := topics.NewHub(e.log, e.cat.epoch, topics.HubOptions{})
		t.Cleanup(b.Close)
		ctx := context.Background()
		v := store.TopicValue{Data: []byte("m")}
		seq, page, dup, err := a.PublishOnce(ctx, e.cache, "t", v, "p", "key", time.Minute)
		if err != nil || dup {
			t.Fatalf("first: dup %v, %v", dup, err)
		}
		// The retry reaches the other hub: it lands nowhere.
		if s, p, found, err := b.Published(ctx, e.cache, "t", "key"); err != nil || !found || s != seq || p != page {
			t.Fatalf("Published on the other hub = %d/%d %v %v", s, p, found, err)
		}
		s2, p2, dup, err := b.PublishOnce(ctx, e.cache, "t", v, "p", "key", time.Minute)
		if err != nil || !dup || s2 != seq || p2 != page {
			t.Fatalf("retry on the other hub = %d/%d dup %v, %v", s2, p2, dup, err)
		}
	})
}
