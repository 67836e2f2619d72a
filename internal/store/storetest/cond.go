package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// state is the key's state before a conditional write.
type state int

const (
	absent  state = iota
	equal         // present, and the condition's value matches it
	unequal       // present with another value
)

func (s state) String() string { return [...]string{"absent", "equal", "unequal"}[s] }

func testSetIf(t *testing.T, e *env) {
	checkSetIf(t, e, false)

	_, err := e.s.SetIf(e.ctx, e.cache, []byte("k"), []byte("v"), 0, store.Condition{Kind: 200})
	wantErr(t, "SetIf with an unknown condition", err, errs.ErrInvalidArgument)

	res, err := e.s.SetIf(e.ctx, e.cache, []byte("ttl"), []byte("v"), time.Hour, store.Condition{Kind: store.CondAbsent})
	if err != nil || !res.Stored || !res.Created {
		t.Fatalf("SetIf with a TTL = %+v, %v", res, err)
	}
	near(t, "ExpiresAt after SetIf", e.meta("ttl").ExpiresAt, e.clock.Now().Add(time.Hour))
}

func testSetIfHash(t *testing.T, e *env) {
	checkSetIf(t, e, true)
}

// testOptimisticConcurrency: CondLSNEqual writes or deletes only an item
// nobody changed since it was read, of any kind.
func testOptimisticConcurrency(t *testing.T, e *env) {
	e.set("k", "v1", 0)
	v, m, found, err := e.s.GetWithMeta(e.ctx, e.cache, []byte("k"))
	if err != nil || !found || string(v) != "v1" || m.LSN == 0 || m.Modified.IsZero() || m.Kind != store.KindScalar {
		t.Fatalf("GetWithMeta = %q, %+v, %v, %v", v, m, found, err)
	}
	at := func(lsn uint64) store.Condition { return store.Condition{Kind: store.CondLSNEqual, LSN: lsn} }
	res, err := e.s.SetIf(e.ctx, e.cache, []byte("k"), []byte("v2"), 0, at(m.LSN))
	if err != nil || !res.Stored || res.Created || res.LSN <= m.LSN {
		t.Fatalf("SetIf at the read LSN = %+v, %v", res, err)
	}
	// The first write won: a second writer with the same read loses.
	if res2, err := e.s.SetIf(e.ctx, e.cache, []byte("k"), []byte("v3"), 0, at(m.LSN)); err != nil || res2.Stored {
		t.Fatalf("SetIf at a stale LSN = %+v, %v", res2, err)
	}
	e.want("k", "v2")
	if ok, err := e.s.DeleteIf(e.ctx, e.cache, []byte("k"), at(m.LSN)); err != nil || ok {
		t.Fatalf("DeleteIf at a stale LSN = %v, %v", ok, err)
	}
	if ok, err := e.s.DeleteIf(e.ctx, e.cache, []byte("k"), at(res.LSN)); err != nil || !ok {
		t.Fatalf("DeleteIf at the current LSN = %v, %v", ok, err)
	}
	if res, err := e.s.SetIf(e.ctx, e.cache, []byte("k"), []byte("v"), 0, at(res.LSN)); err != nil || res.Stored {
		t.Fatalf("SetIf at an LSN of a deleted item = %+v, %v", res, err)
	}
	// Collections have LSNs too.
	if err := e.s.SetAdd(e.ctx, e.cache, []byte("set"), bs("a"), store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.s.DeleteIf(e.ctx, e.cache, []byte("set"), at(e.meta("set").LSN)); err != nil || !ok {
		t.Fatalf("DeleteIf of a set at its LSN = %v, %v", ok, err)
	}
	_, _, _, err = e.s.GetWithMeta(e.ctx, e.cache, []byte("set2"))
	if err != nil {
		t.Fatalf("GetWithMeta of a missing key: %v", err)
	}
	if err := e.s.SetAdd(e.ctx, e.cache, []byte("set2"), bs("a"), store.CollectionTTL{}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = e.s.GetWithMeta(e.ctx, e.cache, []byte("set2"))
	wantErr(t, "GetWithMeta of a set", err, errs.ErrWrongType)
	// Modified follows the clock.
	e.clock.Advance(time.Hour)
	e.set("later", "x", 0)
	if d := e.meta("later").Modified.Sub(m.Modified); d < time.Hour {
		t.Fatalf("Modified moved %v with the clock an hour on", d)
	}
}

// checkSetIf runs every condition against every state. For the hash
// conditions, the condition value is store.Hash of the compared value.
func checkSetIf(t *testing.T, e *env, hashed bool) {
	n := 0
	f := func(kind store.CondKind, st state, wantStored bool) {
		t.Helper()
		n++
		key := fmt.Sprintf("key-%d", n)
		if st != absent {
			e.set(key, "current", 0)
		}
		cmp := []byte("current")
		if st == unequal {
			cmp = []byte("other")
		}
		if hashed {
			cmp = store.Hash(cmp)
		}
		res, err := e.s.SetIf(e.ctx, e.cache, []byte(key), []byte("new"), 0, store.Condition{Kind: kind, Value: cmp})
		if err != nil || res.Stored != wantStored || res.Stored && res.Created != (st == absent) {
			t.Fatalf("SetIf(kind %d, %v) = %+v, %v; want stored %v, nil", kind, st, res, err, wantStored)
		}
		if res.Stored {
			if m := e.meta(key); m.LSN != res.LSN || !m.Modified.Equal(res.Modified) {
				t.Fatalf("SetIf(kind %d, %v) reported LSN %d at %v; the item has %d at %v", kind, st, res.LSN, res.Modified, m.LSN, m.Modified)
			}
		}
		switch {
		case wantStored:
			e.want(key, "new")
		case st == absent:
			e.wantMissing(key)
		default:
			e.want(key, "current")
		}
	}
	type row struct {
		kind                   store.CondKind
		absent, equal, unequal bool
	}
	rows := []row{
		{store.CondAlways, true, true, true},
		{store.CondAbsent, true, false, false},
		{store.CondPresent, false, true, true},
		{store.CondEqual, false, true, false},
		{store.CondNotEqual, true, false, true},
		{store.CondPresentAndNotEqual, false, false, true},
		{store.CondAbsentOrEqual, true, true, false},
	}
	if hashed {
		rows = []row{
			{store.CondPresentAndHashEqual, false, true, false},
			{store.CondPresentAndHashNotEqual, false, false, true},
			{store.CondAbsentOrHashEqual, true, true, false},
			{store.CondAbsentOrHashNotEqual, true, false, true},
		}
	}
	for _, r := range rows {
		f(r.kind, absent, r.absent)
		f(r.kind, equal, r.equal)
		f(r.kind, unequal, r.unequal)
	}
}
