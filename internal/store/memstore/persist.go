package memstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// Persistence of the memory engine (Open). Every committed change is
// appended to a write-ahead log (package wal) while its partition is still
// locked, so that the log holds each partition's changes in LSN order; the
// writer of the change waits, after unlocking, until the group write (and,
// with FsyncAlways, the group fsync) that carries it is done, and only
// then answers. What is logged is the change's outcome, never the request:
// a scalar's new value, a collection's element changes (persist_coll.go),
// a delete, with the LSN, commit time, absolute expiry and batch span the
// feed needs, so that a replay rebuilds the items, the LSN counters, the
// latest-version index and the all-versions log exactly. Topics log their
// messages the same way and show a message to readers only once it is in
// the log (persist_topics.go).
//
// Snapshots (persist_snap.go) bound the log: the log is rotated to a new
// segment N, then the caches are written partition by partition (each
// under its read lock, so writes to other partitions go on) and the topics
// topic by topic into snap-N; once that file is durable, the segments
// before N are deleted. A replay loads snap-N and applies segments N and
// later, skipping what the snapshot already holds (per partition by LSN,
// per topic by sequence number; catalog and record changes are idempotent).
//
// At start (restore): a torn tail of the last segment (a crash in the
// middle of a write) is cut with a warning. Damage anywhere else - a
// frame that an fsync had covered, a missing segment or snapshot, a record
// that does not apply - refuses to start unless Repair is set; Repair keeps
// what can be read before the damage and gives every cache a new epoch and
// drops every topic (which comes back with a new page), so that readers
// see the loss instead of a silently shorter history. After a crash, every
// partition's LSN counter jumps by lsnGap: changes that readers may have
// seen in memory but that never reached the log cannot be confused with
// later ones under the same numbers. After an OS crash with a policy other
// than FsyncAlways, when the log cannot show that it had all been fsynced,
// acknowledged writes may be lost: epochs and pages change as with Repair.

// PersistOptions configure Open.
type PersistOptions struct {
	Dir   string
	Fsync wal.Fsync
	// Repair starts despite damage in the middle of the log or a damaged
	// or missing snapshot (see the package documentation of persist.go).
	Repair bool
	// SnapshotAfter: a snapshot starts once the log has grown by this many
	// bytes since the last one, and by at least that snapshot's size
	// (default 64 MiB); negative: only on Snapshot calls.
	SnapshotAfter int64
	// SnapshotCheck is how often the size is checked (default 100 ms).
	SnapshotCheck time.Duration
	// WAL tuning for tests (segment size, fault injection); Dir, Fsync
	// and Logger are set by Open.
	WAL wal.Options
	// readOnly: restore only (Verify); nothing is written.
	readOnly bool
}

const (
	defaultSnapshotAfter = 64 << 20
	// lsnGap is what every partition's LSN counter and every topic's
	// sequence skip after a crash.
	lsnGap   = 1 << 32
	lockFile = "LOCK"
)

// persister is the persistence of one Store and its TopicLog.
type persister struct {
	opts PersistOptions
	log  *wal.Log
	lg   *slog.Logger
	base int64 // wall-clock nanos of the store's clock zero
	s    *Store
	tl   *TopicLog
	lock *os.File
	rep  Report // what the restore found

	snapMu      sync.Mutex // one snapshot at a time
	snapWritten int64      // log.Written() when the last snapshot began
	snapSize    int64
	closed      atomic.Bool
	stop        chan struct{}
	done        chan struct{}
}

// partJournal is the log state of one partition; guarded by its lock.
type partJournal struct {
	ps    *persister
	epoch uint64
	index int
	buf   []byte // encoding scratch
	delta deltaLog
	batch *wal.Batch // of the last append, taken by the write that made it
}

