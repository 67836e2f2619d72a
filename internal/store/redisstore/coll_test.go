package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

// collEnv is a store with a test clock, a cache of its own and the raw
// client, to look at the keys the engine writes.
type collEnv struct {
	t     testing.TB
	ctx   context.Context
	s     *Store
	rc    redis.UniversalClient
	clock *storetest.Clock
	cache string
	info  store.CacheInfo
}

var collSeq atomic.Int64

func newCollEnv(t testing.TB, c *redistest.Cluster) *collEnv {
	t.Helper()
	clock := storetest.NewClock()
	rc, s := dialOpts(t, c, Options{Now: clock.Now})
	t.Cleanup(func() { s.Close() })
	e := &collEnv{t: t, ctx: context.Background(), s: s, rc: rc.(redis.UniversalClient), clock: clock,
		cache: fmt.Sprintf("colltest-%d-%d", time.Now().UnixNano(), collSeq.Add(1))}
	info, err := s.CreateCache(e.ctx, e.cache, store.CacheConfig{Partitions: 4})
	if err != nil {
		t.Fatalf("CreateCache: %v", err)
	}
	e.info = info
	return e
}

func (e *collEnv) ok(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// itemKey is the documented Redis key of an item (doc.go).
func (e *collEnv) itemKey(key string) (base, ik string) {
	e.t.Helper()
	base = partBase(e.info.Epoch, e.info.PartitionOf([]byte(key)))
	gen, err := e.rc.HGet(e.ctx, base+"s", "gen").Result()
	e.ok("HGET gen", err)
	return base, base + "i" + gen + ":" + key
}

// wantNative checks the Redis type under the item key and the kind in its meta.
func (e *collEnv) wantNative(key, typ string, kind store.Kind) {
	e.t.Helper()
	base, ik := e.itemKey(key)
	if got := e.rc.Type(e.ctx, ik).Val(); got != typ {
		e.t.Fatalf("TYPE %s = %q, want %q", ik, got, typ)
	}
	m, err := e.rc.HGet(e.ctx, base+"m", key).Result()
	e.ok("HGET meta", err)
	if want := strconv.Itoa(int(kind)) + " "; len(m) < 2 || m[:2] != want {
		e.t.Fatalf("meta of %q = %q, want kind %d", key, m, kind)
	}
}

// wantGone checks that neither the item key nor its meta remain.
func (e *collEnv) wantGone(key string) {
	e.t.Helper()
	base, ik := e.itemKey(key)
	if n := e.rc.Exists(e.ctx, ik).Val(); n != 0 {
		e.t.Fatalf("%s still exists", ik)
	}
	if e.rc.HExists(e.ctx, base+"m", key).Val() {
		e.t.Fatalf("meta of %q remains", key)
	}
}

func TestCollectionKeyLayout(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, []byte("d"), []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, store.CollectionTTL{}))
	e.wantNative("d", "hash", store.KindDictionary)
	_, ik := e.itemKey("d")
	if got := e.rc.HGetAll(e.ctx, ik).Val(); len(got) != 1 || got["f"] != "v" {
		t.Fatalf("HGETALL %s = %v", ik, got)
	}

	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, []byte("s"), [][]byte{[]byte("a"), []byte("b")}, store.CollectionTTL{}))
	e.wantNative("s", "set", store.KindSet)
	_, ik = e.itemKey("s")
	if got := e.rc.SMembers(e.ctx, ik).Val(); !slices.Equal(sortedStrings(got), []string{"a", "b"}) {
		t.Fatalf("SMEMBERS %s = %v", ik, got)
	}

	_, err := e.s.ListPush(e.ctx, e.cache, []byte("l"), [][]byte{[]byte("x"), []byte("y")}, true, 0, store.CollectionTTL{})
	e.ok("ListPush", err)
	e.wantNative("l", "list", store.KindList)
	_, ik = e.itemKey("l")
	if got := e.rc.LRange(e.ctx, ik, 0, -1).Val(); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("LRANGE %s = %v", ik, got)
	}

	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, []byte("z"), []store.ScoredElement{{Value: []byte("m"), Score: 0.1}, {Value: []byte("n"), Score: math.Inf(-1)}}, store.CollectionTTL{}))
	e.wantNative("z", "zset", store.KindSortedSet)
	_, ik = e.itemKey("z")
	zs := e.rc.ZRangeWithScores(e.ctx, ik, 0, -1).Val()
	if len(zs) != 2 || zs[0].Member != "n" || !math.IsInf(zs[0].Score, -1) || zs[1].Member != "m" || zs[1].Score != 0.1 {
		t.Fatalf("ZRANGE %s = %v", ik, zs)
	}

	// The union destination is a zset too.
	n, err := e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("u"), []store.UnionSource{{Key: []byte("z"), Weight: 2}}, store.AggregateSum, 0)
	if err != nil || n != 2 {
		t.Fatalf("SortedSetUnionStore = %d %v", n, err)
	}
	e.wantNative("u", "zset", store.KindSortedSet)

	// Emptied collections leave nothing behind.
	e.ok("DictionaryDelete", e.s.DictionaryDelete(e.ctx, e.cache, []byte("d"), [][]byte{[]byte("f")}))
	e.wantGone("d")
	_, _, err = e.s.SetPop(e.ctx, e.cache, []byte("s"), 5)
	e.ok("SetPop", err)
	e.wantGone("s")
	_, _, err = e.s.ListErase(e.ctx, e.cache, []byte("l"), nil)
	e.ok("ListErase", err)
	e.wantGone("l")
	e.ok("SortedSetRemove", e.s.SortedSetRemove(e.ctx, e.cache, []byte("z"), [][]byte{[]byte("m"), []byte("n")}))
	e.wantGone("z")
	n, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("u"), nil, store.AggregateSum, 0)
	if err != nil || n != 0 {
		t.Fatalf("empty SortedSetUnionStore = %d %v", n, err)
	}
	e.wantGone("u")
}

