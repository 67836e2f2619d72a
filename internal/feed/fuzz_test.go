package feed

import (
	"errors"
	"testing"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

func FuzzRangeFromJSON(f *testing.F) {
	for _, s := range []string{
		`{"Range":{"min":"","max":"FF"}}`, `{"Range":{"min":"1000","max":"2000"}}`, `{"PK":"p0"}`, `{"PK":["p0"]}`,
		`{"minInclusive":"","maxExclusive":"10"}`, `{"PKRangeId":"0"}`, `{"Range":{"min":"05C1DFFFFFFFF8","max":"FF","isMinInclusive":true}}`,
		``, `{}`, `null`, `{"PK":"\u00e9\ud800"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := FromJSON(s)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidRange) {
				t.Fatalf("error %v is not errs.ErrInvalidRange", err)
			}
			return
		}
		back, err := FromJSON(r.ToJSON())
		if err != nil || back != r {
			t.Fatalf("%q: round trip %s gives %+v, %v", s, r.ToJSON(), back, err)
		}
		if _, pk := r.IsPartitionKey(); !pk {
			if min, max := r.Bounds(); min >= max {
				t.Fatalf("%q: empty range %q..%q", s, min, max)
			}
		}
	})
}

func FuzzContinuation(f *testing.F) {
	s := memstore.New(memstore.Options{Partitions: 4, ExpirySweepInterval: -1})
	f.Cleanup(func() { s.Close() })
	s.CreateCache(ctx, "c", store.CacheConfig{})
	s.Set(ctx, "c", []byte("k"), []byte("v"), 0)
	for _, r := range []Request{
		{Cache: "c", Start: StartBeginning},
		{Cache: "c"},
		{Cache: "c", Mode: ModeAllVersions},
		{Cache: "c", Start: StartTime},
		{Cache: "c", Start: StartBeginning, Range: mustPK("k")},
	} {
		page, err := Read(ctx, s, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(page.Continuation)
	}
	f.Add("v1.")
	f.Add("v1.eyJjIjoiYyJ9")
	f.Fuzz(func(t *testing.T, tok string) {
		page, err := Read(ctx, s, Request{Cache: "c", Continuation: tok})
		if err != nil {
			if !errors.Is(err, errs.ErrInvalidArgument) && !errors.Is(err, errs.ErrFeedEpoch) && !errors.Is(err, errs.ErrFeedRetention) {
				t.Fatalf("token %q: unexpected error %v", tok, err)
			}
			return
		}
		if page.Continuation == "" {
			t.Fatal("no continuation")
		}
	})
}

func mustPK(k string) Range {
	r, err := PartitionKey(k)
	if err != nil {
		panic(err)
	}
	return r
}
