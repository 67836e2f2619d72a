package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/embed"
)

// testAddr is the address of the in-process server shared by the tests.
var testAddr string

func TestMain(m *testing.M) {
	node, err := embed.Start(embed.Config{
		Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "embed.Start:", err)
		os.Exit(1)
	}
	testAddr = node.Addr()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "node.Stop:", err)
	}
	os.Exit(code)
}

func newClient(t *testing.T, cfg client.Config) *client.CacheClient {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = testAddr
	}
	c, err := client.NewCacheClient(cfg)
	if err != nil {
		t.Fatalf("NewCacheClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

var cacheSeq atomic.Int64

// newCache creates a cache with a unique name and deletes it after the test.
func newCache(t *testing.T, c *client.CacheClient) string {
	t.Helper()
	name := fmt.Sprintf("test-%s-%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), cacheSeq.Add(1))
	resp, err := c.CreateCache(t.Context(), &client.CreateCacheRequest{CacheName: name})
	if err != nil {
		t.Fatalf("CreateCache(%q): %v", name, err)
	}
	if _, ok := resp.(*client.CreateCacheSuccess); !ok {
		t.Fatalf("CreateCache(%q) = %T, want *CreateCacheSuccess", name, resp)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteCache(context.Background(), &client.DeleteCacheRequest{CacheName: name})
	})
	return name
}

// wantCode fails the test unless err is a *client.Error with code.
func wantCode(t *testing.T, err error, code client.ErrorCode) *client.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T %v, want *client.Error", err, err)
	}
	if ce.Code() != code {
		t.Fatalf("code = %s (%v), want %s", ce.Code(), err, code)
	}
	return ce
}

// must checks the error of a call: must(c.Get(...))(t) returns the response
// or fails the test.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func set(t *testing.T, c *client.CacheClient, cache, key, value string) {
	t.Helper()
	must(c.Set(t.Context(), &client.SetRequest{CacheName: cache, Key: client.String(key), Value: client.String(value)}))(t)
}

// get returns the value of key, or ok=false on a miss.
func get(t *testing.T, c *client.CacheClient, cache string, key client.Key) (value []byte, ok bool) {
	t.Helper()
	switch r := must(c.Get(t.Context(), &client.GetRequest{CacheName: cache, Key: key}))(t).(type) {
	case *client.GetHit:
		return r.ValueByte(), true
	case *client.GetMiss:
		return nil, false
	default:
		t.Fatalf("Get = %T", r)
	}
	return nil, false
}

func TestControlPlane(t *testing.T) {
	c := newClient(t, client.Config{})
	ctx := t.Context()
	name := newCache(t, c)

	resp := must(c.CreateCache(ctx, &client.CreateCacheRequest{CacheName: name}))(t)
	if _, ok := resp.(*client.CreateCacheAlreadyExists); !ok {
		t.Fatalf("second CreateCache = %T, want *CreateCacheAlreadyExists", resp)
	}

	list := must(c.ListCaches(ctx, nil))(t)
	found := false
	for _, ci := range list.(*client.ListCachesSuccess).Caches() {
		found = found || ci.Name == name
	}
	if !found {
		t.Fatalf("ListCaches does not contain %q: %v", name, list.(*client.ListCachesSuccess).Caches())
	}

	set(t, c, name, "k", "v")
	if _, ok := must(c.FlushCache(ctx, &client.FlushCacheRequest{CacheName: name}))(t).(*client.FlushCacheSuccess); !ok {
		t.Fatal("FlushCache: want *FlushCacheSuccess")
	}
	if _, ok := get(t, c, name, client.String("k")); ok {
		t.Fatal("key survived FlushCache")
	}

	if _, ok := must(c.DeleteCache(ctx, &client.DeleteCacheRequest{CacheName: name}))(t).(*client.DeleteCacheSuccess); !ok {
		t.Fatal("DeleteCache: want *DeleteCacheSuccess")
	}
	for _, cached := range must(c.ListCaches(ctx, &client.ListCachesRequest{}))(t).(*client.ListCachesSuccess).Caches() {
		if cached.Name == name {
			t.Fatalf("deleted cache %q still listed", name)
		}
	}

	_, err := c.DeleteCache(ctx, &client.DeleteCacheRequest{CacheName: name})
	wantCode(t, err, client.NotFoundError)
	_, err = c.FlushCache(ctx, &client.FlushCacheRequest{CacheName: name})
	wantCode(t, err, client.NotFoundError)
}