// Open opens (creating if needed) the data directory opts.Dir and returns
// a Store and a TopicLog restored from it, whose changes are logged there.
// Close the TopicLog, then the Store (which closes the log).
func Open(opts Options, topicOpts TopicLogOptions, popts PersistOptions) (*Store, *TopicLog, error) {
	if err := os.MkdirAll(popts.Dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("persistence: %w", err)
	}
	lock, err := lockDir(popts.Dir, true)
	if err != nil {
		return nil, nil, err
	}
	s, tl, rep, err := restore(opts, topicOpts, popts)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	ps := &persister{opts: popts, lg: s.log, base: s.clock.base.UnixNano(), s: s, tl: tl, lock: lock,
		stop: make(chan struct{}), done: make(chan struct{}), snapSize: rep.SnapshotBytes, rep: rep,
		snapWritten: -rep.LogBytes} // the replayed log counts toward the next snapshot
	wopts := popts.WAL
	wopts.Dir, wopts.Fsync, wopts.Logger = popts.Dir, popts.Fsync, s.log
	ps.log, err = wal.Create(wopts, rep.NextSegment)
	if err != nil {
		tl.Close()
		s.Close()
		lock.Close()
		return nil, nil, fmt.Errorf("persistence: %w", err)
	}
	// Journal from here on.
	s.ps = ps
	tl.attach(ps)
	var last *wal.Batch
	for _, c := range s.catalog.Load().list {
		ps.attach(c)
	}
	for _, rec := range rep.restoreRecords {
		last = ps.log.Append(rec)
	}
	if err := waitLogged(last); err != nil {
		tl.Close()
		s.Close() // closes the log and the lock
		return nil, nil, err
	}
	s.startSweep()
	if popts.SnapshotAfter >= 0 {
		go ps.snapshotLoop()
	} else {
		close(ps.done)
	}
	return s, tl, nil
}

// lockDir takes the data directory's lock: one process at a time.
func lockDir(dir string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("persistence: data directory %s is in use by another process", dir)
	}
	return f, nil
}

// attach makes the partitions of c journal their changes.
func (ps *persister) attach(c *cache) {
	for i := range c.parts {
		c.parts[i].jr = &partJournal{ps: ps, epoch: c.epoch, index: i}
	}
}

func (ps *persister) wall(nanos int64) int64 { return ps.base + nanos }

// err is why writes are refused now, or nil.
func (ps *persister) err() error {
	if ps.closed.Load() {
		return errs.ErrShuttingDown
	}
	if err := ps.log.Err(); err != nil {
		if errors.Is(err, wal.ErrDiskFull) {
			return errs.ErrDiskFull.Because(err)
		}
		return errs.ErrLogFailed.Because(err)
	}
	return nil
}

func (ps *persister) close() error {
	if ps.closed.Swap(true) {
		return nil
	}
	close(ps.stop)
	<-ps.done
	ps.snapMu.Lock()
	defer ps.snapMu.Unlock()
	err := ps.log.Close()
	ps.lock.Close()
	return err
}

// logErr is why writes are refused now (disk full, shutting down), or nil.
func (s *Store) logErr() error {
	if s.ps == nil {
		return nil
	}
	return s.ps.err()
}

// waitLogged waits until b is in the log per the fsync policy.
func waitLogged(b *wal.Batch) error {
	if b == nil {
		return nil
	}
	if err := b.Wait(); err != nil {
		return errs.ErrOutcomeUnknown.Because(err).Withf("the change is applied in memory but could not be logged")
	}
	return nil
}

// takeBatch returns and forgets the batch of the partition's last logged
// change (nil without persistence or when nothing was logged since).
func (p *partition) takeBatch() *wal.Batch {
	if p.jr == nil {
		return nil
	}
	b := p.jr.batch
	p.jr.batch = nil
	return b
}

func (p *partition) append(rec []byte) {
	p.jr.buf = rec
	p.jr.batch = p.jr.ps.log.Append(rec)
}

// journal logs one committed change (called by commit): see recCommit.
func (p *partition) journal(lsn uint64, now int64, op store.FeedOp, it *item, ttlExpired bool, batchEnd uint64) {
	j := p.jr
	b := append(j.buf[:0], recCommit)
	b = putUvarint(b, j.epoch)
	b = putUvarint(b, uint64(j.index))
	b = putUvarint(b, lsn)
	b = putVarint(b, j.ps.wall(now))
	b = append(b, byte(op))
	var flags byte
	if ttlExpired {
		flags |= commitTTLExpired
	}
	var coll collection
	if op != store.FeedDelete && it.kind != store.KindScalar {
		coll = it.collection()
		if deltaLogOf(coll) == nil || j.delta.n > 0 && j.delta.owner != coll || j.delta.broken {
			if j.delta.broken || j.delta.n > 0 && j.delta.owner != coll {
				j.ps.lg.Error("BUG: memstore: collection changes of two items between commits", "key", it.key())
			}
			flags |= commitFull
		} else {
			flags |= commitDelta
		}
	}
	b = append(b, flags)
	b = putUvarint(b, batchEnd)
	b = append(b, byte(it.kind))
	var exp int64
	if it.expires != 0 {
		exp = j.ps.wall(it.expires)
	}
	b = putVarint(b, exp)
	b = putString(b, it.key())
	switch {
	case op == store.FeedDelete:
	case coll == nil:
		b = putBytes(b, it.value())
	case flags&commitFull != 0:
		b = appendCollection(b, coll)
		attachDeltaLog(coll, &j.delta)
	default:
		b = putUvarint(b, uint64(j.delta.n))
		b = append(b, j.delta.b...)
	}
	j.delta.reset()
	p.append(b)
	if cap(j.buf) > 1<<20 {
		j.buf = nil
	}
}

