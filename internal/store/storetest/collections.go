package storetest

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// collectionTests are the collection cases that Run registers.
var collectionTests = []struct {
	name string
	fn   func(t *testing.T, e *env)
}{
	{"Dictionary", testDictionary},
	{"DictionaryIncrement", testDictionaryIncrement},
	{"Set", testSet},
	{"SetSamplePop", testSetSamplePop},
	{"ListPushPop", testListPushPop},
	{"ListSlices", testListSlices},
	{"ListRetainRemoveErase", testListRetainRemoveErase},
	{"SortedSet", testSortedSet},
	{"SortedSetFetchByRank", testSortedSetFetchByRank},
	{"SortedSetFetchByScore", testSortedSetFetchByScore},
	{"SortedSetIncrement", testSortedSetIncrement},
	{"SortedSetUnionStore", testSortedSetUnionStore},
	{"CollectionTTL", testCollectionTTL},
	{"CollectionWrongType", testCollectionWrongType},
	{"CollectionElementSize", testCollectionElementSize},
	{"CollectionLSN", testCollectionLSN},
	{"CollectionMissingCache", testCollectionMissingCache},
	{"CollectionExpiry", testCollectionExpiry},
	{"CollectionModel", testCollectionModel},
}

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, v := range b {
		out[i] = string(v)
	}
	return out
}

func sortedStrs(b [][]byte) []string {
	out := strs(b)
	slices.Sort(out)
	return out
}

var noTTL = store.CollectionTTL{}

func (e *env) ok(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// kind checks the kind of key, or that it is gone when want is nil.
func (e *env) wantKind(key string, want *store.Kind) {
	e.t.Helper()
	m, found, err := e.s.Meta(e.ctx, e.cache, []byte(key))
	e.ok("Meta", err)
	switch {
	case want == nil && found:
		e.t.Fatalf("%q still exists as a %v", key, m.Kind)
	case want != nil && !found:
		e.t.Fatalf("%q is missing, want a %v", key, *want)
	case want != nil && m.Kind != *want:
		e.t.Fatalf("%q is a %v, want a %v", key, m.Kind, *want)
	}
}

func kindp(k store.Kind) *store.Kind { return &k }

func testDictionary(t *testing.T, e *env) {
	k := []byte("d")
	if _, _, found, err := e.s.DictionaryGet(e.ctx, e.cache, k, bs("a")); found || err != nil {
		t.Fatalf("DictionaryGet(missing) found=%v err=%v", found, err)
	}
	if _, found, err := e.s.DictionaryFetch(e.ctx, e.cache, k); found || err != nil {
		t.Fatalf("DictionaryFetch(missing) found=%v err=%v", found, err)
	}
	if _, found, err := e.s.DictionaryLength(e.ctx, e.cache, k); found || err != nil {
		t.Fatalf("DictionaryLength(missing) found=%v err=%v", found, err)
	}
	e.ok("DictionaryDelete(missing)", e.s.DictionaryDelete(e.ctx, e.cache, k, bs("a")))
	e.wantKind("d", nil)

	// An empty write creates nothing.
	e.ok("DictionarySet(empty)", e.s.DictionarySet(e.ctx, e.cache, k, nil, noTTL))
	e.wantKind("d", nil)

	e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{
		{Field: []byte("a"), Value: []byte("1")},
		{Field: []byte("b"), Value: []byte("")},
		{Field: []byte("a"), Value: []byte("3")}, // later duplicate wins
	}, noTTL))
	e.wantKind("d", kindp(store.KindDictionary))
	vals, present, found, err := e.s.DictionaryGet(e.ctx, e.cache, k, bs("a", "zz", "b", "a"))
	if err != nil || !found || !slices.Equal(present, []bool{true, false, true, true}) ||
		!slices.Equal(strs(vals), []string{"3", "", "", "3"}) {
		t.Fatalf("DictionaryGet = %q %v %v %v", vals, present, found, err)
	}
	items, found, err := e.s.DictionaryFetch(e.ctx, e.cache, k)
	got := map[string]string{}
	for _, fv := range items {
		got[string(fv.Field)] = string(fv.Value)
	}
	if err != nil || !found || len(items) != 2 || got["a"] != "3" || got["b"] != "" {
		t.Fatalf("DictionaryFetch = %v %v %v", got, found, err)
	}
	if n, found, _ := e.s.DictionaryLength(e.ctx, e.cache, k); n != 2 || !found {
		t.Fatalf("DictionaryLength = %d %v", n, found)
	}
	e.ok("DictionaryDelete", e.s.DictionaryDelete(e.ctx, e.cache, k, bs("a", "nope")))
	if n, _, _ := e.s.DictionaryLength(e.ctx, e.cache, k); n != 1 {
		t.Fatalf("DictionaryLength after delete = %d", n)
	}
	// Removing the last field removes the dictionary.
	e.ok("DictionaryDelete", e.s.DictionaryDelete(e.ctx, e.cache, k, bs("b")))
	e.wantKind("d", nil)
	if _, found, _ := e.s.DictionaryFetch(e.ctx, e.cache, k); found {
		t.Fatal("DictionaryFetch found an emptied dictionary")
	}

	// Delete removes a collection of any kind; KeysExist sees them.
	e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, noTTL))
	ex, err := e.s.KeysExist(e.ctx, e.cache, bs("d", "other"))
	if err != nil || !slices.Equal(ex, []bool{true, false}) {
		t.Fatalf("KeysExist = %v %v", ex, err)
	}
	e.ok("Delete", e.s.Delete(e.ctx, e.cache, k))
	e.wantKind("d", nil)
}

