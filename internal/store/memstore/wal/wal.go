package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Fsync is when the log calls fsync.
type Fsync uint8

const (
	// FsyncEverySec: appends are acknowledged once written to the OS; a
	// background fsync runs every second. A process crash loses nothing
	// acknowledged; a power loss about the last second.
	FsyncEverySec Fsync = iota
	// FsyncAlways: appends are acknowledged once fsynced; concurrent
	// appenders share one fsync.
	FsyncAlways
	// FsyncNo: appends are acknowledged once written to the OS, which
	// writes them to disk when it likes (Linux: within about 30 s).
	FsyncNo
)

func (f Fsync) String() string {
	switch f {
	case FsyncAlways:
		return "always"
	case FsyncEverySec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return "unknown"
}

// ParseFsync parses always, everysec or no.
func ParseFsync(s string) (Fsync, error) {
	switch s {
	case "always":
		return FsyncAlways, nil
	case "everysec", "":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("invalid fsync policy %q: use always, everysec or no", s)
}

// File is what the log writes to; tests inject faults through Options.Create.
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Options configure a Log.
type Options struct {
	Dir   string
	Fsync Fsync
	// SegmentBytes: a segment past this size is closed and the next begun
	// (default 64 MiB).
	SegmentBytes int64
	// RetryInterval: after a failed write (disk full) the writer retries
	// this often (default 1 s).
	RetryInterval time.Duration
	// SyncInterval is FsyncEverySec's period (default 1 s).
	SyncInterval time.Duration
	// Create opens a new segment file for appending (default: os.OpenFile
	// with O_CREATE|O_EXCL|O_APPEND).
	Create func(path string) (File, error)
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = time.Second
	}
	if o.Create == nil {
		o.Create = func(path string) (File, error) {
			return os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Batch is one group of appends written (and synced) together. Wait for it
// with Wait.
type Batch struct {
	done chan struct{}
	err  error
}

// Wait blocks until the batch is durable per the policy and returns why
// not, if it is not.
func (b *Batch) Wait() error {
	<-b.done
	return b.err
}

// Errors of a Log.
var (
	// ErrDiskFull: a write failed for lack of space; the log retries it
	// and refuses new appends meanwhile (Err).
	ErrDiskFull = errors.New("wal: no space left on device")
	ErrClosed   = errors.New("wal: closed")
)

// Log appends records to segment files. Append is safe for concurrent use;
// the order of Appends is the order in the file.
type Log struct {
	opts Options
	boot string

	mu      sync.Mutex
	pend    []byte // frames waiting for the writer, after a reserved batch header
	cur     *Batch // the batch pend belongs to
	spare   []byte
	rotates []chan rotated
	flushes []chan error
	marks   bool // the syncer asks for an empty batch (see mark)
	closing bool
	kick    chan struct{}
	failed  atomic.Pointer[error] // set while writes fail

	// Owned by the writer goroutine; f also by the syncer under fileMu.
	fileMu   sync.Mutex
	f        File
	seg      uint64
	off      atomic.Int64 // bytes of the current segment written
	dataOff  atomic.Int64 // end of the last records written
	synced   atomic.Int64 // offset of the current segment known synced
	retry    []byte       // bytes of failed writes, written first next time
	written  atomic.Int64 // bytes written by this Log, all segments
	syncStop chan struct{}
	done     chan struct{}
	syncDone chan struct{}
}

type rotated struct {
	seg uint64
	err error
}

// Create starts a log whose first segment is seg (a new file in dir).
func Create(opts Options, seg uint64) (*Log, error) {
	opts.setDefaults()
	l := &Log{opts: opts, boot: BootID(), kick: make(chan struct{}, 1), syncStop: make(chan struct{}),
		done: make(chan struct{}), syncDone: make(chan struct{})}
	l.pend = make([]byte, batchFrame, 64<<10)
	l.cur = &Batch{done: make(chan struct{})}
	if err := l.openSegment(seg); err != nil {
		return nil, err
	}
	go l.run()
	if opts.Fsync == FsyncEverySec {
		go l.syncLoop()
	} else {
		close(l.syncDone)
	}
	return l, nil
}

// Segment is the number of the segment being written.
func (l *Log) Segment() uint64 {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	return l.seg
}

// Written is the number of bytes this log has written.
func (l *Log) Written() int64 { return l.written.Load() }

// Err is the reason appends are refused now (ErrDiskFull while a write
// keeps failing, ErrClosed), or nil.
func (l *Log) Err() error {
	if e := l.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// Append adds a record and returns the batch it will be written with.
func (l *Log) Append(rec []byte) *Batch {
	var h [frameHeader + 1]byte
	binary.LittleEndian.PutUint32(h[:], uint32(len(rec)+1))
	binary.LittleEndian.PutUint32(h[4:], crc32.Update(crc32.Checksum([]byte{kindRecord}, castagnoli), castagnoli, rec))
	h[frameHeader] = kindRecord
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return closedBatch
	}
	first := len(l.pend) == batchFrame
	l.pend = append(append(l.pend, h[:]...), rec...)
	b := l.cur
	l.mu.Unlock()
	if first {
		l.wake()
	}
	return b
}

// noHeader is the room a pending buffer keeps for its batch header.
var noHeader [batchFrame]byte

var closedBatch = func() *Batch {
	b := &Batch{done: make(chan struct{}), err: ErrClosed}
	close(b.done)
	return b
}()

func (l *Log) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Rotate closes the current segment after everything appended so far and
// starts the next one, whose number it returns.
func (l *Log) Rotate() (uint64, error) {
	ch := make(chan rotated, 1)
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	l.rotates = append(l.rotates, ch)
	l.mu.Unlock()
	l.wake()
	r := <-ch
	return r.seg, r.err
}

// Flush waits until everything appended so far is written (and synced
// per the policy), retrying a failed write at once; it returns the write's
// error if it fails again.
func (l *Log) Flush() error {
	ch := make(chan error, 1)
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return ErrClosed
	}
	l.flushes = append(l.flushes, ch)
	l.mu.Unlock()
	l.wake()
	return <-ch
}

// Close writes what is pending, fsyncs, marks the segment cleanly closed
// and stops the log.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closing = true
	l.mu.Unlock()
	l.wake()
	<-l.done
	close(l.syncStop)
	<-l.syncDone
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	var err error
	if l.retry == nil {
		if err = l.f.Sync(); err == nil {
			var h [batchFrame]byte
			putBatchHeader(h[:], flagClean, l.off.Load())
			if _, err = l.f.Write(h[:]); err == nil {
				err = l.f.Sync()
			}
		}
	} else {
		err = fmt.Errorf("wal: closing with %d bytes that could not be written: %w", len(l.retry), l.Err())
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// run is the writer: it takes everything appended since its last write
// and writes it at once.
func (l *Log) run() {
	defer close(l.done)
	var retry <-chan time.Time
	for {
		select {
		case <-l.kick:
		case <-retry:
		}
		l.mu.Lock()
		buf, b, rots, closing, mark, flushes := l.pend, l.cur, l.rotates, l.closing, l.marks, l.flushes
		l.rotates, l.marks, l.flushes = nil, false, nil
		if len(buf) > batchFrame {
			l.pend, l.cur = append(l.spare[:0], noHeader[:]...), &Batch{done: make(chan struct{})}
		} else {
			buf, b = nil, nil
		}
		l.mu.Unlock()
		if buf != nil || l.retry != nil {
			err := l.write(buf)
			if b != nil {
				b.err = err
				close(b.done)
			}
			if err != nil {
				retry = time.After(l.opts.RetryInterval)
				for _, ch := range rots {
					ch <- rotated{err: err}
				}
				for _, ch := range flushes {
					ch <- err
				}
				if closing {
					return
				}
				continue
			}
			retry = nil
			if cap(buf) <= 1<<20 {
				l.spare = buf
			}
		}
		if mark && buf == nil && l.retry == nil {
			l.writeMark()
		}
		for _, ch := range flushes {
			ch <- nil
		}
		for _, ch := range rots {
			seg, err := l.rotate()
			ch <- rotated{seg: seg, err: err}
		}
		if l.off.Load() >= l.opts.SegmentBytes && !closing {
			if _, err := l.rotate(); err != nil {
				l.opts.Logger.Error("wal: cannot start the next segment", "err", err)
			}
		}
		if closing {
			return
		}
	}
}

// write writes buf (frames after a reserved batch header), after any bytes
// of earlier failed writes; with FsyncAlways it fsyncs too. On failure the
// file is cut back to where the write began and the bytes are kept for the
// retry.
func (l *Log) write(buf []byte) error {
	if buf != nil {
		putBatchHeader(buf, 0, l.synced.Load())
	}
	out := buf
	if l.retry != nil {
		out = append(l.retry, buf...)
	}
	start := l.off.Load()
	n, err := l.f.Write(out)
	if err == nil && l.opts.Fsync == FsyncAlways {
		err = l.f.Sync()
	}
	if err != nil {
		if n > 0 {
			if terr := l.f.Truncate(start); terr != nil {
				l.opts.Logger.Error("wal: cannot cut a failed write back", "err", terr)
			}
		}
		l.retry = append(l.retry[:0:0], out...)
		if errors.Is(err, syscall.ENOSPC) {
			err = fmt.Errorf("%w: %v", ErrDiskFull, err)
		}
		if l.failed.Load() == nil {
			l.opts.Logger.Error("wal: write failed; writes are refused until it succeeds", "err", err, "bytes", len(out))
		}
		l.failed.Store(&err)
		return err
	}
	if l.retry != nil {
		l.opts.Logger.Warn("wal: writes succeed again", "bytes", len(out))
	}
	l.retry = nil
	end := start + int64(n)
	l.off.Store(end)
	l.dataOff.Store(end)
	l.written.Add(int64(n))
	if l.opts.Fsync == FsyncAlways {
		l.synced.Store(end)
	}
	l.failed.Store(nil)
	return nil
}

// rotate fsyncs and closes the current segment and starts the next.
func (l *Log) rotate() (uint64, error) {
	if err := l.f.Sync(); err != nil {
		return 0, err
	}
	var h [batchFrame]byte
	putBatchHeader(h[:], 0, l.off.Load())
	if _, err := l.f.Write(h[:]); err != nil {
		return 0, err
	}
	l.fileMu.Lock()
	old, next := l.f, l.seg+1
	l.fileMu.Unlock()
	if err := l.openSegment(next); err != nil {
		return 0, err
	}
	old.Close()
	return next, nil
}

// openSegment creates segment seg, writes its header and syncs the
// directory so that the file's name is durable too.
func (l *Log) openSegment(seg uint64) error {
	f, err := l.opts.Create(filepath.Join(l.opts.Dir, SegmentName(seg)))
	if err != nil {
		return fmt.Errorf("wal: create segment: %w", err)
	}
	hdr := appendSegmentHeader(nil, segmentHeader{seg: seg, policy: l.opts.Fsync, boot: l.boot})
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return fmt.Errorf("wal: write segment header: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: sync segment header: %w", err)
	}
	if err := SyncDir(l.opts.Dir); err != nil {
		f.Close()
		return err
	}
	l.fileMu.Lock()
	l.f, l.seg = f, seg
	l.off.Store(int64(len(hdr)))
	l.dataOff.Store(int64(len(hdr)))
	l.synced.Store(int64(len(hdr)))
	l.fileMu.Unlock()
	l.written.Add(int64(len(hdr)))
	return nil
}

// syncLoop is FsyncEverySec's background fsync. After a sync it asks for
// an empty batch, whose header records the synced offset, so that a
// restart can tell that nothing acknowledged was lost.
func (l *Log) syncLoop() {
	defer close(l.syncDone)
	t := time.NewTicker(l.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.syncStop:
			return
		case <-t.C:
		}
		l.fileMu.Lock()
		f, seg, target := l.f, l.seg, l.dataOff.Load()
		if target > l.synced.Load() {
			if err := f.Sync(); err != nil {
				l.opts.Logger.Error("wal: fsync failed", "err", err)
			} else if l.seg == seg {
				l.synced.Store(max(l.synced.Load(), target))
				l.mark()
			}
		}
		l.fileMu.Unlock()
	}
}

// mark asks the writer for an empty batch (a batch header alone) and kicks
// it: the header records the synced offset.
func (l *Log) mark() {
	l.mu.Lock()
	l.marks = !l.closing
	l.mu.Unlock()
	l.wake()
}

// writeMark writes a batch header alone. It is not data: the syncer does
// not sync for it.
func (l *Log) writeMark() {
	var h [batchFrame]byte
	putBatchHeader(h[:], 0, l.synced.Load())
	if n, err := l.f.Write(h[:]); err == nil {
		l.off.Add(int64(n))
		l.written.Add(int64(n))
	}
}

// BootID identifies the running OS boot: a log written under another boot
// may have lost what it had not fsynced.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// SyncDir fsyncs a directory, making created, renamed and removed names in
// it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("wal: sync directory %s: %w", dir, err)
	}
	return nil
}
