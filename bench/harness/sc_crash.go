package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/setsuna-io/setsuna/bench/hist"
	"github.com/setsuna-io/setsuna/client"
)

// Issue 17's long crash test: for --fsync always and everysec, 16 workers
// write (SET with TTLs, increments, deletes) through the Go client to
// `setsuna serve --data-dir D`; the server is killed with SIGKILL at 20
// random moments and restarted on the same directory, and after each
// restart every key's last acknowledged state is checked: value, presence
// and (within a minute) TTL.
func init() {
	Register(&Scenario{
		Name:  "crash",
		Title: "SIGKILL under write load, restart, check every acknowledged write (per fsync policy)",
		Order: 47,
		Run:   runCrash,
	})
}

const (
	crashCache     = "crash"
	crashWorkers   = 16
	crashKills     = 20
	crashKeys      = 500 // per worker
	crashCounters  = 20  // per worker
	crashMinLoad   = 500 * time.Millisecond
	crashMaxLoad   = 3 * time.Second
	crashTTLSlack  = time.Minute
	crashSnapAfter = "2MiB"
)

// crashState is what a key should hold.
type crashState struct {
	present  bool
	value    string
	deadline time.Time // expected expiry (present only)
	// deadline2, when set, is an equally acceptable expiry (an increment
	// may keep the key's earlier TTL or set a new one).
	deadline2 time.Time
}

// crashKey is one key's ledger: its last acknowledged state and, after a
// write that got no answer (the kill), the state that write would give.
type crashKey struct {
	acked   crashState
	unknown *crashState
}

// crashLedger belongs to one worker: the worker is the only writer of its
// keys, one write in flight at a time, so each key's order is known.
type crashLedger struct {
	w    int
	keys map[string]*crashKey
}

func (l *crashLedger) key(name string) *crashKey {
	k := l.keys[name]
	if k == nil {
		k = &crashKey{} // a fresh data directory: absent
		l.keys[name] = k
	}
	return k
}

// crashRound is what one load period between kills produced.
type crashRound struct {
	acked, unknown, earlyErrs int
	hist                      *hist.Histogram
	errs                      map[string]int
}

// crashPolicy is the outcome for one --fsync policy.
type crashPolicy struct {
	policy                  string
	kills                   int
	acked, unknown, checked int
	lost, ttlOff            int
	earlyErrs               int
	load                    time.Duration
	hist                    *hist.Histogram
	restarts                []time.Duration
	logBytes, snapBytes     int64
	logFiles, snapFiles     int
	snapsSeen               int
	verifyOut               string
	examples                []string
	errs                    map[string]int
}

func runCrash(e *Env) (*Table, error) {
	t := &Table{Header: []string{"fsync", "kills", "acked writes", "lost acked", "TTL off", "unknown outcome", "writes/s", "p50", "p99", "restart p50", "restart max", "log at end", "snapshot at end", "data verify"}}
	kills := crashKills
	if e.Quick() {
		kills = 3
	}
	fs := "unknown"
	for _, policy := range []string{"always", "everysec"} {
		dir, err := os.MkdirTemp("", "setsuna-bench-crash-")
		if err != nil {
			return t, err
		}
		defer os.RemoveAll(dir)
		fs = fsType(dir)
		p, err := crashPolicyRun(e, policy, dir, kills)
		if p != nil {
			t.Rows = append(t.Rows, crashRow(p))
			for _, x := range p.examples {
				t.AddNote("fsync %s: %s", policy, x)
			}
			if p.earlyErrs > 0 {
				t.AddNote("fsync %s: %d writes failed before the kill (counted as unknown outcome): %s", policy, p.earlyErrs, errSummary(p.errs))
			}
			t.Goals = append(t.Goals, Goal{
				Name: fmt.Sprintf("crash, fsync %s: no acknowledged write lost after SIGKILL", policy),
				Met:  err == nil && p.lost == 0 && p.ttlOff == 0 && p.kills == kills,
				Detail: fmt.Sprintf("%d kills, %d acknowledged writes, %d lost, %d with a TTL off by more than %v, %d of unknown outcome",
					p.kills, p.acked, p.lost, p.ttlOff, crashTTLSlack, p.unknown),
			})
		}
		if err != nil {
			return t, fmt.Errorf("fsync %s: %w", policy, err)
		}
	}
	t.AddNote("Each policy: a fresh `serve --data-dir D --fsync P --snapshot-after %s` (default 64 MiB; small so that kills also land in snapshots and compaction), %d workers on one Go `CacheClient`, each the only writer of its own %d keys and %d counters, one write in flight at a time: 70 %% SET (~100 B, TTL 30–60 min), 15 %% increment (TTL 30–60 min), 15 %% delete. After %v–%v of load (uniformly random) the server gets SIGKILL and is restarted on the same directory; then every key of every worker is read (Get, and ItemGetTtl when present) and compared with its last acknowledged state (present with that value, or absent after a delete). A write that got an error at the kill is of unknown outcome: either its state or the previous one is accepted, and the one found becomes the known state.", crashSnapAfter, crashWorkers, crashKeys, crashCounters, crashMinLoad, crashMaxLoad)
	t.AddNote("lost acked: keys whose value or presence differs from every acceptable state (must be 0 for both policies: a process crash loses nothing acknowledged even with everysec, because a write is answered once the OS has it). TTL off: remaining TTL more than %v from the expected one. writes/s and p50/p99: acknowledged writes per second of load and their latency, over all load periods. restart: from spawning the process to its port accepting connections (polled every 20 ms), log replay included. Log and snapshot: the bytes of `*.wal` and `*.snap` files in D/engine after the last restart. data verify: `setsuna data verify D` after the last kill of the run.", crashTTLSlack)
	t.AddNote("**Power-loss windows are not measurable by killing a process**: SIGKILL leaves the page cache to the OS, so everysec's ~1 s of unfsynced writes (and `no`'s up to ~30 s) survive here; only a machine crash or power cut loses them (cmd/setsuna's crash test simulates one by cutting the log back to its last fsync).")
	t.AddNote("Data directories on %s. The machine was shared and loaded during the quoted run: throughput, latency and restart times carry that noise; the correctness columns do not.", fs)
	return t, nil
}

