package feed_test

import (
	"context"
	"errors"
	"testing"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

var dev = auth.NewContext(context.Background(), auth.DevPrincipal)

func newService(t *testing.T) (*feed.Service, store.Store) {
	t.Helper()
	st := memstore.New(memstore.Options{})
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateCache(context.Background(), "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	return feed.NewService(st), st
}

// tail runs Tail in the background and hands its pages over a channel.
func tail(svc *feed.Service, ctx context.Context, r feed.Request) (<-chan feed.Page, <-chan error) {
	pages, done := make(chan feed.Page, 16), make(chan error, 1)
	go func() {
		done <- svc.Tail(ctx, r, func(p feed.Page) error {
			pages <- p
			return nil
		})
	}()
	return pages, done
}

func TestTailFollowsAndEnds(t *testing.T) {
	svc, st := newService(t)
	pages, done := tail(svc, dev, feed.Request{Cache: "c", Start: feed.StartBeginning})
	if p := <-pages; !p.NotModified {
		t.Fatalf("first page of an empty cache: %+v", p)
	}
	if err := st.Set(context.Background(), "c", []byte("k"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if p := <-pages; len(p.Changes) != 1 || string(p.Changes[0].Key) != "k" {
		t.Fatalf("page after a write: %+v", p)
	}
	svc.Close()
	if err := <-done; !errors.Is(err, errs.ErrShuttingDown) {
		t.Fatalf("tail after Close: %v", err)
	}
	// A deleted cache ends a tail too.
	svc2, st2 := newService(t)
	pages, done = tail(svc2, dev, feed.Request{Cache: "c"})
	<-pages
	if err := st2.DeleteCache(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, errs.ErrCacheNotFound) {
		t.Fatalf("tail after the cache was deleted: %v", err)
	}
}

func TestFeedAuthorization(t *testing.T) {
	svc, _ := newService(t)
	key := auth.NewContext(context.Background(), &auth.Principal{ID: "p", Kind: auth.KindAPIKey,
		Perms: []auth.Permission{{Resource: auth.ResourceCache, Role: auth.RoleReadOnly, Cache: "c", Key: []byte("k")}}})
	pk, _ := feed.PartitionKey("k")
	if _, err := svc.Read(key, feed.Request{Cache: "c", Range: pk}); err != nil {
		t.Fatalf("read of the granted key: %v", err)
	}
	if _, err := svc.Read(key, feed.Request{Cache: "c"}); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Fatalf("whole-cache read with a key grant: %v", err)
	}
	if _, _, err := svc.Ranges(key, "c"); !errors.Is(err, errs.ErrPermissionDenied) {
		t.Fatalf("ranges with a key grant: %v", err)
	}
	if _, err := svc.Read(context.Background(), feed.Request{Cache: "c"}); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("read without a caller: %v", err)
	}
	if _, err := svc.Read(dev, feed.Request{Cache: "bad name"}); !errors.Is(err, errs.ErrInvalidName) {
		t.Fatalf("read of a bad cache name: %v", err)
	}
	if _, rs, err := svc.Ranges(dev, "c"); err != nil || len(rs) != memstore.DefaultPartitions || rs[0].Range.ToJSON() != `{"Range":{"min":"","max":"1000"}}` {
		t.Fatalf("ranges = %+v, %v", rs, err)
	}
}
