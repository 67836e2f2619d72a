package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// RunTopicExtras runs the suites of the optional topic-log capabilities
// (store.TopicPresence, store.TopicAppendOnce) that the engine's log
// implements; an engine implementing neither fails, so that a missing
// capability is a decision, not an accident.
func RunTopicExtras(t *testing.T, newLog NewTopicLog) {
	probe := newLog(t, TopicLimits{MaxMessages: 8})
	_, hasPresence := probe.(store.TopicPresence)
	_, hasOnce := probe.(store.TopicAppendOnce)
	_ = probe.Close()
	if !hasPresence && !hasOnce {
		t.Fatal("the log implements neither store.TopicPresence nor store.TopicAppendOnce")
	}
	run := func(name string, fn func(t *testing.T, l store.TopicLog, ref store.TopicRef)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newLog(t, TopicLimits{MaxMessages: 8})
			t.Cleanup(func() { _ = l.Close() })
			fn(t, l, store.TopicRef{Cache: uniqueName("extras"), Epoch: 100, Name: "news"})
		})
	}
	if hasPresence {
		run("Presence", testPresenceCounts)
		run("PresenceExpires", testPresenceExpires)
	}
	if hasOnce {
		run("AppendOnce", testAppendOnce)
		run("AppendOnceConcurrent", testAppendOnceConcurrent)
		run("AppendOnceWindow", testAppendOnceWindow)
	}
}

func testPresenceCounts(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	p := l.(store.TopicPresence)
	ctx := context.Background()
	want := func(n int) {
		t.Helper()
		got, err := p.Presence(ctx, ref)
		if err != nil || got != n {
			t.Fatalf("Presence = %d, %v; want %d", got, err, n)
		}
	}
	want(0)
	must(t, p.SetPresence(ctx, "a", ref, 2, time.Minute))
	must(t, p.SetPresence(ctx, "b", ref, 1, time.Minute))
	want(3)
	must(t, p.SetPresence(ctx, "a", ref, 1, time.Minute)) // replaces a's count
	want(2)
	other := ref
	other.Epoch++
	if n, _ := p.Presence(ctx, other); n != 0 {
		t.Fatalf("presence of another epoch: %d", n)
	}
	must(t, p.SetPresence(ctx, "a", ref, 0, time.Minute))
	must(t, p.SetPresence(ctx, "b", ref, 0, time.Minute))
	want(0)
	if err := p.SetPresence(ctx, "a", ref, -1, time.Minute); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("negative count: %v", err)
	}
}

func testPresenceExpires(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	p := l.(store.TopicPresence)
	ctx := context.Background()
	must(t, p.SetPresence(ctx, "dead", ref, 5, time.Nanosecond))
	must(t, p.SetPresence(ctx, "live", ref, 1, time.Hour))
	// A nanosecond has passed once the second call returned.
	if n, err := p.Presence(ctx, ref); err != nil || n != 1 {
		t.Fatalf("Presence after the dead node's entry expired = %d, %v; want 1", n, err)
	}
}

func testAppendOnce(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	o := l.(store.TopicAppendOnce)
	ctx := context.Background()
	v := store.TopicValue{Data: []byte("m")}
	seq, page, dup, err := o.AppendOnce(ctx, ref, v, "p", "k1", time.Minute)
	if err != nil || dup || seq != 1 {
		t.Fatalf("first AppendOnce = %d, %v, %v", seq, dup, err)
	}
	seq2, page2, dup, err := o.AppendOnce(ctx, ref, v, "p", "k1", time.Minute)
	if err != nil || !dup || seq2 != seq || page2 != page {
		t.Fatalf("retry = %d/%d dup %v, %v; want %d/%d dup", seq2, page2, dup, err, seq, page)
	}
	if s, p, found, err := o.Appended(ctx, ref, "k1"); err != nil || !found || s != seq || p != page {
		t.Fatalf("Appended = %d/%d %v %v", s, p, found, err)
	}
	if _, _, found, _ := o.Appended(ctx, ref, "k2"); found {
		t.Fatal("Appended of an unused key")
	}
	if seq3, _, dup, err := o.AppendOnce(ctx, ref, v, "p", "k2", time.Minute); err != nil || dup || seq3 != 2 {
		t.Fatalf("another key = %d, %v, %v", seq3, dup, err)
	}
	st, msgs, err := l.Read(ctx, ref, 1, 10)
	if err != nil || len(msgs) != 2 || st.Last != 2 {
		t.Fatalf("log holds %d messages (last %d), %v; want 2", len(msgs), st.Last, err)
	}
	// The same key on another topic is another publication.
	other := ref
	other.Name = "other"
	if _, _, dup, err := o.AppendOnce(ctx, other, v, "p", "k1", time.Minute); err != nil || dup {
		t.Fatalf("key on another topic: dup %v, %v", dup, err)
	}
	for _, bad := range []string{"", string(make([]byte, store.MaxIdempotencyKeyLen+1))} {
		if _, _, _, err := o.AppendOnce(ctx, ref, v, "p", bad, time.Minute); !errors.Is(err, errs.ErrInvalidIdempotencyKey) {
			t.Fatalf("key of %d bytes: %v", len(bad), err)
		}
	}
}

func testAppendOnceConcurrent(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	o := l.(store.TopicAppendOnce)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, dup, err := o.AppendOnce(context.Background(), ref, store.TopicValue{Data: []byte("m")}, "p", "same", time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if !dup {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if st, _ := l.Open(context.Background(), ref); fresh != 1 || st.Last != 1 {
		t.Fatalf("%d appends were not duplicates and the log holds %d; want 1 and 1", fresh, st.Last)
	}
}

func testAppendOnceWindow(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	o := l.(store.TopicAppendOnce)
	ctx := context.Background()
	v := store.TopicValue{Data: []byte("m")}
	if _, _, _, err := o.AppendOnce(ctx, ref, v, "p", "k", time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	// The window (a nanosecond) is over: the key may be used again.
	if _, _, dup, err := o.AppendOnce(ctx, ref, v, "p", "k", time.Minute); err != nil || dup {
		t.Fatalf("after the window: dup %v, %v", dup, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
