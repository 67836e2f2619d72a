package memstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

var bg = context.Background()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fill writes keys k0..k(n-1) to cache c and messages to topic c/t.
func fill(t testing.TB, s *Store, tl *TopicLog, cache string, n int) store.CacheInfo {
	t.Helper()
	info, err := s.CacheInfo(bg, cache)
	if err != nil {
		info, err = s.CreateCache(bg, cache, store.CacheConfig{Partitions: 2})
		must(t, err)
	}
	for i := range n {
		must(t, s.Set(bg, cache, fmt.Appendf(nil, "k%d", i), fmt.Appendf(nil, "v%d", i), 0))
	}
	for i := range 3 {
		_, _, err := tl.Append(bg, store.TopicRef{Cache: cache, Epoch: info.Epoch, Name: "t"}, store.TopicValue{Data: fmt.Appendf(nil, "m%d", i)}, "")
		must(t, err)
	}
	return info
}

func lastSegment(t testing.TB, dir string) string {
	segs, err := wal.ListSegments(dir)
	must(t, err)
	return filepath.Join(dir, wal.SegmentName(segs[len(segs)-1]))
}

func present(s *Store, cache string, n int) (have int) {
	for i := range n {
		if _, ok, _ := s.Get(bg, cache, fmt.Appendf(nil, "k%d", i)); ok {
			have++
		}
	}
	return have
}

var noSnap = PersistOptions{Fsync: wal.FsyncNo, SnapshotAfter: -1}

// Corruption kind 1: a record cut short at the end (a crash in the middle
// of a write) is cut with a warning; the start goes on without it.
func TestRestoreTruncatedRecord(t *testing.T) {
	dir := t.TempDir()
	s, tl := openP(t, dir, Options{}, noSnap)
	fill(t, s, tl, "c", 0)
	must(t, s.Set(bg, "c", []byte("last"), []byte("x"), 0)) // the last record
	closeP(t, s, tl)
	seg := lastSegment(t, dir)
	st, _ := os.Stat(seg)
	must(t, os.Truncate(seg, st.Size()-20)) // the clean-close header and 2 bytes of the record
	s, tl = openP(t, dir, Options{}, noSnap)
	defer closeP(t, s, tl)
	rep := s.Restored()
	if rep.TornBytes == 0 || rep.Clean || rep.Lost {
		t.Fatalf("report %+v, want a torn tail cut", rep)
	}
	if _, ok, _ := s.Get(bg, "c", []byte("last")); ok {
		t.Fatal("the torn record was applied")
	}
	if _, msgs, _ := tl.Read(bg, store.TopicRef{Cache: "c", Epoch: mustInfo(t, s, "c").Epoch, Name: "t"}, 1, 10); len(msgs) != 3 {
		t.Fatalf("%d messages after the cut, want 3", len(msgs))
	}
}

func mustInfo(t testing.TB, s *Store, cache string) store.CacheInfo {
	t.Helper()
	info, err := s.CacheInfo(bg, cache)
	must(t, err)
	return info
}

func flip(t testing.TB, path string, at func(size int) int) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	data[at(len(data))] ^= 0x20
	must(t, os.WriteFile(path, data, 0o600))
}

// Corruption kind 2: a flipped byte in the middle of the log refuses the
// start; --repair keeps the records before it and changes every epoch and
// page, so that readers see the loss.
func TestRestoreFlippedRecord(t *testing.T) {
	dir := t.TempDir()
	s, tl := openP(t, dir, Options{}, noSnap)
	before := fill(t, s, tl, "c", 100)
	closeP(t, s, tl)
	flip(t, lastSegment(t, dir), func(n int) int { return n / 2 })

	_, _, err := Open(Options{Logger: quiet}, TopicLogOptions{}, PersistOptions{Dir: dir})
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("open of a corrupt log: %v, want a CorruptError", err)
	}
	if _, err := Verify(dir, Options{}, TopicLogOptions{}); !errors.As(err, &ce) {
		t.Fatalf("verify: %v, want a CorruptError", err)
	}
	s, tl = openP(t, dir, Options{}, PersistOptions{Repair: true})
	defer closeP(t, s, tl)
	rep := s.Restored()
	after := mustInfo(t, s, "c")
	have := present(s, "c", 100)
	if !rep.Lost || after.Epoch == before.Epoch || have == 0 || have == 100 {
		t.Fatalf("repaired: lost %v, epoch %d -> %d, %d of 100 keys kept", rep.Lost, before.Epoch, after.Epoch, have)
	}
	// The topic is gone: it comes back with a new page.
	if st, _, _ := tl.Read(bg, store.TopicRef{Cache: "c", Epoch: after.Epoch, Name: "t"}, 1, 10); st.Page != 0 {
		t.Fatalf("topic survived a repair: %+v", st)
	}
	// And the repaired directory starts cleanly next time.
	closeP(t, s, tl)
	s, tl = openP(t, dir, Options{}, noSnap)
	if got := mustInfo(t, s, "c"); got.Epoch != after.Epoch || present(s, "c", 100) != have {
		t.Fatalf("after the repair, a restart gives epoch %d and %d keys, want %d and %d", got.Epoch, present(s, "c", 100), after.Epoch, have)
	}
}