func sortedStrings(s []string) []string { slices.Sort(s); return s }

// TestCollectionNativeExpiry: scripts that rebuild an item key (ListErase
// with several kept segments, SortedSetUnionStore) keep its native expiry
// at expiresAt + grace.
func TestCollectionNativeExpiry(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	ttl := store.CollectionTTL{TTL: time.Hour}
	_, err := e.s.ListPush(e.ctx, e.cache, []byte("l"), byteSlices("0", "1", "2", "3", "4"), false, 0, ttl)
	e.ok("ListPush", err)
	n, _, err := e.s.ListErase(e.ctx, e.cache, []byte("l"), []store.IndexRange{{Start: 1, Count: 1}, {Start: 3, Count: 1}})
	if err != nil || n != 3 {
		t.Fatalf("ListErase = %d %v", n, err)
	}
	got, _, _ := e.s.ListFetch(e.ctx, e.cache, []byte("l"), 0, store.Unbounded)
	if !slices.Equal(strsOf(got), []string{"0", "2", "4"}) {
		t.Fatalf("after ListErase: %q", got)
	}
	e.wantNativeExpiry("l", e.clock.Now().Add(time.Hour))

	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, []byte("z"), []store.ScoredElement{{Value: []byte("a"), Score: 1}}, store.CollectionTTL{}))
	_, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("u"), []store.UnionSource{{Key: []byte("z"), Weight: 1}}, store.AggregateSum, 2*time.Hour)
	e.ok("SortedSetUnionStore", err)
	e.wantNativeExpiry("u", e.clock.Now().Add(2*time.Hour))
}

func (e *collEnv) wantNativeExpiry(key string, exp time.Time) {
	e.t.Helper()
	_, ik := e.itemKey(key)
	ms, err := e.rc.Do(e.ctx, "pexpiretime", ik).Int64()
	e.ok("PEXPIRETIME", err)
	want := exp.Add(e.s.grace).UnixMilli()
	if d := ms - want; d < -60_000 || d > 60_000 {
		e.t.Fatalf("native expiry of %s = %d, want about %d", ik, ms, want)
	}
}

