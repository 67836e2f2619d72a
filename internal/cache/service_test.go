package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

func newService(t *testing.T) (*cache.Service, context.Context) {
	t.Helper()
	st := memstore.New(memstore.Options{})
	t.Cleanup(func() { st.Close() })
	svc := cache.New(st, cache.Options{})
	ctx := auth.NewContext(context.Background(), auth.DevPrincipal)
	if _, err := svc.CreateCache(ctx, "c", cache.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	return svc, ctx
}

func as(perms ...auth.Permission) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{ID: "test", Kind: auth.KindAPIKey, Perms: perms})
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// A request that reaches the service without an authenticated caller comes
// from a surface that skipped authentication: it is refused.
func TestNoCallerIsRefused(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	k := []byte("k")
	calls := map[string]func() error{
		"Get":         func() error { _, _, err := svc.Get(ctx, "c", k); return err },
		"Set":         func() error { return svc.Set(ctx, "c", k, k, 0) },
		"SetBatch":    func() error { return svc.SetBatch(ctx, "c", []cache.Item{{Key: k, Value: k}}) },
		"ListCaches":  func() error { _, err := svc.ListCaches(ctx); return err },
		"CreateCache": func() error { _, err := svc.CreateCache(ctx, "x", cache.CacheConfig{}); return err },
		"DictSet":     func() error { return svc.DictionarySet(ctx, "c", k, nil, cache.CollectionTTL{}) },
		"UnionStore": func() error {
			_, err := svc.SortedSetUnionStore(ctx, "c", k, nil, cache.AggregateSum, 0)
			return err
		},
		"CacheInfo": func() error { _, err := svc.CacheInfo(ctx, "c"); return err },
	}
	for name, call := range calls {
		wantErr(t, name, call(), errs.ErrUnauthenticated)
	}
}

// Names and keys are checked before authorization (they are needed to
// decide), everything else after it, so that an out-of-scope caller learns
// nothing about the request's other arguments.
func TestValidationOrder(t *testing.T) {
	svc, _ := newService(t)
	other := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: "other"})
	wantErr(t, "bad cache name", svc.Set(other, "bad name", []byte("k"), nil, 0), errs.ErrInvalidName)
	wantErr(t, "empty key", svc.Set(other, "c", nil, nil, 0), errs.ErrInvalidArgument)
	wantErr(t, "bad ttl, out of scope", svc.Set(other, "c", []byte("k"), nil, -time.Second), errs.ErrPermissionDenied)
	mine := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: "c"})
	wantErr(t, "bad ttl, in scope", svc.Set(mine, "c", []byte("k"), nil, -time.Second), errs.ErrInvalidArgument)
	wantErr(t, "ttl over the limit", svc.Set(mine, "c", []byte("k"), nil, cache.TTLFromMillis(1<<63)), errs.ErrInvalidArgument)
	_, err := svc.UpdateTTL(mine, "c", []byte("k"), cache.TTLOverwrite, 0)
	wantErr(t, "update ttl to zero", err, errs.ErrInvalidArgument)
	_, err = svc.SetIf(mine, "c", []byte("k"), nil, 0, cache.Condition{Kind: 99})
	wantErr(t, "unknown condition", err, errs.ErrInvalidArgument)
}

// Every key of a batch needs a grant; one key out of scope refuses the
// whole batch and writes nothing.
func TestBatchesAreAuthorizedKeyByKey(t *testing.T) {
	svc, dev := newService(t)
	ctx := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Cache: "c", KeyPrefix: []byte("user:")})
	err := svc.SetBatch(ctx, "c", []cache.Item{{Key: []byte("user:1"), Value: []byte("a")}, {Key: []byte("admin"), Value: []byte("b")}})
	wantErr(t, "batch with a key out of scope", err, errs.ErrPermissionDenied)
	if _, found, _ := svc.Get(dev, "c", []byte("user:1")); found {
		t.Fatal("a refused batch wrote its first item")
	}
	_, err = svc.SortedSetUnionStore(ctx, "c", []byte("user:dst"), []cache.UnionSource{{Key: []byte("secret"), Weight: 1}}, cache.AggregateSum, 0)
	wantErr(t, "union reading a key out of scope", err, errs.ErrPermissionDenied)
}

func TestDeleteCacheOrchestration(t *testing.T) {
	svc, ctx := newService(t)
	info, err := svc.CacheInfo(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	var got []cache.CacheInfo
	svc.OnCacheDeleted(func(i cache.CacheInfo) { got = append(got, i) })
	wantErr(t, "delete a missing cache", svc.DeleteCache(ctx, "missing"), errs.ErrCacheNotFound)
	if len(got) != 0 {
		t.Fatal("a failed delete ran the delete hooks")
	}
	if err := svc.DeleteCache(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "c" || got[0].Epoch != info.Epoch {
		t.Fatalf("delete hooks saw %+v, want the deleted epoch %d", got, info.Epoch)
	}
	reader := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite})
	wantErr(t, "delete without super user", svc.DeleteCache(reader, "c"), errs.ErrPermissionDenied)
}

// "Delete all" of a collection is one engine operation that refuses an
// item of another kind and leaves it as it was.
func TestDeleteAllOfACollection(t *testing.T) {
	svc, ctx := newService(t)
	if err := svc.Set(ctx, "c", []byte("s"), []byte("scalar"), 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "dictionary delete all of a scalar", svc.DictionaryDeleteAll(ctx, "c", []byte("s")), errs.ErrWrongType)
	if v, found, err := svc.Get(ctx, "c", []byte("s")); err != nil || !found || string(v) != "scalar" {
		t.Fatalf("scalar after a refused delete all: %q, %v, %v", v, found, err)
	}
	if err := svc.SetAdd(ctx, "c", []byte("set"), [][]byte{[]byte("a"), []byte("b")}, cache.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	if found, err := svc.SetRemoveAll(ctx, "c", []byte("set")); err != nil || !found {
		t.Fatalf("set minus itself = %v, %v", found, err)
	}
	if found, err := svc.SetRemoveAll(ctx, "c", []byte("set")); err != nil || found {
		t.Fatalf("set minus itself again = %v, %v; want not found", found, err)
	}
}

func TestCanceledContextDoesNothing(t *testing.T) {
	svc, ctx := newService(t)
	done, cancel := context.WithCancel(ctx)
	cancel()
	wantErr(t, "set with a canceled context", svc.Set(done, "c", []byte("k"), []byte("v"), 0), context.Canceled)
	if _, found, _ := svc.Get(ctx, "c", []byte("k")); found {
		t.Fatal("a call with a canceled context wrote")
	}
}