func TestGetSetDelete(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	tests := []struct {
		name  string
		key   client.Key
		value client.Value
		want  []byte
	}{
		{"string", client.String("s"), client.String("hello"), []byte("hello")},
		{"bytes", client.Bytes{0, 1, 2, 0xff}, client.Bytes{0xde, 0xad, 0, 0xbe, 0xef}, []byte{0xde, 0xad, 0, 0xbe, 0xef}},
		{"empty value", client.String("empty"), client.String(""), []byte{}},
		{"nil bytes value", client.String("nilbytes"), client.Bytes(nil), []byte{}},
		{"utf8", client.String("ключ"), client.String("値🙂"), []byte("値🙂")},
		{"large", client.String("large"), client.Bytes(bytes.Repeat([]byte("x"), 4_000_000)), bytes.Repeat([]byte("x"), 4_000_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if _, ok := get(t, c, cache, tt.key); ok {
				t.Fatal("hit before Set")
			}
			resp := must(c.Set(ctx, &client.SetRequest{CacheName: cache, Key: tt.key, Value: tt.value}))(t)
			if _, ok := resp.(*client.SetSuccess); !ok {
				t.Fatalf("Set = %T", resp)
			}
			got, ok := get(t, c, cache, tt.key)
			if !ok || !bytes.Equal(got, tt.want) {
				t.Fatalf("Get = %q, %v; want %q", truncate(got), ok, truncate(tt.want))
			}
			if _, ok := must(c.Delete(ctx, &client.DeleteRequest{CacheName: cache, Key: tt.key}))(t).(*client.DeleteSuccess); !ok {
				t.Fatal("Delete: want *DeleteSuccess")
			}
			if _, ok := get(t, c, cache, tt.key); ok {
				t.Fatal("hit after Delete")
			}
			// Deleting a missing key succeeds.
			must(c.Delete(ctx, &client.DeleteRequest{CacheName: cache, Key: tt.key}))(t)
		})
	}

	t.Run("string and bytes keys are the same key", func(t *testing.T) {
		set(t, c, cache, "same", "v")
		if got, ok := get(t, c, cache, client.Bytes("same")); !ok || string(got) != "v" {
			t.Fatalf("Get(Bytes) = %q, %v", got, ok)
		}
	})

	t.Run("hit accessors", func(t *testing.T) {
		set(t, c, cache, "acc", "value")
		r := must(c.Get(t.Context(), &client.GetRequest{CacheName: cache, Key: client.String("acc")}))(t).(*client.GetHit)
		if r.ValueString() != "value" || string(r.ValueByte()) != "value" {
			t.Fatalf("ValueString = %q, ValueByte = %q", r.ValueString(), r.ValueByte())
		}
	})
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func TestExpiry(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	must(c.Set(t.Context(), &client.SetRequest{
		CacheName: cache, Key: client.String("short"), Value: client.String("v"), Ttl: 100 * time.Millisecond,
	}))(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := get(t, c, cache, client.String("short")); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("item with a 100ms TTL still there after 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBatch(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()

	sresp := must(c.SetBatch(ctx, &client.SetBatchRequest{
		CacheName: cache,
		Items: []client.BatchSetItem{
			{Key: client.String("a"), Value: client.String("1")},
			{Key: client.Bytes("b"), Value: client.Bytes("2")},
			{Key: client.String("c"), Value: client.String("3"), Ttl: 30 * time.Second},
		},
		Ttl: 10 * time.Minute,
	}))(t)
	sb, ok := sresp.(*client.SetBatchSuccess)
	if !ok || len(sb.Results()) != 3 {
		t.Fatalf("SetBatch = %#v", sresp)
	}
	for i, r := range sb.Results() {
		if _, ok := r.(*client.SetSuccess); !ok {
			t.Errorf("SetBatch result %d = %T", i, r)
		}
	}
	// Per-item TTL wins over the request TTL, which wins over the default.
	for key, max := range map[string]time.Duration{"a": 10 * time.Minute, "c": 30 * time.Second} {
		r := must(c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: cache, Key: client.String(key)}))(t)
		ttl := r.(*client.ItemGetTtlHit).RemainingTtl()
		if ttl > max || ttl < max-10*time.Second {
			t.Errorf("TTL of %s = %v, want about %v", key, ttl, max)
		}
	}

	gresp := must(c.GetBatch(ctx, &client.GetBatchRequest{
		CacheName: cache,
		Keys:      []client.Key{client.String("c"), client.String("missing"), client.String("a"), client.Bytes("b")},
	}))(t)
	gb := gresp.(*client.GetBatchSuccess)
	var got []string
	for _, r := range gb.Results() {
		switch r := r.(type) {
		case *client.GetHit:
			got = append(got, r.ValueString())
		case *client.GetMiss:
			got = append(got, "<miss>")
		}
	}
	if want := "3 <miss> 1 2"; strings.Join(got, " ") != want {
		t.Errorf("GetBatch results = %q, want %q", strings.Join(got, " "), want)
	}
	vm := gb.ValueMap()
	if len(vm) != 3 || vm["a"] != "1" || vm["b"] != "2" || vm["c"] != "3" {
		t.Errorf("ValueMap = %v", vm)
	}
	if _, ok := vm["missing"]; ok {
		t.Error("ValueMap contains a miss")
	}
	if bm := gb.ValueMapStringBytes(); string(bm["b"]) != "2" || len(bm) != 3 {
		t.Errorf("ValueMapStringBytes = %q", bm)
	}

	empty := must(c.GetBatch(ctx, &client.GetBatchRequest{CacheName: cache}))(t).(*client.GetBatchSuccess)
	if len(empty.Results()) != 0 {
		t.Errorf("GetBatch of no keys = %v", empty.Results())
	}
	emptySet := must(c.SetBatch(ctx, &client.SetBatchRequest{CacheName: cache}))(t).(*client.SetBatchSuccess)
	if len(emptySet.Results()) != 0 {
		t.Errorf("SetBatch of no items = %v", emptySet.Results())
	}
}

func TestKeysExist(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	set(t, c, cache, "x", "1")
	set(t, c, cache, "z", "1")
	tests := []struct {
		name string
		keys []client.Key
		want []bool
	}{
		{"mixed", []client.Key{client.String("x"), client.String("y"), client.Bytes("z")}, []bool{true, false, true}},
		{"one missing", []client.Key{client.String("nope")}, []bool{false}},
		{"duplicates", []client.Key{client.String("x"), client.String("x")}, []bool{true, true}},
		{"empty", nil, []bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := must(c.KeysExist(t.Context(), &client.KeysExistRequest{CacheName: cache, Keys: tt.keys}))(t)
			got := r.(*client.KeysExistSuccess).Exists()
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || got == nil {
				t.Fatalf("Exists = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIncrement(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	steps := []struct {
		amount int64
		want   int64
	}{{1, 1}, {41, 42}, {-50, -8}, {0, -8}}
	for _, s := range steps {
		r := must(c.Increment(t.Context(), &client.IncrementRequest{CacheName: cache, Key: client.String("n"), Amount: s.amount}))(t)
		if got := r.(*client.IncrementSuccess).Value(); got != s.want {
			t.Fatalf("Increment(%d) = %d, want %d", s.amount, got, s.want)
		}
	}
	if v, _ := get(t, c, cache, client.String("n")); string(v) != "-8" {
		t.Fatalf("stored counter = %q, want \"-8\"", v)
	}

	set(t, c, cache, "text", "abc")
	_, err := c.Increment(t.Context(), &client.IncrementRequest{CacheName: cache, Key: client.String("text"), Amount: 1})
	wantCode(t, err, client.FailedPreconditionError)
	if !errors.Is(err, client.ErrFailedPrecondition) {
		t.Error("errors.Is(err, ErrFailedPrecondition) = false")
	}

	set(t, c, cache, "num", "10")
	r := must(c.Increment(t.Context(), &client.IncrementRequest{CacheName: cache, Key: client.String("num"), Amount: 5}))(t)
	if got := r.(*client.IncrementSuccess).Value(); got != 15 {
		t.Fatalf("Increment of \"10\" by 5 = %d", got)
	}
}

// condCase is one conditional write: the key's state before, the call and
// whether it must store.
type condCase struct {
	name    string
	present string // "" = key absent
	call    func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error)
	stored  bool
}

func TestSetIf(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	nv := client.String("new")
	absent := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfAbsent(ctx, &client.SetIfAbsentRequest{CacheName: cache, Key: key, Value: nv})
	}
	present := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfPresent(ctx, &client.SetIfPresentRequest{CacheName: cache, Key: key, Value: nv})
	}
	equal := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfEqual(ctx, &client.SetIfEqualRequest{CacheName: cache, Key: key, Value: nv, Equal: client.String("old")})
	}
	notEqual := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfNotEqual(ctx, &client.SetIfNotEqualRequest{CacheName: cache, Key: key, Value: nv, NotEqual: client.String("old")})
	}
	presentNotEqual := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfPresentAndNotEqual(ctx, &client.SetIfPresentAndNotEqualRequest{CacheName: cache, Key: key, Value: nv, NotEqual: client.String("old")})
	}
	absentOrEqual := func(ctx context.Context, c *client.CacheClient, cache string, key client.Key) (any, error) {
		return c.SetIfAbsentOrEqual(ctx, &client.SetIfAbsentOrEqualRequest{CacheName: cache, Key: key, Value: nv, Equal: client.String("old")})
	}
	tests := []condCase{
		{"absent/missing", "", absent, true},
		{"absent/present", "old", absent, false},
		{"present/missing", "", present, false},
		{"present/present", "old", present, true},
		{"equal/missing", "", equal, false},
		{"equal/equal", "old", equal, true},
		{"equal/different", "other", equal, false},
		{"notEqual/missing", "", notEqual, true},
		{"notEqual/equal", "old", notEqual, false},
		{"notEqual/different", "other", notEqual, true},
		{"presentAndNotEqual/missing", "", presentNotEqual, false},
		{"presentAndNotEqual/equal", "old", presentNotEqual, false},
		{"presentAndNotEqual/different", "other", presentNotEqual, true},
		{"absentOrEqual/missing", "", absentOrEqual, true},
		{"absentOrEqual/equal", "old", absentOrEqual, true},
		{"absentOrEqual/different", "other", absentOrEqual, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := client.String(fmt.Sprintf("k%d", i))
			if tt.present != "" {
				set(t, c, cache, string(key), tt.present)
			}
			resp, err := tt.call(t.Context(), c, cache, key)
			if err != nil {
				t.Fatal(err)
			}
			switch resp.(type) {
			case *client.SetIfStored:
				if !tt.stored {
					t.Fatal("stored, want not stored")
				}
			case *client.SetIfNotStored:
				if tt.stored {
					t.Fatal("not stored, want stored")
				}
			default:
				t.Fatalf("response %T", resp)
			}
			got, ok := get(t, c, cache, key)
			want, wantOK := tt.present, tt.present != ""
			if tt.stored {
				want, wantOK = "new", true
			}
			if ok != wantOK || string(got) != want {
				t.Fatalf("value after = %q (hit %v), want %q (hit %v)", got, ok, want, wantOK)
			}
		})
	}
}

