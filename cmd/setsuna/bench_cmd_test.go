package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBenchHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := bench([]string{"--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	help := errb.String()
	for _, want := range []string{"Usage: setsuna bench", "-scenarios", "-duration", "-warmup", "-quick", "-out", "-cpuprofile", "-memprofile", "get-100b", "memory-1m", "topics-fanout"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--workers", "x"}, {"--workers", "-1"}, {"extra"}, {"--nope"}} {
		var out, errb bytes.Buffer
		if code := bench(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func TestBenchUnknownScenario(t *testing.T) {
	var out, errb bytes.Buffer
	t.Setenv("SETSUNA_BENCH_PINNED", "1") // do not re-exec under taskset
	if code := bench([]string{"--scenarios", "no-such", "--out", "-"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "unknown scenario") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
