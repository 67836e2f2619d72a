// Package storetest is the engine-neutral semantics suite of store.Store
// and store.TopicLog. Every engine runs it unchanged from its own tests:
//
//	func TestSuite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
//			return memstore.New(memstore.Options{Now: now})
//		})
//	}
//
// Rules that keep it engine-neutral: every test works in caches of its own
// with unique names (a Redis engine shares one server across tests and
// runs), tests run in parallel, nothing waits for a fixed time (expiry
// advances the injected clock, background work is awaited with eventually),
// and no test relies on pointer identity or on a write being visible to
// anything but the caller's next call. It never asserts on speed.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

// NewStore returns a usable store that reads the time from now (for TTLs,
// expiry and commit times). Run closes it with t.Cleanup.
type NewStore func(t *testing.T, now func() time.Time) store.Store

// Run runs the suite. Tests run in parallel, each in caches of its own and
// with a clock of its own.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"CacheLifecycle", testCacheLifecycle},
		{"CacheNames", testCacheNames},
		{"MissingCache", testMissingCache},
		{"FlushCache", testFlushCache},
		{"RecreateCache", testRecreateCache},
		{"SetGet", testSetGet},
		{"CopiesBuffers", testCopiesBuffers},
		{"EmptyKey", testEmptyKey},
		{"Delete", testDelete},
		{"KeysExist", testKeysExist},
		{"SetIf", testSetIf},
		{"SetIfHash", testSetIfHash},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"Increment", testIncrement},
		{"IncrementErrors", testIncrementErrors},
		{"IncrementTTL", testIncrementTTL},
		{"UpdateTTL", testUpdateTTL},
		{"UpdateTTLMissing", testUpdateTTLMissing},
		{"Meta", testMeta},
		{"LSN", testLSN},
		{"SetBatch", testSetBatch},
		{"SetBatchInvalid", testSetBatchInvalid},
		{"SetBatchAtomicPerPartition", testSetBatchAtomicPerPartition},
		{"GetBatch", testGetBatch},
		{"DeleteIf", testDeleteIf},
		{"DeleteKind", testDeleteKind},
		{"CacheConfig", testCacheConfig},
		{"CosmosKeys", testCosmosKeys},
		{"TilingV1", testTilingV1},
		{"FeedPageBytes", testFeedPageBytes},
		{"Records", testRecords},
		{"SizeLimit", testSizeLimit},
		{"InvalidTTL", testInvalidTTL},
		{"Expiry", testExpiry},
	}
	tests = append(tests, collectionTests...)
	tests = append(tests, feedTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock()
			s := newStore(t, clock.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newEnv(t, s, clock))
		})
	}
}

// env is one test's store and cache, with helpers that fail the test.
type env struct {
	t     *testing.T
	s     store.Store
	clock *Clock
	ctx   context.Context
	cache string
}

// Clock is a test clock: it starts at the real time and moves only when
// told, so TTL tests never sleep.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at the current time.
func NewClock() *Clock { return &Clock{now: time.Now()} }

// Now is the clock's time; pass it to the engine.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var nameSeq atomic.Uint64

// uniqueName avoids collisions between parallel tests and with caches a
// shared server (the redis engine) may still hold from earlier runs.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%08x", prefix, nameSeq.Add(1), rand.Uint32())
}

func newEnv(t *testing.T, s store.Store, clock *Clock) *env {
	e := &env{t: t, s: s, clock: clock, ctx: context.Background()}
	e.cache = e.newCache()
	return e
}

// create creates a cache with the engine's defaults.
func (e *env) create(name string) error {
	_, err := e.s.CreateCache(e.ctx, name, store.CacheConfig{})
	return err
}

// newCache creates a cache that is deleted when the test ends.
func (e *env) newCache() string {
	e.t.Helper()
	name := uniqueName("storetest")
	if err := e.create(name); err != nil {
		e.t.Fatalf("CreateCache(%q): %v", name, err)
	}
	e.t.Cleanup(func() { _ = e.s.DeleteCache(context.Background(), name) })
	return name
}

func (e *env) set(key, value string, ttl time.Duration) {
	e.t.Helper()
	if err := e.s.Set(e.ctx, e.cache, []byte(key), []byte(value), ttl); err != nil {
		e.t.Fatalf("Set(%q, %q, %v): %v", key, value, ttl, err)
	}
}

// want checks that key holds value.
func (e *env) want(key, value string) {
	e.t.Helper()
	got, found, err := e.s.Get(e.ctx, e.cache, []byte(key))
	if err != nil || !found || string(got) != value {
		e.t.Fatalf("Get(%q) = %q, %v, %v; want %q, true, nil", key, got, found, err, value)
	}
}

// wantMissing checks that key holds no live item.
func (e *env) wantMissing(key string) {
	e.t.Helper()
	got, found, err := e.s.Get(e.ctx, e.cache, []byte(key))
	if err != nil || found {
		e.t.Fatalf("Get(%q) = %q, %v, %v; want not found", key, got, found, err)
	}
}

func (e *env) meta(key string) store.Meta {
	e.t.Helper()
	m, found, err := e.s.Meta(e.ctx, e.cache, []byte(key))
	if err != nil || !found {
		e.t.Fatalf("Meta(%q) = %+v, %v, %v; want found", key, m, found, err)
	}
	return m
}

func (e *env) info(name string) (store.CacheInfo, bool) {
	e.t.Helper()
	caches, err := e.s.ListCaches(e.ctx)
	if err != nil {
		e.t.Fatalf("ListCaches: %v", err)
	}
	for _, c := range caches {
		if c.Name == name {
			return c, true
		}
	}
	return store.CacheInfo{}, false
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// eventually polls cond until it holds or a generous bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// near checks that got is within a minute of want: TTL tests use TTLs that
// differ by many minutes, so this holds on any machine and any engine precision.
func near(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("%s = %v, want about %v", what, got, want)
	}
}
