package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/appsync/bridge"
	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/graphql"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/topics"
)

type env struct {
	cache *cache.Service
	feed  *feed.Service
	hub   *topics.Hub
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := memstore.New(memstore.Options{})
	log := memstore.NewTopicLog(memstore.TopicLogOptions{})
	c := cache.New(st, cache.Options{Logger: slog.New(slog.DiscardHandler)})
	hub := topics.NewHub(log, func(ctx context.Context, name string) (uint64, error) {
		info, err := st.CacheInfo(ctx, name)
		return info.Epoch, err
	}, topics.HubOptions{})
	c.OnCacheDeleted(func(info cache.CacheInfo) { hub.CacheDeleted(context.Background(), info.Name, info.Epoch) })
	t.Cleanup(func() {
		hub.Close()
		log.Close()
		st.Close()
	})
	if err := bridge.EnsureCache(context.Background(), c, "blog"); err != nil {
		t.Fatal(err)
	}
	return &env{cache: c, feed: feed.NewService(st), hub: hub}
}

func TestStore(t *testing.T) {
	e := newEnv(t)
	s := bridge.NewStore(e.cache, e.feed)
	ctx := context.Background()
	tbl := graphql.Table{Cache: "blog", Type: "Post"}
	it, err := s.Create(ctx, nil, tbl, graphql.Item{"id": "1", "title": "Hello", "ups": int64(3)})
	if err != nil || it["version"] != int64(1) {
		t.Fatalf("Create = %v, %v", it, err)
	}
	if _, err := s.Create(ctx, nil, tbl, graphql.Item{"id": "1"}); !errors.Is(err, graphql.ErrConditionFailed) {
		t.Fatalf("Create of an existing id: %v", err)
	}
	got, err := s.Get(ctx, nil, tbl, "1")
	if err != nil || got["title"] != "Hello" || got["ups"] != int64(3) || got["version"] != int64(1) {
		t.Fatalf("Get = %#v, %v", got, err)
	}
	if got, err := s.Get(ctx, nil, tbl, "missing"); err != nil || got != nil {
		t.Fatalf("Get(missing) = %v, %v", got, err)
	}
	v1 := int64(1)
	up, err := s.Update(ctx, nil, tbl, "1", graphql.Item{"title": "Hi", "ups": nil}, &v1)
	if err != nil || up["title"] != "Hi" || up["version"] != int64(2) || up["ups"] != nil {
		t.Fatalf("Update = %v, %v", up, err)
	}
	if _, err := s.Update(ctx, nil, tbl, "1", graphql.Item{"title": "stale"}, &v1); !errors.Is(err, graphql.ErrConditionFailed) {
		t.Fatalf("Update with a stale expectedVersion: %v", err)
	}
	if _, err := s.Update(ctx, nil, tbl, "missing", graphql.Item{"title": "x"}, nil); !errors.Is(err, graphql.ErrConditionFailed) {
		t.Fatalf("Update of a missing id: %v", err)
	}
	// The object is an item other surfaces see: its JSON under "Post#1".
	v, found, err := e.cache.Get(auth.NewContext(ctx, auth.DevPrincipal), "blog", []byte("Post#1"))
	if err != nil || !found || string(v) != `{"id":"1","title":"Hi","version":2}` {
		t.Fatalf("the item Post#1 = %s, %v, %v", v, found, err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := s.Create(ctx, nil, tbl, graphql.Item{"id": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, nil, graphql.Table{Cache: "blog", Type: "Comment"}, graphql.Item{"id": "c"}); err != nil {
		t.Fatal(err)
	}
	var ids []any
	token := ""
	for range 10 {
		page, next, err := s.List(ctx, nil, tbl, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page {
			ids = append(ids, it["id"])
		}
		if token = next; token == "" {
			break
		}
	}
	if len(ids) != 5 {
		t.Fatalf("List pages of 2 gave ids %v, want the 5 posts once each", ids)
	}
	two := int64(2)
	if _, err := s.Delete(ctx, nil, tbl, "1", &v1); !errors.Is(err, graphql.ErrConditionFailed) {
		t.Fatalf("Delete with a stale expectedVersion: %v", err)
	}
	if del, err := s.Delete(ctx, nil, tbl, "1", &two); err != nil || del["title"] != "Hi" {
		t.Fatalf("Delete = %v, %v", del, err)
	}
	if got, _ := s.Get(ctx, nil, tbl, "1"); got != nil {
		t.Fatalf("Get after Delete = %v", got)
	}
	// A token's principal is the data source's caller.
	reader := &graphql.Identity{Principal: &auth.Principal{ID: "r", Kind: auth.KindAPIKey,
		Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadOnly, Cache: "blog"}}}}
	if _, err := s.Get(ctx, reader, tbl, "2"); err != nil {
		t.Fatalf("Get as a reader: %v", err)
	}
	if _, err := s.Create(ctx, reader, tbl, graphql.Item{"id": "9"}); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Fatalf("Create as a reader: %v", err)
	}
}

func TestFanout(t *testing.T) {
	e := newEnv(t)
	f := bridge.NewFanout(e.hub, e.cache, slog.New(slog.NewTextHandler(io.Discard, nil)))
	got := make(chan string, 16)
	cancel, err := f.Subscribe("graphql/addedPost", func(ev []byte) { got <- string(ev) })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := range 3 {
		if err := f.Publish(context.Background(), "graphql/addedPost", fmt.Appendf(nil, "e%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if ev := <-got; ev != fmt.Sprintf("e%d", i) {
			t.Fatalf("event %d = %s", i, ev)
		}
	}
	// The fan-out cache deleted under it: it comes back and events flow again.
	if err := e.cache.DeleteCache(auth.NewContext(context.Background(), auth.DevPrincipal), bridge.FanoutCache); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := f.Publish(context.Background(), "graphql/addedPost", []byte("again")); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-got:
			if ev != "again" {
				t.Fatalf("after the cache came back: %s", ev)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no event after the fan-out cache was deleted and re-created")
		}
	}
}
