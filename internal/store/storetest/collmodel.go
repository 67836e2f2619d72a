package storetest

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

// testCollectionModel runs random sequences of sorted-set and list
// operations against the store and against a plain-slice reference model,
// and compares every result.
func testCollectionModel(t *testing.T, e *env) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	modelSortedSet(t, e, rng)
	modelList(t, e, rng)
}

type zelem struct {
	v string
	s float64
}

func zless(a, b zelem) int { return cmp.Or(cmp.Compare(a.s, b.s), cmp.Compare(a.v, b.v)) }

// pySlice is the reference of Python slicing.
func pySlice(n, start, end int) (int, int) {
	if start < 0 {
		start = max(start+n, 0)
	}
	if end < 0 {
		end = max(end+n, 0)
	}
	start, end = min(start, n), min(end, n)
	return start, max(start, end)
}

func modelSortedSet(t *testing.T, e *env, rng *rand.Rand) {
	key := []byte("model-z")
	var model []zelem // kept sorted
	find := func(v string) int {
		return slices.IndexFunc(model, func(z zelem) bool { return z.v == v })
	}
	randElem := func() string { return fmt.Sprintf("e%02d", rng.IntN(60)) }
	randScore := func() float64 { return float64(rng.IntN(20)) / 2 } // many ties
	randIndex := func() int {
		if rng.IntN(5) == 0 {
			return store.Unbounded
		}
		return rng.IntN(2*len(model)+6) - len(model) - 3
	}
	for step := range 3000 {
		switch op := rng.IntN(8); op {
		case 0, 1: // put
			n := 1 + rng.IntN(4)
			var es []store.ScoredElement
			for range n {
				v, s := randElem(), randScore()
				es = append(es, store.ScoredElement{Value: []byte(v), Score: s})
				if i := find(v); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
				model = append(model, zelem{v, s})
				slices.SortFunc(model, zless)
			}
			e.ok("SortedSetPut", e.s.SortedSetPut(e.ctx, e.cache, key, es, noTTL))
		case 2: // remove
			vs := [][]byte{[]byte(randElem()), []byte(randElem())}
			for _, v := range vs {
				if i := find(string(v)); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
			}
			e.ok("SortedSetRemove", e.s.SortedSetRemove(e.ctx, e.cache, key, vs))
		case 3: // increment
			v, amt := randElem(), randScore()-5
			want := amt
			if i := find(v); i >= 0 {
				want += model[i].s
				model = slices.Delete(model, i, i+1)
			}
			model = append(model, zelem{v, want})
			slices.SortFunc(model, zless)
			got, err := e.s.SortedSetIncrement(e.ctx, e.cache, key, []byte(v), amt, noTTL)
			if err != nil || got != want {
				t.Fatalf("step %d: SortedSetIncrement = %v %v, want %v", step, got, err, want)
			}
		case 4: // rank
			v := randElem()
			desc := rng.IntN(2) == 0
			r, present, found, err := e.s.SortedSetGetRank(e.ctx, e.cache, key, []byte(v), desc)
			i := find(v)
			want := i
			if desc && i >= 0 {
				want = len(model) - 1 - i
			}
			if err != nil || found != (len(model) > 0) || present != (i >= 0) || present && r != want {
				t.Fatalf("step %d: GetRank(%s, desc=%v) = %d %v %v %v; want %d", step, v, desc, r, present, found, err, want)
			}
		case 5: // fetch by rank
			start, end, desc := randIndex(), randIndex(), rng.IntN(2) == 0
			got, found, err := e.s.SortedSetFetchByRank(e.ctx, e.cache, key, start, end, desc)
			ordered := slices.Clone(model)
			if desc {
				slices.Reverse(ordered)
			}
			s, en := pySlice(len(ordered), start, end)
			want := ordered[s:en]
			if err != nil || found != (len(model) > 0) || !sameZ(got, want) {
				t.Fatalf("step %d: FetchByRank(%d, %d, %v) = %v %v; want %v", step, start, end, desc, got, err, want)
			}
		case 6: // fetch by score and count
			lo := store.ScoreBound{Score: randScore(), Exclusive: rng.IntN(2) == 0}
			hi := store.ScoreBound{Score: randScore(), Exclusive: rng.IntN(2) == 0}
			if rng.IntN(6) == 0 {
				lo = store.ScoreBound{Score: math.Inf(-1)}
			}
			if rng.IntN(6) == 0 {
				hi = store.ScoreBound{Score: math.Inf(1)}
			}
			desc := rng.IntN(2) == 0
			offset, count := rng.IntN(4), rng.IntN(6)-1
			var in []zelem
			for _, z := range model {
				if (z.s > lo.Score || !lo.Exclusive && z.s == lo.Score) && (z.s < hi.Score || !hi.Exclusive && z.s == hi.Score) {
					in = append(in, z)
				}
			}
			n, _, err := e.s.SortedSetLengthByScore(e.ctx, e.cache, key, lo, hi)
			if err != nil || len(model) > 0 && n != len(in) {
				t.Fatalf("step %d: LengthByScore(%+v, %+v) = %d %v; want %d", step, lo, hi, n, err, len(in))
			}
			if desc {
				slices.Reverse(in)
			}
			in = in[min(offset, len(in)):]
			if count >= 0 {
				in = in[:min(count, len(in))]
			}
			got, _, err := e.s.SortedSetFetchByScore(e.ctx, e.cache, key, lo, hi, desc, offset, count)
			if err != nil || !sameZ(got, in) {
				t.Fatalf("step %d: FetchByScore(%+v, %+v, %v, %d, %d) = %v %v; want %v", step, lo, hi, desc, offset, count, got, err, in)
			}
		case 7: // length
			n, found, err := e.s.SortedSetLength(e.ctx, e.cache, key)
			if err != nil || found != (len(model) > 0) || n != len(model) {
				t.Fatalf("step %d: Length = %d %v %v; want %d", step, n, found, err, len(model))
			}
		}
	}
}