func byteSlices(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func strsOf(b [][]byte) []string {
	out := make([]string, len(b))
	for i, v := range b {
		out[i] = string(v)
	}
	return out
}

// TestCollectionReadsDoNotPurge: a read of an expired collection reports
// it absent and leaves it for the sweep (or a write) to purge and record.
func TestCollectionReadsDoNotPurge(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, []byte("s"), byteSlices("a"), store.CollectionTTL{TTL: time.Minute}))
	base, _ := e.itemKey("s")
	lsn := e.rc.HGet(e.ctx, base+"s", "lsn").Val()
	e.clock.Advance(time.Minute)
	if _, found, err := e.s.SetFetch(e.ctx, e.cache, []byte("s")); found || err != nil {
		t.Fatalf("SetFetch(expired) = %v %v", found, err)
	}
	if _, found, err := e.s.SetLength(e.ctx, e.cache, []byte("s")); found || err != nil {
		t.Fatalf("SetLength(expired) = %v %v", found, err)
	}
	if got := e.rc.HGet(e.ctx, base+"s", "lsn").Val(); got != lsn {
		t.Fatalf("partition LSN %s after reads, want %s", got, lsn)
	}
	// A write purges it (one LSN for the TTL delete) and creates anew (another).
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, []byte("s"), byteSlices("b"), store.CollectionTTL{}))
	l0, _ := strconv.Atoi(lsn)
	if got := e.rc.HGet(e.ctx, base+"s", "lsn").Val(); got != strconv.Itoa(l0+2) {
		t.Fatalf("partition LSN %s after purge and create, want %d", got, l0+2)
	}
	el, _, _ := e.s.SetFetch(e.ctx, e.cache, []byte("s"))
	if !slices.Equal(strsOf(el), []string{"b"}) {
		t.Fatalf("re-created set = %q", el)
	}
}

// TestCollectionNoOpWrites: a write that changes nothing takes no LSN.
func TestCollectionNoOpWrites(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, []byte("s"), byteSlices("a"), store.CollectionTTL{}))
	base, _ := e.itemKey("s")
	lsn := e.rc.HGet(e.ctx, base+"s", "lsn").Val()
	if found, err := e.s.SetRemove(e.ctx, e.cache, []byte("s"), byteSlices("nope")); !found || err != nil {
		t.Fatalf("SetRemove = %v %v", found, err)
	}
	e.ok("SetAdd(nothing)", e.s.SetAdd(e.ctx, e.cache, []byte("s"), nil, store.CollectionTTL{}))
	if n, _, err := e.s.ListRemove(e.ctx, e.cache, []byte("missing"), []byte("x")); n != 0 || err != nil {
		t.Fatalf("ListRemove(missing) = %d %v", n, err)
	}
	if got := e.rc.HGet(e.ctx, base+"s", "lsn").Val(); got != lsn {
		t.Fatalf("partition LSN %s after no-op writes, want %s", got, lsn)
	}
}

