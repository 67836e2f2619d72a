package memstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

// TestItemTable checks the table against a Go map through random inserts
// and deletes, across many growths (some of them with deletes from the old
// table while it drains) and back down to empty.
func TestItemTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tab := newItemTable()
	model := map[string]*item{}
	check := func(step int) {
		t.Helper()
		if tab.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, tab.len(), len(model))
		}
		n := 0
		for it := range tab.all() {
			if model[it.key()] != it {
				t.Fatalf("step %d: all yields %q, not in the model", step, it.key())
			}
			n++
		}
		if n != len(model) {
			t.Fatalf("step %d: all yields %d items, want %d", step, n, len(model))
		}
		for k, it := range model {
			if tab.getStr(k) != it || tab.get([]byte(k)) != it {
				t.Fatalf("step %d: %q not found", step, k)
			}
		}
	}
	const keys = 3000
	for step := range 60000 {
		k := fmt.Sprintf("k%d", r.IntN(keys))
		if old := model[k]; old != nil {
			if tab.getStr(k) != old {
				t.Fatalf("step %d: %q lost", step, k)
			}
			if r.IntN(3) > 0 || step > 40000 {
				tab.del(old)
				delete(model, k)
				if tab.getStr(k) != nil {
					t.Fatalf("step %d: %q found after its delete", step, k)
				}
			}
		} else if step <= 40000 {
			if tab.getStr(k) != nil {
				t.Fatalf("step %d: %q found before its insert", step, k)
			}
			it := newItem(k, []byte("v"), store.KindScalar, 0)
			tab.put(it)
			model[k] = it
		}
		if step%997 == 0 || tab.old.n > 0 && step%13 == 0 {
			check(step)
		}
	}
	for k, it := range model {
		tab.del(it)
		delete(model, k)
	}
	check(-1)
	if tab.getStr("k1") != nil || tab.any() != nil {
		t.Fatal("empty table finds an item")
	}
}

// TestItemTableGrowsIncrementally: no insert moves more than migrateStep
// slots of a draining table, and growth never runs twice at once.
func TestItemTableGrowsIncrementally(t *testing.T) {
	tab := newItemTable()
	growths := 0
	for i := range 100000 {
		oldLen, oldN := len(tab.old.slots), tab.old.n
		tab.put(newItem(fmt.Sprintf("key:%07d", i), nil, store.KindScalar, 0))
		switch {
		case len(tab.old.slots) > 0 && oldLen == 0:
			growths++
		case oldN > 0 && oldN-tab.old.n > migrateStep:
			t.Fatalf("insert %d migrated %d items", i, oldN-tab.old.n)
		}
	}
	if growths < 10 {
		t.Fatalf("%d growths for 100,000 items", growths)
	}
}
