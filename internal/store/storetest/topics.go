package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// TopicLimits is what the topic-log suite asks of a new log: each topic
// keeps at most MaxMessages messages.
type TopicLimits struct {
	MaxMessages int
}

// NewTopicLog returns a usable log with the given limits. RunTopicLog
// closes it with t.Cleanup (a test of Close closes it first).
type NewTopicLog func(t *testing.T, limits TopicLimits) store.TopicLog

// RunTopicLog runs the engine-neutral suite of store.TopicLog.
func RunTopicLog(t *testing.T, newLog NewTopicLog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, l store.TopicLog, ref store.TopicRef)
	}{
		{"AppendRead", testTopicAppendRead},
		{"Window", testTopicWindow},
		{"Open", testTopicOpen},
		{"Notify", testTopicNotify},
		{"Epochs", testTopicEpochs},
		{"DropCache", testTopicDropCache},
		{"Invalid", testTopicInvalid},
		{"Close", testTopicClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLog(t, TopicLimits{MaxMessages: 8})
			t.Cleanup(func() { _ = l.Close() })
			tc.fn(t, l, store.TopicRef{Cache: uniqueName("topics"), Epoch: 100, Name: "news"})
		})
	}
}

func appendN(t *testing.T, l store.TopicLog, ref store.TopicRef, n int) (page uint64) {
	t.Helper()
	for range n {
		_, p, err := l.Append(context.Background(), ref, store.TopicValue{Data: fmt.Appendf(nil, "m")}, "pub")
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if page != 0 && p != page {
			t.Fatalf("page changed from %d to %d without a drop", page, p)
		}
		page = p
	}
	return page
}

func testTopicAppendRead(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		seq, page, err := l.Append(ctx, ref, store.TopicValue{Data: fmt.Appendf(nil, "m%d", i), Binary: i == 2}, "pub")
		if err != nil || seq != uint64(i) || page == 0 {
			t.Fatalf("Append %d = %d, %d, %v", i, seq, page, err)
		}
	}
	st, msgs, err := l.Read(ctx, ref, 1, 10)
	if err != nil || st.First != 1 || st.Last != 3 || st.Page == 0 || len(msgs) != 3 {
		t.Fatalf("Read(1) = %+v, %d messages, %v", st, len(msgs), err)
	}
	for i, m := range msgs {
		want := fmt.Sprintf("m%d", i+1)
		if m.Seq != uint64(i+1) || m.Page != st.Page || string(m.Value.Data) != want || m.Value.Binary != (i == 1) || m.PublisherID != "pub" {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
	if _, msgs, _ := l.Read(ctx, ref, 2, 1); len(msgs) != 1 || msgs[0].Seq != 2 {
		t.Fatalf("Read(2, max 1) = %+v", msgs)
	}
	if st2, msgs, err := l.Read(ctx, ref, 4, 10); err != nil || len(msgs) != 0 || st2 != st {
		t.Fatalf("Read past the end = %+v, %v, %v", st2, msgs, err)
	}
	// The log keeps its own copy of the payload.
	buf := []byte("mine")
	if _, _, err := l.Append(ctx, ref, store.TopicValue{Data: buf}, ""); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	if _, msgs, _ := l.Read(ctx, ref, 4, 1); len(msgs) != 1 || string(msgs[0].Value.Data) != "mine" {
		t.Fatalf("the log shares the caller's buffer: %+v", msgs)
	}
	// A topic nobody used reads as missing.
	other := ref
	other.Name = "never"
	if st, msgs, err := l.Read(ctx, other, 1, 10); err != nil || st.Page != 0 || len(msgs) != 0 {
		t.Fatalf("Read of an unused topic = %+v, %v, %v", st, msgs, err)
	}
}

func testTopicWindow(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	appendN(t, l, ref, 20)
	st, msgs, err := l.Read(ctx, ref, 1, 100)
	if err != nil || st.Last != 20 || st.First < 13 || st.First > 20 {
		t.Fatalf("state after 20 appends with a window of 8: %+v, %v", st, err)
	}
	// What is returned starts at the window and is contiguous.
	if len(msgs) != int(st.Last-st.First+1) {
		t.Fatalf("Read(1) returned %d messages for window %d..%d", len(msgs), st.First, st.Last)
	}
	for i, m := range msgs {
		if m.Seq != st.First+uint64(i) {
			t.Fatalf("message %d has seq %d, window starts at %d", i, m.Seq, st.First)
		}
	}
}

func testTopicOpen(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	st, err := l.Open(ctx, ref)
	if err != nil || st.Page == 0 || st.Last != 0 || st.First != 1 {
		t.Fatalf("Open of a new topic = %+v, %v", st, err)
	}
	seq, page, err := l.Append(ctx, ref, store.TopicValue{Data: []byte("x")}, "")
	if err != nil || seq != 1 || page != st.Page {
		t.Fatalf("Append after Open = %d, %d, %v; want 1, page %d", seq, page, err, st.Page)
	}
	if again, err := l.Open(ctx, ref); err != nil || again.Page != st.Page || again.Last != 1 {
		t.Fatalf("second Open = %+v, %v", again, err)
	}
}

func testTopicNotify(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	ch, err := l.Notify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("Notify channel closed before any append")
	default:
	}
	appendN(t, l, ref, 1)
	<-ch // closed by the append; a missed wake-up hangs the test
	ch, err = l.Notify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DropCache(ctx, ref.Cache, ref.Epoch); err != nil {
		t.Fatal(err)
	}
	<-ch // closed by the drop
}

