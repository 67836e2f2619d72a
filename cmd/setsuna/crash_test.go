package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
	"github.com/setsuna-io/setsuna/internal/testnode"
)

// The crash tests run the built binary (testnode.StartProc), write to it
// through the Go client, kill it with SIGKILL at random moments and check
// after each restart that every acknowledged write is there.

// (TestMain, in reload_test.go, removes the binary testnode built.)

type crashServer struct {
	p    *testnode.Proc
	addr string
}

// startCrashServer starts `setsuna serve --data-dir dir` as a process.
func startCrashServer(t *testing.T, dir string, args ...string) *crashServer {
	t.Helper()
	p := testnode.StartProc(t, append([]string{"--data-dir", dir}, args...)...)
	return &crashServer{p: p, addr: p.Addr}
}

func (s *crashServer) kill() { s.p.Kill() } // SIGKILL

// write is one acknowledged or possibly applied write.
type write struct {
	key, field, value string // field != "": a dictionary field
}

type crashLedger struct {
	mu    sync.Mutex
	acked map[string]string   // key or dict/field -> last acknowledged value
	maybe map[string][]string // values sent after it without an answer
	fresh map[string]bool     // acknowledged since the last verify
}

func (l *crashLedger) id(w write) string { return w.key + "\x00" + w.field }

func (l *crashLedger) record(w write, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.id(w)
	if err == nil {
		l.acked[id] = w.value
		l.fresh[id] = true
		delete(l.maybe, id)
	} else {
		l.maybe[id] = append(l.maybe[id], w.value)
	}
}

// runWriters writes through the Go client from 4 goroutines until the
// server is killed after `after` acknowledged writes.
func runWriters(t *testing.T, s *crashServer, round, after int, led *crashLedger) (acked int) {
	t.Helper()
	c, err := client.NewCacheClient(client.Config{Address: s.addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				var wr write
				var err error
				ctx := context.Background()
				switch i % 3 {
				case 0, 1: // a new key, and a key overwritten every round
					wr = write{key: fmt.Sprintf("r%d-w%d-%d", round, w, i), value: fmt.Sprintf("v%d", i)}
					if i%3 == 1 {
						wr.key = fmt.Sprintf("hot-w%d", w)
						wr.value = fmt.Sprintf("r%d-%d", round, i)
					}
					_, err = c.Set(ctx, &client.SetRequest{CacheName: "crash", Key: client.String(wr.key), Value: client.String(wr.value), Ttl: time.Hour})
				case 2: // a dictionary field
					wr = write{key: fmt.Sprintf("dict-w%d", w), field: fmt.Sprintf("r%d-%d", round, i), value: fmt.Sprint(i)}
					_, err = c.DictionarySetField(ctx, &client.DictionarySetFieldRequest{CacheName: "crash", DictionaryName: wr.key,
						Field: client.String(wr.field), Value: client.String(wr.value), Ttl: &client.CollectionTtl{Ttl: time.Hour, RefreshTtl: true}})
				}
				led.record(wr, err)
				if err != nil {
					return // killed
				}
				mu.Lock()
				acked++
				kill := acked == after
				mu.Unlock()
				if kill {
					s.kill()
					close(killed)
				}
			}
		}()
	}
	wg.Wait()
	return acked
}

