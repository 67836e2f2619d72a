package publish_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/publish"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// engine is what the nodes of a test share: one store and one topic log.
type engine struct {
	store *memstore.Store
	log   *memstore.TopicLog
}

func newEngine(t *testing.T, caches ...string) *engine {
	t.Helper()
	e := &engine{store: memstore.New(memstore.Options{}), log: memstore.NewTopicLog(memstore.TopicLogOptions{})}
	t.Cleanup(func() {
		e.log.Close()
		e.store.Close()
	})
	for _, c := range caches {
		if _, err := e.store.CreateCache(context.Background(), c, store.CacheConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// node is one node's services over the engine.
func (e *engine) node(t *testing.T, opts publish.Options) *publish.Service {
	t.Helper()
	epochs := func(ctx context.Context, name string) (uint64, error) {
		info, err := e.store.CacheInfo(ctx, name)
		return info.Epoch, err
	}
	hub := topics.NewHub(e.log, epochs, topics.HubOptions{})
	svc := publish.New(topics.NewService(hub, 64, 0), e.store, opts)
	t.Cleanup(func() {
		svc.Close()
		hub.Close()
	})
	return svc
}

var dev = auth.NewContext(context.Background(), auth.DevPrincipal)

func as(perms ...auth.Permission) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{ID: "p", Kind: auth.KindAPIKey, TokenID: "tok", Perms: perms})
}

func msg(subject, content string) publish.Message {
	return publish.Message{Subject: subject, Content: []byte(content)}
}

func TestParseSubject(t *testing.T) {
	f := func(subject, cache, topic string) {
		t.Helper()
		c, tp, err := publish.ParseSubject(subject)
		if cache == "" {
			if !errors.Is(err, errs.ErrInvalidSubject) {
				t.Errorf("ParseSubject(%q) = %q %q %v, want invalid_subject", subject, c, tp, err)
			}
			return
		}
		if err != nil || c != cache || tp != topic {
			t.Errorf("ParseSubject(%q) = %q %q %v, want %q %q", subject, c, tp, err, cache, topic)
		}
	}
	f("/sport/football", "sport", "football")
	f("/sport/football/uk", "sport", "football/uk")
	f("/sport/ü", "sport", "ü")
	f("/sport", "", "")
	f("/sport/", "", "")
	f("sport/football", "", "")
	f("//football", "", "")
	f("/sport/a//b", "", "")
	f("/sport/a/", "", "")
	f("/sp ort/a", "", "")
	f("/sport/a\n", "", "")
	f("/"+strings.Repeat("c", 256)+"/t", "", "")
	f("/c/"+strings.Repeat("t", 256), "", "")
	f("", "", "")
	if got := publish.Subject("sport", "football/uk"); got != "/sport/football/uk" {
		t.Errorf("Subject = %q", got)
	}
}

func subscribe(t *testing.T, svc *publish.Service, ctx context.Context, subject string, epoch, seq uint64) *publish.Subscription {
	t.Helper()
	sub, err := svc.Subscribe(ctx, subject, epoch, seq)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// next waits for the next event of sub.
func next(t *testing.T, sub *publish.Subscription) publish.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, make([]publish.Event, 0, 1))
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if len(evs) == 1 {
			return evs[0]
		}
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatal("no event within 10s")
		}
	}
}