func testTopicEpochs(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	old := appendN(t, l, ref, 3)
	newer := ref
	newer.Epoch++
	seq, page, err := l.Append(ctx, newer, store.TopicValue{Data: []byte("x")}, "")
	if err != nil || seq != 1 || page <= old {
		t.Fatalf("Append at a newer epoch = %d, %d, %v; want seq 1 on a page after %d", seq, page, err, old)
	}
	_, _, err = l.Append(ctx, ref, store.TopicValue{Data: []byte("x")}, "")
	wantErr(t, "Append at the replaced epoch", err, errs.ErrCacheNotFound)
	_, _, err = l.Read(ctx, ref, 1, 10)
	wantErr(t, "Read at the replaced epoch", err, errs.ErrCacheNotFound)
	_, err = l.Open(ctx, ref)
	wantErr(t, "Open at the replaced epoch", err, errs.ErrCacheNotFound)
	// Other caches are unaffected.
	other := store.TopicRef{Cache: uniqueName("other"), Epoch: 1, Name: "news"}
	if _, _, err := l.Append(ctx, other, store.TopicValue{Data: []byte("x")}, ""); err != nil {
		t.Fatal(err)
	}
}

func testTopicDropCache(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	old := appendN(t, l, ref, 2)
	if err := l.DropCache(ctx, ref.Cache, ref.Epoch); err != nil {
		t.Fatal(err)
	}
	_, _, err := l.Append(ctx, ref, store.TopicValue{Data: []byte("x")}, "")
	wantErr(t, "Append to a dropped epoch", err, errs.ErrCacheNotFound)
	next := ref
	next.Epoch++
	seq, page, err := l.Append(ctx, next, store.TopicValue{Data: []byte("x")}, "")
	if err != nil || seq != 1 || page <= old {
		t.Fatalf("Append after the drop at a new epoch = %d, %d, %v", seq, page, err)
	}
	// Dropping an older epoch leaves the current one.
	if err := l.DropCache(ctx, ref.Cache, ref.Epoch); err != nil {
		t.Fatal(err)
	}
	if st, _, err := l.Read(ctx, next, 1, 10); err != nil || st.Last != 1 {
		t.Fatalf("current epoch after dropping an older one: %+v, %v", st, err)
	}
}

func testTopicInvalid(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	for _, name := range []string{"", "a\x00b", string([]byte{0xff}), string(make([]byte, store.MaxTopicNameLen+1))} {
		bad := ref
		bad.Name = name
		_, _, err := l.Append(ctx, bad, store.TopicValue{Data: []byte("x")}, "")
		wantErr(t, fmt.Sprintf("Append to topic %q", name), err, errs.ErrInvalidArgument)
	}
}

func testTopicClose(t *testing.T, l store.TopicLog, ref store.TopicRef) {
	ctx := context.Background()
	ch, err := l.Notify(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	<-ch
	_, _, err = l.Append(ctx, ref, store.TopicValue{Data: []byte("x")}, "")
	wantErr(t, "Append after Close", err, errs.ErrShuttingDown)
}