func TestHash(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()

	r := must(c.SetWithHash(ctx, &client.SetWithHashRequest{CacheName: cache, Key: client.String("h"), Value: client.String("v1")}))(t)
	stored, ok := r.(*client.SetWithHashStored)
	if !ok || len(stored.Hash()) == 0 {
		t.Fatalf("SetWithHash = %#v", r)
	}
	g := must(c.GetWithHash(ctx, &client.GetWithHashRequest{CacheName: cache, Key: client.String("h")}))(t)
	hit, ok := g.(*client.GetWithHashHit)
	if !ok || hit.ValueString() != "v1" || string(hit.ValueByte()) != "v1" || !bytes.Equal(hit.Hash(), stored.Hash()) {
		t.Fatalf("GetWithHash = %#v, want v1 with hash %x", g, stored.Hash())
	}
	if _, ok := must(c.GetWithHash(ctx, &client.GetWithHashRequest{CacheName: cache, Key: client.String("none")}))(t).(*client.GetWithHashMiss); !ok {
		t.Fatal("GetWithHash of a missing key: want *GetWithHashMiss")
	}
	h1 := stored.Hash()
	other := must(c.SetWithHash(ctx, &client.SetWithHashRequest{CacheName: cache, Key: client.String("o"), Value: client.String("v2")}))(t).(*client.SetWithHashStored).Hash()
	if bytes.Equal(h1, other) {
		t.Fatal("different values have the same hash")
	}

	nv := client.String("new")
	type hashCall func(ctx context.Context, key client.Key, hash []byte) (client.SetIfHashResponse, error)
	presentEq := func(ctx context.Context, key client.Key, hash []byte) (client.SetIfHashResponse, error) {
		return c.SetIfPresentAndHashEqual(ctx, &client.SetIfPresentAndHashEqualRequest{CacheName: cache, Key: key, Value: nv, HashEqual: hash})
	}
	presentNe := func(ctx context.Context, key client.Key, hash []byte) (client.SetIfHashResponse, error) {
		return c.SetIfPresentAndHashNotEqual(ctx, &client.SetIfPresentAndHashNotEqualRequest{CacheName: cache, Key: key, Value: nv, HashNotEqual: hash})
	}
	absentEq := func(ctx context.Context, key client.Key, hash []byte) (client.SetIfHashResponse, error) {
		return c.SetIfAbsentOrHashEqual(ctx, &client.SetIfAbsentOrHashEqualRequest{CacheName: cache, Key: key, Value: nv, HashEqual: hash})
	}
	absentNe := func(ctx context.Context, key client.Key, hash []byte) (client.SetIfHashResponse, error) {
		return c.SetIfAbsentOrHashNotEqual(ctx, &client.SetIfAbsentOrHashNotEqualRequest{CacheName: cache, Key: key, Value: nv, HashNotEqual: hash})
	}
	tests := []struct {
		name      string
		present   bool // key holds "v1" (hash h1) before
		matchHash bool // the request carries h1 (else another hash)
		call      hashCall
		stored    bool
	}{
		{"presentAndHashEqual/missing", false, true, presentEq, false},
		{"presentAndHashEqual/equal", true, true, presentEq, true},
		{"presentAndHashEqual/different", true, false, presentEq, false},
		{"presentAndHashNotEqual/missing", false, false, presentNe, false},
		{"presentAndHashNotEqual/equal", true, true, presentNe, false},
		{"presentAndHashNotEqual/different", true, false, presentNe, true},
		{"absentOrHashEqual/missing", false, true, absentEq, true},
		{"absentOrHashEqual/equal", true, true, absentEq, true},
		{"absentOrHashEqual/different", true, false, absentEq, false},
		{"absentOrHashNotEqual/missing", false, true, absentNe, true},
		{"absentOrHashNotEqual/equal", true, true, absentNe, false},
		{"absentOrHashNotEqual/different", true, false, absentNe, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := client.String(fmt.Sprintf("hk%d", i))
			if tt.present {
				set(t, c, cache, string(key), "v1")
			}
			hash := other
			if tt.matchHash {
				hash = h1
			}
			resp, err := tt.call(t.Context(), key, hash)
			if err != nil {
				t.Fatal(err)
			}
			switch r := resp.(type) {
			case *client.SetIfHashStored:
				if !tt.stored {
					t.Fatal("stored, want not stored")
				}
				// The new hash is the hash of "new": GetWithHash agrees.
				g := must(c.GetWithHash(t.Context(), &client.GetWithHashRequest{CacheName: cache, Key: key}))(t).(*client.GetWithHashHit)
				if g.ValueString() != "new" || !bytes.Equal(g.Hash(), r.Hash()) {
					t.Fatalf("after store: value %q hash %x, SetIfHashStored.Hash %x", g.ValueString(), g.Hash(), r.Hash())
				}
			case *client.SetIfHashNotStored:
				if tt.stored {
					t.Fatal("not stored, want stored")
				}
				got, ok := get(t, c, cache, key)
				if ok != tt.present || (ok && string(got) != "v1") {
					t.Fatalf("value changed to %q (hit %v) though not stored", got, ok)
				}
			default:
				t.Fatalf("response %T", resp)
			}
		})
	}
}

