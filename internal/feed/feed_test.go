package feed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

var ctx = context.Background()

// ranges are the feed ranges of cache "c" of s.
func ranges(s store.Store) []store.FeedRange {
	info, err := s.CacheInfo(context.Background(), "c")
	if err != nil {
		panic(err)
	}
	return store.FeedRanges(info)
}

func newStore(t testing.TB, opts memstore.Options) *memstore.Store {
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRangeJSON(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`{"Range":{"min":"","max":"FF"}}`, `{"Range":{"min":"","max":"FF"}}`},
		{``, `{"Range":{"min":"","max":"FF"}}`},
		{`{"Range":{"min":"1000","max":"2000"}}`, `{"Range":{"min":"1000","max":"2000"}}`},
		{`{"Range":{"min":"05C1DFFFFFFFF8","max":"FF","isMinInclusive":true,"isMaxInclusive":false}}`, `{"Range":{"min":"05C1DFFFFFFFF8","max":"FF"}}`},
		{`{"minInclusive":"","maxExclusive":"10"}`, `{"Range":{"min":"","max":"10"}}`},
		{`{"PK":"user<1>&"}`, `{"PK":"user<1>&"}`},
		{`{"PK":["p0"]}`, `{"PK":"p0"}`},
	} {
		r, err := FromJSON(tc.in)
		if err != nil {
			t.Fatalf("FromJSON(%s): %v", tc.in, err)
		}
		if got := r.ToJSON(); got != tc.out {
			t.Fatalf("FromJSON(%s).ToJSON() = %s, want %s", tc.in, got, tc.out)
		}
		back, err := FromJSON(r.ToJSON())
		if err != nil || back != r {
			t.Fatalf("round trip of %s: %+v, %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{
		`{}`, `[]`, `null`, `{"Range":{"min":"","max":""}}`, `{"Range":{"min":"20","max":"10"}}`,
		`{"Range":{"min":"ab","max":"FF"}}`, `{"Range":{"min":""}}`, `{"Range":{"min":"","max":"FF"},"PK":"x"}`,
		`{"PK":""}`, `{"PK":["a","b"]}`, `{"PK":1}`, `{"PKRangeId":"0"}`, `{"Range":{"min":"","max":"FF","isMaxInclusive":true}}`,
		`{"Range":{"min":"","max":"FF"}} {}`, `{"Other":1}`, `{"minInclusive":""}`,
	} {
		if _, err := FromJSON(bad); !errors.Is(err, errs.ErrInvalidRange) || !errors.Is(err, errs.ErrInvalidArgument) {
			t.Fatalf("FromJSON(%s): %v, want errs.ErrInvalidRange", bad, err)
		}
	}
}

func TestPieces(t *testing.T) {
	info := store.CacheInfo{Name: "c", Epoch: 1, Partitions: 4}
	rs := store.FeedRanges(info)
	r, _ := EPKRange("0800", "2800")
	ps, err := r.pieces(info)
	if err != nil {
		t.Fatal(err)
	}
	want := []piece{{partition: 0, min: "0800", max: "1000"}, {partition: 1}, {partition: 2, min: "2000", max: "2800"}}
	if fmt.Sprint(ps) != fmt.Sprint(want) {
		t.Fatalf("pieces = %+v, want %+v", ps, want)
	}
	pk, _ := PartitionKey("k")
	if ps, _ := pk.pieces(info); len(ps) != 1 || ps[0].partition != epk.PartitionOfKey([]byte("k"), 4) || string(ps[0].key) != "k" {
		t.Fatalf("pieces of a partition key: %+v", ps)
	}
	if len(Ranges(rs)) != 4 || Ranges(rs)[0].ToJSON() != `{"Range":{"min":"","max":"1000"}}` {
		t.Fatalf("Ranges = %v", Ranges(rs))
	}
}

// readToEnd reads from r until NotModified and returns the changes and the
// NotModified continuation.
func readToEnd(t *testing.T, st store.Store, r Request) ([]store.Change, string) {
	t.Helper()
	var out []store.Change
	for range 100000 {
		page, err := Read(ctx, st, r)
		if err != nil {
			t.Fatal(err)
		}
		r.Continuation = page.Continuation
		if page.NotModified {
			return out, page.Continuation
		}
		out = append(out, page.Changes...)
	}
	t.Fatal("feed never ends")
	return nil, ""
}

func TestReadStarts(t *testing.T) {
	s := newStore(t, memstore.Options{})
	s.Set(ctx, "c", []byte("a"), []byte("1"), 0)
	// Now pins the position at the first read.
	page, err := Read(ctx, s, Request{Cache: "c"})
	if err != nil || !page.NotModified || page.Continuation == "" {
		t.Fatalf("from now: %+v, %v", page, err)
	}
	s.Set(ctx, "c", []byte("b"), []byte("1"), 0)
	cs, tok := readToEnd(t, s, Request{Cache: "c", Continuation: page.Continuation})
	if len(cs) != 1 || string(cs[0].Key) != "b" {
		t.Fatalf("after now: %+v", cs)
	}
	// A continuation wins over Beginning.
	cs, _ = readToEnd(t, s, Request{Cache: "c", Start: StartBeginning, Continuation: tok})
	if len(cs) != 0 {
		t.Fatalf("continuation with Beginning: %+v", cs)
	}
	cs, _ = readToEnd(t, s, Request{Cache: "c", Start: StartBeginning})
	if len(cs) != 2 {
		t.Fatalf("from the beginning: %+v", cs)
	}
	// All versions only from now or a continuation.
	for _, st := range []StartKind{StartBeginning, StartTime} {
		if _, err := Read(ctx, s, Request{Cache: "c", Start: st, Mode: ModeAllVersions}); !errors.Is(err, errs.ErrAllVersionsStart) {
			t.Fatalf("all versions from %d: %v", st, err)
		}
	}
	// A latest-version token may continue in all-versions mode only within
	// retention: here the log starts with this reader, so it is refused.
	_, err = Read(ctx, s, Request{Cache: "c", Continuation: page.Continuation, Mode: ModeAllVersions})
	if !errors.Is(err, errs.ErrFeedRetention) {
		t.Fatalf("old latest token in all-versions mode: %v", err)
	}
	// The range of a continuation cannot change.
	other, _ := PartitionKey("a")
	if _, err := Read(ctx, s, Request{Cache: "c", Continuation: tok, Range: other}); !errors.Is(err, errs.ErrInvalidContinuation) {
		t.Fatalf("continuation with another range: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	s := newStore(t, memstore.Options{Partitions: 4})
	page, err := Read(ctx, s, Request{Cache: "c", Start: StartBeginning})
	if err != nil {
		t.Fatal(err)
	}
	tok := page.Continuation
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, tokenPrefix))
	forge := func(from, to string) string {
		return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1)))
	}
	for _, bad := range []string{
		"", "v2." + tok[3:], "v1.!!!", tok + "A", forge(`"c":"c"`, `"c":"d"`), forge(`"m":1`, `"m":7`),
		forge(`"n":0`, `"n":4`), forge(`"i":1`, `"i":0`), forge(`"p":[{"i":0,"l":0},`, `"p":[`),
		forge(`"r":"{`, `"r":"{\"PK\":\"k\"},\"x\":\"{`), forge(`"e":`, `"e":1`),
	} {
		_, err := Read(ctx, s, Request{Cache: "c", Continuation: bad, Start: StartBeginning})
		if bad == "" {
			continue // no token: a new reader
		}
		if !errors.Is(err, errs.ErrInvalidArgument) && !errors.Is(err, errs.ErrFeedEpoch) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	// Another epoch of the cache.
	s.DeleteCache(ctx, "c")
	s.CreateCache(ctx, "c", store.CacheConfig{})
	if _, err := Read(ctx, s, Request{Cache: "c", Continuation: tok}); !errors.Is(err, errs.ErrFeedEpoch) {
		t.Fatalf("token of a re-created cache: %v", err)
	}
	// A position past the partition's LSN is refused by the engine.
	page, _ = Read(ctx, s, Request{Cache: "c", Start: StartBeginning})
	raw, _ = base64.RawURLEncoding.DecodeString(strings.TrimPrefix(page.Continuation, tokenPrefix))
	if _, err := Read(ctx, s, Request{Cache: "c", Continuation: forge(`"l":0`, `"l":99`)}); !errors.Is(err, errs.ErrInvalidArgument) {
		t.Fatalf("position in the future: %v", err)
	}
}

func TestRoundRobinAndBatches(t *testing.T) {
	s := newStore(t, memstore.Options{Partitions: 4})
	var items []store.Item
	for i := range 100 {
		items = append(items, store.Item{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	if err := s.SetBatch(ctx, "c", items); err != nil {
		t.Fatal(err)
	}
	r := Request{Cache: "c", Start: StartBeginning, PageSizeHint: 1}
	var parts []int
	for {
		page, err := Read(ctx, s, r)
		if err != nil {
			t.Fatal(err)
		}
		if page.NotModified {
			break
		}
		parts = append(parts, page.Partition)
		// The batch's changes of a partition come whole.
		if n := len(page.Changes); page.Changes[n-1].BatchEnd != page.Changes[n-1].LSN {
			t.Fatalf("page of %d changes ends inside a batch", n)
		}
		r.Continuation = page.Continuation
	}
	if fmt.Sprint(parts) != "[0 1 2 3]" {
		t.Fatalf("pages came from partitions %v, want one each in order", parts)
	}
}