// journalFlush logs a flush of the partition (its LSN is the flush's).
func (p *partition) journalFlush() {
	if p.jr == nil {
		return
	}
	b := append(p.jr.buf[:0], recFlush)
	b = putUvarint(b, p.jr.epoch)
	b = putUvarint(b, uint64(p.jr.index))
	p.append(putUvarint(b, p.lsn))
}

// journalLogOn logs that the all-versions log starts at the current LSN.
func (p *partition) journalLogOn() {
	if p.jr == nil {
		return
	}
	b := append(p.jr.buf[:0], recLogOn)
	b = putUvarint(b, p.jr.epoch)
	b = putUvarint(b, uint64(p.jr.index))
	p.append(putUvarint(b, p.lsn))
}

// journalCache logs a new cache (under Store.mu) and makes its partitions
// journal.
func (s *Store) journalCache(c *cache) *wal.Batch {
	if s.ps == nil {
		return nil
	}
	s.ps.attach(c)
	return s.ps.log.Append(encodeCache(nil, c))
}

func encodeCache(b []byte, c *cache) []byte {
	b = append(b, recCacheCreate)
	b = putUvarint(b, c.epoch)
	b = putString(b, c.name)
	b = putUvarint(b, uint64(len(c.parts)))
	b = append(b, byte(c.scheme), byte(c.tiling))
	b = putUvarint(b, uint64(len(c.attrs)))
	for k, v := range c.attrs {
		b = putString(putString(b, k), v)
	}
	return b
}

// journalDrop logs a deleted cache, once no partition of it can change.
func (s *Store) journalDrop(c *cache) *wal.Batch {
	if s.ps == nil {
		return nil
	}
	return s.ps.log.Append(putUvarint([]byte{recCacheDelete}, c.epoch))
}

// journalRecord logs a Records change (under recMu); value nil deletes.
func (s *Store) journalRecord(ns, key string, value []byte, del bool) *wal.Batch {
	if s.ps == nil {
		return nil
	}
	if del {
		return s.ps.log.Append(putString(putString([]byte{recDel}, ns), key))
	}
	return s.ps.log.Append(putBytes(putString(putString([]byte{recPut}, ns), key), value))
}

// Restored reports what the restore at Open found (zero without
// persistence).
func (s *Store) Restored() Report {
	if s.ps == nil {
		return Report{}
	}
	return s.ps.rep
}

// Snapshot writes a snapshot now and deletes the log it makes redundant.
// Without persistence it does nothing.
func (s *Store) Snapshot() error {
	if s.ps == nil {
		return nil
	}
	return s.ps.snapshot()
}

// snapshotLoop starts a snapshot whenever the log has outgrown the last one.
func (ps *persister) snapshotLoop() {
	defer close(ps.done)
	every := ps.opts.SnapshotCheck
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	after := ps.opts.SnapshotAfter
	if after == 0 {
		after = defaultSnapshotAfter
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var notBefore time.Time // after a failure (a full disk), wait before the next try
	for {
		select {
		case <-ps.stop:
			return
		case now := <-t.C:
			if now.Before(notBefore) {
				continue
			}
		}
		ps.snapMu.Lock()
		grown := ps.log.Written() - ps.snapWritten
		due := grown >= after && grown >= ps.snapSize
		ps.snapMu.Unlock()
		if due {
			if err := ps.snapshot(); err != nil {
				ps.lg.Error("memstore: snapshot failed; the log keeps growing until one succeeds (next try in 10s)", "err", err)
				notBefore = time.Now().Add(10 * time.Second)
			}
		}
	}
}