func TestTtl(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	ctx := t.Context()
	key := client.String("t")
	must(c.Set(ctx, &client.SetRequest{CacheName: cache, Key: key, Value: client.String("v"), Ttl: 100 * time.Second}))(t)

	remaining := func() time.Duration {
		t.Helper()
		r := must(c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: cache, Key: key}))(t)
		hit, ok := r.(*client.ItemGetTtlHit)
		if !ok {
			t.Fatalf("ItemGetTtl = %T", r)
		}
		return hit.RemainingTtl()
	}
	near := func(want time.Duration) {
		t.Helper()
		if got := remaining(); got > want || got < want-10*time.Second {
			t.Fatalf("remaining TTL = %v, want about %v", got, want)
		}
	}
	near(100 * time.Second)

	steps := []struct {
		name string
		call func() (client.UpdateTtlResponse, error)
		want string
		ttl  time.Duration
	}{
		{"UpdateTtl", func() (client.UpdateTtlResponse, error) {
			return c.UpdateTtl(ctx, &client.UpdateTtlRequest{CacheName: cache, Key: key, Ttl: 500 * time.Second})
		}, "set", 500 * time.Second},
		{"IncreaseTtl shorter", func() (client.UpdateTtlResponse, error) {
			return c.IncreaseTtl(ctx, &client.IncreaseTtlRequest{CacheName: cache, Key: key, Ttl: 200 * time.Second})
		}, "notset", 500 * time.Second},
		{"IncreaseTtl longer", func() (client.UpdateTtlResponse, error) {
			return c.IncreaseTtl(ctx, &client.IncreaseTtlRequest{CacheName: cache, Key: key, Ttl: 900 * time.Second})
		}, "set", 900 * time.Second},
		{"DecreaseTtl longer", func() (client.UpdateTtlResponse, error) {
			return c.DecreaseTtl(ctx, &client.DecreaseTtlRequest{CacheName: cache, Key: key, Ttl: 1000 * time.Second})
		}, "notset", 900 * time.Second},
		{"DecreaseTtl shorter", func() (client.UpdateTtlResponse, error) {
			return c.DecreaseTtl(ctx, &client.DecreaseTtlRequest{CacheName: cache, Key: key, Ttl: 50 * time.Second})
		}, "set", 50 * time.Second},
	}
	for _, s := range steps {
		resp, err := s.call()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := map[string]string{"*client.UpdateTtlSet": "set", "*client.UpdateTtlNotSet": "notset", "*client.UpdateTtlMiss": "miss"}[fmt.Sprintf("%T", resp)]
		if got != s.want {
			t.Fatalf("%s = %T, want %s", s.name, resp, s.want)
		}
		near(s.ttl)
	}

	missing := client.String("missing")
	misses := map[string]func() (client.UpdateTtlResponse, error){
		"UpdateTtl": func() (client.UpdateTtlResponse, error) {
			return c.UpdateTtl(ctx, &client.UpdateTtlRequest{CacheName: cache, Key: missing, Ttl: time.Minute})
		},
		"IncreaseTtl": func() (client.UpdateTtlResponse, error) {
			return c.IncreaseTtl(ctx, &client.IncreaseTtlRequest{CacheName: cache, Key: missing, Ttl: time.Minute})
		},
		"DecreaseTtl": func() (client.UpdateTtlResponse, error) {
			return c.DecreaseTtl(ctx, &client.DecreaseTtlRequest{CacheName: cache, Key: missing, Ttl: time.Minute})
		},
	}
	for name, call := range misses {
		if resp, err := call(); err != nil {
			t.Errorf("%s of a missing key: %v", name, err)
		} else if _, ok := resp.(*client.UpdateTtlMiss); !ok {
			t.Errorf("%s of a missing key = %T, want *UpdateTtlMiss", name, resp)
		}
	}
	if r := must(c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: cache, Key: missing}))(t); fmt.Sprintf("%T", r) != "*client.ItemGetTtlMiss" {
		t.Errorf("ItemGetTtl of a missing key = %T", r)
	}
}