// Corruption kinds 3 and 4: a damaged or missing snapshot refuses the
// start; --repair keeps only what the log after it holds whole (caches
// created after the snapshot), with new epochs.
func TestRestoreBadSnapshot(t *testing.T) {
	for _, kind := range []string{"flipped", "missing"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s, tl := openP(t, dir, Options{}, noSnap)
			fill(t, s, tl, "old", 10)
			must(t, s.Snapshot())
			fill(t, s, tl, "old", 20)
			newer := fill(t, s, tl, "new", 10)
			closeP(t, s, tl)
			snaps, _ := listSnapshots(dir)
			path := filepath.Join(dir, snapName(snaps[0]))
			if kind == "flipped" {
				flip(t, path, func(n int) int { return n - 40 })
			} else {
				must(t, os.Remove(path))
			}
			_, _, err := Open(Options{Logger: quiet}, TopicLogOptions{}, PersistOptions{Dir: dir})
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("open: %v, want a CorruptError", err)
			}
			s, tl = openP(t, dir, Options{}, PersistOptions{Repair: true})
			defer closeP(t, s, tl)
			if _, err := s.CacheInfo(bg, "old"); !errors.Is(err, errs.ErrCacheNotFound) {
				t.Fatalf("cache from before the snapshot: %v, want it gone", err)
			}
			got := mustInfo(t, s, "new")
			if got.Epoch == newer.Epoch || present(s, "new", 10) != 10 || !s.Restored().Lost {
				t.Fatalf("cache from after the snapshot: epoch %d (was %d), %d keys", got.Epoch, newer.Epoch, present(s, "new", 10))
			}
		})
	}
}

func copyDir(t testing.TB, from string) string {
	t.Helper()
	to := t.TempDir()
	ents, err := os.ReadDir(from)
	must(t, err)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(to, e.Name()), data, 0o600))
	}
	return to
}

// A crash (the directory as a killed process leaves it): everything
// acknowledged is there, LSNs jump so that numbers seen before the crash
// are never reused, and a feed position saved before it resumes exactly.
func TestRestoreAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, tl := openP(t, dir, Options{}, noSnap)
	info := fill(t, s, tl, "c", 50)
	part := info.PartitionOf([]byte("k1"))
	page, err := s.ReadFeed(bg, "c", store.FeedRead{Partition: part, Mode: store.FeedLatestVersion, PageSizeHint: MaxFeedPageSize})
	must(t, err)
	saved := page.LastLSN
	topicState, _ := tl.Open(bg, store.TopicRef{Cache: "c", Epoch: info.Epoch, Name: "t"})
	crashed := copyDir(t, dir)
	closeP(t, s, tl)

	s, tl = openP(t, crashed, Options{}, noSnap)
	defer closeP(t, s, tl)
	if rep := s.Restored(); rep.Clean || rep.Lost || present(s, "c", 50) != 50 {
		t.Fatalf("after a crash: %+v, %d of 50 keys", rep, present(s, "c", 50))
	}
	if got := mustInfo(t, s, "c"); got.Epoch != info.Epoch {
		t.Fatalf("epoch changed by a crash: %d -> %d", info.Epoch, got.Epoch)
	}
	must(t, s.Set(bg, "c", []byte("k1"), []byte("new"), 0))
	page, err = s.ReadFeed(bg, "c", store.FeedRead{Partition: part, Epoch: info.Epoch, Mode: store.FeedLatestVersion, AfterLSN: saved})
	must(t, err)
	if len(page.Changes) != 1 || string(page.Changes[0].Key) != "k1" || page.Changes[0].LSN <= saved+lsnGap {
		t.Fatalf("feed after the saved position: %+v", page.Changes)
	}
	ref := store.TopicRef{Cache: "c", Epoch: info.Epoch, Name: "t"}
	st, msgs, _ := tl.Read(bg, ref, 1, 10)
	if st.Page != topicState.Page || len(msgs) != 3 {
		t.Fatalf("topic after a crash: %+v with %d messages, want page %d and 3", st, len(msgs), topicState.Page)
	}
	seq, pg, err := tl.Append(bg, ref, store.TopicValue{Data: []byte("m3")}, "")
	if err != nil || seq != 4 || pg != topicState.Page {
		t.Fatalf("append after a crash: seq %d page %d %v, want 4 on page %d", seq, pg, err, topicState.Page)
	}
}

