package topics_test

import (
	"context"
	"testing"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// pollUntil polls sub until it has taken n messages, waiting on Ready.
func pollUntil(t *testing.T, sub *topics.Subscription, n int) (msgs, gaps int) {
	t.Helper()
	ctx := context.Background()
	for msgs < n {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Msg != nil {
				msgs++
			} else {
				gaps++
			}
		}
		if len(evs) == 0 {
			<-ready
		}
	}
	return msgs, gaps
}

func TestHubStats(t *testing.T) {
	log := memstore.NewTopicLog(memstore.TopicLogOptions{})
	epochs := func(_ context.Context, cache string) (uint64, error) {
		if cache == "c" {
			return 1, nil
		}
		return 0, errs.ErrCacheNotFound
	}
	hub := topics.NewHub(log, epochs, topics.HubOptions{MaxLag: 4})
	t.Cleanup(func() {
		hub.Close()
		log.Close()
	})
	ctx := context.Background()
	fast, err := hub.Subscribe(ctx, "c", "news", topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := hub.Subscribe(ctx, "c", "news", topics.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Subscribe(ctx, "c", "other", topics.Position{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := hub.Publish(ctx, "c", "news", topics.Value{Data: []byte("m")}, ""); err != nil {
			t.Fatal(err)
		}
	}
	pollUntil(t, fast, 3) // the window holds 1..3 once fast has them
	st := hub.Stats()
	if st.Subscriptions != 3 || len(st.Topics) != 2 {
		t.Fatalf("stats = %+v", st)
	}
	news := st.Topics[0]
	if news.Topic != "news" || news.Subscribers != 2 || news.Last != 3 || news.Backlog != 3 || news.MaxLag != 3 {
		t.Fatalf("news = %+v", news)
	}
	if other := st.Topics[1]; other.Topic != "other" || other.Subscribers != 1 || other.Backlog != 0 {
		t.Fatalf("other = %+v", other)
	}

	// Past MaxLag the slow subscriber skips ahead: a discontinuity.
	for range 5 {
		if _, _, err := hub.Publish(ctx, "c", "news", topics.Value{Data: []byte("m")}, ""); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, fast, 1)
	}
	if _, gaps := pollUntil(t, slow, 1); gaps != 1 {
		t.Fatalf("slow subscriber got %d discontinuities, want 1", gaps)
	}
	st = hub.Stats()
	if st.Discontinuities != 1 || st.Topics[0].Backlog != 0 {
		t.Fatalf("after the skip: %+v", st)
	}
	slow.Close()
	if st = hub.Stats(); st.Subscriptions != 2 || st.Topics[0].Subscribers != 1 {
		t.Fatalf("after close: %+v", st)
	}
}
