package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// Scenario is one comparison. Each lives in its own sc_*.go file and
// registers itself in init.
type Scenario struct {
	Name  string // used by --scenarios
	Title string
	Quick bool // part of the quick subset
	Order int  // position in a full run
	Run   func(e *Env) (*Table, error)
}

var registry = map[string]*Scenario{}

// Register adds s; names must be unique.
func Register(s *Scenario) {
	if _, dup := registry[s.Name]; dup {
		panic("bench: duplicate scenario " + s.Name)
	}
	registry[s.Name] = s
}

// Scenarios lists the registered scenarios in run order.
func Scenarios() []*Scenario {
	list := make([]*Scenario, 0, len(registry))
	for _, s := range registry {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Order != list[j].Order {
			return list[i].Order < list[j].Order
		}
		return list[i].Name < list[j].Name
	})
	return list
}

// Table is the printed result of a scenario.
type Table struct {
	Scenario string
	Title    string
	Header   []string
	Rows     [][]string
	Notes    []string
	Goals    []Goal
}

// Goal is the verdict on one of the goals.
type Goal struct {
	Name   string
	Met    bool
	Detail string
}

// AddNote appends a note under the table.
func (t *Table) AddNote(format string, args ...any) {
	t.Notes = append(t.Notes, fmt.Sprintf(format, args...))
}

// Markdown renders the table.
func (t *Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — %s\n\n", t.Scenario, t.Title)
	if len(t.Rows) > 0 {
		b.WriteString("| " + strings.Join(t.Header, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat("---|", len(t.Header)) + "\n")
		for _, r := range t.Rows {
			b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	for _, n := range t.Notes {
		b.WriteString("- " + n + "\n")
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// ---- formatting helpers shared by scenarios ----

// LatencyHeader is the header of the closed/open-loop comparison tables.
var LatencyHeader = []string{"case", "system", "ops/s", "p50", "p99", "p99.9", "max", "errors", "gen CPU", "server CPU", "server CPU/op"}

// Fmt helpers.
func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func fmtRatio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("**%.2f×**", a/b)
}

func fmtCPU(r *loadgen.Result) string {
	s := fmt.Sprintf("%.0f%%", 100*r.GenCPU)
	if r.Saturated() {
		s += " ⚠SAT"
	}
	return s
}

func fmtServerCPU(r *loadgen.Result) string {
	if r.ServerCPU < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*r.ServerCPU)
}

// resultRow renders one measured system.
func resultRow(label, system string, r *loadgen.Result) []string {
	return []string{label, system, fmtRate(r.Throughput()),
		fmtDur(r.Hist.QuantileDuration(0.5)), fmtDur(r.Hist.QuantileDuration(0.99)),
		fmtDur(r.Hist.QuantileDuration(0.999)), fmtDur(time.Duration(r.Hist.Max())),
		fmt.Sprint(r.Errors), fmtCPU(r), fmtServerCPU(r), fmtDur(r.ServerCPUPerOp())}
}

// ratioRow renders Setsuna/peer for throughput, latencies and CPU/op.
func ratioRow(label, peer string, s, p *loadgen.Result) []string {
	q := func(x float64) float64 { return float64(s.Hist.Quantile(x)) }
	pq := func(x float64) float64 { return float64(p.Hist.Quantile(x)) }
	return []string{label, "setsuna/" + peer, fmtRatio(s.Throughput(), p.Throughput()),
		fmtRatio(q(0.5), pq(0.5)), fmtRatio(q(0.99), pq(0.99)), fmtRatio(q(0.999), pq(0.999)),
		fmtRatio(float64(s.Hist.Max()), float64(p.Hist.Max())), "", "", "",
		fmtRatio(float64(s.ServerCPUPerOp()), float64(p.ServerCPUPerOp()))}
}

// compare appends the Setsuna, peer and ratio rows of one case, and notes
// for errors and a saturated generator.
func (t *Table) compare(label, peer string, s, p *loadgen.Result) {
	t.Rows = append(t.Rows, resultRow(label, "setsuna", s), resultRow(label, peer, p), ratioRow(label, peer, s, p))
	for _, x := range []struct {
		name string
		r    *loadgen.Result
	}{{"setsuna", s}, {peer, p}} {
		if x.r.Errors > 0 {
			t.AddNote("%s %s: %d errors: %s", label, x.name, x.r.Errors, x.r.ErrorSummary())
		}
		if x.r.Saturated() {
			t.AddNote("%s %s: the load generator was saturated (%.0f%% of its %d CPU): this row measures the generator as much as the server; read server CPU/op for the server's cost.", label, x.name, 100*x.r.GenCPU, x.r.GenCores)
		}
	}
}

// commonNotes are printed under every load table.
const commonNotes = "ops/s counts successful ops in the measured window; latencies are per request (closed loop: from send; open loop: from the intended start). gen CPU is the load generator's CPU time / wall time over the window (pinned to 1 CPU, ⚠SAT at ≥ 90 %); server CPU likewise for the server process (pinned to CPU 0); server CPU/op = server CPU time / ops — the server's cost independent of the generator."