// Items keep their absolute expiry: an item expired by the time of the
// restart stays expired, one that is not keeps its remaining time.
func TestRestoreExpiry(t *testing.T) {
	dir := t.TempDir()
	clk := newTestClock()
	s, tl := openP(t, dir, Options{Now: clk.Now}, noSnap)
	_, err := s.CreateCache(bg, "c", store.CacheConfig{})
	must(t, err)
	must(t, s.Set(bg, "c", []byte("short"), []byte("x"), 10*time.Second))
	must(t, s.Set(bg, "c", []byte("long"), []byte("y"), time.Hour))
	want := clk.Now().Add(time.Hour)
	closeP(t, s, tl)
	clk.Add(30 * time.Second)
	s, tl = openP(t, dir, Options{Now: clk.Now}, noSnap)
	defer closeP(t, s, tl)
	if _, ok, _ := s.Get(bg, "c", []byte("short")); ok {
		t.Fatal("an item that expired while the server was down is back")
	}
	m, ok, err := s.Meta(bg, "c", []byte("long"))
	if err != nil || !ok || !m.ExpiresAt.Equal(want) {
		t.Fatalf("long-lived item: %+v %v %v, want expiry %v", m, ok, err, want)
	}
}

// fullFS makes segment writes fail with ENOSPC while full is set.
type fullFS struct {
	full chan bool // holds the current state
}

type fullFile struct {
	*os.File
	fs *fullFS
}

func (f *fullFile) Write(p []byte) (int, error) {
	full := <-f.fs.full
	f.fs.full <- full
	if full {
		return 0, fmt.Errorf("write: %w", syscall.ENOSPC)
	}
	return f.File.Write(p)
}

func (fs *fullFS) set(v bool) {
	<-fs.full
	fs.full <- v
}

// A full disk fails writes with RESOURCE_EXHAUSTED while reads go on; once
// space is back, writes succeed, and a restart has every acknowledged one.
func TestRestoreDiskFull(t *testing.T) {
	dir := t.TempDir()
	fs := &fullFS{full: make(chan bool, 1)}
	fs.full <- false
	popts := noSnap
	popts.WAL.Create = func(path string) (wal.File, error) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		return &fullFile{File: f, fs: fs}, err
	}
	popts.WAL.RetryInterval = time.Hour // retried by Flush only
	s, tl := openP(t, dir, Options{}, popts)
	_, err := s.CreateCache(bg, "c", store.CacheConfig{})
	must(t, err)
	must(t, s.Set(bg, "c", []byte("acked"), []byte("1"), 0))
	fs.set(true)
	// The write in flight when the disk fills: applied, not logged.
	if err := s.Set(bg, "c", []byte("inflight"), []byte("2"), 0); !errors.Is(err, errs.ErrOutcomeUnknown) {
		t.Fatalf("write as the disk fills: %v, want outcome unknown", err)
	}
	err = s.Set(bg, "c", []byte("refused"), []byte("3"), 0)
	if !errors.Is(err, errs.ErrDiskFull) || errs.CodeOf(err) != errs.CodeResourceExhausted {
		t.Fatalf("write on a full disk: %v, want disk_full (RESOURCE_EXHAUSTED)", err)
	}
	if _, _, err := tl.Append(bg, store.TopicRef{Cache: "c", Epoch: mustInfo(t, s, "c").Epoch, Name: "t"}, store.TopicValue{Data: []byte("x")}, ""); !errors.Is(err, errs.ErrDiskFull) {
		t.Fatalf("publish on a full disk: %v", err)
	}
	if v, ok, err := s.Get(bg, "c", []byte("acked")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("read on a full disk: %q %v %v", v, ok, err)
	}
	fs.set(false)
	must(t, s.ps.log.Flush())
	must(t, s.Set(bg, "c", []byte("after"), []byte("4"), 0))
	closeP(t, s, tl)
	s, tl = openP(t, dir, Options{}, noSnap)
	defer closeP(t, s, tl)
	for k, want := range map[string]bool{"acked": true, "inflight": true, "refused": false, "after": true} {
		if _, ok, _ := s.Get(bg, "c", []byte(k)); ok != want {
			t.Errorf("%s after the restart: present %v, want %v", k, ok, want)
		}
	}
}