func TestDefaultTTL(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  time.Duration
		want time.Duration
	}{
		{"sdk default", 0, 60 * time.Second},
		{"configured", 30 * time.Minute, 30 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, client.Config{DefaultTTL: tt.cfg})
			cache := newCache(t, c)
			set(t, c, cache, "k", "v")
			must(c.Increment(t.Context(), &client.IncrementRequest{CacheName: cache, Key: client.String("n"), Amount: 1}))(t)
			for _, k := range []string{"k", "n"} {
				r := must(c.ItemGetTtl(t.Context(), &client.ItemGetTtlRequest{CacheName: cache, Key: client.String(k)}))(t)
				got := r.(*client.ItemGetTtlHit).RemainingTtl()
				if got > tt.want || got < tt.want-10*time.Second {
					t.Errorf("TTL of %s = %v, want about %v", k, got, tt.want)
				}
			}
		})
	}
}

func TestItemGetType(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	set(t, c, cache, "s", "v")
	r := must(c.ItemGetType(t.Context(), &client.ItemGetTypeRequest{CacheName: cache, Key: client.String("s")}))(t)
	hit, ok := r.(*client.ItemGetTypeHit)
	if !ok || hit.Type() != client.ItemTypeScalar || hit.Type().String() != "scalar" {
		t.Fatalf("ItemGetType = %#v", r)
	}
	r = must(c.ItemGetType(t.Context(), &client.ItemGetTypeRequest{CacheName: cache, Key: client.String("none")}))(t)
	if _, ok := r.(*client.ItemGetTypeMiss); !ok {
		t.Fatalf("ItemGetType of a missing key = %T", r)
	}
}