func testDictionaryIncrement(t *testing.T, e *env) {
	k := []byte("d")
	f := func(field string, amount, want int64) {
		t.Helper()
		got, err := e.s.DictionaryIncrement(e.ctx, e.cache, k, []byte(field), amount, noTTL)
		if err != nil || got != want {
			t.Fatalf("DictionaryIncrement(%q, %d) = %d, %v; want %d", field, amount, got, err, want)
		}
		v, p, _, _ := e.s.DictionaryGet(e.ctx, e.cache, k, bs(field))
		if !p[0] || string(v[0]) != fmt.Sprint(want) {
			t.Fatalf("field %q = %q, want %d", field, v[0], want)
		}
	}
	f("n", 5, 5) // creates the dictionary
	f("n", -7, -2)
	f("m", 0, 0)
	for _, bad := range []string{"abc", "1.5", "", " 1", "99999999999999999999"} {
		e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("s"), Value: []byte(bad)}}, noTTL))
		_, err := e.s.DictionaryIncrement(e.ctx, e.cache, k, []byte("s"), 1, noTTL)
		wantErr(t, fmt.Sprintf("DictionaryIncrement of %q", bad), err, errs.ErrNotInteger)
		v, _, _, _ := e.s.DictionaryGet(e.ctx, e.cache, k, bs("s"))
		if string(v[0]) != bad {
			t.Fatalf("failed increment changed %q to %q", bad, v[0])
		}
	}
	e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("max"), Value: []byte(fmt.Sprint(int64(math.MaxInt64)))}}, noTTL))
	_, err := e.s.DictionaryIncrement(e.ctx, e.cache, k, []byte("max"), 1, noTTL)
	wantErr(t, "DictionaryIncrement overflow", err, errs.ErrOverflow)
}

func testSet(t *testing.T, e *env) {
	k := []byte("s")
	if found, err := e.s.SetRemove(e.ctx, e.cache, k, bs("a")); found || err != nil {
		t.Fatalf("SetRemove(missing) = %v %v", found, err)
	}
	if _, found, err := e.s.SetContains(e.ctx, e.cache, k, bs("a")); found || err != nil {
		t.Fatalf("SetContains(missing) = %v %v", found, err)
	}
	if _, found, _ := e.s.SetLength(e.ctx, e.cache, k); found {
		t.Fatal("SetLength(missing) found")
	}
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, k, bs("a", "b", "a", ""), noTTL))
	el, found, err := e.s.SetFetch(e.ctx, e.cache, k)
	if err != nil || !found || !slices.Equal(sortedStrs(el), []string{"", "a", "b"}) {
		t.Fatalf("SetFetch = %q %v %v", el, found, err)
	}
	c, found, _ := e.s.SetContains(e.ctx, e.cache, k, bs("b", "x", "", "a"))
	if !found || !slices.Equal(c, []bool{true, false, true, true}) {
		t.Fatalf("SetContains = %v %v", c, found)
	}
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, k, bs("b", "c"), noTTL))
	if n, _, _ := e.s.SetLength(e.ctx, e.cache, k); n != 4 {
		t.Fatalf("SetLength = %d, want 4", n)
	}
	if found, err := e.s.SetRemove(e.ctx, e.cache, k, bs("a", "zz", "")); !found || err != nil {
		t.Fatalf("SetRemove = %v %v", found, err)
	}
	el, _, _ = e.s.SetFetch(e.ctx, e.cache, k)
	if !slices.Equal(sortedStrs(el), []string{"b", "c"}) {
		t.Fatalf("SetFetch after remove = %q", el)
	}
	e.s.SetRemove(e.ctx, e.cache, k, bs("b", "c"))
	e.wantKind("s", nil)
}

func testSetSamplePop(t *testing.T, e *env) {
	k := []byte("s")
	if _, found, _ := e.s.SetSample(e.ctx, e.cache, k, 3); found {
		t.Fatal("SetSample(missing) found")
	}
	if _, found, _ := e.s.SetPop(e.ctx, e.cache, k, 3); found {
		t.Fatal("SetPop(missing) found")
	}
	all := bs("a", "b", "c", "d", "e")
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, k, all, noTTL))
	for _, limit := range []int{0, 1, 3, 5, 10} {
		el, found, err := e.s.SetSample(e.ctx, e.cache, k, limit)
		got := sortedStrs(el)
		if err != nil || !found || len(got) != min(limit, 5) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("SetSample(%d) = %q %v %v", limit, el, found, err)
		}
		for _, g := range got {
			if !strings.Contains("abcde", g) {
				t.Fatalf("SetSample returned %q", g)
			}
		}
	}
	popped, found, err := e.s.SetPop(e.ctx, e.cache, k, 2)
	if err != nil || !found || len(popped) != 2 {
		t.Fatalf("SetPop(2) = %q %v %v", popped, found, err)
	}
	c, _, _ := e.s.SetContains(e.ctx, e.cache, k, popped)
	if c[0] || c[1] {
		t.Fatalf("popped %q still in the set", popped)
	}
	rest, _, _ := e.s.SetPop(e.ctx, e.cache, k, 10)
	if got := sortedStrs(append(popped, rest...)); !slices.Equal(got, strs(all)) {
		t.Fatalf("popped %q in all", got)
	}
	e.wantKind("s", nil)
}

func (e *env) wantList(key string, want ...string) {
	e.t.Helper()
	got, found, err := e.s.ListFetch(e.ctx, e.cache, []byte(key), 0, store.Unbounded)
	if err != nil || !found || !slices.Equal(strs(got), want) {
		e.t.Fatalf("ListFetch(%q) = %q, %v, %v; want %q", key, got, found, err, want)
	}
}

