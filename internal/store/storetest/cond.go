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

	stored, err := e.s.SetIf(e.ctx, e.cache, []byte("ttl"), []byte("v"), time.Hour, store.Condition{Kind: store.CondAbsent})
	if err != nil || !stored {
		t.Fatalf("SetIf with a TTL = %v, %v", stored, err)
	}
	near(t, "ExpiresAt after SetIf", e.meta("ttl").ExpiresAt, e.clock.Now().Add(time.Hour))
}

func testSetIfHash(t *testing.T, e *env) {
	checkSetIf(t, e, true)
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
		stored, err := e.s.SetIf(e.ctx, e.cache, []byte(key), []byte("new"), 0, store.Condition{Kind: kind, Value: cmp})
		if err != nil || stored != wantStored {
			t.Fatalf("SetIf(kind %d, %v) = %v, %v; want %v, nil", kind, st, stored, err, wantStored)
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