func TestPing(t *testing.T) {
	c := newClient(t, client.Config{})
	for _, req := range []*client.PingRequest{nil, {}} {
		if _, ok := must(c.Ping(t.Context(), req))(t).(*client.PingSuccess); !ok {
			t.Fatal("Ping: want *PingSuccess")
		}
	}
}

// TestUnknownCache checks that every data-plane call on a cache that does not
// exist fails with NotFoundError, matching ErrCacheNotFound and unwrapping to
// a NOT_FOUND status.
func TestUnknownCache(t *testing.T) {
	c := newClient(t, client.Config{})
	const cache = "no-such-cache"
	k, v := client.String("k"), client.String("v")
	calls := map[string]func(ctx context.Context) error{
		"Get": func(ctx context.Context) error {
			_, err := c.Get(ctx, &client.GetRequest{CacheName: cache, Key: k})
			return err
		},
		"GetBatch": func(ctx context.Context) error {
			_, err := c.GetBatch(ctx, &client.GetBatchRequest{CacheName: cache, Keys: []client.Key{k}})
			return err
		},
		"Set": func(ctx context.Context) error {
			_, err := c.Set(ctx, &client.SetRequest{CacheName: cache, Key: k, Value: v})
			return err
		},
		"SetBatch": func(ctx context.Context) error {
			_, err := c.SetBatch(ctx, &client.SetBatchRequest{CacheName: cache, Items: []client.BatchSetItem{{Key: k, Value: v}}})
			return err
		},
		"SetIfAbsent": func(ctx context.Context) error {
			_, err := c.SetIfAbsent(ctx, &client.SetIfAbsentRequest{CacheName: cache, Key: k, Value: v})
			return err
		},
		"SetWithHash": func(ctx context.Context) error {
			_, err := c.SetWithHash(ctx, &client.SetWithHashRequest{CacheName: cache, Key: k, Value: v})
			return err
		},
		"GetWithHash": func(ctx context.Context) error {
			_, err := c.GetWithHash(ctx, &client.GetWithHashRequest{CacheName: cache, Key: k})
			return err
		},
		"Delete": func(ctx context.Context) error {
			_, err := c.Delete(ctx, &client.DeleteRequest{CacheName: cache, Key: k})
			return err
		},
		"KeysExist": func(ctx context.Context) error {
			_, err := c.KeysExist(ctx, &client.KeysExistRequest{CacheName: cache, Keys: []client.Key{k}})
			return err
		},
		"Increment": func(ctx context.Context) error {
			_, err := c.Increment(ctx, &client.IncrementRequest{CacheName: cache, Key: k, Amount: 1})
			return err
		},
		"UpdateTtl": func(ctx context.Context) error {
			_, err := c.UpdateTtl(ctx, &client.UpdateTtlRequest{CacheName: cache, Key: k, Ttl: time.Minute})
			return err
		},
		"ItemGetTtl": func(ctx context.Context) error {
			_, err := c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: cache, Key: k})
			return err
		},
		"ItemGetType": func(ctx context.Context) error {
			_, err := c.ItemGetType(ctx, &client.ItemGetTypeRequest{CacheName: cache, Key: k})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())
			ce := wantCode(t, err, client.NotFoundError)
			if !errors.Is(err, client.ErrCacheNotFound) {
				t.Error("errors.Is(err, ErrCacheNotFound) = false")
			}
			if errors.Is(err, client.ErrAlreadyExists) {
				t.Error("errors.Is(err, ErrAlreadyExists) = true")
			}
			if status.Code(ce.Unwrap()) != codes.NotFound {
				t.Errorf("Unwrap() = %v, want a NOT_FOUND status", ce.Unwrap())
			}
			if !strings.HasPrefix(err.Error(), "NotFoundError") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestItemTooLarge(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	big := client.Bytes(bytes.Repeat([]byte{'x'}, 5_300_000))
	_, err := c.Set(t.Context(), &client.SetRequest{CacheName: cache, Key: client.String("big"), Value: big})
	ce := wantCode(t, err, client.LimitExceededError)
	if !errors.Is(err, client.ErrLimitExceeded) || ce.Message() == "" {
		t.Errorf("err = %v", err)
	}
	if _, ok := get(t, c, cache, client.String("big")); ok {
		t.Error("oversized item was stored")
	}
	// 5,000,000 bytes must still round-trip (the Node SDK suite checks it).
	ok5 := bytes.Repeat([]byte{'y'}, 5_000_000)
	must(c.Set(t.Context(), &client.SetRequest{CacheName: cache, Key: client.String("ok"), Value: client.Bytes(ok5)}))(t)
	if got, ok := get(t, c, cache, client.String("ok")); !ok || !bytes.Equal(got, ok5) {
		t.Errorf("5,000,000-byte value did not round-trip (hit %v, %d bytes)", ok, len(got))
	}
}

