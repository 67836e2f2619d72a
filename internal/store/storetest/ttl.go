package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

func testUpdateTTL(t *testing.T, e *env) {
	n := 0
	// initial is the item's TTL (0: never expires); wantTTL the TTL it must
	// have afterwards (0: never expires).
	f := func(initial time.Duration, mode store.TTLMode, ttl time.Duration, want store.TTLResult, wantTTL time.Duration) {
		t.Helper()
		n++
		key := fmt.Sprintf("key-%d", n)
		e.set(key, "v", initial)
		got, err := e.s.UpdateTTL(e.ctx, e.cache, []byte(key), mode, ttl)
		if err != nil || got != want {
			t.Fatalf("UpdateTTL(initial %v, mode %d, %v) = %d, %v; want %d", initial, mode, ttl, got, err, want)
		}
		m := e.meta(key)
		if wantTTL == 0 {
			if !m.ExpiresAt.IsZero() {
				t.Fatalf("UpdateTTL(initial %v, mode %d, %v): ExpiresAt = %v, want never", initial, mode, ttl, m.ExpiresAt)
			}
		} else {
			near(t, fmt.Sprintf("UpdateTTL(initial %v, mode %d, %v): ExpiresAt", initial, mode, ttl),
				m.ExpiresAt, e.clock.Now().Add(wantTTL))
		}
		e.want(key, "v")
	}
	const hour = time.Hour
	f(hour, store.TTLOverwrite, 2*hour, store.TTLSet, 2*hour)
	f(hour, store.TTLOverwrite, 10*time.Minute, store.TTLSet, 10*time.Minute)
	f(hour, store.TTLIncrease, 2*hour, store.TTLSet, 2*hour)
	f(hour, store.TTLIncrease, 10*time.Minute, store.TTLNotSet, hour)
	f(hour, store.TTLDecrease, 10*time.Minute, store.TTLSet, 10*time.Minute)
	f(hour, store.TTLDecrease, 2*hour, store.TTLNotSet, hour)
	// An item that never expires has the longest possible TTL.
	f(0, store.TTLOverwrite, hour, store.TTLSet, hour)
	f(0, store.TTLIncrease, hour, store.TTLNotSet, 0)
	f(0, store.TTLDecrease, hour, store.TTLSet, hour)

	e.set("k", "v", hour)
	for _, ttl := range []time.Duration{0, -1, store.MaxTTL + 1} {
		_, err := e.s.UpdateTTL(e.ctx, e.cache, []byte("k"), store.TTLOverwrite, ttl)
		wantErr(t, fmt.Sprintf("UpdateTTL(%v)", ttl), err, errs.ErrInvalidArgument)
	}
	_, err := e.s.UpdateTTL(e.ctx, e.cache, []byte("k"), 200, hour)
	wantErr(t, "UpdateTTL with an unknown mode", err, errs.ErrInvalidArgument)
	near(t, "ExpiresAt after rejected updates", e.meta("k").ExpiresAt, e.clock.Now().Add(hour))
}

func testUpdateTTLMissing(t *testing.T, e *env) {
	for _, mode := range []store.TTLMode{store.TTLOverwrite, store.TTLIncrease, store.TTLDecrease} {
		got, err := e.s.UpdateTTL(e.ctx, e.cache, []byte("missing"), mode, time.Hour)
		if err != nil || got != store.TTLMissing {
			t.Fatalf("UpdateTTL(missing, mode %d) = %d, %v; want TTLMissing", mode, got, err)
		}
	}
	e.wantMissing("missing")
}

func testMeta(t *testing.T, e *env) {
	if _, found, err := e.s.Meta(e.ctx, e.cache, []byte("missing")); err != nil || found {
		t.Fatalf("Meta(missing) = %v, %v", found, err)
	}
	info, _ := e.info(e.cache)
	e.set("k", "v", 0)
	m := e.meta("k")
	if m.Kind != store.KindScalar || !m.ExpiresAt.IsZero() || m.LSN == 0 ||
		m.Partition < 0 || m.Partition >= info.Partitions {
		t.Fatalf("Meta = %+v; want scalar, never expires, LSN > 0, partition < %d", m, info.Partitions)
	}
	e.set("k", "v", 2*time.Hour)
	near(t, "ExpiresAt", e.meta("k").ExpiresAt, e.clock.Now().Add(2*time.Hour))
	if p := e.meta("k").Partition; p != m.Partition {
		t.Fatalf("partition of one key changed from %d to %d", m.Partition, p)
	}
}