func testListPushPop(t *testing.T, e *env) {
	k := []byte("l")
	if _, _, found, err := e.s.ListPop(e.ctx, e.cache, k, true); found || err != nil {
		t.Fatalf("ListPop(missing) = %v %v", found, err)
	}
	if _, found, _ := e.s.ListFetch(e.ctx, e.cache, k, 0, store.Unbounded); found {
		t.Fatal("ListFetch(missing) found")
	}
	push := func(front bool, trunc int, want int, vals ...string) {
		t.Helper()
		n, err := e.s.ListPush(e.ctx, e.cache, k, bs(vals...), front, trunc, noTTL)
		if err != nil || n != want {
			t.Fatalf("ListPush(front=%v, trunc %d, %q) = %d, %v; want %d", front, trunc, vals, n, err, want)
		}
	}
	push(false, 0, 1, "b")
	push(true, 0, 2, "a")
	push(false, 0, 4, "c", "d") // concatenate back
	push(true, 0, 6, "x", "y")  // concatenate front keeps order
	e.wantList("l", "x", "y", "a", "b", "c", "d")
	push(true, 4, 4, "f") // push front, truncate back
	e.wantList("l", "f", "x", "y", "a")
	push(false, 3, 3, "g", "h") // push back, truncate front
	e.wantList("l", "a", "g", "h")
	push(false, 0, 5, "a", "a") // duplicates kept
	e.wantList("l", "a", "g", "h", "a", "a")
	pop := func(front bool, want string, wantLen int) {
		t.Helper()
		v, n, found, err := e.s.ListPop(e.ctx, e.cache, k, front)
		if err != nil || !found || string(v) != want || n != wantLen {
			t.Fatalf("ListPop(front=%v) = %q %d %v %v; want %q %d", front, v, n, found, err, want, wantLen)
		}
	}
	pop(true, "a", 4)
	pop(false, "a", 3)
	pop(false, "a", 2)
	pop(true, "g", 1)
	if n, found, _ := e.s.ListLength(e.ctx, e.cache, k); n != 1 || !found {
		t.Fatalf("ListLength = %d %v", n, found)
	}
	pop(true, "h", 0)
	e.wantKind("l", nil)

	// Many pushes and pops at both ends (ring growth, wrap-around, shrink).
	var model []string
	for i := range 1000 {
		v := fmt.Sprint(i)
		if i%3 == 0 {
			push(true, 0, len(model)+1, v)
			model = append([]string{v}, model...)
		} else {
			push(false, 0, len(model)+1, v)
			model = append(model, v)
		}
	}
	e.wantList("l", model...)
	for len(model) > 2 {
		pop(true, model[0], len(model)-1)
		model = model[1:]
		pop(false, model[len(model)-1], len(model)-1)
		model = model[:len(model)-1]
	}
	e.wantList("l", model...)
}

func testListSlices(t *testing.T, e *env) {
	k := []byte("l")
	vals := []string{"0", "1", "2", "3", "4"}
	if _, err := e.s.ListPush(e.ctx, e.cache, k, bs(vals...), false, 0, noTTL); err != nil {
		t.Fatal(err)
	}
	u := store.Unbounded
	for _, c := range []struct {
		start, end int
		want       []string
	}{
		{0, u, vals},
		{1, 3, vals[1:3]},
		{-2, u, vals[3:]},
		{0, -1, vals[:4]},
		{-3, -1, vals[2:4]},
		{2, 2, nil},
		{3, 1, nil},         // start after end
		{10, u, nil},        // out of range
		{-100, 2, vals[:2]}, // clamped
		{0, 100, vals},      // clamped
		{-1, -3, nil},
		{4, 5, vals[4:]},
	} {
		got, found, err := e.s.ListFetch(e.ctx, e.cache, k, c.start, c.end)
		if err != nil || !found || !slices.Equal(strs(got), append([]string{}, c.want...)) {
			t.Fatalf("ListFetch(%d, %d) = %q %v %v; want %q", c.start, c.end, got, found, err, c.want)
		}
	}
}