func TestDeadlines(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	get := func(ctx context.Context, c *client.CacheClient) error {
		_, err := c.Get(ctx, &client.GetRequest{CacheName: cache, Key: client.String("k")})
		return err
	}

	t.Run("expired context", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		err := get(ctx, c)
		wantCode(t, err, client.TimeoutError)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, client.ErrTimeout) {
			t.Errorf("errors.Is(DeadlineExceeded / ErrTimeout) false for %v", err)
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := get(ctx, c)
		wantCode(t, err, client.CanceledError)
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrCanceled) {
			t.Errorf("errors.Is(Canceled / ErrCanceled) false for %v", err)
		}
	})
	t.Run("config timeout", func(t *testing.T) {
		fast := newClient(t, client.Config{Timeout: time.Nanosecond})
		wantCode(t, get(t.Context(), fast), client.TimeoutError)
	})
	t.Run("context deadline wins over config timeout", func(t *testing.T) {
		fast := newClient(t, client.Config{Timeout: time.Nanosecond})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := get(ctx, fast); err != nil {
			t.Fatalf("Get with a 10s context deadline: %v", err)
		}
	})
}

func TestServerUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	c := newClient(t, client.Config{Address: addr, Timeout: 2 * time.Second})
	_, err = c.Get(t.Context(), &client.GetRequest{CacheName: "c", Key: client.String("k")})
	wantCode(t, err, client.ServerUnavailableError)
	_, err = c.ListCaches(t.Context(), nil)
	wantCode(t, err, client.ServerUnavailableError)
}

// countingClient returns a client whose unary and stream calls are counted
// and whose outgoing metadata is recorded.
func countingClient(t *testing.T, cfg client.Config) (*client.CacheClient, *atomic.Int64, *recorder) {
	var calls atomic.Int64
	rec := &recorder{}
	cfg.DialOptions = append(cfg.DialOptions,
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			calls.Add(1)
			rec.record(ctx, method)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			calls.Add(1)
			rec.record(ctx, method)
			return streamer(ctx, desc, cc, method, opts...)
		}),
	)
	return newClient(t, cfg), &calls, rec
}

// recorder keeps the outgoing metadata of the last call of each method.
type recorder struct {
	mu  sync.Mutex
	mds map[string]metadata.MD
}

func (r *recorder) record(ctx context.Context, method string) {
	md, _ := metadata.FromOutgoingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mds == nil {
		r.mds = map[string]metadata.MD{}
	}
	r.mds[method] = md
}

func (r *recorder) get(method string) metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mds[method]
}

func TestMetadata(t *testing.T) {
	c, _, rec := countingClient(t, client.Config{Token: "secret-token"})
	cache := newCache(t, c)
	set(t, c, cache, "k", "v")
	must(c.GetBatch(t.Context(), &client.GetBatchRequest{CacheName: cache, Keys: []client.Key{client.String("k")}}))(t)
	must(c.ListCaches(t.Context(), nil))(t)

	for method, wantCache := range map[string]string{
		"/cache_client.Scs/Set":                  cache,
		"/cache_client.Scs/GetBatch":             cache,
		"/control_client.ScsControl/CreateCache": "",
		"/control_client.ScsControl/ListCaches":  "",
	} {
		md := rec.get(method)
		if md == nil {
			t.Errorf("%s: not called", method)
			continue
		}
		if got := md.Get("authorization"); len(got) != 1 || got[0] != "secret-token" {
			t.Errorf("%s: authorization = %q", method, got)
		}
		got := md.Get("cache")
		if wantCache == "" && len(got) != 0 {
			t.Errorf("%s: cache header %q on a control-plane call", method, got)
		}
		if wantCache != "" && (len(got) != 1 || got[0] != wantCache) {
			t.Errorf("%s: cache header = %q, want %q", method, got, wantCache)
		}
	}

	// An empty token is sent as an empty authorization header.
	c2, _, rec2 := countingClient(t, client.Config{})
	must(c2.Ping(t.Context(), nil))(t)
	if got := rec2.get("/cache_client.Ping/Ping").Get("authorization"); len(got) != 1 || got[0] != "" {
		t.Errorf("authorization with no token = %q, want [\"\"]", got)
	}
}