func TestCollectionBadInput(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	ctx, c, k := e.ctx, e.cache, []byte("k")
	big := bytes.Repeat([]byte("x"), store.MaxElementSize+1)
	nan := math.NaN()
	inf := store.ScoreBound{Score: math.Inf(1)}
	neg := store.CollectionTTL{TTL: -time.Second}
	long := store.CollectionTTL{TTL: store.MaxTTL + time.Hour}
	fv := []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}
	se := []store.ScoredElement{{Value: []byte("e"), Score: 1}}
	err2 := func(_ any, err error) error { return err }
	err3 := func(_, _ any, err error) error { return err }
	err4 := func(_, _, _ any, err error) error { return err }
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"SortedSetPut NaN", e.s.SortedSetPut(ctx, c, k, []store.ScoredElement{{Value: []byte("e"), Score: nan}}, store.CollectionTTL{}), errs.ErrInvalidArgument},
		{"SortedSetIncrement NaN", err2(e.s.SortedSetIncrement(ctx, c, k, []byte("e"), nan, store.CollectionTTL{})), errs.ErrInvalidArgument},
		{"FetchByScore NaN bound", err3(e.s.SortedSetFetchByScore(ctx, c, k, store.ScoreBound{Score: nan}, inf, false, 0, -1)), errs.ErrInvalidArgument},
		{"LengthByScore NaN bound", err3(e.s.SortedSetLengthByScore(ctx, c, k, inf, store.ScoreBound{Score: nan})), errs.ErrInvalidArgument},
		{"FetchByScore negative offset", err3(e.s.SortedSetFetchByScore(ctx, c, k, inf, inf, false, -1, -1)), errs.ErrInvalidArgument},
		{"ListPush negative truncate", err2(e.s.ListPush(ctx, c, k, byteSlices("v"), false, -1, store.CollectionTTL{})), errs.ErrInvalidArgument},
		{"ListErase negative start", err3(e.s.ListErase(ctx, c, k, []store.IndexRange{{Start: -1, Count: 1}})), errs.ErrInvalidArgument},
		{"ListErase negative count", err3(e.s.ListErase(ctx, c, k, []store.IndexRange{{Start: 0, Count: -1}})), errs.ErrInvalidArgument},
		{"UnionStore aggregate", err2(e.s.SortedSetUnionStore(ctx, c, k, nil, store.AggregateMax+1, 0)), errs.ErrInvalidArgument},
		{"UnionStore negative TTL", err2(e.s.SortedSetUnionStore(ctx, c, k, nil, store.AggregateSum, -time.Second)), errs.ErrInvalidArgument},
		{"UnionStore empty source key", err2(e.s.SortedSetUnionStore(ctx, c, k, []store.UnionSource{{Weight: 1}}, store.AggregateSum, 0)), errs.ErrInvalidArgument},
		{"DictionarySet negative TTL", e.s.DictionarySet(ctx, c, k, fv, neg), errs.ErrInvalidArgument},
		{"DictionarySet TTL over MaxTTL", e.s.DictionarySet(ctx, c, k, fv, long), errs.ErrInvalidArgument},
		{"DictionaryIncrement negative TTL", err2(e.s.DictionaryIncrement(ctx, c, k, []byte("f"), 1, neg)), errs.ErrInvalidArgument},
		{"SetAdd negative TTL", e.s.SetAdd(ctx, c, k, byteSlices("e"), neg), errs.ErrInvalidArgument},
		{"ListRetain negative TTL", err3(e.s.ListRetain(ctx, c, k, 0, 1, neg)), errs.ErrInvalidArgument},
		{"SortedSetPut negative TTL", e.s.SortedSetPut(ctx, c, k, se, neg), errs.ErrInvalidArgument},
		{"SortedSetIncrement negative TTL", err2(e.s.SortedSetIncrement(ctx, c, k, []byte("e"), 1, neg)), errs.ErrInvalidArgument},
		{"SetAdd second element too large", e.s.SetAdd(ctx, c, k, [][]byte{[]byte("ok"), big}, store.CollectionTTL{}), errs.ErrElementTooLarge},
		{"SortedSetPut second element too large", e.s.SortedSetPut(ctx, c, k, []store.ScoredElement{{Value: []byte("ok")}, {Value: big}}, store.CollectionTTL{}), errs.ErrElementTooLarge},
		{"ListPush second value too large", err2(e.s.ListPush(ctx, c, k, [][]byte{[]byte("ok"), big}, true, 0, store.CollectionTTL{})), errs.ErrElementTooLarge},
	}
	// Every call on an empty key is invalid.
	nk := []byte(nil)
	for name, err := range map[string]error{
		"DictionarySet":          e.s.DictionarySet(ctx, c, nk, fv, store.CollectionTTL{}),
		"DictionaryGet":          err4(e.s.DictionaryGet(ctx, c, nk, byteSlices("f"))),
		"DictionaryFetch":        err3(e.s.DictionaryFetch(ctx, c, nk)),
		"DictionaryIncrement":    err2(e.s.DictionaryIncrement(ctx, c, nk, []byte("f"), 1, store.CollectionTTL{})),
		"DictionaryDelete":       e.s.DictionaryDelete(ctx, c, nk, byteSlices("f")),
		"DictionaryLength":       err3(e.s.DictionaryLength(ctx, c, nk)),
		"SetAdd":                 e.s.SetAdd(ctx, c, nk, byteSlices("e"), store.CollectionTTL{}),
		"SetRemove":              err2(e.s.SetRemove(ctx, c, nk, byteSlices("e"))),
		"SetFetch":               err3(e.s.SetFetch(ctx, c, nk)),
		"SetContains":            err3(e.s.SetContains(ctx, c, nk, byteSlices("e"))),
		"SetSample":              err3(e.s.SetSample(ctx, c, nk, 1)),
		"SetPop":                 err3(e.s.SetPop(ctx, c, nk, 1)),
		"SetLength":              err3(e.s.SetLength(ctx, c, nk)),
		"ListPush":               err2(e.s.ListPush(ctx, c, nk, byteSlices("v"), false, 0, store.CollectionTTL{})),
		"ListPop":                err4(e.s.ListPop(ctx, c, nk, true)),
		"ListFetch":              err3(e.s.ListFetch(ctx, c, nk, 0, 1)),
		"ListRetain":             err3(e.s.ListRetain(ctx, c, nk, 0, 1, store.CollectionTTL{})),
		"ListRemove":             err3(e.s.ListRemove(ctx, c, nk, []byte("v"))),
		"ListErase":              err3(e.s.ListErase(ctx, c, nk, nil)),
		"ListLength":             err3(e.s.ListLength(ctx, c, nk)),
		"SortedSetPut":           e.s.SortedSetPut(ctx, c, nk, se, store.CollectionTTL{}),
		"SortedSetFetchByRank":   err3(e.s.SortedSetFetchByRank(ctx, c, nk, 0, 1, false)),
		"SortedSetFetchByScore":  err3(e.s.SortedSetFetchByScore(ctx, c, nk, inf, inf, false, 0, -1)),
		"SortedSetGetScores":     err4(e.s.SortedSetGetScores(ctx, c, nk, byteSlices("e"))),
		"SortedSetGetRank":       err4(e.s.SortedSetGetRank(ctx, c, nk, []byte("e"), false)),
		"SortedSetIncrement":     err2(e.s.SortedSetIncrement(ctx, c, nk, []byte("e"), 1, store.CollectionTTL{})),
		"SortedSetRemove":        e.s.SortedSetRemove(ctx, c, nk, byteSlices("e")),
		"SortedSetLength":        err3(e.s.SortedSetLength(ctx, c, nk)),
		"SortedSetLengthByScore": err3(e.s.SortedSetLengthByScore(ctx, c, nk, inf, inf)),
		"SortedSetUnionStore":    err2(e.s.SortedSetUnionStore(ctx, c, nk, nil, store.AggregateSum, 0)),
	} {
		cases = append(cases, struct {
			name string
			err  error
			want error
		}{name + " empty key", err, errs.ErrInvalidArgument})
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// Nothing was written by any of them.
	_, ik := e.itemKey("k")
	if n := e.rc.Exists(ctx, ik).Val(); n != 0 {
		t.Fatalf("a refused call left %s", ik)
	}
	// Empty requests on a missing collection are fine and find nothing.
	if v, p, found, err := e.s.DictionaryGet(ctx, c, k, nil); found || err != nil || len(v) != 0 || len(p) != 0 {
		t.Fatalf("DictionaryGet(no fields) = %v %v %v %v", v, p, found, err)
	}
	if _, found, err := e.s.SetContains(ctx, c, k, nil); found || err != nil {
		t.Fatalf("SetContains(no elements) = %v %v", found, err)
	}
	if _, _, found, err := e.s.SortedSetGetScores(ctx, c, k, nil); found || err != nil {
		t.Fatalf("SortedSetGetScores(no elements) = %v %v", found, err)
	}
}