func testListRetainRemoveErase(t *testing.T, e *env) {
	k := []byte("l")
	reset := func(vals ...string) {
		t.Helper()
		e.ok("Delete", e.s.Delete(e.ctx, e.cache, k))
		if _, err := e.s.ListPush(e.ctx, e.cache, k, bs(vals...), false, 0, noTTL); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, _ := e.s.ListRetain(e.ctx, e.cache, k, 0, 1, noTTL); found {
		t.Fatal("ListRetain(missing) found")
	}
	if _, found, _ := e.s.ListRemove(e.ctx, e.cache, k, []byte("a")); found {
		t.Fatal("ListRemove(missing) found")
	}
	reset("a", "b", "c", "d", "e")
	n, found, err := e.s.ListRetain(e.ctx, e.cache, k, 1, -1, noTTL)
	if err != nil || !found || n != 3 {
		t.Fatalf("ListRetain(1, -1) = %d %v %v", n, found, err)
	}
	e.wantList("l", "b", "c", "d")
	n, _, _ = e.s.ListRetain(e.ctx, e.cache, k, -100, 100, noTTL)
	if n != 3 {
		t.Fatalf("ListRetain(all) = %d", n)
	}
	n, found, _ = e.s.ListRetain(e.ctx, e.cache, k, 5, store.Unbounded, noTTL)
	if n != 0 || !found {
		t.Fatalf("ListRetain(nothing) = %d %v", n, found)
	}
	e.wantKind("l", nil)

	reset("a", "b", "a", "c", "a")
	n, found, _ = e.s.ListRemove(e.ctx, e.cache, k, []byte("a"))
	if n != 2 || !found {
		t.Fatalf("ListRemove = %d %v", n, found)
	}
	e.wantList("l", "b", "c")
	n, _, _ = e.s.ListRemove(e.ctx, e.cache, k, []byte("zz"))
	if n != 2 {
		t.Fatalf("ListRemove(absent) = %d", n)
	}
	e.s.ListRemove(e.ctx, e.cache, k, []byte("b"))
	e.s.ListRemove(e.ctx, e.cache, k, []byte("c"))
	e.wantKind("l", nil)

	reset("0", "1", "2", "3", "4", "5", "6")
	n, found, err = e.s.ListErase(e.ctx, e.cache, k, []store.IndexRange{{Start: 4, Count: 1}, {Start: 0, Count: 2}, {Start: 1, Count: 2}, {Start: 10, Count: 3}})
	if err != nil || !found || n != 3 {
		t.Fatalf("ListErase = %d %v %v", n, found, err)
	}
	e.wantList("l", "3", "5", "6")
	n, _, _ = e.s.ListErase(e.ctx, e.cache, k, nil)
	if n != 0 {
		t.Fatalf("ListErase(all) = %d", n)
	}
	e.wantKind("l", nil)
}

func se(v string, score float64) store.ScoredElement {
	return store.ScoredElement{Value: []byte(v), Score: score}
}

func fmtElems(es []store.ScoredElement) string {
	var b strings.Builder
	for _, x := range es {
		fmt.Fprintf(&b, "%s:%v ", x.Value, x.Score)
	}
	return strings.TrimSpace(b.String())
}

func testSortedSet(t *testing.T, e *env) {
	k := []byte("z")
	if _, _, found, err := e.s.SortedSetGetScores(e.ctx, e.cache, k, bs("a")); found || err != nil {
		t.Fatalf("SortedSetGetScores(missing) = %v %v", found, err)
	}
	if _, _, found, _ := e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte("a"), false); found {
		t.Fatal("SortedSetGetRank(missing) found")
	}
	if _, found, _ := e.s.SortedSetLength(e.ctx, e.cache, k); found {
		t.Fatal("SortedSetLength(missing) found")
	}
	e.ok("SortedSetRemove(missing)", e.s.SortedSetRemove(e.ctx, e.cache, k, bs("a")))
	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, k, []store.ScoredElement{
		se("b", 1), se("a", 1), se("c", -2.5), se("d", 10), se("b", 2), // later b wins
	}, noTTL))
	sc, p, found, err := e.s.SortedSetGetScores(e.ctx, e.cache, k, bs("a", "b", "x", "c"))
	if err != nil || !found || !slices.Equal(p, []bool{true, true, false, true}) || sc[0] != 1 || sc[1] != 2 || sc[3] != -2.5 {
		t.Fatalf("SortedSetGetScores = %v %v %v %v", sc, p, found, err)
	}
	// Order: c(-2.5) a(1) b(2) d(10).
	for i, v := range []string{"c", "a", "b", "d"} {
		r, present, found, err := e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte(v), false)
		if err != nil || !present || !found || r != i {
			t.Fatalf("SortedSetGetRank(%s) = %d %v %v %v; want %d", v, r, present, found, err, i)
		}
		r, _, _, _ = e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte(v), true)
		if r != 3-i {
			t.Fatalf("SortedSetGetRank(%s, desc) = %d; want %d", v, r, 3-i)
		}
	}
	if _, present, found, _ := e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte("x"), false); present || !found {
		t.Fatalf("SortedSetGetRank(absent element) present=%v found=%v", present, found)
	}
	// Score ties order by element bytes.
	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, k, []store.ScoredElement{se("ab", 1), se("aa", 1), se("a\x00", 1)}, noTTL))
	all, _, _ := e.s.SortedSetFetchByRank(e.ctx, e.cache, k, 0, store.Unbounded, false)
	if got, want := fmtElems(all), "c:-2.5 a:1 a\x00:1 aa:1 ab:1 b:2 d:10"; got != want {
		t.Fatalf("order with ties = %q, want %q", got, want)
	}
	if n, _, _ := e.s.SortedSetLength(e.ctx, e.cache, k); n != 7 {
		t.Fatalf("SortedSetLength = %d", n)
	}
	inc, exc := func(f float64) store.ScoreBound { return store.ScoreBound{Score: f} }, func(f float64) store.ScoreBound { return store.ScoreBound{Score: f, Exclusive: true} }
	for _, c := range []struct {
		min, max store.ScoreBound
		want     int
	}{
		{inc(math.Inf(-1)), inc(math.Inf(1)), 7},
		{inc(1), inc(2), 5},
		{exc(1), inc(2), 1},
		{inc(1), exc(2), 4},
		{exc(1), exc(2), 0},
		{inc(3), inc(1), 0},
		{inc(100), inc(math.Inf(1)), 0},
	} {
		n, found, err := e.s.SortedSetLengthByScore(e.ctx, e.cache, k, c.min, c.max)
		if err != nil || !found || n != c.want {
			t.Fatalf("SortedSetLengthByScore(%+v, %+v) = %d %v %v; want %d", c.min, c.max, n, found, err, c.want)
		}
	}
	e.ok("SortedSetRemove", e.s.SortedSetRemove(e.ctx, e.cache, k, bs("aa", "a", "nope")))
	all, _, _ = e.s.SortedSetFetchByRank(e.ctx, e.cache, k, 0, store.Unbounded, false)
	if got, want := fmtElems(all), "c:-2.5 a\x00:1 ab:1 b:2 d:10"; got != want {
		t.Fatalf("after remove = %q, want %q", got, want)
	}
	err = e.s.SortedSetPut(e.ctx, e.cache, k, []store.ScoredElement{se("n", math.NaN())}, noTTL)
	wantErr(t, "SortedSetPut(NaN)", err, errs.ErrInvalidArgument)
	e.ok("SortedSetRemove", e.s.SortedSetRemove(e.ctx, e.cache, k, bs("c", "a\x00", "ab", "b", "d")))
	e.wantKind("z", nil)
}

func (e *env) zput(key string, es ...store.ScoredElement) {
	e.t.Helper()
	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, []byte(key), es, noTTL))
}

