package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

func testCacheLifecycle(t *testing.T, e *env) {
	wantErr(t, "CreateCache twice", e.create(e.cache), errs.ErrCacheExists)

	info, ok := e.info(e.cache)
	if !ok || info.Partitions < 1 {
		t.Fatalf("ListCaches: %q = %+v, %v; want listed with partitions", e.cache, info, ok)
	}

	got, err := e.s.CacheInfo(e.ctx, e.cache)
	if err != nil || got.Name != info.Name || got.Epoch != info.Epoch || got.Partitions != info.Partitions {
		t.Fatalf("CacheInfo(%q) = %+v, %v; want %+v as listed", e.cache, got, err, info)
	}

	other := e.newCache()
	before, err := e.s.CacheInfo(e.ctx, other)
	if err != nil {
		t.Fatalf("CacheInfo(%q): %v", other, err)
	}
	if err := e.s.DeleteCache(e.ctx, other); err != nil {
		t.Fatalf("DeleteCache(%q): %v", other, err)
	}
	if _, ok := e.info(other); ok {
		t.Fatalf("ListCaches still lists deleted cache %q", other)
	}
	_, err = e.s.CacheInfo(e.ctx, other)
	wantErr(t, "CacheInfo of a deleted cache", err, errs.ErrCacheNotFound)
	wantErr(t, "DeleteCache twice", e.s.DeleteCache(e.ctx, other), errs.ErrCacheNotFound)
	if err := e.create(other); err != nil {
		t.Fatalf("re-CreateCache(%q): %v", other, err)
	}
	if after, err := e.s.CacheInfo(e.ctx, other); err != nil || after.Epoch <= before.Epoch {
		t.Fatalf("re-created cache epoch = %+v, %v; want an epoch after %d", after, err, before.Epoch)
	}
	wantErr(t, "DeleteCache missing", e.s.DeleteCache(e.ctx, uniqueName("missing")), errs.ErrCacheNotFound)
	wantErr(t, "FlushCache missing", e.s.FlushCache(e.ctx, uniqueName("missing")), errs.ErrCacheNotFound)
	if _, ok := e.info(e.cache); !ok {
		t.Fatalf("deleting %q dropped %q", other, e.cache)
	}
}

func testCacheNames(t *testing.T, e *env) {
	f := func(name string, valid bool) {
		t.Helper()
		err := e.create(name)
		if !valid {
			wantErr(t, "CreateCache("+name+")", err, errs.ErrInvalidName)
			return
		}
		if err != nil {
			t.Fatalf("CreateCache(%q): %v", name, err)
		}
		if err := e.s.DeleteCache(e.ctx, name); err != nil {
			t.Fatalf("DeleteCache(%q): %v", name, err)
		}
	}
	f("", false)
	f(strings.Repeat("n", store.MaxCacheNameLen+1), false)
	f("with space", false)
	f("tab\there", false)
	f("nul\x00", false)
	f("café", false)
	f("名前", false)
	f("del\x7f", false)
	longest := uniqueName("longest")
	f(longest+strings.Repeat("n", store.MaxCacheNameLen-len(longest)), true)
	f(uniqueName("punct.-_:/~!@#$%^&*()[]{}"), true)
}

func testMissingCache(t *testing.T, e *env) {
	missing := uniqueName("missing")
	k, v := []byte("k"), []byte("v")
	ops := map[string]func() error{
		"Get": func() error { _, _, err := e.s.Get(e.ctx, missing, k); return err },
		"Set": func() error { return e.s.Set(e.ctx, missing, k, v, 0) },
		"SetBatch": func() error {
			return e.s.SetBatch(e.ctx, missing, []store.Item{{Key: k, Value: v}})
		},
		"SetIf": func() error {
			_, err := e.s.SetIf(e.ctx, missing, k, v, 0, store.Condition{Kind: store.CondAbsent})
			return err
		},
		"Delete":    func() error { return e.s.Delete(e.ctx, missing, k) },
		"KeysExist": func() error { _, err := e.s.KeysExist(e.ctx, missing, [][]byte{k}); return err },
		"KeysExistEmpty": func() error {
			_, err := e.s.KeysExist(e.ctx, missing, nil)
			return err
		},
		"Increment": func() error { _, err := e.s.Increment(e.ctx, missing, k, 1, 0); return err },
		"UpdateTTL": func() error {
			_, err := e.s.UpdateTTL(e.ctx, missing, k, store.TTLOverwrite, time.Hour)
			return err
		},
		"Meta":         func() error { _, _, err := e.s.Meta(e.ctx, missing, k); return err },
		"Flush":        func() error { return e.s.FlushCache(e.ctx, missing) },
		"Delete cache": func() error { return e.s.DeleteCache(e.ctx, missing) },
	}
	for name, op := range ops {
		wantErr(t, name, op(), errs.ErrCacheNotFound)
	}
}

func testFlushCache(t *testing.T, e *env) {
	for _, k := range []string{"a", "b", "c"} {
		e.set(k, "v-"+k, 0)
	}
	e.set("ttl", "v", time.Hour)
	other := e.newCache()
	if err := e.s.Set(e.ctx, other, []byte("a"), []byte("other"), 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.FlushCache(e.ctx, e.cache); err != nil {
		t.Fatalf("FlushCache: %v", err)
	}
	for _, k := range []string{"a", "b", "c", "ttl"} {
		e.wantMissing(k)
	}
	if _, ok := e.info(e.cache); !ok {
		t.Fatal("FlushCache dropped the cache")
	}
	e.set("a", "again", 0)
	e.want("a", "again")
	if v, ok, err := e.s.Get(e.ctx, other, []byte("a")); err != nil || !ok || string(v) != "other" {
		t.Fatalf("flush touched another cache: Get = %q, %v, %v", v, ok, err)
	}
}

func testRecreateCache(t *testing.T, e *env) {
	e.set("k", "old", 0)
	before, _ := e.info(e.cache)
	if err := e.s.DeleteCache(e.ctx, e.cache); err != nil {
		t.Fatalf("DeleteCache: %v", err)
	}
	_, _, err := e.s.Get(e.ctx, e.cache, []byte("k"))
	wantErr(t, "Get after DeleteCache", err, errs.ErrCacheNotFound)
	wantErr(t, "Set after DeleteCache", e.s.Set(e.ctx, e.cache, []byte("k"), []byte("v"), 0), errs.ErrCacheNotFound)

	if err := e.create(e.cache); err != nil {
		t.Fatalf("CreateCache again: %v", err)
	}
	e.wantMissing("k")
	after, _ := e.info(e.cache)
	if after.Epoch == before.Epoch {
		t.Fatalf("epoch %d did not change on re-creation", after.Epoch)
	}
	e.set("k", "new", 0)
	e.want("k", "new")
}