func sameZ(got []store.ScoredElement, want []zelem) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i].Value) != want[i].v || got[i].Score != want[i].s {
			return false
		}
	}
	return true
}

func modelList(t *testing.T, e *env, rng *rand.Rand) {
	key := []byte("model-l")
	var model []string
	randIndex := func() int {
		if rng.IntN(5) == 0 {
			return store.Unbounded
		}
		return rng.IntN(2*len(model)+6) - len(model) - 3
	}
	for step := range 3000 {
		switch op := rng.IntN(9); op {
		case 0, 1, 2: // push / concatenate
			var vals []string
			for range 1 + rng.IntN(3) {
				vals = append(vals, fmt.Sprint(rng.IntN(10)))
			}
			front := rng.IntN(2) == 0
			trunc := 0
			if rng.IntN(4) == 0 {
				trunc = 1 + rng.IntN(20)
			}
			if front {
				model = append(slices.Clone(vals), model...)
				if trunc > 0 && len(model) > trunc {
					model = model[:trunc]
				}
			} else {
				model = append(model, vals...)
				if trunc > 0 && len(model) > trunc {
					model = model[len(model)-trunc:]
				}
			}
			n, err := e.s.ListPush(e.ctx, e.cache, key, bs(vals...), front, trunc, noTTL)
			if err != nil || n != len(model) {
				t.Fatalf("step %d: ListPush = %d %v; want %d", step, n, err, len(model))
			}
		case 3: // pop
			front := rng.IntN(2) == 0
			v, n, found, err := e.s.ListPop(e.ctx, e.cache, key, front)
			if len(model) == 0 {
				if found || err != nil {
					t.Fatalf("step %d: ListPop(empty) found=%v %v", step, found, err)
				}
				continue
			}
			var want string
			if front {
				want, model = model[0], model[1:]
			} else {
				want, model = model[len(model)-1], model[:len(model)-1]
			}
			if err != nil || !found || string(v) != want || n != len(model) {
				t.Fatalf("step %d: ListPop(front=%v) = %q %d %v; want %q %d", step, front, v, n, err, want, len(model))
			}
		case 4, 5: // fetch
			start, end := randIndex(), randIndex()
			got, found, err := e.s.ListFetch(e.ctx, e.cache, key, start, end)
			s, en := pySlice(len(model), start, end)
			if err != nil || found != (len(model) > 0) || !slices.Equal(strs(got), model[s:en]) {
				t.Fatalf("step %d: ListFetch(%d, %d) = %q %v; want %q", step, start, end, got, err, model[s:en])
			}
		case 6: // retain, rarely, so that lists grow
			if rng.IntN(4) != 0 {
				continue
			}
			start, end := randIndex(), randIndex()
			s, en := pySlice(len(model), start, end)
			existed := len(model) > 0
			model = slices.Clone(model[s:en])
			n, found, err := e.s.ListRetain(e.ctx, e.cache, key, start, end, noTTL)
			if err != nil || found != existed || n != len(model) {
				t.Fatalf("step %d: ListRetain(%d, %d) = %d %v %v; want %d", step, start, end, n, found, err, len(model))
			}
		case 7: // remove value
			v := fmt.Sprint(rng.IntN(10))
			existed := len(model) > 0
			model = slices.DeleteFunc(model, func(s string) bool { return s == v })
			n, found, err := e.s.ListRemove(e.ctx, e.cache, key, []byte(v))
			if err != nil || found != existed || n != len(model) {
				t.Fatalf("step %d: ListRemove(%s) = %d %v %v; want %d", step, v, n, found, err, len(model))
			}
		case 8:
			n, found, err := e.s.ListLength(e.ctx, e.cache, key)
			if err != nil || found != (len(model) > 0) || n != len(model) {
				t.Fatalf("step %d: ListLength = %d %v %v; want %d", step, n, found, err, len(model))
			}
		}
	}
}