func testSortedSetFetchByRank(t *testing.T, e *env) {
	k := []byte("z")
	if _, found, _ := e.s.SortedSetFetchByRank(e.ctx, e.cache, k, 0, store.Unbounded, false); found {
		t.Fatal("SortedSetFetchByRank(missing) found")
	}
	e.zput("z", se("a", 1), se("b", 2), se("c", 3), se("d", 4), se("e", 5))
	u := store.Unbounded
	for _, c := range []struct {
		start, end int
		desc       bool
		want       string
	}{
		{0, u, false, "abcde"},
		{0, u, true, "edcba"},
		{1, 3, false, "bc"},
		{1, 3, true, "dc"},
		{-2, u, false, "de"},
		{-2, u, true, "ba"},
		{0, -1, false, "abcd"},
		{-3, -1, true, "cb"},
		{3, 1, false, ""},
		{5, u, false, ""},
		{-100, 100, false, "abcde"},
		{4, 5, true, "a"},
	} {
		got, found, err := e.s.SortedSetFetchByRank(e.ctx, e.cache, k, c.start, c.end, c.desc)
		var s string
		for _, x := range got {
			s += string(x.Value)
		}
		if err != nil || !found || s != c.want {
			t.Fatalf("SortedSetFetchByRank(%d, %d, desc=%v) = %q %v %v; want %q", c.start, c.end, c.desc, s, found, err, c.want)
		}
	}
}

func testSortedSetFetchByScore(t *testing.T, e *env) {
	k := []byte("z")
	all := func() (store.ScoreBound, store.ScoreBound) {
		return store.ScoreBound{Score: math.Inf(-1)}, store.ScoreBound{Score: math.Inf(1)}
	}
	lo, hi := all()
	if _, found, _ := e.s.SortedSetFetchByScore(e.ctx, e.cache, k, lo, hi, false, 0, -1); found {
		t.Fatal("SortedSetFetchByScore(missing) found")
	}
	e.zput("z", se("a", 1), se("b", 2), se("b2", 2), se("c", 3), se("d", 4), se("e", 5))
	inc, exc := func(f float64) store.ScoreBound { return store.ScoreBound{Score: f} }, func(f float64) store.ScoreBound { return store.ScoreBound{Score: f, Exclusive: true} }
	for _, c := range []struct {
		min, max      store.ScoreBound
		desc          bool
		offset, count int
		want          string
	}{
		{lo, hi, false, 0, -1, "a b b2 c d e"},
		{lo, hi, true, 0, -1, "e d c b2 b a"},
		{inc(2), inc(4), false, 0, -1, "b b2 c d"},
		{exc(2), inc(4), false, 0, -1, "c d"},
		{inc(2), exc(4), true, 0, -1, "c b2 b"},
		{inc(2), inc(4), false, 1, 2, "b2 c"},
		{inc(2), inc(4), true, 1, 2, "c b2"},
		{inc(2), inc(4), false, 10, -1, ""},
		{lo, hi, false, 0, 0, ""},
		{lo, inc(0), false, 0, -1, ""},
		{inc(6), hi, false, 0, -1, ""},
		{inc(4), inc(2), false, 0, -1, ""},
		{inc(1.5), inc(2.5), false, 0, 100, "b b2"},
	} {
		got, found, err := e.s.SortedSetFetchByScore(e.ctx, e.cache, k, c.min, c.max, c.desc, c.offset, c.count)
		var vs []string
		for _, x := range got {
			vs = append(vs, string(x.Value))
		}
		if s := strings.Join(vs, " "); err != nil || !found || s != c.want {
			t.Fatalf("SortedSetFetchByScore(%+v, %+v, desc=%v, %d, %d) = %q %v %v; want %q", c.min, c.max, c.desc, c.offset, c.count, s, found, err, c.want)
		}
	}
}

func testSortedSetIncrement(t *testing.T, e *env) {
	k := []byte("z")
	f := func(v string, amount, want float64) {
		t.Helper()
		got, err := e.s.SortedSetIncrement(e.ctx, e.cache, k, []byte(v), amount, noTTL)
		if err != nil || got != want {
			t.Fatalf("SortedSetIncrement(%q, %v) = %v, %v; want %v", v, amount, got, err, want)
		}
	}
	f("a", 1.5, 1.5) // creates
	f("a", 2, 3.5)
	f("b", -1, -1)
	f("a", -10, -6.5)
	r, _, _, _ := e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte("a"), false)
	if r != 0 {
		t.Fatalf("rank of a after increments = %d", r)
	}
	f("i", math.Inf(1), math.Inf(1))
	_, err := e.s.SortedSetIncrement(e.ctx, e.cache, k, []byte("i"), math.Inf(-1), noTTL)
	wantErr(t, "SortedSetIncrement to NaN", err, errs.ErrInvalidArgument)
}

