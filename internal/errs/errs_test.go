package errs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestIsMatchesRowsByReason(t *testing.T) {
	f := func(err, target error, want bool) {
		t.Helper()
		if got := errors.Is(err, target); got != want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, target, got, want)
		}
	}
	detailed := ErrCacheNotFound.Withf("cache %q", "c")
	f(detailed, ErrCacheNotFound, true)
	f(fmt.Errorf("memstore: %w", detailed), ErrCacheNotFound, true)
	f(detailed, ErrCacheExists, false)
	// A generic row matches every row of its code, not of another code.
	f(ErrInvalidRange.Msgf("bad"), ErrInvalidArgument, true)
	f(ErrOutcomeUnknown, ErrUnavailable, true)
	f(ErrCacheNotFound, ErrInvalidArgument, false)
	// A specific row does not match the generic one's other members.
	f(ErrInvalidArgument.Msgf("x"), ErrInvalidRange, false)
	f(errors.New("cache not found"), ErrCacheNotFound, false)
}

func TestMessages(t *testing.T) {
	f := func(err *Error, want string) {
		t.Helper()
		if err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	}
	f(ErrItemTooLarge.Withf("%d bytes", 7), "item size limit exceeded: 7 bytes")
	f(ErrInvalidArgument.Msgf("ttl %d is negative", -1), "ttl -1 is negative")
	f(ErrOutOfMemory.Because(errors.New("secret detail")), "server memory limit reached")
}

func TestAs(t *testing.T) {
	if As(nil) != nil {
		t.Fatal("As(nil) != nil")
	}
	if e := As(fmt.Errorf("x: %w", context.Canceled)); e != ErrCanceled {
		t.Fatalf("canceled: %v", e)
	}
	if e := As(context.DeadlineExceeded); e != ErrDeadlineExceeded {
		t.Fatalf("deadline: %v", e)
	}
	if e := As(errors.New("boom")); e != nil {
		t.Fatalf("internal error mapped to %v", e)
	}
	if CodeOf(errors.New("boom")) != CodeInternal || CodeOf(ErrWrongType) != CodeFailedPrecondition {
		t.Fatal("CodeOf")
	}
}

func TestReporterHidesAndRateLimitsInternalErrors(t *testing.T) {
	var buf bytes.Buffer
	r := NewReporter(slog.New(slog.NewTextHandler(&buf, nil)))
	pub := r.Public("get", errors.New("redis: connection reset by 10.0.0.7"))
	if pub.Code != CodeInternal || strings.Contains(pub.Msg, "redis") || !strings.Contains(pub.Msg, "request id ") {
		t.Fatalf("public error %+v leaks or lacks the request id", pub)
	}
	id := pub.Msg[strings.LastIndex(pub.Msg, " ")+1 : len(pub.Msg)-1]
	if !strings.Contains(buf.String(), id) || !strings.Contains(buf.String(), "connection reset") {
		t.Fatalf("log %q lacks the request id %s or the cause", buf.String(), id)
	}
	if r.Public("get", ErrWrongType) != ErrWrongType {
		t.Fatal("a public error must pass through unchanged")
	}
	for range 100 {
		r.Public("get", errors.New("again"))
	}
	if n := strings.Count(buf.String(), "internal error"); n > r.burst {
		t.Fatalf("%d log lines in one interval, the burst is %d", n, r.burst)
	}
}

func TestTableReasonsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Table() {
		if seen[e.Reason] || e.Reason == "" || e.Msg == "" {
			t.Errorf("row %+v: duplicate or empty", e)
		}
		seen[e.Reason] = true
	}
}
