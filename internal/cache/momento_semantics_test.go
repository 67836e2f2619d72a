package cache_test

import (
	"testing"

	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// What the official SDKs' suites assert and the engine contract leaves to
// the service (issue 12).
func TestMomentoSemantics(t *testing.T) {
	svc, ctx := newService(t)
	k := []byte("k")

	_, err := svc.SortedSetUnionStore(ctx, "c", k, nil, cache.AggregateSum, 0)
	wantErr(t, "union store without sources", err, errs.ErrInvalidArgument)

	_, _, err = svc.GetBatch(ctx, "missing", nil)
	wantErr(t, "empty GetBatch on a missing cache", err, errs.ErrCacheNotFound)
	if _, _, err := svc.GetBatch(ctx, "c", nil); err != nil {
		t.Fatalf("empty GetBatch: %v", err)
	}

	if _, err := svc.ListPush(ctx, "c", k, [][]byte{[]byte("a"), []byte("b")}, false, 0, cache.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := svc.ListFetch(ctx, "c", k, 5, 10); err != nil || found {
		t.Fatalf("fetch of an empty slice: found=%v %v, want a miss", found, err)
	}
	if v, found, err := svc.ListFetch(ctx, "c", k, 0, cache.Unbounded); err != nil || !found || len(v) != 2 {
		t.Fatalf("fetch of the whole list: %v %v %v", v, found, err)
	}

	_, _, err = svc.Get(ctx, "c", []byte("\x00setsuna\x00lb\x00b"))
	wantErr(t, "a service-reserved key", err, errs.ErrInvalidArgument)
}