func crashRow(p *crashPolicy) []string {
	rate := 0.0
	if p.load > 0 {
		rate = float64(p.acked) / p.load.Seconds()
	}
	rs := append([]time.Duration(nil), p.restarts...)
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	var r50, rmax time.Duration
	if len(rs) > 0 {
		r50, rmax = rs[(len(rs)-1)/2], rs[len(rs)-1]
	}
	return []string{p.policy, fmt.Sprint(p.kills), fmt.Sprint(p.acked), fmt.Sprint(p.lost), fmt.Sprint(p.ttlOff), fmt.Sprint(p.unknown),
		fmtRate(rate), fmtDur(p.hist.QuantileDuration(0.5)), fmtDur(p.hist.QuantileDuration(0.99)), fmtDur(r50), fmtDur(rmax),
		fmt.Sprintf("%s (%d files)", fmtBytes(p.logBytes), p.logFiles), fmt.Sprintf("%s (%d; %d seen)", fmtBytes(p.snapBytes), p.snapFiles, p.snapsSeen), p.verifyOut}
}

func crashPolicyRun(e *Env, policy, dir string, kills int) (*crashPolicy, error) {
	p := &crashPolicy{policy: policy, hist: hist.New(), errs: map[string]int{}}
	args := []string{"--data-dir", dir, "--fsync", policy, "--snapshot-after", crashSnapAfter}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	ledgers := make([]*crashLedger, crashWorkers)
	for w := range ledgers {
		ledgers[w] = &crashLedger{w: w, keys: map[string]*crashKey{}}
	}
	s, err := e.startSetsunaWith(args...)
	if err != nil {
		return p, err
	}
	c, err := crashClient(e.Context(), s.Addr, true)
	if err != nil {
		return p, err
	}
	snaps := map[string]bool{}
	for round := range kills {
		if e.Context().Err() != nil {
			c.Close()
			return p, e.Context().Err()
		}
		load := crashMinLoad + time.Duration(rng.Int64N(int64(crashMaxLoad-crashMinLoad)))
		r := crashLoad(c, s, ledgers, policy, round, load, rng.Uint64())
		c.Close()
		p.kills++
		p.load += load
		p.acked += r.acked
		p.unknown += r.unknown
		p.earlyErrs += r.earlyErrs
		p.hist.Merge(r.hist)
		for k, n := range r.errs {
			p.errs[k] += n
		}
		names, _ := filepath.Glob(filepath.Join(dir, "engine", "*.snap"))
		for _, n := range names {
			snaps[n] = true
		}
		t0 := time.Now()
		s, err = e.startSetsunaWith(args...)
		if err != nil {
			return p, fmt.Errorf("restart after kill %d: %w", round+1, err)
		}
		p.restarts = append(p.restarts, time.Since(t0))
		c, err = crashClient(e.Context(), s.Addr, false)
		if err != nil {
			return p, err
		}
		checked, lost, ttlOff, ex, err := crashVerify(e.Context(), c, ledgers)
		p.checked += checked
		p.lost += lost
		p.ttlOff += ttlOff
		for _, x := range ex {
			if len(p.examples) < 5 {
				p.examples = append(p.examples, fmt.Sprintf("after kill %d: %s", round+1, x))
			}
		}
		if err != nil {
			c.Close()
			return p, fmt.Errorf("verify after kill %d: %w", round+1, err)
		}
		e.Logf("fsync %s: kill %d/%d after %v: %d acked, %d unknown; restart %v; %d keys checked, %d lost, %d TTL off",
			policy, round+1, kills, load.Round(time.Millisecond), r.acked, r.unknown, p.restarts[len(p.restarts)-1].Round(time.Millisecond), checked, lost, ttlOff)
	}
	c.Close()
	p.snapsSeen = len(snaps)
	p.logBytes, p.logFiles = dirBytes(filepath.Join(dir, "engine"), ".wal")
	p.snapBytes, p.snapFiles = dirBytes(filepath.Join(dir, "engine"), ".snap")
	// Kill once more and check the directory offline, as it was left.
	s.kill()
	p.verifyOut = dataVerify(e.opts.SetsunaArgs("", "", "", "")[0], dir)
	return p, nil
}