// TestCollectionLargeCalls crosses the scripts' chunking of variadic commands.
func TestCollectionLargeCalls(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	ctx, c := e.ctx, e.cache
	const n = 2500
	var fvs []store.FieldValue
	var vals [][]byte
	var zs []store.ScoredElement
	for i := range n {
		v := []byte(strconv.Itoa(i))
		fvs = append(fvs, store.FieldValue{Field: []byte(strconv.Itoa(i % 1200)), Value: v})
		vals = append(vals, v)
		zs = append(zs, store.ScoredElement{Value: []byte(strconv.Itoa(i % 1200)), Score: float64(i)})
	}
	e.ok("DictionarySet", e.s.DictionarySet(ctx, c, []byte("d"), fvs, store.CollectionTTL{}))
	if got, _, _ := e.s.DictionaryLength(ctx, c, []byte("d")); got != 1200 {
		t.Fatalf("DictionaryLength = %d", got)
	}
	v, _, _, _ := e.s.DictionaryGet(ctx, c, []byte("d"), byteSlices("5"))
	if string(v[0]) != "2405" { // later duplicates win, across chunks
		t.Fatalf("field 5 = %q, want 2405", v[0])
	}
	// Reads of more names than Lua's unpack can take at once.
	many := make([][]byte, 9000)
	for i := range many {
		many[i] = []byte(strconv.Itoa(i))
	}
	v, p, _, err := e.s.DictionaryGet(ctx, c, []byte("d"), many)
	if err != nil || len(v) != len(many) || !p[1199] || p[1200] || string(v[1199]) != "2399" {
		t.Fatalf("DictionaryGet of %d fields: %d values, %v", len(many), len(v), err)
	}
	e.ok("SortedSetPut", e.s.SortedSetPut(ctx, c, []byte("z"), zs, store.CollectionTTL{}))
	if sc, p, _, err := e.s.SortedSetGetScores(ctx, c, []byte("z"), many); err != nil || len(sc) != len(many) || !p[0] || p[8999] {
		t.Fatalf("SortedSetGetScores of %d members: %v", len(many), err)
	}
	sc, _, _, _ := e.s.SortedSetGetScores(ctx, c, []byte("z"), byteSlices("5"))
	if sc[0] != 2405 {
		t.Fatalf("score of 5 = %v, want 2405", sc[0])
	}
	l, err := e.s.ListPush(ctx, c, []byte("l"), vals, true, 0, store.CollectionTTL{})
	if err != nil || l != n {
		t.Fatalf("ListPush = %d %v", l, err)
	}
	got, _, _ := e.s.ListFetch(ctx, c, []byte("l"), 0, store.Unbounded)
	if !slices.EqualFunc(got, vals, bytes.Equal) {
		t.Fatalf("a front push of %d values lost their order", n)
	}
	e.ok("SetAdd", e.s.SetAdd(ctx, c, []byte("s"), vals, store.CollectionTTL{}))
	if in, _, err := e.s.SetContains(ctx, c, []byte("s"), many); err != nil || len(in) != len(many) || !in[0] || in[8999] {
		t.Fatalf("SetContains of %d elements: %v", len(many), err)
	}
	if found, err := e.s.SetRemove(ctx, c, []byte("s"), vals[:n-1]); !found || err != nil {
		t.Fatalf("SetRemove = %v %v", found, err)
	}
	if el, _, _ := e.s.SetFetch(ctx, c, []byte("s")); len(el) != 1 || string(el[0]) != strconv.Itoa(n-1) {
		t.Fatalf("SetFetch = %q", el)
	}
}