func testSortedSetUnionStore(t *testing.T, e *env) {
	e.zput("s1", se("a", 1), se("b", 2), se("c", 3))
	e.zput("s2", se("b", 10), se("c", 1), se("d", 5))
	src := []store.UnionSource{{Key: []byte("s1"), Weight: 1}, {Key: []byte("s2"), Weight: 2}, {Key: []byte("missing"), Weight: 5}}
	for _, c := range []struct {
		agg  store.Aggregate
		want string
	}{
		{store.AggregateSum, "a:1 c:5 d:10 b:22"},
		{store.AggregateMin, "a:1 b:2 c:2 d:10"},
		{store.AggregateMax, "a:1 c:3 d:10 b:20"},
	} {
		n, err := e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("dst"), src, c.agg, time.Hour)
		all, _, _ := e.s.SortedSetFetchByRank(e.ctx, e.cache, []byte("dst"), 0, store.Unbounded, false)
		if err != nil || n != 4 || fmtElems(all) != c.want {
			t.Fatalf("SortedSetUnionStore(%d) = %d, %v: %q; want %q", c.agg, n, err, fmtElems(all), c.want)
		}
		near(t, "union TTL", e.meta("dst").ExpiresAt, e.clock.Now().Add(time.Hour))
	}
	// The destination may be a source; it is replaced.
	n, err := e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("s1"), []store.UnionSource{{Key: []byte("s1"), Weight: -1}}, store.AggregateSum, 0)
	all, _, _ := e.s.SortedSetFetchByRank(e.ctx, e.cache, []byte("s1"), 0, store.Unbounded, false)
	if err != nil || n != 3 || fmtElems(all) != "c:-3 b:-2 a:-1" {
		t.Fatalf("union into a source = %d %v %q", n, err, fmtElems(all))
	}
	// An empty union deletes the destination.
	n, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("dst"), []store.UnionSource{{Key: []byte("missing"), Weight: 1}}, store.AggregateSum, 0)
	if err != nil || n != 0 {
		t.Fatalf("empty union = %d %v", n, err)
	}
	e.wantKind("dst", nil)
	n, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("dst"), nil, store.AggregateSum, 0)
	if err != nil || n != 0 {
		t.Fatalf("union of nothing = %d %v", n, err)
	}
	e.set("scalar", "v", 0)
	_, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("dst"), []store.UnionSource{{Key: []byte("scalar"), Weight: 1}}, store.AggregateSum, 0)
	wantErr(t, "union of a scalar", err, errs.ErrWrongType)
	_, err = e.s.SortedSetUnionStore(e.ctx, e.cache, []byte("scalar"), src, store.AggregateSum, 0)
	wantErr(t, "union into a scalar", err, errs.ErrWrongType)
}

// writers creates a collection of each kind under key with ttl; it is the
// table the TTL and type tests iterate.
var writers = []struct {
	kind  store.Kind
	write func(e *env, key []byte, ttl store.CollectionTTL) error
}{
	{store.KindDictionary, func(e *env, key []byte, ttl store.CollectionTTL) error {
		return e.s.DictionarySet(e.ctx, e.cache, key, []store.FieldValue{{Field: []byte("f"), Value: []byte("1")}}, ttl)
	}},
	{store.KindDictionary, func(e *env, key []byte, ttl store.CollectionTTL) error {
		_, err := e.s.DictionaryIncrement(e.ctx, e.cache, key, []byte("f"), 1, ttl)
		return err
	}},
	{store.KindSet, func(e *env, key []byte, ttl store.CollectionTTL) error {
		return e.s.SetAdd(e.ctx, e.cache, key, bs("e"), ttl)
	}},
	{store.KindList, func(e *env, key []byte, ttl store.CollectionTTL) error {
		_, err := e.s.ListPush(e.ctx, e.cache, key, bs("v"), true, 0, ttl)
		return err
	}},
	{store.KindList, func(e *env, key []byte, ttl store.CollectionTTL) error {
		_, err := e.s.ListPush(e.ctx, e.cache, key, bs("v", "w"), false, 0, ttl)
		return err
	}},
	{store.KindSortedSet, func(e *env, key []byte, ttl store.CollectionTTL) error {
		return e.s.SortedSetPut(e.ctx, e.cache, key, []store.ScoredElement{se("e", 1)}, ttl)
	}},
	{store.KindSortedSet, func(e *env, key []byte, ttl store.CollectionTTL) error {
		_, err := e.s.SortedSetIncrement(e.ctx, e.cache, key, []byte("e"), 1, ttl)
		return err
	}},
}

func testCollectionTTL(t *testing.T, e *env) {
	for i, w := range writers {
		key := fmt.Sprintf("k%d", i)
		k := []byte(key)
		e.ok("create", w.write(e, k, store.CollectionTTL{TTL: time.Hour}))
		near(t, key+" created: ExpiresAt", e.meta(key).ExpiresAt, e.clock.Now().Add(time.Hour))
		// No refresh: the expiry stays.
		e.ok("write", w.write(e, k, store.CollectionTTL{TTL: 5 * time.Hour}))
		near(t, key+" written without refresh: ExpiresAt", e.meta(key).ExpiresAt, e.clock.Now().Add(time.Hour))
		// Refresh: replaced.
		e.ok("write", w.write(e, k, store.CollectionTTL{TTL: 3 * time.Hour, Refresh: true}))
		near(t, key+" refreshed: ExpiresAt", e.meta(key).ExpiresAt, e.clock.Now().Add(3*time.Hour))
		// Refresh to zero: never expires.
		e.ok("write", w.write(e, k, store.CollectionTTL{Refresh: true}))
		if m := e.meta(key); !m.ExpiresAt.IsZero() {
			t.Fatalf("%s refreshed without TTL: ExpiresAt = %v, want never", key, m.ExpiresAt)
		}
		// UpdateTTL works on collections.
		if r, err := e.s.UpdateTTL(e.ctx, e.cache, k, store.TTLOverwrite, 2*time.Hour); err != nil || r != store.TTLSet {
			t.Fatalf("UpdateTTL(%s) = %v %v", key, r, err)
		}
		near(t, key+" after UpdateTTL", e.meta(key).ExpiresAt, e.clock.Now().Add(2*time.Hour))
		if m := e.meta(key); m.Kind != w.kind {
			t.Fatalf("%s kind %v, want %v", key, m.Kind, w.kind)
		}
		// Re-created after Delete: the new TTL applies.
		e.ok("Delete", e.s.Delete(e.ctx, e.cache, k))
		e.ok("create", w.write(e, k, store.CollectionTTL{TTL: 4 * time.Hour}))
		near(t, key+" re-created: ExpiresAt", e.meta(key).ExpiresAt, e.clock.Now().Add(4*time.Hour))
	}
	// ListRetain refreshes too.
	k := []byte("retain")
	e.s.ListPush(e.ctx, e.cache, k, bs("a", "b"), false, 0, store.CollectionTTL{TTL: time.Hour})
	e.s.ListRetain(e.ctx, e.cache, k, 0, 1, store.CollectionTTL{TTL: 5 * time.Hour})
	near(t, "retain without refresh", e.meta("retain").ExpiresAt, e.clock.Now().Add(time.Hour))
	e.s.ListRetain(e.ctx, e.cache, k, 0, 1, store.CollectionTTL{TTL: 5 * time.Hour, Refresh: true})
	near(t, "retain with refresh", e.meta("retain").ExpiresAt, e.clock.Now().Add(5*time.Hour))
	_, err := e.s.ListPush(e.ctx, e.cache, k, bs("a"), false, 0, store.CollectionTTL{TTL: -1})
	wantErr(t, "negative collection TTL", err, errs.ErrInvalidArgument)
}

