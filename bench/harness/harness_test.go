package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/bench/hist"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

func TestScenariosRegistered(t *testing.T) {
	want := []string{"get-100b", "get-10kb", "set-100b", "set-10kb", "batch-get", "batch-set", "memory-1m", "get-100b-open", "topics-fanout"}
	for _, n := range want {
		if registry[n] == nil {
			t.Errorf("scenario %s not registered", n)
		}
	}
	all, _ := selectScenarios(nil, false)
	if len(all) != len(registry) {
		t.Fatalf("all = %d scenarios, registry %d", len(all), len(registry))
	}
	quick, _ := selectScenarios([]string{"all"}, true)
	if len(quick) == 0 || len(quick) >= len(all) {
		t.Fatalf("quick subset has %d of %d", len(quick), len(all))
	}
	for _, s := range quick {
		if !s.Quick {
			t.Errorf("%s in quick subset", s.Name)
		}
	}
	if _, err := selectScenarios([]string{"get-100b", "nope"}, false); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown scenario: %v", err)
	}
}

func TestProfilePath(t *testing.T) {
	cases := map[[2]string]string{
		{"", "x"}:                 "",
		{"/tmp/cpu.pprof", "get"}: "/tmp/cpu-get.pprof",
		{"cpu", "get"}:            "cpu-get",
	}
	for in, want := range cases {
		if got := profilePath(in[0], in[1]); got != want {
			t.Errorf("profilePath(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func result(ops uint64, lat time.Duration) *loadgen.Result {
	h := hist.New()
	for i := uint64(0); i < ops; i++ {
		h.RecordDuration(lat)
	}
	return &loadgen.Result{Ops: ops, Elapsed: time.Second, Hist: h, GenCPU: 0.95, GenCores: 1, ServerCPU: 0.5, ErrorKind: map[string]uint64{}}
}

func TestCompareTable(t *testing.T) {
	tb := &Table{Scenario: "x", Title: "y", Header: LatencyHeader}
	s, r := result(500, 2*time.Millisecond), result(1000, time.Millisecond)
	s.Errors, s.ErrorKind["miss"] = 3, 3
	tb.compare("64 workers", "redis", s, r)
	md := tb.Markdown()
	for _, want := range []string{"| 64 workers | setsuna/redis | **0.50×** | **2.00×**", "⚠SAT", "3 errors: 3× miss", "### x — y"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	g := kvGoal(nil, "get", 100, s, r)
	if g.Met || !strings.Contains(g.Detail, "short by 50%") || !strings.Contains(g.Detail, "2.0× over") {
		t.Errorf("goal %+v", g)
	}
	g = kvGoal(nil, "get", 100, result(2000, 500*time.Microsecond), r)
	if !g.Met {
		t.Errorf("goal should be met: %+v", g)
	}
	sec := goalSection([]*Table{{Goals: []Goal{g}}})
	if !strings.Contains(sec, "**MET**") {
		t.Errorf("goal section %q", sec)
	}
}

func TestFormatting(t *testing.T) {
	cases := map[string]string{
		fmtRate(1234):                   "1234",
		fmtRate(12345):                  "12.3k",
		fmtRate(2.5e6):                  "2.50M",
		fmtDur(250 * time.Microsecond):  "250µs",
		fmtDur(1500 * time.Microsecond): "1.50ms",
		fmtDur(2 * time.Second):         "2.00s",
		fmtBytes(3 << 20):               "3.0 MiB",
		fmtRatio(1, 0):                  "—",
		fmtRatio(3, 2):                  "**1.50×**",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 5}
	b.Write([]byte("hello "))
	b.Write([]byte("world"))
	if b.String() != "world" {
		t.Fatalf("%q", b.String())
	}
}