func TestClientValidation(t *testing.T) {
	c, calls, _ := countingClient(t, client.Config{})
	k, v := client.String("k"), client.String("v")
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"CreateCache empty name", func(ctx context.Context) error {
			_, err := c.CreateCache(ctx, &client.CreateCacheRequest{})
			return err
		}},
		{"DeleteCache blank name", func(ctx context.Context) error {
			_, err := c.DeleteCache(ctx, &client.DeleteCacheRequest{CacheName: "  "})
			return err
		}},
		{"FlushCache nil request", func(ctx context.Context) error {
			_, err := c.FlushCache(ctx, nil)
			return err
		}},
		{"Get empty cache name", func(ctx context.Context) error {
			_, err := c.Get(ctx, &client.GetRequest{Key: k})
			return err
		}},
		{"Get non-ASCII cache name", func(ctx context.Context) error {
			_, err := c.Get(ctx, &client.GetRequest{CacheName: "キャッシュ", Key: k})
			return err
		}},
		{"Get nil key", func(ctx context.Context) error {
			_, err := c.Get(ctx, &client.GetRequest{CacheName: "c"})
			return err
		}},
		{"Get empty key", func(ctx context.Context) error {
			_, err := c.Get(ctx, &client.GetRequest{CacheName: "c", Key: client.String("")})
			return err
		}},
		{"Get nil request", func(ctx context.Context) error {
			_, err := c.Get(ctx, nil)
			return err
		}},
		{"Set nil value", func(ctx context.Context) error {
			_, err := c.Set(ctx, &client.SetRequest{CacheName: "c", Key: k})
			return err
		}},
		{"Set negative TTL", func(ctx context.Context) error {
			_, err := c.Set(ctx, &client.SetRequest{CacheName: "c", Key: k, Value: v, Ttl: -time.Second})
			return err
		}},
		{"SetBatch empty key", func(ctx context.Context) error {
			_, err := c.SetBatch(ctx, &client.SetBatchRequest{CacheName: "c", Items: []client.BatchSetItem{{Key: k, Value: v}, {Key: client.Bytes{}, Value: v}}})
			return err
		}},
		{"SetBatch negative item TTL", func(ctx context.Context) error {
			_, err := c.SetBatch(ctx, &client.SetBatchRequest{CacheName: "c", Items: []client.BatchSetItem{{Key: k, Value: v, Ttl: -1}}})
			return err
		}},
		{"GetBatch nil key", func(ctx context.Context) error {
			_, err := c.GetBatch(ctx, &client.GetBatchRequest{CacheName: "c", Keys: []client.Key{k, nil}})
			return err
		}},
		{"KeysExist empty key", func(ctx context.Context) error {
			_, err := c.KeysExist(ctx, &client.KeysExistRequest{CacheName: "c", Keys: []client.Key{client.String("")}})
			return err
		}},
		{"SetIfEqual nil Equal", func(ctx context.Context) error {
			_, err := c.SetIfEqual(ctx, &client.SetIfEqualRequest{CacheName: "c", Key: k, Value: v})
			return err
		}},
		{"SetIfAbsent negative TTL", func(ctx context.Context) error {
			_, err := c.SetIfAbsent(ctx, &client.SetIfAbsentRequest{CacheName: "c", Key: k, Value: v, Ttl: -time.Millisecond})
			return err
		}},
		{"SetWithHash empty key", func(ctx context.Context) error {
			_, err := c.SetWithHash(ctx, &client.SetWithHashRequest{CacheName: "c", Key: client.Bytes(nil), Value: v})
			return err
		}},
		{"SetIfAbsentOrHashEqual empty cache", func(ctx context.Context) error {
			_, err := c.SetIfAbsentOrHashEqual(ctx, &client.SetIfAbsentOrHashEqualRequest{Key: k, Value: v})
			return err
		}},
		{"Increment negative TTL", func(ctx context.Context) error {
			_, err := c.Increment(ctx, &client.IncrementRequest{CacheName: "c", Key: k, Amount: 1, Ttl: -time.Second})
			return err
		}},
		{"UpdateTtl zero TTL", func(ctx context.Context) error {
			_, err := c.UpdateTtl(ctx, &client.UpdateTtlRequest{CacheName: "c", Key: k})
			return err
		}},
		{"IncreaseTtl negative TTL", func(ctx context.Context) error {
			_, err := c.IncreaseTtl(ctx, &client.IncreaseTtlRequest{CacheName: "c", Key: k, Ttl: -time.Second})
			return err
		}},
		{"DecreaseTtl empty key", func(ctx context.Context) error {
			_, err := c.DecreaseTtl(ctx, &client.DecreaseTtlRequest{CacheName: "c", Key: client.String(""), Ttl: time.Second})
			return err
		}},
		{"ItemGetTtl empty cache", func(ctx context.Context) error {
			_, err := c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{Key: k})
			return err
		}},
		{"ItemGetType nil key", func(ctx context.Context) error {
			_, err := c.ItemGetType(ctx, &client.ItemGetTypeRequest{CacheName: "c"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			err := tt.call(t.Context())
			ce := wantCode(t, err, client.InvalidArgumentError)
			if !errors.Is(err, client.ErrInvalidArgument) || ce.Message() == "" || ce.Unwrap() != nil {
				t.Errorf("err = %#v", ce)
			}
			if n := calls.Load() - before; n != 0 {
				t.Errorf("%d RPCs sent; validation must fail before any call", n)
			}
		})
	}
}

func TestNewCacheClientValidation(t *testing.T) {
	for _, cfg := range []client.Config{
		{DefaultTTL: -time.Second},
		{Timeout: -time.Second},
		{Token: "bad\ntoken"},
	} {
		if _, err := client.NewCacheClient(cfg); err == nil {
			t.Errorf("NewCacheClient(%+v) succeeded", cfg)
		} else {
			wantCode(t, err, client.InvalidArgumentError)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newClient(t, client.Config{})
	cache := newCache(t, c)
	const workers, per = 8, 50
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range per {
				if _, err := c.Increment(t.Context(), &client.IncrementRequest{CacheName: cache, Key: client.String("ctr"), Amount: 1}); err != nil {
					errs <- err
					return
				}
				key := client.String(fmt.Sprintf("w%d-%d", w, i))
				if _, err := c.Set(t.Context(), &client.SetRequest{CacheName: cache, Key: key, Value: key}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := get(t, c, cache, client.String("ctr")); string(v) != fmt.Sprint(workers*per) {
		t.Fatalf("counter = %q, want %d", v, workers*per)
	}
}