// kill ends the server with SIGKILL and waits for it.
func (s *Server) kill() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	err := <-s.done
	s.done <- err
}

// crashClient connects to addr and waits until the server answers (with
// create, by creating the crash cache).
func crashClient(ctx context.Context, addr string, create bool) (*client.CacheClient, error) {
	c, err := client.NewCacheClient(client.Config{Address: addr, Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		if create {
			_, err = c.CreateCache(cctx, &client.CreateCacheRequest{CacheName: crashCache})
		} else {
			_, err = c.Get(cctx, &client.GetRequest{CacheName: crashCache, Key: client.String("probe")})
		}
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			c.Close()
			return nil, fmt.Errorf("setsuna at %s not ready: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashLoad runs the workers for load, then kills the server and waits for
// every worker to stop at its first error.
func crashLoad(c *client.CacheClient, s *Server, ledgers []*crashLedger, policy string, round int, load time.Duration, seed uint64) *crashRound {
	out := &crashRound{hist: hist.New(), errs: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var killedAt time.Time
	var killMu sync.Mutex
	for _, l := range ledgers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(l.w)))
			h := hist.New()
			acked := 0
			var failed error
			var failedAt time.Time
			for i := 0; failed == nil; i++ {
				name, next, call := crashOp(l, rng, policy, round, i)
				start := time.Now()
				next.deadline = start.Add(next.ttl)
				err := call(c, next)
				k := l.key(name)
				if err != nil {
					failed, failedAt = err, time.Now()
					st := next.state(k.acked)
					k.unknown = &st
					break
				}
				h.RecordDuration(time.Since(start))
				k.acked = next.state(k.acked)
				acked++
			}
			killMu.Lock()
			early := killedAt.IsZero() || failedAt.Before(killedAt)
			killMu.Unlock()
			mu.Lock()
			out.acked += acked
			out.unknown++
			if early {
				out.earlyErrs++
				out.errs[errKind(failed)]++
			}
			out.hist.Merge(h)
			mu.Unlock()
		}()
	}
	time.Sleep(load)
	killMu.Lock()
	killedAt = time.Now()
	killMu.Unlock()
	s.kill()
	wg.Wait()
	return out
}

// crashWrite is one write and the state it leaves.
type crashWrite struct {
	kind     byte // 's' set, 'i' increment, 'd' delete
	key      string
	value    string
	amount   int64
	ttl      time.Duration
	deadline time.Time
}

// state is the key's state after w, given the state before it.
func (w *crashWrite) state(prev crashState) crashState {
	switch w.kind {
	case 's':
		return crashState{present: true, value: w.value, deadline: w.deadline}
	case 'i':
		n := int64(0)
		if prev.present {
			n, _ = strconv.ParseInt(prev.value, 10, 64)
		}
		st := crashState{present: true, value: strconv.FormatInt(n+w.amount, 10), deadline: w.deadline}
		if prev.present {
			st.deadline2 = prev.deadline
		}
		return st
	default:
		return crashState{}
	}
}

func crashOp(l *crashLedger, rng *rand.Rand, policy string, round, i int) (string, *crashWrite, func(*client.CacheClient, *crashWrite) error) {
	ttl := 30*time.Minute + time.Duration(rng.Int64N(int64(30*time.Minute)))
	ctx := context.Background()
	switch x := rng.IntN(100); {
	case x < 70:
		w := &crashWrite{kind: 's', key: fmt.Sprintf("w%d-k%d", l.w, rng.IntN(crashKeys)), ttl: ttl}
		v := fmt.Sprintf("%s-r%d-w%d-%d-", policy, round, l.w, i)
		w.value = v + strings.Repeat("x", max(0, 100-len(v)))
		return w.key, w, func(c *client.CacheClient, w *crashWrite) error {
			_, err := c.Set(ctx, &client.SetRequest{CacheName: crashCache, Key: client.String(w.key), Value: client.String(w.value), Ttl: w.ttl})
			return err
		}
	case x < 85:
		w := &crashWrite{kind: 'i', key: fmt.Sprintf("w%d-c%d", l.w, rng.IntN(crashCounters)), amount: 1 + rng.Int64N(9), ttl: ttl}
		return w.key, w, func(c *client.CacheClient, w *crashWrite) error {
			_, err := c.Increment(ctx, &client.IncrementRequest{CacheName: crashCache, Key: client.String(w.key), Amount: w.amount, Ttl: w.ttl})
			return err
		}
	default:
		w := &crashWrite{kind: 'd', key: fmt.Sprintf("w%d-k%d", l.w, rng.IntN(crashKeys))}
		return w.key, w, func(c *client.CacheClient, w *crashWrite) error {
			_, err := c.Delete(ctx, &client.DeleteRequest{CacheName: crashCache, Key: client.String(w.key)})
			return err
		}
	}
}

// crashVerify reads every key of every ledger (16 goroutines, one per
// worker) and compares it with the acceptable states. A key found in its
// unknown write's state takes that as its known state.
func crashVerify(ctx context.Context, c *client.CacheClient, ledgers []*crashLedger) (checked, lost, ttlOff int, examples []string, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, l := range ledgers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n, nl, nt int
			var ex []string
			var ferr error
			for name, k := range l.keys {
				got, err := crashRead(ctx, c, name)
				if err != nil {
					ferr = fmt.Errorf("%s: %w", name, err)
					break
				}
				n++
				now := time.Now()
				var match *crashState
				for _, cand := range []*crashState{&k.acked, k.unknown} {
					if cand != nil && cand.present == got.present && cand.value == got.value {
						match = cand
						break
					}
				}
				if match == nil {
					nl++
					if len(ex) < 2 {
						ex = append(ex, fmt.Sprintf("%s: found %s, acknowledged %s%s", name, got.describe(), k.acked.describe(), unknownDesc(k.unknown)))
					}
					k.acked, k.unknown = got, nil // go on from what is there
					continue
				}
				if match.present && !ttlClose(match, got.deadline, now) {
					nt++
					if len(ex) < 2 {
						ex = append(ex, fmt.Sprintf("%s: remaining TTL %v, expected %v", name, got.deadline.Sub(now).Round(time.Second), match.deadline.Sub(now).Round(time.Second)))
					}
				}
				k.acked, k.unknown = *match, nil
			}
			mu.Lock()
			checked += n
			lost += nl
			ttlOff += nt
			examples = append(examples, ex...)
			if firstErr == nil {
				firstErr = ferr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return checked, lost, ttlOff, examples, firstErr
}

func ttlClose(want *crashState, got, now time.Time) bool {
	near := func(d time.Time) bool {
		diff := got.Sub(d)
		return !d.IsZero() && diff < crashTTLSlack && diff > -crashTTLSlack
	}
	return got.After(now) && (near(want.deadline) || near(want.deadline2))
}

func (s crashState) describe() string {
	if !s.present {
		return "absent"
	}
	v := s.value
	if len(v) > 24 {
		v = v[:24] + "…"
	}
	return fmt.Sprintf("%q", v)
}

func unknownDesc(u *crashState) string {
	if u == nil {
		return ""
	}
	return " (or, unanswered, " + u.describe() + ")"
}

// crashRead returns a key's state on the server (deadline from its
// remaining TTL).
func crashRead(ctx context.Context, c *client.CacheClient, name string) (crashState, error) {
	r, err := c.Get(ctx, &client.GetRequest{CacheName: crashCache, Key: client.String(name)})
	if err != nil {
		return crashState{}, err
	}
	hit, ok := r.(*client.GetHit)
	if !ok {
		return crashState{}, nil
	}
	st := crashState{present: true, value: hit.ValueString()}
	tr, err := c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: crashCache, Key: client.String(name)})
	if err != nil {
		return st, err
	}
	if th, ok := tr.(*client.ItemGetTtlHit); ok {
		st.deadline = time.Now().Add(th.RemainingTtl())
	}
	return st, nil
}

// dirBytes sums the sizes of the files in dir whose names end in ext.
func dirBytes(dir, ext string) (int64, int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	var n int64
	files := 0
	for _, de := range ents {
		if filepath.Ext(de.Name()) != ext {
			continue
		}
		if info, err := de.Info(); err == nil {
			n += info.Size()
			files++
		}
	}
	return n, files
}

// dataVerify runs `setsuna data verify dir` and summarises its outcome.
func dataVerify(exe, dir string) string {
	out, err := exec.Command(exe, "data", "verify", dir).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			last := strings.TrimSpace(string(out))
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:]
			}
			return fmt.Sprintf("**exit %d**: %s", ee.ExitCode(), last)
		}
		return "not run: " + err.Error()
	}
	return "ok"
}

func errKind(err error) string {
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func errSummary(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%d× %s", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
