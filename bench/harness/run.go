package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Run executes the selected scenarios, prints their tables and writes the
// results file. It returns an error only when nothing useful could run;
// failed scenarios are reported in their table.
func Run(ctx context.Context, opts Options) error {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Warmup < 0 || opts.Duration <= 0 {
		return fmt.Errorf("warmup must be ≥ 0 and duration > 0")
	}
	selected, err := selectScenarios(opts.Scenarios, opts.Quick)
	if err != nil {
		return err
	}
	tools, err := findTools(opts.ToolsDir)
	if err != nil {
		return err
	}
	pinned := os.Getenv(PinnedEnv) != "" || cpusAllowed() == "1"
	started := time.Now()
	var pinning string
	if pinned {
		pinning = fmt.Sprintf("Pinning: every server (Setsuna, redis-server, nats-server) runs under `taskset -c 0`; the load generator runs under `taskset -c 1` (GOMAXPROCS %d). Setsuna's Go runtime sees 1 CPU, redis-server is single-threaded: the same core budget.", runtime.GOMAXPROCS(0))
	} else {
		pinning = fmt.Sprintf("Pinning: NOT pinned (fewer than 2 CPUs or taskset missing); servers and the load generator share %d CPUs — ratios are less trustworthy.", runtime.NumCPU())
	}
	machine := Machine(tools)
	w := opts.Stdout
	fmt.Fprintf(w, "# Setsuna bench — %s\n\n", started.Format("2006-01-02 15:04"))
	for _, m := range machine {
		fmt.Fprintf(w, "- %s\n", m)
	}
	fmt.Fprintf(w, "- %s\n- Warm-up %v, measured %v per case.\n\n", pinning, opts.Warmup, opts.Duration)

	var tables []*Table
	for _, sc := range selected {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(opts.Stderr, "== %s: %s\n", sc.Name, sc.Title)
		env := &Env{ctx: ctx, opts: &opts, scenario: sc.Name, pinned: pinned, tools: tools}
		t0 := time.Now()
		table, err := runScenario(env, sc)
		if err != nil {
			if table == nil {
				table = &Table{}
			}
			table.AddNote("**scenario failed:** %v", err)
		}
		table.Scenario, table.Title = sc.Name, sc.Title
		table.AddNote("%s (scenario took %v)", commonNotesFor(table), time.Since(t0).Round(time.Second))
		fmt.Fprint(w, table.Markdown())
		tables = append(tables, table)
	}
	goals := goalSection(tables)
	fmt.Fprint(w, goals)
	fmt.Fprintf(w, "Total time: %v\n", time.Since(started).Round(time.Second))

	if opts.Out == "-" {
		return ctx.Err()
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join("bench", "results", started.Format("2006-01-02")+".md")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Setsuna bench results — %s\n\n", started.Format("2006-01-02 15:04 MST"))
	mode := "full run (`make bench`)"
	if opts.Quick {
		mode = "quick subset (`make bench-quick`)"
	}
	fmt.Fprintf(&b, "Run: %s; scenarios: %s; warm-up %v, measured %v per case; total %v.\n\n", mode, names(selected), opts.Warmup, opts.Duration, time.Since(started).Round(time.Second))
	b.WriteString("## Machine\n\n")
	for _, m := range machine {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	fmt.Fprintf(&b, "- %s\n\n## Results\n\n", pinning)
	for _, t := range tables {
		b.WriteString(t.Markdown())
	}
	b.WriteString(goals)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.Stderr, "results written to %s\n", out)
	return ctx.Err()
}

func commonNotesFor(t *Table) string {
	if len(t.Header) > 0 && t.Header[0] == "case" {
		return commonNotes
	}
	return "Servers pinned to CPU 0, load generator to CPU 1."
}

func runScenario(env *Env, sc *Scenario) (t *Table, err error) {
	defer env.stopAll()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return sc.Run(env)
}

func names(list []*Scenario) string {
	n := make([]string, len(list))
	for i, s := range list {
		n[i] = s.Name
	}
	return strings.Join(n, ", ")
}

// selectScenarios resolves --scenarios (comma-separated names or "all").
func selectScenarios(want []string, quick bool) ([]*Scenario, error) {
	all := Scenarios()
	if len(want) == 0 || (len(want) == 1 && want[0] == "all") {
		if !quick {
			return all, nil
		}
		var q []*Scenario
		for _, s := range all {
			if s.Quick {
				q = append(q, s)
			}
		}
		return q, nil
	}
	var out []*Scenario
	for _, n := range want {
		s, ok := registry[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, names(all))
		}
		out = append(out, s)
	}
	return out, nil
}

// goalSection lists every goal verdict the scenarios produced.
func goalSection(tables []*Table) string {
	var b strings.Builder
	b.WriteString("## Goals (issues 5, 6 and 7)\n\n")
	n := 0
	for _, t := range tables {
		for _, g := range t.Goals {
			verdict := "NOT MET"
			if g.Met {
				verdict = "MET"
			}
			fmt.Fprintf(&b, "- **%s** — %s: %s\n", verdict, g.Name, g.Detail)
			n++
		}
	}
	if n == 0 {
		b.WriteString("- (no goal-bearing scenario ran)\n")
	}
	b.WriteString("\n")
	return b.String()
}