func TestStatuses(t *testing.T) {
	e := newEngine(t, "c")
	svc := e.node(t, publish.Options{})
	want := func(ctx context.Context, m publish.Message, status publish.Status, reason *errs.Error) publish.Result {
		t.Helper()
		r := svc.Publish(ctx, m)
		if r.Status != status || (reason == nil) != (r.Err == nil) || reason != nil && !errors.Is(r.Err, reason) {
			t.Fatalf("publish %+v = %v %v, want %v %v", m, r.Status, r.Err, status, reason)
		}
		if r.Closure != m.Closure && len(m.Closure) <= publish.MaxClosureLen {
			t.Fatalf("closure %q echoed as %q", m.Closure, r.Closure)
		}
		return r
	}
	m := msg("/c/t", "hello")
	m.Closure = "id-1"
	want(dev, m, publish.StatusNoSubscriber, errs.ErrNoSubscriber)
	sub := subscribe(t, svc, dev, "/c/t", 0, 0)
	r := want(dev, m, publish.StatusOK, nil)
	if r.Seq != 1 || r.Epoch == 0 {
		t.Fatalf("OK at %d/%d", r.Epoch, r.Seq)
	}
	if ev := next(t, sub); ev.Msg == nil || string(ev.Msg.Value.Data) != "hello" || ev.Msg.Seq != 1 || ev.Msg.Epoch != r.Epoch || ev.Msg.Snapshot {
		t.Fatalf("delivered %+v", ev)
	}
	// Another subject of the same cache has nobody.
	want(dev, msg("/c/u", "x"), publish.StatusNoSubscriber, errs.ErrNoSubscriber)
	sub.Close()
	want(dev, m, publish.StatusNoSubscriber, errs.ErrNoSubscriber)
	subscribe(t, svc, dev, "/c/t", 0, 0)

	// DENIED: a token whose permissions do not reach the topic.
	readOnly := as(auth.Permission{Resource: auth.ResourceTopic, Role: auth.RoleReadOnly})
	want(readOnly, m, publish.StatusDenied, errs.ErrPermissionDenied)
	other := as(auth.Permission{Resource: auth.ResourceTopic, Role: auth.RoleReadWrite, Topic: "other"})
	want(other, m, publish.StatusDenied, errs.ErrPermissionDenied)
	want(as(auth.Permission{Resource: auth.ResourceTopic, Role: auth.RoleWriteOnly, Cache: "c", Topic: "t"}), m, publish.StatusOK, nil)
	want(context.Background(), m, publish.StatusDenied, errs.ErrUnauthenticated)

	// FAILED, each with its reason.
	want(dev, msg("/c", "x"), publish.StatusFailed, errs.ErrInvalidSubject)
	want(dev, msg("/missing/t", "x"), publish.StatusFailed, errs.ErrCacheNotFound)
	want(dev, msg("/c/t", strings.Repeat("x", 65)), publish.StatusFailed, errs.ErrPayloadTooLarge)
	want(dev, msg("/c/t", ""), publish.StatusFailed, errs.ErrEmptyPayload)
	big := m
	big.Closure = strings.Repeat("c", publish.MaxClosureLen+1)
	want(dev, big, publish.StatusFailed, errs.ErrClosureTooLarge)
	badKey := m
	badKey.IdempotencyKey = "with space"
	want(dev, badKey, publish.StatusFailed, errs.ErrInvalidIdempotencyKey)
	badTTL := m
	badTTL.Retained, badTTL.RetainFor = true, -time.Second
	want(dev, badTTL, publish.StatusFailed, errs.ErrInvalidArgument)
	// An unauthorized caller learns nothing else: DENIED before FAILED.
	want(readOnly, msg("/c/t", strings.Repeat("x", 65)), publish.StatusDenied, errs.ErrPermissionDenied)
}

func TestIdempotentRetryLandsOnce(t *testing.T) {
	e := newEngine(t, "c")
	svc := e.node(t, publish.Options{})
	sub := subscribe(t, svc, dev, "/c/t", 0, 0)
	m := msg("/c/t", "once")
	m.IdempotencyKey = "key-1"
	first := svc.Publish(dev, m)
	retry := svc.Publish(dev, m)
	if first.Status != publish.StatusOK || first.Duplicate || retry.Status != publish.StatusOK || !retry.Duplicate || retry.Seq != first.Seq || retry.Epoch != first.Epoch {
		t.Fatalf("first %+v, retry %+v", first, retry)
	}
	end := svc.Publish(dev, msg("/c/t", "end"))
	var got []string
	for len(got) == 0 || got[len(got)-1] != "end" {
		ev := next(t, sub)
		got = append(got, string(ev.Msg.Value.Data))
	}
	if len(got) != 2 || got[0] != "once" || end.Seq != 2 {
		t.Fatalf("delivered %q", got)
	}
	// Once landed, a retry answers OK even when nobody subscribes anymore.
	sub.Close()
	if r := svc.Publish(dev, m); r.Status != publish.StatusOK || !r.Duplicate {
		t.Fatalf("retry without subscribers: %+v", r)
	}
}

func TestRetained(t *testing.T) {
	e := newEngine(t, "c")
	svc := e.node(t, publish.Options{})
	m := msg("/c/t", "v1")
	m.Retained = true
	// Nobody subscribes, but the snapshot is kept for those who come: OK.
	if r := svc.Publish(dev, m); r.Status != publish.StatusOK {
		t.Fatalf("retained without subscriber: %+v", r)
	}
	m.Content = []byte("v2")
	r2 := svc.Publish(dev, m)
	late := subscribe(t, svc, dev, "/c/t", 0, 0)
	if late.Start.Resumed || late.Start.InSync {
		t.Fatalf("start %+v", late.Start)
	}
	ev := next(t, late)
	if ev.Msg == nil || !ev.Msg.Snapshot || string(ev.Msg.Value.Data) != "v2" || ev.Msg.Seq != r2.Seq {
		t.Fatalf("first event %+v, want the snapshot v2", ev)
	}
	svc.Publish(dev, msg("/c/t", "live"))
	if ev := next(t, late); ev.Msg == nil || ev.Msg.Snapshot || string(ev.Msg.Value.Data) != "live" {
		t.Fatalf("then %+v, want live", ev)
	}
	// A subscriber that resumes in sync gets no snapshot again.
	resumed := subscribe(t, svc, dev, "/c/t", r2.Epoch, r2.Seq)
	if !resumed.Start.InSync {
		t.Fatalf("resume start %+v", resumed.Start)
	}
	if ev := next(t, resumed); ev.Msg == nil || ev.Msg.Snapshot || string(ev.Msg.Value.Data) != "live" {
		t.Fatalf("resumed first %+v", ev)
	}
	// A resume on another page (another server) is not in sync: a
	// discontinuity, then the snapshot.
	resync := subscribe(t, svc, dev, "/c/t", r2.Epoch-1, 7)
	if resync.Start.InSync || !resync.Start.Resumed {
		t.Fatalf("resync start %+v", resync.Start)
	}
	if ev := next(t, resync); ev.Msg != nil || ev.Gap.Last != 7 || ev.Gap.Page != r2.Epoch {
		t.Fatalf("resync first %+v", ev)
	}
	if ev := next(t, resync); ev.Msg == nil || !ev.Msg.Snapshot {
		t.Fatalf("resync second %+v", ev)
	}
}