// TestCollectionNumbers: scores and integers survive Lua, whose numbers
// are doubles printed with 14 digits.
func TestCollectionNumbers(t *testing.T) {
	e := newCollEnv(t, testCluster(t))
	ctx, c := e.ctx, e.cache
	scores := []float64{0.1, 1.0 / 3, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.123456789,
		1 << 60, math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}
	var es []store.ScoredElement
	for i, f := range scores {
		es = append(es, store.ScoredElement{Value: []byte{byte('a' + i)}, Score: f})
	}
	e.ok("SortedSetPut", e.s.SortedSetPut(ctx, c, []byte("z"), es, store.CollectionTTL{}))
	all, _, err := e.s.SortedSetFetchByRank(ctx, c, []byte("z"), 0, store.Unbounded, false)
	e.ok("SortedSetFetchByRank", err)
	for _, x := range all {
		// -0 reads back as 0 (Redis's listpack encoding); they compare equal.
		if want := scores[x.Value[0]-'a']; x.Score != want {
			t.Errorf("score of %s = %v, want %v", x.Value, x.Score, want)
		}
	}
	a, b := 0.1, 0.2 // variables: constant arithmetic would be exact
	got, err := e.s.SortedSetIncrement(ctx, c, []byte("z"), []byte("a"), b, store.CollectionTTL{})
	if err != nil || got != a+b {
		t.Fatalf("SortedSetIncrement(0.1 + 0.2) = %v %v, want %v", got, err, a+b)
	}
	// Exclusive infinite bounds leave out the infinities.
	n, _, _ := e.s.SortedSetLengthByScore(ctx, c, []byte("z"), store.ScoreBound{Score: math.Inf(-1), Exclusive: true}, store.ScoreBound{Score: math.Inf(1), Exclusive: true})
	if n != len(scores)-2 {
		t.Fatalf("LengthByScore(-inf, +inf exclusive) = %d, want %d", n, len(scores)-2)
	}

	d := []byte("d")
	for _, tc := range []struct {
		start  string
		amount int64
		want   int64
	}{
		{"9007199254740993", 2, 9007199254740995}, // above 2^53
		{"-9223372036854775807", -1, math.MinInt64},
		{"007", 1, 8},
		{"-0", 5, 5},
		{"-0010", 3, -7},
	} {
		e.ok("DictionarySet", e.s.DictionarySet(ctx, c, d, []store.FieldValue{{Field: []byte("f"), Value: []byte(tc.start)}}, store.CollectionTTL{}))
		got, err := e.s.DictionaryIncrement(ctx, c, d, []byte("f"), tc.amount, store.CollectionTTL{})
		if err != nil || got != tc.want {
			t.Fatalf("DictionaryIncrement(%s, %d) = %d %v, want %d", tc.start, tc.amount, got, err, tc.want)
		}
	}
	// A refused increment of a non-canonical value leaves it as it was.
	e.ok("DictionarySet", e.s.DictionarySet(ctx, c, d, []store.FieldValue{{Field: []byte("f"), Value: []byte("09223372036854775807")}}, store.CollectionTTL{}))
	_, err = e.s.DictionaryIncrement(ctx, c, d, []byte("f"), 1, store.CollectionTTL{})
	if !errors.Is(err, errs.ErrOverflow) {
		t.Fatalf("DictionaryIncrement overflow: %v", err)
	}
	if v, _, _, _ := e.s.DictionaryGet(ctx, c, d, byteSlices("f")); string(v[0]) != "09223372036854775807" {
		t.Fatalf("field after a refused increment = %q", v[0])
	}
}

// Benchmarks run on one standalone server: they measure the scripts, not
// the cluster's routing.

func BenchmarkDictionarySet(b *testing.B) {
	e := newCollEnv(b, redistest.Start(b, redistest.Options{}))
	fv := []store.FieldValue{{Field: []byte("f1"), Value: []byte("v1")}, {Field: []byte("f2"), Value: bytes.Repeat([]byte("v"), 100)}}
	i := 0
	for b.Loop() {
		i++
		if err := e.s.DictionarySet(e.ctx, e.cache, []byte(strconv.Itoa(i%1000)), fv, store.CollectionTTL{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSortedSetPut(b *testing.B) {
	e := newCollEnv(b, redistest.Start(b, redistest.Options{}))
	i := 0
	for b.Loop() {
		i++
		es := []store.ScoredElement{{Value: []byte(strconv.Itoa(i % 10000)), Score: float64(i)}}
		if err := e.s.SortedSetPut(e.ctx, e.cache, []byte("board"), es, store.CollectionTTL{}); err != nil {
			b.Fatal(err)
		}
	}
}