// The data directory is one process's.
func TestRestoreLocked(t *testing.T) {
	dir := t.TempDir()
	s, tl := openP(t, dir, Options{}, noSnap)
	defer closeP(t, s, tl)
	if _, _, err := Open(Options{Logger: quiet}, TopicLogOptions{}, PersistOptions{Dir: dir}); err == nil {
		t.Fatal("a second Open of a directory in use succeeded")
	}
}

// Fuzz the record decoder: no input may panic the replay.
func FuzzReplayRecord(f *testing.F) {
	s, tl := openP(f, f.TempDir(), Options{}, noSnap)
	info := fill(f, s, tl, "c", 3)
	must(f, s.DictionarySet(bg, "c", []byte("d"), []store.FieldValue{{Field: []byte("f"), Value: []byte("v")}}, store.CollectionTTL{}))
	must(f, s.DictionarySet(bg, "c", []byte("d"), []store.FieldValue{{Field: []byte("g"), Value: []byte("w")}}, store.CollectionTTL{}))
	_, err := s.ListPush(bg, "c", []byte("l"), [][]byte{[]byte("a")}, true, 0, store.CollectionTTL{})
	must(f, err)
	_ = info
	closeP(f, s, tl)
	segs, _ := wal.ListSegments(s.ps.opts.Dir)
	wal.ScanSegment(s.ps.opts.Dir, segs[0], func(rec []byte) error {
		f.Add(append([]byte(nil), rec...))
		return nil
	})
	f.Fuzz(func(t *testing.T, rec []byte) {
		r := newReplayer(Options{Logger: quiet, ExpirySweepInterval: -1}, TopicLogOptions{}, PersistOptions{})
		defer func() { r.tl.Close(); r.s.Close() }()
		r.addCache("c", 7, 2, store.KeyPlain, 0, nil)
		r.apply(rec)
		r.apply(rec)
	})
}

// An AppendOnce key outlives a restart within its window: the retry of a
// publish whose answer was lost lands once.
func TestRestoreIdempotencyKeys(t *testing.T) {
	for _, snap := range []bool{false, true} {
		t.Run(fmt.Sprint("snapshot=", snap), func(t *testing.T) {
			dir := t.TempDir()
			s, tl := openP(t, dir, Options{}, noSnap)
			info, err := s.CreateCache(bg, "c", store.CacheConfig{})
			must(t, err)
			ref := store.TopicRef{Cache: "c", Epoch: info.Epoch, Name: "t"}
			seq, page, dup, err := tl.AppendOnce(bg, ref, store.TopicValue{Data: []byte("m")}, "", "key-1", time.Hour)
			if err != nil || dup {
				t.Fatalf("first AppendOnce: %v dup=%v", err, dup)
			}
			if snap {
				must(t, s.Snapshot())
			}
			closeP(t, s, tl)
			s, tl = openP(t, dir, Options{}, noSnap)
			defer closeP(t, s, tl)
			seq2, page2, dup, err := tl.AppendOnce(bg, ref, store.TopicValue{Data: []byte("m")}, "", "key-1", time.Hour)
			if err != nil || !dup || seq2 != seq || page2 != page {
				t.Fatalf("retry after the restart: seq %d page %d dup %v %v, want the first append's %d/%d", seq2, page2, dup, err, seq, page)
			}
		})
	}
}
