package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

func testSetBatch(t *testing.T, e *env) {
	if err := e.s.SetBatch(e.ctx, e.cache, nil); err != nil {
		t.Fatalf("SetBatch(empty): %v", err)
	}
	e.set("old", "x", 0)
	var items []store.Item
	for i := range 50 {
		it := store.Item{Key: fmt.Appendf(nil, "b-%d", i), Value: fmt.Appendf(nil, "v-%d", i)}
		if i%2 == 1 {
			it.TTL = time.Hour
		}
		items = append(items, it)
	}
	items = append(items, store.Item{Key: []byte("old"), Value: []byte("replaced")})
	if err := e.s.SetBatch(e.ctx, e.cache, items); err != nil {
		t.Fatalf("SetBatch: %v", err)
	}
	e.want("old", "replaced")

	// Items of one partition carry consecutive LSNs, in request order.
	lsns := map[int][]uint64{}
	for i, it := range items[:50] {
		e.want(string(it.Key), string(it.Value))
		m := e.meta(string(it.Key))
		if i%2 == 1 {
			near(t, "ExpiresAt of a batch item", m.ExpiresAt, e.clock.Now().Add(time.Hour))
		} else if !m.ExpiresAt.IsZero() {
			t.Fatalf("batch item %d without TTL expires at %v", i, m.ExpiresAt)
		}
		lsns[m.Partition] = append(lsns[m.Partition], m.LSN)
	}
	for p, l := range lsns {
		if !slices.IsSorted(l) || l[len(l)-1]-l[0] != uint64(len(l)-1) {
			t.Fatalf("partition %d: batch LSNs %v are not consecutive in request order", p, l)
		}
	}

	// A key given twice ends with its last value.
	dup := []store.Item{{Key: []byte("d"), Value: []byte("1")}, {Key: []byte("d"), Value: []byte("2")}}
	if err := e.s.SetBatch(e.ctx, e.cache, dup); err != nil {
		t.Fatal(err)
	}
	e.want("d", "2")
}

// testSetBatchInvalid checks that one bad item rejects the whole batch.
func testSetBatchInvalid(t *testing.T, e *env) {
	f := func(bad store.Item, want error) {
		t.Helper()
		items := []store.Item{{Key: []byte("good"), Value: []byte("v")}, bad}
		wantErr(t, fmt.Sprintf("SetBatch with key %.10q", bad.Key), e.s.SetBatch(e.ctx, e.cache, items), want)
		e.wantMissing("good")
	}
	f(store.Item{Key: nil, Value: []byte("v")}, errs.ErrInvalidArgument)
	f(store.Item{Key: []byte("k"), Value: []byte("v"), TTL: -1}, errs.ErrInvalidArgument)
	f(store.Item{Key: []byte("k"), Value: []byte("v"), TTL: store.MaxTTL + 1}, errs.ErrInvalidArgument)
	f(store.Item{Key: []byte("k"), Value: make([]byte, store.MaxItemSize)}, errs.ErrItemTooLarge)
}
