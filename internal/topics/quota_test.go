package topics

import (
	"errors"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

func TestPublishQuota(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	a, b := &auth.Principal{ID: "a"}, &auth.Principal{ID: "b"}
	qs := newQuotas(PublishQuota{Messages: 3, Bytes: 100})
	f := func(p *auth.Principal, n int, at time.Duration, want error) {
		t.Helper()
		err := qs.take(p, n, t0.Add(at))
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("%s publishes %d bytes at %v: %v, want %v", p.ID, n, at, err, want)
		}
	}
	// A second's worth at once, then refused until the bucket refills.
	f(a, 10, 0, nil)
	f(a, 10, 0, nil)
	f(a, 10, 0, nil)
	f(a, 10, 0, errs.ErrPublishRateExceeded)
	f(b, 10, 0, nil) // another key has its own bucket
	f(a, 10, time.Second/3, nil)
	// Bytes: a refused message costs no message token.
	c := &auth.Principal{ID: "c"}
	f(c, 90, 0, nil)
	f(c, 20, 0, errs.ErrPublishThroughputExceeded)
	f(c, 10, 0, nil)
	f(c, 0, 0, nil) // the third message: the refused one was given back
	f(c, 0, 0, errs.ErrPublishRateExceeded)
	// Dev mode has no bound.
	for range 10 {
		f(auth.DevPrincipal, 1000, 0, nil)
	}
	// Keys whose buckets refilled are dropped by the sweep.
	f(b, 1, time.Hour, nil)
	if _, ok := qs.keys["a"]; ok || len(qs.keys) != 1 {
		t.Fatalf("after an idle hour the sweep kept %d keys (a kept: %v)", len(qs.keys), ok)
	}
	// An unbounded quota, or none, takes nothing.
	var none *quotas
	if err := none.take(a, 1<<30, t0); err != nil {
		t.Fatal(err)
	}
	if err := newQuotas(PublishQuota{}).take(a, 1<<30, t0); err != nil {
		t.Fatal(err)
	}
}