func TestRetainedExpiresAndEpochs(t *testing.T) {
	e := newEngine(t, "c")
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	svc := e.node(t, publish.Options{Now: now})
	m := msg("/c/short", "gone")
	m.Retained, m.RetainFor = true, time.Minute
	if r := svc.Publish(dev, m); r.Status != publish.StatusOK {
		t.Fatal(r)
	}
	clock.Add(int64(time.Minute))
	sub := subscribe(t, svc, dev, "/c/short", 0, 0)
	svc.Publish(dev, msg("/c/short", "live"))
	if ev := next(t, sub); ev.Msg == nil || ev.Msg.Snapshot {
		t.Fatalf("expired snapshot delivered: %+v", ev)
	}
	// A re-created cache does not inherit the old cache's snapshot.
	m = msg("/c/kept", "old")
	m.Retained = true
	svc.Publish(dev, m)
	ctx := context.Background()
	info, _ := e.store.CacheInfo(ctx, "c")
	if err := e.store.DeleteCache(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	svc2 := e.node(t, publish.Options{}) // a node that never saw the old epoch
	sub2 := subscribe(t, svc2, dev, "/c/kept", 0, 0)
	svc2.Publish(dev, msg("/c/kept", "new"))
	if ev := next(t, sub2); ev.Msg == nil || ev.Msg.Snapshot {
		t.Fatalf("snapshot of epoch %d delivered after re-creation: %+v", info.Epoch, ev)
	}
}

func TestRetainedLimit(t *testing.T) {
	e := newEngine(t, "c")
	svc := e.node(t, publish.Options{MaxRetained: 2})
	for i, subject := range []string{"/c/a", "/c/b", "/c/a", "/c/c"} {
		m := msg(subject, "x")
		m.Retained = true
		r := svc.Publish(dev, m)
		if i < 3 && r.Status != publish.StatusOK || i == 3 && (r.Err == nil || !errors.Is(r.Err, errs.ErrRetainedLimitExceeded)) {
			t.Fatalf("retain %s: %v %v", subject, r.Status, r.Err)
		}
	}
}

// Two nodes over one engine, as a cluster: presence, idempotency keys and
// snapshots hold across them.
func TestAcrossNodes(t *testing.T) {
	e := newEngine(t, "c")
	a := e.node(t, publish.Options{})
	b := e.node(t, publish.Options{})
	if r := b.Publish(dev, msg("/c/t", "x")); r.Status != publish.StatusNoSubscriber {
		t.Fatalf("before any subscriber: %v", r.Status)
	}
	sub := subscribe(t, a, dev, "/c/t", 0, 0)
	m := msg("/c/t", "x")
	m.IdempotencyKey = "k"
	first := b.Publish(dev, m)
	if first.Status != publish.StatusOK {
		t.Fatalf("the only subscriber is on the other node: %v %v", first.Status, first.Err)
	}
	if retry := a.Publish(dev, m); !retry.Duplicate || retry.Seq != first.Seq {
		t.Fatalf("retry on the other node: %+v", retry)
	}
	if ev := next(t, sub); ev.Msg == nil || ev.Msg.Seq != first.Seq {
		t.Fatalf("delivered %+v", ev)
	}
	sub.Close()
	if r := b.Publish(dev, msg("/c/t", "x")); r.Status != publish.StatusNoSubscriber {
		t.Fatalf("after the subscriber left: %v", r.Status)
	}
	rm := msg("/c/r", "snap")
	rm.Retained = true
	a.Publish(dev, rm)
	late := subscribe(t, b, dev, "/c/r", 0, 0)
	if ev := next(t, late); ev.Msg == nil || !ev.Msg.Snapshot || string(ev.Msg.Value.Data) != "snap" {
		t.Fatalf("snapshot from the other node: %+v", ev)
	}
}
