package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

func testSetGet(t *testing.T, e *env) {
	f := func(key, value string) {
		t.Helper()
		e.set(key, value, 0)
		e.want(key, value)
	}
	f("plain", "value")
	f("\x00", "\x00")
	f("\xff", "\xff\x00\xff")
	f("\x00\xff\x00k", "")
	f("ключ", "значение")
	f(strings.Repeat("k", 1000), strings.Repeat("v", 1<<16))
	f("plain", "overwritten")
	f("plain", "")

	e.wantMissing("never-set")
	// Keys differing only in a trailing zero byte are distinct.
	f("nul", "without")
	f("nul\x00", "with")
	e.want("nul", "without")
}

func testCopiesBuffers(t *testing.T, e *env) {
	key, value := []byte("key"), []byte("value")
	if err := e.s.Set(e.ctx, e.cache, key, value, 0); err != nil {
		t.Fatal(err)
	}
	copy(key, "xxx")
	copy(value, "xxxxx")
	e.want("key", "value")

	items := []store.Item{{Key: []byte("b1"), Value: []byte("v1")}}
	if err := e.s.SetBatch(e.ctx, e.cache, items); err != nil {
		t.Fatal(err)
	}
	copy(items[0].Key, "zz")
	copy(items[0].Value, "zz")
	e.want("b1", "v1")

	buf := []byte("cond")
	if _, err := e.s.SetIf(e.ctx, e.cache, []byte("c"), buf, 0, store.Condition{Kind: store.CondAbsent}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxx")
	e.want("c", "cond")
}

func testEmptyKey(t *testing.T, e *env) {
	k, v := []byte{}, []byte("v")
	ops := map[string]func() error{
		"Get": func() error { _, _, err := e.s.Get(e.ctx, e.cache, k); return err },
		"Set": func() error { return e.s.Set(e.ctx, e.cache, k, v, 0) },
		"SetBatch": func() error {
			return e.s.SetBatch(e.ctx, e.cache, []store.Item{{Key: k, Value: v}})
		},
		"SetIf": func() error {
			_, err := e.s.SetIf(e.ctx, e.cache, k, v, 0, store.Condition{Kind: store.CondAlways})
			return err
		},
		"Delete":    func() error { return e.s.Delete(e.ctx, e.cache, k) },
		"KeysExist": func() error { _, err := e.s.KeysExist(e.ctx, e.cache, [][]byte{[]byte("a"), k}); return err },
		"Increment": func() error { _, err := e.s.Increment(e.ctx, e.cache, k, 1, 0); return err },
		"UpdateTTL": func() error {
			_, err := e.s.UpdateTTL(e.ctx, e.cache, k, store.TTLOverwrite, time.Hour)
			return err
		},
		"Meta": func() error { _, _, err := e.s.Meta(e.ctx, e.cache, k); return err },
	}
	for name, op := range ops {
		wantErr(t, name, op(), errs.ErrInvalidArgument)
	}
}

func testDelete(t *testing.T, e *env) {
	if err := e.s.Delete(e.ctx, e.cache, []byte("missing")); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
	e.set("k", "v", 0)
	e.set("k2", "v2", time.Hour)
	for _, k := range []string{"k", "k2"} {
		if err := e.s.Delete(e.ctx, e.cache, []byte(k)); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
		e.wantMissing(k)
		if _, found, err := e.s.Meta(e.ctx, e.cache, []byte(k)); err != nil || found {
			t.Fatalf("Meta(%q) after Delete = %v, %v", k, found, err)
		}
	}
	if err := e.s.Delete(e.ctx, e.cache, []byte("k")); err != nil {
		t.Fatalf("Delete twice: %v", err)
	}
}

func testKeysExist(t *testing.T, e *env) {
	f := func(keys []string, want ...bool) {
		t.Helper()
		bkeys := make([][]byte, len(keys))
		for i, k := range keys {
			bkeys[i] = []byte(k)
		}
		got, err := e.s.KeysExist(e.ctx, e.cache, bkeys)
		if err != nil {
			t.Fatalf("KeysExist(%q): %v", keys, err)
		}
		if len(got) != len(want) {
			t.Fatalf("KeysExist(%q) = %v, want %v", keys, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("KeysExist(%q) = %v, want %v", keys, got, want)
			}
		}
	}
	f(nil)
	f([]string{})
	e.set("a", "1", 0)
	e.set("c", "3", time.Hour)
	e.set("\x00", "", 0)
	f([]string{"a"}, true)
	f([]string{"b"}, false)
	f([]string{"a", "b", "c", "d", "\x00"}, true, false, true, false, true)
	f([]string{"d", "c", "b", "a"}, false, true, false, true)
	f([]string{"a", "a"}, true, true)
}

func testSizeLimit(t *testing.T, e *env) {
	key := []byte("big")
	atLimit := bytes.Repeat([]byte{'x'}, store.MaxItemSize-len(key))
	if err := e.s.Set(e.ctx, e.cache, key, atLimit, 0); err != nil {
		t.Fatalf("Set at exactly the limit: %v", err)
	}
	got, found, err := e.s.Get(e.ctx, e.cache, key)
	if err != nil || !found || !bytes.Equal(got, atLimit) {
		t.Fatalf("Get at the limit: %d bytes, %v, %v", len(got), found, err)
	}

	e.set("small", "old", 0)
	over := bytes.Repeat([]byte{'y'}, store.MaxItemSize-len("small")+1)
	wantErr(t, "Set one byte over", e.s.Set(e.ctx, e.cache, []byte("small"), over, 0), errs.ErrItemTooLarge)
	_, err = e.s.SetIf(e.ctx, e.cache, []byte("small"), over, 0, store.Condition{Kind: store.CondAlways})
	wantErr(t, "SetIf one byte over", err, errs.ErrItemTooLarge)
	err = e.s.SetBatch(e.ctx, e.cache, []store.Item{{Key: []byte("small"), Value: over}})
	wantErr(t, "SetBatch one byte over", err, errs.ErrItemTooLarge)
	e.want("small", "old")

	// The key counts too.
	bigKey := bytes.Repeat([]byte{'k'}, store.MaxItemSize)
	wantErr(t, "Set with an oversized key", e.s.Set(e.ctx, e.cache, bigKey, []byte("v"), 0), errs.ErrItemTooLarge)
}

func testInvalidTTL(t *testing.T, e *env) {
	k, v := []byte("k"), []byte("v")
	for _, ttl := range []time.Duration{-1, -time.Hour, store.MaxTTL + 1} {
		wantErr(t, "Set", e.s.Set(e.ctx, e.cache, k, v, ttl), errs.ErrInvalidArgument)
		_, err := e.s.SetIf(e.ctx, e.cache, k, v, ttl, store.Condition{Kind: store.CondAlways})
		wantErr(t, "SetIf", err, errs.ErrInvalidArgument)
		err = e.s.SetBatch(e.ctx, e.cache, []store.Item{{Key: k, Value: v, TTL: ttl}})
		wantErr(t, "SetBatch", err, errs.ErrInvalidArgument)
		_, err = e.s.Increment(e.ctx, e.cache, k, 1, ttl)
		wantErr(t, "Increment", err, errs.ErrInvalidArgument)
	}
	e.wantMissing("k")
	e.set("k", "v", store.MaxTTL)
	near(t, "ExpiresAt with MaxTTL", e.meta("k").ExpiresAt, e.clock.Now().Add(store.MaxTTL))
}