func testCollectionWrongType(t *testing.T, e *env) {
	e.set("scalar", "v", 0)
	e.ok("SetAdd", e.s.SetAdd(e.ctx, e.cache, []byte("set"), bs("x"), noTTL))
	e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, []byte("zset"), []store.ScoredElement{se("x", 1)}, noTTL))
	e.ok("DictionarySet", e.s.DictionarySet(e.ctx, e.cache, []byte("dict"), []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, noTTL))
	if _, err := e.s.ListPush(e.ctx, e.cache, []byte("list"), bs("x"), false, 0, noTTL); err != nil {
		t.Fatal(err)
	}
	ops := map[store.Kind][]func(k []byte) error{
		store.KindDictionary: {
			func(k []byte) error {
				return e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("f")}}, noTTL)
			},
			func(k []byte) error { _, _, _, err := e.s.DictionaryGet(e.ctx, e.cache, k, bs("f")); return err },
			func(k []byte) error { _, _, err := e.s.DictionaryFetch(e.ctx, e.cache, k); return err },
			func(k []byte) error {
				_, err := e.s.DictionaryIncrement(e.ctx, e.cache, k, []byte("f"), 1, noTTL)
				return err
			},
			func(k []byte) error { return e.s.DictionaryDelete(e.ctx, e.cache, k, bs("f")) },
			func(k []byte) error { _, _, err := e.s.DictionaryLength(e.ctx, e.cache, k); return err },
		},
		store.KindSet: {
			func(k []byte) error { return e.s.SetAdd(e.ctx, e.cache, k, bs("x"), noTTL) },
			func(k []byte) error { _, err := e.s.SetRemove(e.ctx, e.cache, k, bs("x")); return err },
			func(k []byte) error { _, _, err := e.s.SetFetch(e.ctx, e.cache, k); return err },
			func(k []byte) error { _, _, err := e.s.SetContains(e.ctx, e.cache, k, bs("x")); return err },
			func(k []byte) error { _, _, err := e.s.SetSample(e.ctx, e.cache, k, 1); return err },
			func(k []byte) error { _, _, err := e.s.SetPop(e.ctx, e.cache, k, 1); return err },
			func(k []byte) error { _, _, err := e.s.SetLength(e.ctx, e.cache, k); return err },
		},
		store.KindList: {
			func(k []byte) error { _, err := e.s.ListPush(e.ctx, e.cache, k, bs("x"), true, 0, noTTL); return err },
			func(k []byte) error { _, _, _, err := e.s.ListPop(e.ctx, e.cache, k, false); return err },
			func(k []byte) error { _, _, err := e.s.ListFetch(e.ctx, e.cache, k, 0, store.Unbounded); return err },
			func(k []byte) error { _, _, err := e.s.ListRetain(e.ctx, e.cache, k, 0, 1, noTTL); return err },
			func(k []byte) error { _, _, err := e.s.ListRemove(e.ctx, e.cache, k, []byte("x")); return err },
			func(k []byte) error { _, _, err := e.s.ListErase(e.ctx, e.cache, k, nil); return err },
			func(k []byte) error { _, _, err := e.s.ListLength(e.ctx, e.cache, k); return err },
		},
		store.KindSortedSet: {
			func(k []byte) error {
				return e.s.SortedSetPut(e.ctx, e.cache, k, []store.ScoredElement{se("x", 1)}, noTTL)
			},
			func(k []byte) error {
				_, _, err := e.s.SortedSetFetchByRank(e.ctx, e.cache, k, 0, store.Unbounded, false)
				return err
			},
			func(k []byte) error {
				_, _, err := e.s.SortedSetFetchByScore(e.ctx, e.cache, k, store.ScoreBound{Score: math.Inf(-1)}, store.ScoreBound{Score: math.Inf(1)}, false, 0, -1)
				return err
			},
			func(k []byte) error { _, _, _, err := e.s.SortedSetGetScores(e.ctx, e.cache, k, bs("x")); return err },
			func(k []byte) error {
				_, _, _, err := e.s.SortedSetGetRank(e.ctx, e.cache, k, []byte("x"), false)
				return err
			},
			func(k []byte) error {
				_, err := e.s.SortedSetIncrement(e.ctx, e.cache, k, []byte("x"), 1, noTTL)
				return err
			},
			func(k []byte) error { return e.s.SortedSetRemove(e.ctx, e.cache, k, bs("x")) },
			func(k []byte) error { _, _, err := e.s.SortedSetLength(e.ctx, e.cache, k); return err },
			func(k []byte) error {
				_, _, err := e.s.SortedSetLengthByScore(e.ctx, e.cache, k, store.ScoreBound{Score: 0}, store.ScoreBound{Score: 1})
				return err
			},
		},
	}
	keys := map[store.Kind]string{store.KindScalar: "scalar", store.KindDictionary: "dict", store.KindSet: "set", store.KindList: "list", store.KindSortedSet: "zset"}
	for opKind, fns := range ops {
		for itemKind, key := range keys {
			if itemKind == opKind {
				continue
			}
			for i, fn := range fns {
				wantErr(t, fmt.Sprintf("%v op %d on a %v", opKind, i, itemKind), fn([]byte(key)), errs.ErrWrongType)
			}
		}
	}
	// Nothing changed.
	e.want("scalar", "v")
	for kind, key := range keys {
		e.wantKind(key, kindp(kind))
	}
	_, _, err := e.s.Get(e.ctx, e.cache, []byte("list"))
	wantErr(t, "Get(list)", err, errs.ErrWrongType)
	// A scalar Set replaces a collection.
	e.set("list", "now scalar", 0)
	e.want("list", "now scalar")
}

