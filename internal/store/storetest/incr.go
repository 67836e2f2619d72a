package storetest

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

func testIncrement(t *testing.T, e *env) {
	f := func(key string, amount, want int64) {
		t.Helper()
		got, err := e.s.Increment(e.ctx, e.cache, []byte(key), amount, 0)
		if err != nil || got != want {
			t.Fatalf("Increment(%q, %d) = %d, %v; want %d", key, amount, got, err, want)
		}
		e.want(key, strconv.FormatInt(want, 10))
	}
	f("new", 5, 5)
	f("new", 1, 6)
	f("new", -10, -4)
	f("new", 0, -4)
	f("neg", -7, -7)
	f("zero", 0, 0)

	e.set("set", "41", 0)
	f("set", 1, 42)
	e.set("set", "-41", 0)
	f("set", -1, -42)
	e.set("max", strconv.FormatInt(math.MaxInt64-1, 10), 0)
	f("max", 1, math.MaxInt64)
	e.set("min", strconv.FormatInt(math.MinInt64+1, 10), 0)
	f("min", -1, math.MinInt64)
	f("min", 0, math.MinInt64)
	f("min", math.MaxInt64, -1)
}

func testIncrementErrors(t *testing.T, e *env) {
	f := func(stored string, amount int64, want error) {
		t.Helper()
		e.set("k", stored, 0)
		_, err := e.s.Increment(e.ctx, e.cache, []byte("k"), amount, 0)
		wantErr(t, "Increment of "+strconv.Quote(stored), err, want)
		e.want("k", stored)
	}
	for _, s := range []string{
		"", " 1", "1 ", "+1", "-", "--1", "1-", "abc", "1a", "1.5", "1e3", "0x10",
		"1_000", "١", "9223372036854775808", "-9223372036854775809", "99999999999999999999",
	} {
		f(s, 1, errs.ErrNotInteger)
	}
	f("9223372036854775807", 1, errs.ErrOverflow)
	f("9223372036854775807", math.MaxInt64, errs.ErrOverflow)
	f("-9223372036854775808", -1, errs.ErrOverflow)
	f("-9223372036854775808", math.MinInt64, errs.ErrOverflow)
	f("1", math.MaxInt64, errs.ErrOverflow)
	f("-2", math.MinInt64, errs.ErrOverflow)
}

func testIncrementTTL(t *testing.T, e *env) {
	if _, err := e.s.Increment(e.ctx, e.cache, []byte("k"), 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	near(t, "ExpiresAt after Increment with TTL", e.meta("k").ExpiresAt, e.clock.Now().Add(time.Hour))

	// Every increment is a write that applies its TTL, as Set does.
	if _, err := e.s.Increment(e.ctx, e.cache, []byte("k"), 1, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	near(t, "ExpiresAt after a second Increment", e.meta("k").ExpiresAt, e.clock.Now().Add(3*time.Hour))
	if _, err := e.s.Increment(e.ctx, e.cache, []byte("k"), 1, 0); err != nil {
		t.Fatal(err)
	}
	if m := e.meta("k"); !m.ExpiresAt.IsZero() {
		t.Fatalf("ExpiresAt after Increment without TTL = %v, want never", m.ExpiresAt)
	}
	e.want("k", "3")
}
