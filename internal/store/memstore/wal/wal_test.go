package wal

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var quiet = slog.New(slog.DiscardHandler)

// fakeFile wraps a real file and counts, gates and fails calls.
type fakeFile struct {
	*os.File
	fs *fakeFS
}

type fakeFS struct {
	mu     sync.Mutex
	writes int
	syncs  int
	full   bool
	// gate, when set, blocks the write with this index until closed.
	gateAt  int
	gate    chan struct{}
	entered chan struct{} // closed when the gated write begins
}

func (fs *fakeFS) create(path string) (File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &fakeFile{File: f, fs: fs}, nil
}

func (f *fakeFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes++
	n, gate, full := f.fs.writes, f.fs.gate, f.fs.full
	f.fs.mu.Unlock()
	if gate != nil && n == f.fs.gateAt {
		close(f.fs.entered)
		<-gate
	}
	if full {
		// Half of it fits, as on a disk that fills up mid-write.
		k, _ := f.File.Write(p[:len(p)/2])
		return k, fmt.Errorf("write %s: %w", f.Name(), syscall.ENOSPC)
	}
	return f.File.Write(p)
}

func (f *fakeFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.syncs++
	f.fs.mu.Unlock()
	return f.File.Sync()
}

func records(t *testing.T, dir string, seg uint64) ([]string, SegmentInfo) {
	t.Helper()
	var got []string
	info, err := ScanSegment(dir, seg, func(rec []byte) error {
		got = append(got, string(rec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, info
}

// Concurrent appenders with FsyncAlways share fsyncs: while the writer is
// busy with the first batch, everyone else joins the next one.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	fs := &fakeFS{gateAt: 2, gate: make(chan struct{}), entered: make(chan struct{})} // write 1 is the segment header
	l, err := Create(Options{Dir: dir, Fsync: FsyncAlways, Create: fs.create, Logger: quiet}, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	first := l.Append([]byte("first"))
	<-fs.entered // the writer took "first" and is blocked writing it
	var batches []*Batch
	for i := range n {
		batches = append(batches, l.Append(fmt.Appendf(nil, "r%d", i)))
	}
	close(fs.gate)
	if err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
		if b != batches[0] {
			t.Fatal("appends made while the writer was busy are not in one batch")
		}
	}
	fs.mu.Lock()
	writes, syncs := fs.writes, fs.syncs
	fs.mu.Unlock()
	if writes != 3 || syncs != 3 { // header, first batch, the other 50
		t.Errorf("%d writes and %d fsyncs for 51 appends, want 3 and 3", writes, syncs)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, info := records(t, dir, 1)
	if len(got) != n+1 || got[0] != "first" || got[n] != fmt.Sprintf("r%d", n-1) || !info.Clean || info.Damage != nil {
		t.Fatalf("read back %d records, clean %v, damage %v", len(got), info.Clean, info.Damage)
	}
}

func writeLog(t *testing.T, dir string, policy Fsync, n int, clean bool) *Log {
	t.Helper()
	l, err := Create(Options{Dir: dir, Fsync: policy, Logger: quiet}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Append(bytes.Repeat([]byte{byte('a' + i%26)}, 100)).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if clean {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestTornTailAndCorruption(t *testing.T) {
	path := func(dir string) string { return filepath.Join(dir, SegmentName(1)) }
	t.Run("truncated record is a torn tail", func(t *testing.T) {
		dir := t.TempDir()
		writeLog(t, dir, FsyncAlways, 10, true)
		st, _ := os.Stat(path(dir))
		os.Truncate(path(dir), st.Size()-batchFrame-30)
		got, info := records(t, dir, 1)
		if len(got) != 9 || info.Damage == nil || !info.Damage.Torn {
			t.Fatalf("got %d records, damage %v", len(got), info.Damage)
		}
	})
	t.Run("flipped byte of a synced record is corruption", func(t *testing.T) {
		dir := t.TempDir()
		writeLog(t, dir, FsyncAlways, 10, true)
		data, _ := os.ReadFile(path(dir))
		data[len(data)/2] ^= 0x40
		os.WriteFile(path(dir), data, 0o600)
		_, info := records(t, dir, 1)
		if info.Damage == nil || info.Damage.Torn {
			t.Fatalf("damage %v, want corruption", info.Damage)
		}
	})
	t.Run("flipped byte after the last fsync is a torn tail", func(t *testing.T) {
		dir := t.TempDir()
		l := writeLog(t, dir, FsyncNo, 10, false) // never synced beyond the header
		data, _ := os.ReadFile(path(dir))
		data[len(data)-50] ^= 0x40
		os.WriteFile(path(dir)+".copy", data, 0o600)
		l.Close()
		os.Rename(path(dir)+".copy", path(dir))
		got, info := records(t, dir, 1)
		if info.Damage == nil || !info.Damage.Torn || len(got) != 9 {
			t.Fatalf("got %d records, damage %v, want a torn tail", len(got), info.Damage)
		}
	})
	t.Run("clean close", func(t *testing.T) {
		dir := t.TempDir()
		writeLog(t, dir, FsyncEverySec, 10, true)
		got, info := records(t, dir, 1)
		if len(got) != 10 || !info.Clean || info.MaxSynced != info.End-batchFrame {
			t.Fatalf("got %d records, info %+v", len(got), info)
		}
	})
}

// A full disk fails the batch, the log refuses appends (Err), and a retry
// after space is back writes everything in order.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	fs := &fakeFS{}
	l, err := Create(Options{Dir: dir, Fsync: FsyncAlways, Create: fs.create, Logger: quiet}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("one")).Wait(); err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.full = true
	fs.mu.Unlock()
	if err := l.Append([]byte("two")).Wait(); err == nil || l.Err() == nil {
		t.Fatalf("append on a full disk: %v, Err %v", err, l.Err())
	}
	if err := l.Flush(); err == nil {
		t.Fatal("flush on a full disk succeeded")
	}
	fs.mu.Lock()
	fs.full = false
	fs.mu.Unlock()
	if err := l.Flush(); err != nil || l.Err() != nil {
		t.Fatalf("flush after space came back: %v, Err %v", err, l.Err())
	}
	if err := l.Append([]byte("three")).Wait(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, info := records(t, dir, 1)
	if fmt.Sprint(got) != "[one two three]" || info.Damage != nil {
		t.Fatalf("read back %q, damage %v", got, info.Damage)
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	l, err := Create(Options{Dir: dir, Fsync: FsyncEverySec, Logger: quiet}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l.Append([]byte("a"))
	seg, err := l.Rotate()
	if err != nil || seg != 2 {
		t.Fatalf("rotate: %d, %v", seg, err)
	}
	if err := l.Append([]byte("b")).Wait(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	a, ia := records(t, dir, 1)
	b, ib := records(t, dir, 2)
	if fmt.Sprint(a, b) != "[a] [b]" || ia.Damage != nil || ib.Damage != nil || ia.MaxSynced != ia.End-batchFrame || !ib.Clean {
		t.Fatalf("segments %q %q, %+v %+v", a, b, ia, ib)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(AppendRecord(nil, []byte("hello")))
	f.Add(appendSegmentHeader(nil, segmentHeader{seg: 1, boot: "b"}))
	var h [batchFrame]byte
	putBatchHeader(h[:], flagClean, 123)
	f.Add(h[:])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if n > len(b) || len(p) != n-frameHeader {
			t.Fatalf("frame of %d bytes, payload %d, input %d", n, len(p), len(b))
		}
		if again := AppendFrame(nil, p[0], p[1:]); !bytes.Equal(again, b[:n]) {
			t.Fatal("re-encoding differs")
		}
		parseSegmentHeader(p)
		syncedAfter(b, 0)
	})
}