func testCollectionElementSize(t *testing.T, e *env) {
	big := bytes.Repeat([]byte("x"), store.MaxElementSize+1)
	max := big[:store.MaxElementSize]
	k := []byte("k")
	got := []error{
		e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: []byte("f"), Value: big}}, noTTL),
		e.s.DictionarySet(e.ctx, e.cache, k, []store.FieldValue{{Field: big, Value: []byte("v")}}, noTTL),
		e.s.SetAdd(e.ctx, e.cache, k, [][]byte{[]byte("ok"), big}, noTTL),
		e.s.SortedSetPut(e.ctx, e.cache, k, []store.ScoredElement{{Value: big}}, noTTL),
	}
	_, err := e.s.ListPush(e.ctx, e.cache, k, [][]byte{big}, false, 0, noTTL)
	got = append(got, err)
	_, err = e.s.DictionaryIncrement(e.ctx, e.cache, k, big, 1, noTTL)
	got = append(got, err)
	_, err = e.s.SortedSetIncrement(e.ctx, e.cache, k, big, 1, noTTL)
	got = append(got, err)
	for i, err := range got {
		wantErr(t, fmt.Sprintf("oversized element %d", i), err, errs.ErrElementTooLarge)
	}
	e.wantKind("k", nil)
	// Exactly the limit is fine.
	if _, err := e.s.ListPush(e.ctx, e.cache, k, [][]byte{max, max}, false, 0, noTTL); err != nil {
		t.Fatalf("ListPush at the element limit: %v", err)
	}
}

func testCollectionLSN(t *testing.T, e *env) {
	k := []byte("z")
	e.zput("z", se("a", 1))
	l0 := e.meta("z").LSN
	e.zput("z", se("b", 1), se("c", 2), se("d", 3)) // one change for three elements
	if l := e.meta("z").LSN; l != l0+1 {
		t.Fatalf("LSN after a 3-element put = %d, want %d", l, l0+1)
	}
	e.ok("SortedSetRemove", e.s.SortedSetRemove(e.ctx, e.cache, k, bs("a", "b")))
	if l := e.meta("z").LSN; l != l0+2 {
		t.Fatalf("LSN after a 2-element remove = %d, want %d", l, l0+2)
	}
	e.s.ListPush(e.ctx, e.cache, []byte("l"), bs("1", "2", "3"), false, 2, noTTL)
	l1 := e.meta("l").LSN
	e.s.ListPop(e.ctx, e.cache, []byte("l"), true)
	if l := e.meta("l").LSN; l <= l1 {
		t.Fatalf("LSN after ListPop = %d, not after %d", l, l1)
	}
	// Reads are not changes.
	l2 := e.meta("l").LSN
	e.s.ListFetch(e.ctx, e.cache, []byte("l"), 0, store.Unbounded)
	e.s.ListLength(e.ctx, e.cache, []byte("l"))
	if l := e.meta("l").LSN; l != l2 {
		t.Fatalf("LSN after reads = %d, want %d", l, l2)
	}
}

func testCollectionMissingCache(t *testing.T, e *env) {
	const c = "no-such-cache"
	k := []byte("k")
	got := []error{
		e.s.DictionarySet(e.ctx, c, k, []store.FieldValue{{Field: []byte("f")}}, noTTL),
		e.s.SetAdd(e.ctx, c, k, bs("x"), noTTL),
		e.s.SortedSetPut(e.ctx, c, k, []store.ScoredElement{se("x", 1)}, noTTL),
	}
	_, _, err := e.s.ListFetch(e.ctx, c, k, 0, 1)
	got = append(got, err)
	_, _, err = e.s.SetFetch(e.ctx, c, k)
	got = append(got, err)
	_, err = e.s.SortedSetUnionStore(e.ctx, c, k, nil, store.AggregateSum, 0)
	got = append(got, err)
	for i, err := range got {
		wantErr(t, fmt.Sprintf("op %d on a missing cache", i), err, errs.ErrCacheNotFound)
	}
	err = e.s.SetAdd(e.ctx, e.cache, nil, bs("x"), noTTL)
	wantErr(t, "SetAdd with an empty key", err, errs.ErrInvalidArgument)
}

func testCollectionExpiry(t *testing.T, e *env) {
	k := []byte("l")
	if _, err := e.s.ListPush(e.ctx, e.cache, k, bs("old"), false, 0, store.CollectionTTL{TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, found, err := e.s.ListFetch(e.ctx, e.cache, k, 0, store.Unbounded); err != nil || found {
		t.Fatalf("ListFetch of an expired list = %v, %v", found, err)
	}
	// A write after expiry creates a new collection with the new TTL.
	if n, err := e.s.ListPush(e.ctx, e.cache, k, bs("new"), false, 0, store.CollectionTTL{TTL: time.Hour}); err != nil || n != 1 {
		t.Fatalf("ListPush after expiry = %d, %v; want 1", n, err)
	}
	e.wantList("l", "new")
	near(t, "re-created list", e.meta("l").ExpiresAt, e.clock.Now().Add(time.Hour))
}