// testLSN checks that committed changes advance the item's LSN and that
// reads and writes that did not apply leave it alone.
func testLSN(t *testing.T, e *env) {
	k := []byte("k")
	last := uint64(0)
	f := func(what string, advances bool, op func() error) {
		t.Helper()
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		lsn := e.meta("k").LSN
		if advances && lsn <= last || !advances && lsn != last {
			t.Fatalf("%s: LSN %d after %d, want advance=%v", what, lsn, last, advances)
		}
		last = lsn
	}
	setIf := func(kind store.CondKind) func() error {
		return func() error {
			_, err := e.s.SetIf(e.ctx, e.cache, k, []byte("7"), 0, store.Condition{Kind: kind})
			return err
		}
	}
	updateTTL := func(mode store.TTLMode, ttl time.Duration) func() error {
		return func() error { _, err := e.s.UpdateTTL(e.ctx, e.cache, k, mode, ttl); return err }
	}
	f("Set", true, func() error { return e.s.Set(e.ctx, e.cache, k, []byte("1"), 0) })
	f("Set again", true, func() error { return e.s.Set(e.ctx, e.cache, k, []byte("1"), 0) })
	f("Get", false, func() error { _, _, err := e.s.Get(e.ctx, e.cache, k); return err })
	f("KeysExist", false, func() error { _, err := e.s.KeysExist(e.ctx, e.cache, [][]byte{k}); return err })
	f("SetIf stored", true, setIf(store.CondPresent))
	f("SetIf not stored", false, setIf(store.CondAbsent))
	f("Increment", true, func() error { _, err := e.s.Increment(e.ctx, e.cache, k, 1, 0); return err })
	f("UpdateTTL not set", false, updateTTL(store.TTLIncrease, time.Hour))
	f("UpdateTTL set", true, updateTTL(store.TTLOverwrite, time.Hour))
	f("SetBatch", true, func() error {
		return e.s.SetBatch(e.ctx, e.cache, []store.Item{{Key: k, Value: []byte("b")}})
	})
	f("Delete other key", false, func() error { return e.s.Delete(e.ctx, e.cache, []byte("other")) })

	// Within a partition, LSNs follow the order of writes.
	parts := map[int]uint64{}
	for i := range 64 {
		key := fmt.Sprintf("seq-%d", i)
		e.set(key, "v", 0)
		m := e.meta(key)
		if prev, ok := parts[m.Partition]; ok && m.LSN <= prev {
			t.Fatalf("%s: LSN %d in partition %d after %d", key, m.LSN, m.Partition, prev)
		}
		parts[m.Partition] = m.LSN
	}
}

func testExpiry(t *testing.T, e *env) {
	const short = time.Minute
	e.set("long", "v", time.Hour)
	e.set("forever", "v", 0)
	for _, k := range []string{"get", "absent", "incr", "ttl", "del", "meta"} {
		e.set(k, "41", short)
	}
	// Expired items vanish at once, before any sweep.
	e.clock.Advance(short)
	got, err := e.s.KeysExist(e.ctx, e.cache, [][]byte{
		[]byte("get"), []byte("absent"), []byte("incr"), []byte("ttl"), []byte("del"), []byte("meta"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range got {
		if ok {
			t.Fatalf("key %d still exists once its TTL has passed", i)
		}
	}
	e.wantMissing("get")
	e.want("long", "v")
	e.want("forever", "v")
	if _, found, err := e.s.Meta(e.ctx, e.cache, []byte("meta")); err != nil || found {
		t.Fatalf("Meta(expired) = %v, %v", found, err)
	}
	// An expired item is absent to writes as well.
	res, err := e.s.SetIf(e.ctx, e.cache, []byte("absent"), []byte("new"), 0, store.Condition{Kind: store.CondAbsent})
	if err != nil || !res.Stored || !res.Created {
		t.Fatalf("SetIf(absent) over an expired item = %+v, %v", res, err)
	}
	e.want("absent", "new")
	if n, err := e.s.Increment(e.ctx, e.cache, []byte("incr"), 1, 0); err != nil || n != 1 {
		t.Fatalf("Increment of an expired item = %d, %v; want 1", n, err)
	}
	if r, err := e.s.UpdateTTL(e.ctx, e.cache, []byte("ttl"), store.TTLOverwrite, time.Hour); err != nil || r != store.TTLMissing {
		t.Fatalf("UpdateTTL of an expired item = %d, %v; want TTLMissing", r, err)
	}
	if err := e.s.Delete(e.ctx, e.cache, []byte("del")); err != nil {
		t.Fatalf("Delete of an expired item: %v", err)
	}

	// A TTL shortened by UpdateTTL takes effect too.
	if r, err := e.s.UpdateTTL(e.ctx, e.cache, []byte("long"), store.TTLDecrease, short); err != nil || r != store.TTLSet {
		t.Fatalf("UpdateTTL(decrease) = %d, %v", r, err)
	}
	e.clock.Advance(short)
	if _, found, err := e.s.Get(e.ctx, e.cache, []byte("long")); err != nil || found {
		t.Fatalf("Get of an item whose shortened TTL passed = %v, %v", found, err)
	}
}