// verify checks acknowledged writes: the value is the acknowledged one or
// a later unanswered one, and the TTL is within the hour it was given. It
// checks those acknowledged since the last verify and a sample of the
// others, or with all every one.
func verify(t *testing.T, addr string, led *crashLedger, all bool) (lost int) {
	t.Helper()
	c, err := client.NewCacheClient(client.Config{Address: addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	led.mu.Lock()
	defer led.mu.Unlock()
	sample := 50
	ttlChecked := map[string]bool{}
	for id, want := range led.acked {
		if !all && !led.fresh[id] {
			if sample == 0 {
				continue
			}
			sample--
		}
		key, field, _ := strings.Cut(id, "\x00")
		var got string
		var found bool
		if field == "" {
			r, err := c.Get(ctx, &client.GetRequest{CacheName: "crash", Key: client.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if hit, ok := r.(*client.GetHit); ok {
				got, found = hit.ValueString(), true
			}
		} else {
			r, err := c.DictionaryGetField(ctx, &client.DictionaryGetFieldRequest{CacheName: "crash", DictionaryName: key, Field: client.String(field)})
			if err != nil {
				t.Fatal(err)
			}
			if hit, ok := r.(*client.DictionaryGetFieldHit); ok {
				got, found = hit.ValueString(), true
			}
		}
		ok := found && (got == want || contains(led.maybe[id], got))
		if !ok {
			lost++
			continue
		}
		if ttlChecked[key] {
			continue
		}
		ttlChecked[key] = true
		r, err := c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: "crash", Key: client.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		hit, isHit := r.(*client.ItemGetTtlHit)
		if !isHit || hit.RemainingTtl() <= 0 || hit.RemainingTtl() > time.Hour {
			t.Errorf("%q: TTL %v, want within (0, 1h]", key, r)
		}
	}
	clear(led.fresh)
	return lost
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func createCrashCache(t *testing.T, addr string) {
	t.Helper()
	c, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: "crash"}); err != nil {
		t.Fatal(err)
	}
}

// With --fsync always, a SIGKILL at any moment loses no acknowledged write:
// 20 kills at random points, small snapshots so that kills also hit
// snapshots and compaction.
func TestCrashFsyncAlways(t *testing.T) {
	crashRounds(t, "always", 20)
}

// With --fsync everysec a killed process loses nothing acknowledged either
// (writes are acknowledged once written to the OS); what a power loss
// would take is measured by cutting the log back to the last fsync.
func TestCrashFsyncEverySec(t *testing.T) {
	dir := crashRounds(t, "everysec", 5)
	led := &crashLedger{acked: map[string]string{}, maybe: map[string][]string{}, fresh: map[string]bool{}}
	s := startCrashServer(t, dir, "--fsync", "everysec")
	began := time.Now()
	acked := runWriters(t, s, 99, 3000, led)
	killedAfter := time.Since(began)
	// A power loss keeps at least what the last fsync covered.
	eng := filepath.Join(dir, "engine")
	segs, err := wal.ListSegments(eng)
	if err != nil {
		t.Fatal(err)
	}
	last := segs[len(segs)-1]
	info, err := wal.ScanSegment(eng, last, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if info.MaxSynced > 0 && info.MaxSynced < info.End {
		os.Truncate(filepath.Join(eng, wal.SegmentName(last)), info.MaxSynced)
	}
	s = startCrashServer(t, dir, "--fsync", "everysec")
	items := len(led.acked)
	lost := verify(t, s.addr, led, true)
	t.Logf("everysec, simulated power loss (log cut back to the last fsync): %d of the %d items written lost their last acknowledged write (%d writes acknowledged over %v; %d log bytes had not been fsynced yet)",
		lost, items, acked, killedAfter.Round(time.Millisecond), info.End-max(info.MaxSynced, 0))
}

// crashRounds runs rounds of write, SIGKILL, restart, verify.
func crashRounds(t *testing.T, fsync string, rounds int) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	led := &crashLedger{acked: map[string]string{}, maybe: map[string][]string{}, fresh: map[string]bool{}}
	args := []string{"--fsync", fsync, "--snapshot-after", "8KiB"}
	s := startCrashServer(t, dir, args...)
	createCrashCache(t, s.addr)
	total, snaps := 0, map[string]bool{}
	for round := range rounds {
		total += runWriters(t, s, round, 10+rng.IntN(120), led)
		names, _ := filepath.Glob(filepath.Join(dir, "engine", "*.snap"))
		for _, n := range names {
			snaps[n] = true
		}
		s = startCrashServer(t, dir, args...)
		if lost := verify(t, s.addr, led, round == rounds-1); lost > 0 {
			t.Fatalf("fsync %s, round %d: %d acknowledged writes lost after SIGKILL", fsync, round, lost)
		}
	}
	t.Logf("fsync %s: %d SIGKILLs, %d acknowledged writes, none lost; %d snapshots taken between kills", fsync, rounds, total, len(snaps))
	s.kill()
	if code := data([]string{"verify", dir}, io.Discard, io.Discard); code != 0 {
		var out strings.Builder
		data([]string{"verify", dir}, &out, &out)
		t.Fatalf("data verify after the crashes: exit %d\n%s", code, out.String())
	}
	return dir
}
