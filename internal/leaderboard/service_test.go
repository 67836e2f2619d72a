package leaderboard_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	lb "github.com/setsuna-io/setsuna/internal/leaderboard"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

func setup(t *testing.T) (*lb.Service, store.Store, context.Context) {
	t.Helper()
	st := memstore.New(memstore.Options{})
	t.Cleanup(func() { st.Close() })
	ctx := auth.NewContext(context.Background(), auth.DevPrincipal)
	if _, err := st.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	return lb.New(st), st, ctx
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func f(v float64) *float64 { return &v }

func TestUpsertFetchAndRanks(t *testing.T) {
	svc, _, ctx := setup(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Upsert(ctx, "c", "b", []lb.Element{{123, 100}, {456, 200}, {789, 300}, {5, 27.004309862363737}, {6, 16777217}}))
	must(svc.Upsert(ctx, "c", "b", []lb.Element{{5, 400}})) // update
	got, err := svc.ByScore(ctx, "c", "b", lb.ScoreRange{}, 0, 0, lb.Ascending)
	must(err)
	want := []lb.Ranked{{123, 100, 0}, {456, 200, 1}, {789, 300, 2}, {5, 400, 3}, {6, 16777217, 4}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("by score: %v, want %v", got, want)
	}
	// [200, 400): ranks are positions in the whole board; offset and limit page.
	got, err = svc.ByScore(ctx, "c", "b", lb.ScoreRange{Min: f(200), Max: f(400)}, 1, 5, lb.Ascending)
	must(err)
	if want := []lb.Ranked{{789, 300, 2}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("by score range: %v, want %v", got, want)
	}
	got, err = svc.ByScore(ctx, "c", "b", lb.ScoreRange{Min: f(200)}, 0, 2, lb.Descending)
	must(err)
	if want := []lb.Ranked{{6, 16777217, 0}, {5, 400, 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("by score descending: %v, want %v", got, want)
	}
	got, err = svc.ByRank(ctx, "c", "b", 1, 3, lb.Descending)
	must(err)
	if want := []lb.Ranked{{5, 400, 1}, {789, 300, 2}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("by rank: %v, want %v", got, want)
	}
	got, err = svc.Ranks(ctx, "c", "b", []uint32{789, 999, 123}, lb.Descending)
	must(err)
	if want := []lb.Ranked{{789, 300, 2}, {123, 100, 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ranks: %v, want %v", got, want)
	}
	n, err := svc.Length(ctx, "c", "b")
	must(err)
	if n != 5 {
		t.Fatalf("length %d, want 5", n)
	}
	must(svc.Remove(ctx, "c", "b", []uint32{123, 999}))
	if n, _ := svc.Length(ctx, "c", "b"); n != 4 {
		t.Fatalf("length after remove %d, want 4", n)
	}
	must(svc.Delete(ctx, "c", "b"))
	must(svc.Delete(ctx, "c", "b")) // a missing board is no error
	if n, _ := svc.Length(ctx, "c", "b"); n != 0 {
		t.Fatalf("length after delete %d, want 0", n)
	}
}

func TestCompetitionRanks(t *testing.T) {
	svc, _, ctx := setup(t)
	if err := svc.Upsert(ctx, "c", "b", []lb.Element{{1, 10}, {2, 20}, {3, 20}, {4, 30}}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.CompetitionRanks(ctx, "c", "b", []uint32{1, 2, 3, 4, 9}, lb.Descending)
	if err != nil {
		t.Fatal(err)
	}
	if want := []lb.Ranked{{1, 10, 3}, {2, 20, 1}, {3, 20, 1}, {4, 30, 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("descending: %v, want %v", got, want)
	}
	got, _ = svc.CompetitionRanks(ctx, "c", "b", []uint32{3, 4}, lb.Ascending)
	if want := []lb.Ranked{{3, 20, 1}, {4, 30, 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ascending: %v, want %v", got, want)
	}
}

func TestMissingBoardReadsEmpty(t *testing.T) {
	svc, _, ctx := setup(t)
	for name, call := range map[string]func() ([]lb.Ranked, error){
		"by score": func() ([]lb.Ranked, error) { return svc.ByScore(ctx, "c", "none", lb.ScoreRange{}, 0, 0, 0) },
		"by rank":  func() ([]lb.Ranked, error) { return svc.ByRank(ctx, "c", "none", 0, 100, 0) },
		"ranks":    func() ([]lb.Ranked, error) { return svc.Ranks(ctx, "c", "none", []uint32{1}, 0) },
	} {
		got, err := call()
		if err != nil || len(got) != 0 {
			t.Fatalf("%s: %v %v, want empty", name, got, err)
		}
	}
	if err := svc.Remove(ctx, "c", "none", []uint32{1}); err != nil {
		t.Fatalf("remove from a missing board: %v", err)
	}
}

func TestLimitsAndErrors(t *testing.T) {
	svc, _, ctx := setup(t)
	tooMany := make([]lb.Element, lb.MaxElementsPerCall+1)
	inf := 1.0 / zero()
	cases := map[string]struct {
		err  error
		want error
	}{
		"no elements":      {svc.Upsert(ctx, "c", "b", nil), errs.ErrInvalidArgument},
		"too many":         {svc.Upsert(ctx, "c", "b", tooMany), errs.ErrInvalidArgument},
		"infinite score":   {svc.Upsert(ctx, "c", "b", []lb.Element{{1, inf}}), errs.ErrInvalidArgument},
		"empty name":       {svc.Upsert(ctx, "c", "", []lb.Element{{1, 1}}), errs.ErrInvalidArgument},
		"bad cache name":   {svc.Upsert(ctx, "a b", "b", []lb.Element{{1, 1}}), errs.ErrInvalidName},
		"missing cache":    {svc.Upsert(ctx, "nope", "b", []lb.Element{{1, 1}}), errs.ErrCacheNotFound},
		"no ids":           {svc.Remove(ctx, "c", "b", nil), errs.ErrInvalidArgument},
		"delete no cache":  {svc.Delete(ctx, "nope", "b"), errs.ErrCacheNotFound},
		"rank 0..0":        {second(svc.ByRank(ctx, "c", "b", 0, 0, 0)), errs.ErrInvalidArgument},
		"rank 4..3":        {second(svc.ByRank(ctx, "c", "b", 4, 3, 0)), errs.ErrInvalidArgument},
		"rank 0..8193":     {second(svc.ByRank(ctx, "c", "b", 0, 8193, 0)), errs.ErrInvalidArgument},
		"min over max":     {second(svc.ByScore(ctx, "c", "b", lb.ScoreRange{Min: f(100), Max: f(50)}, 0, 0, 0)), errs.ErrInvalidArgument},
		"limit over 8192":  {second(svc.ByScore(ctx, "c", "b", lb.ScoreRange{}, 0, 8193, 0)), errs.ErrInvalidArgument},
		"length no cache":  {func() error { _, err := svc.Length(ctx, "nope", "b"); return err }(), errs.ErrCacheNotFound},
		"no caller":        {svc.Upsert(context.Background(), "c", "b", []lb.Element{{1, 1}}), errs.ErrUnauthenticated},
		"rank 0..8192 ok":  {second(svc.ByRank(ctx, "c", "b", 0, 8192, 0)), nil},
		"no cache by rank": {second(svc.ByRank(ctx, "nope", "b", 0, 1, 0)), errs.ErrCacheNotFound},
	}
	for name, c := range cases {
		if c.want == nil {
			if c.err != nil {
				t.Errorf("%s: %v", name, c.err)
			}
			continue
		}
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", name, c.err, c.want)
		}
	}
}

func zero() float64 { return 0 }

func second(_ []lb.Ranked, err error) error { return err }

// Leaderboards need access to the whole cache; a scope of item keys grants
// none, and a read-only scope cannot write.
func TestAuthorization(t *testing.T) {
	svc, _, _ := setup(t)
	as := func(perms ...auth.Permission) context.Context {
		return auth.NewContext(context.Background(), &auth.Principal{ID: "t", Kind: auth.KindAPIKey, Perms: perms})
	}
	ro := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadOnly, Cache: "c"})
	keyed := as(auth.Permission{Resource: auth.ResourceCache, Role: auth.RoleReadWrite, Key: []byte("b")})
	wantErr(t, "read-only upsert", svc.Upsert(ro, "c", "b", []lb.Element{{1, 1}}), errs.ErrPermissionDenied)
	if _, err := svc.Length(ro, "c", "b"); err != nil {
		t.Fatalf("read-only length: %v", err)
	}
	wantErr(t, "key-scoped upsert", svc.Upsert(keyed, "c", "b", []lb.Element{{1, 1}}), errs.ErrPermissionDenied)
}

// A leaderboard lives in its cache under a reserved key that no client can
// address through the cache service; deleting the cache drops it.
func TestReservedKeyAndCacheLifecycle(t *testing.T) {
	svc, st, ctx := setup(t)
	if err := svc.Upsert(ctx, "c", "b", []lb.Element{{1, 1}}); err != nil {
		t.Fatal(err)
	}
	cs := cache.New(st, cache.Options{})
	_, _, err := cs.SortedSetFetchByRank(ctx, "c", []byte(store.ServiceKeyPrefix+"lb\x00b"), 0, cache.Unbounded, false)
	wantErr(t, "client read of a service key", err, errs.ErrInvalidArgument)
	if err := cs.Set(ctx, "c", []byte("b"), []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.Length(ctx, "c", "b"); n != 1 {
		t.Fatalf("an item named like the board changed it: length %d", n)
	}
	if err := cs.DeleteCache(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CreateCache(ctx, "c", cache.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Length(ctx, "c", "b"); n != 0 || err != nil {
		t.Fatalf("board outlived its cache: length %d, %v", n, err)
	}
}
