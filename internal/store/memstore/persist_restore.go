package memstore

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// Report says what a restore (Open, Verify) found.
type Report struct {
	Snapshot      uint64 // segment number of the snapshot loaded (0: none)
	SnapshotBytes int64
	Segments      int   // log segments replayed
	Records       int   // log records applied
	LogBytes      int64 // bytes of log read
	Caches        int
	Items         int
	Topics        int
	Messages      int // retained topic messages
	// Clean: the last run closed the log cleanly.
	Clean bool
	// TornBytes were cut from the end of the log (a crash in the middle of
	// a write).
	TornBytes int64
	// Lost: damage was repaired or acknowledged writes may be gone; every
	// cache got a new epoch and every topic was dropped.
	Lost bool
	// Problems are the damage found, in the order found (Verify reports
	// them instead of refusing).
	Problems []string
	Duration time.Duration

	NextSegment    uint64
	restoreRecords [][]byte // to log once the log is open
}

// CorruptError is damage that stops a start without Repair.
type CorruptError struct{ Msg string }

func (e *CorruptError) Error() string {
	return e.Msg + " (start with --repair to keep what can be read: every cache then gets a new epoch and every topic a new page)"
}

// Verify checks a data directory offline: it replays it into memory as a
// start would and reports what it found, writing nothing. An error means
// a start would refuse (or could not read the directory).
func Verify(dir string, opts Options, topicOpts TopicLogOptions) (Report, error) {
	lock, err := lockDir(dir, false)
	if err != nil {
		return Report{}, err
	}
	defer lock.Close()
	opts.ExpirySweepInterval = -1
	s, tl, rep, err := restore(opts, topicOpts, PersistOptions{Dir: dir, readOnly: true})
	if s != nil {
		tl.Close()
		s.Close()
	}
	return rep, err
}

func snapName(seg uint64) string { return fmt.Sprintf("%016x.snap", seg) }

func listSnapshots(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		var n uint64
		if len(e.Name()) == 21 && filepath.Ext(e.Name()) == ".snap" {
			if _, err := fmt.Sscanf(e.Name(), "%016x.snap", &n); err == nil {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// restore builds a Store and a TopicLog from the data directory. With
// readOnly it changes nothing on disk and reports damage instead of
// refusing (Problems), returning a CorruptError only at the end.
func restore(opts Options, topicOpts TopicLogOptions, popts PersistOptions) (*Store, *TopicLog, Report, error) {
	start := time.Now()
	dir := popts.Dir
	r := newReplayer(opts, topicOpts, popts)
	lg := r.s.log
	fail := func(err error) (*Store, *TopicLog, Report, error) {
		r.tl.Close()
		r.s.Close()
		return nil, nil, r.rep, err
	}
	var damaged []string
	// damage records a problem; it is fatal unless repairing (or verifying).
	damage := func(msg string) error {
		r.rep.Problems = append(r.rep.Problems, msg)
		if popts.readOnly {
			r.corrupt = true
			return nil
		}
		if !popts.Repair {
			return &CorruptError{Msg: "persistence: " + msg}
		}
		lg.Warn("memstore: repairing the data directory: "+msg, "dir", dir)
		damaged = append(damaged, msg)
		r.rep.Lost = true
		return nil
	}

	segs, err := wal.ListSegments(dir)
	if err != nil {
		return fail(fmt.Errorf("persistence: %w", err))
	}
	snaps, err := listSnapshots(dir)
	if err != nil {
		return fail(fmt.Errorf("persistence: %w", err))
	}
	if !popts.readOnly {
		removeTemps(dir)
	}
	fresh := len(segs) == 0 && len(snaps) == 0
	if !fresh {
		lg.Info("memstore: restoring from the data directory", "dir", dir, "snapshots", len(snaps), "segments", len(segs))
	}
	first := uint64(1)
	if len(snaps) > 0 {
		n := snaps[len(snaps)-1]
		size, err := r.loadSnapshot(filepath.Join(dir, snapName(n)))
		if err != nil {
			if err := damage(fmt.Sprintf("snapshot %s is damaged: %v", snapName(n), err)); err != nil {
				return fail(err)
			}
			r.reset()
		} else {
			r.rep.Snapshot, r.rep.SnapshotBytes = n, size
			lg.Info("memstore: snapshot loaded", "snapshot", snapName(n), "bytes", size, "caches", len(r.byName), "items", r.items())
		}
		first = n
	}
	// Segments before the snapshot are redundant (a crash between a
	// snapshot and its clean-up left them).
	var replay []uint64
	for _, seg := range segs {
		if seg >= first {
			replay = append(replay, seg)
		} else if !popts.readOnly {
			os.Remove(filepath.Join(dir, wal.SegmentName(seg)))
		}
	}
	if !fresh && (len(replay) == 0 || replay[0] != first) {
		what := fmt.Sprintf("log segment %s is missing", wal.SegmentName(first))
		if len(snaps) == 0 {
			what = fmt.Sprintf("the snapshot before log segment %s is missing", wal.SegmentName(replay[0]))
		}
		if err := damage(what); err != nil {
			return fail(err)
		}
		r.lostBase = true
	}
	var last wal.SegmentInfo
	for i, seg := range replay {
		if i > 0 && seg != replay[i-1]+1 {
			if err := damage(fmt.Sprintf("log segment %s is missing", wal.SegmentName(replay[i-1]+1))); err != nil {
				return fail(err)
			}
			r.lostBase = true
		}
		info, err := wal.ScanSegment(dir, seg, r.apply)
		last = info
		r.rep.Segments++
		r.rep.LogBytes += info.End
		if err != nil {
			var rerr *recordError
			if !errors.As(err, &rerr) {
				return fail(fmt.Errorf("persistence: %w", err))
			}
			// A record that does not apply is damage at its frame.
			info.Damage = &wal.Corruption{Segment: seg, Offset: info.End, Reason: err.Error()}
		}
		isLast := i == len(replay)-1
		lg.Info("memstore: log segment replayed", "segment", wal.SegmentName(seg), "records", info.Records, "bytes", info.End, "progress", fmt.Sprintf("%d/%d", i+1, len(replay)))
		if info.Damage == nil {
			continue
		}
		if isLast && info.Damage.Torn {
			r.rep.TornBytes = info.Size - info.Damage.Offset
			r.rep.Problems = append(r.rep.Problems, fmt.Sprintf("torn tail of %d bytes cut: %v", r.rep.TornBytes, info.Damage))
			lg.Warn("memstore: cutting a torn record at the end of the log (a crash during a write)", "segment", wal.SegmentName(seg), "offset", info.Damage.Offset, "bytes", r.rep.TornBytes, "reason", info.Damage.Reason)
			if !popts.readOnly {
				if err := os.Truncate(filepath.Join(dir, wal.SegmentName(seg)), info.Damage.Offset); err != nil {
					return fail(fmt.Errorf("persistence: %w", err))
				}
			}
			break
		}
		if err := damage(info.Damage.Error()); err != nil {
			return fail(err)
		}
		if popts.readOnly {
			continue
		}
		// Repair: keep what precedes the damage, drop the rest.
		if err := os.Truncate(filepath.Join(dir, wal.SegmentName(seg)), info.Damage.Offset); err != nil {
			return fail(fmt.Errorf("persistence: %w", err))
		}
		for _, later := range replay[i+1:] {
			os.Remove(filepath.Join(dir, wal.SegmentName(later)))
		}
		replay = replay[:i+1]
		break
	}
	r.finish()
	r.rep.Clean = fresh || last.Clean && r.rep.TornBytes == 0
	if !r.rep.Clean {
		// A crash: changes applied in memory but never logged may have been
		// read; skip their numbers.
		r.jumpLSNs()
		if last.Boot != wal.BootID() && last.Policy != wal.FsyncAlways && last.MaxSynced < last.DataEnd {
			msg := fmt.Sprintf("the OS restarted since the log was last written (fsync %v) and its last %d bytes had not been fsynced: acknowledged writes may be lost", last.Policy, last.DataEnd-max(last.MaxSynced, 0))
			lg.Warn("memstore: " + msg)
			r.rep.Problems = append(r.rep.Problems, msg)
			r.rep.Lost = true
		}
	}
	if r.rep.Lost {
		r.renew()
	}
	r.rep.NextSegment = 1
	if len(replay) > 0 {
		r.rep.NextSegment = replay[len(replay)-1] + 1
	}
	r.rep.Duration = time.Since(start)
	if r.corrupt {
		return r.s, r.tl, r.rep, &CorruptError{Msg: "persistence: " + r.rep.Problems[0]}
	}
	if !fresh {
		lg.Info("memstore: restored", "caches", r.rep.Caches, "items", r.rep.Items, "topics", r.rep.Topics,
			"messages", r.rep.Messages, "records", r.rep.Records, "segments", r.rep.Segments, "log_bytes", r.rep.LogBytes,
			"clean", r.rep.Clean, "lost", r.rep.Lost, "took", r.rep.Duration.Round(time.Millisecond))
	}
	if len(damaged) > 0 {
		lg.Warn("memstore: repaired: every cache has a new epoch and every topic a new page", "problems", len(damaged))
	}
	return r.s, r.tl, r.rep, nil
}

func removeTemps(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".tmp" {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// recordError is a log record that does not apply.
type recordError struct{ msg string }

func (e *recordError) Error() string { return e.msg }

func badRecord(format string, args ...any) error {
	return &recordError{msg: fmt.Sprintf(format, args...)}
}

// replayer applies snapshot frames and log records to a Store and a
// TopicLog that are not yet serving.
type replayer struct {
	opts      Options
	topicOpts TopicLogOptions
	popts     PersistOptions
	s         *Store
	tl        *TopicLog
	base      int64
	byEpoch   map[uint64]*cache
	byName    map[string]*cache
	maxEpoch  uint64
	maxPage   uint64
	lostBase  bool // the log's beginning is gone: unknown caches are skipped
	corrupt   bool // read-only: damage a start would refuse
	rep       Report
}

func newReplayer(opts Options, topicOpts TopicLogOptions, popts PersistOptions) *replayer {
	r := &replayer{opts: opts, topicOpts: topicOpts, popts: popts}
	r.reset()
	return r
}

// reset starts over from an empty store (a damaged snapshot, repaired).
func (r *replayer) reset() {
	if r.s != nil {
		r.tl.Close()
		r.s.Close()
	}
	r.s = newStore(r.opts)
	r.tl = NewTopicLog(r.topicOpts)
	r.base = r.s.clock.base.UnixNano()
	r.byEpoch, r.byName = map[uint64]*cache{}, map[string]*cache{}
	r.rep.Records = 0
}

func (r *replayer) nanos(wall int64) int64 { return wall - r.base }

// expiry converts a logged expiry (wall nanos, 0: never) to clock nanos;
// an expiry before the clock's zero stays non-zero (expired).
func (r *replayer) expiry(wall int64) int64 {
	if wall == 0 {
		return 0
	}
	if n := wall - r.base; n != 0 {
		return n
	}
	return -1
}

func (r *replayer) items() int {
	n := 0
	for _, c := range r.byName {
		for i := range c.parts {
			n += c.parts[i].items.len()
		}
	}
	return n
}

// addCache creates a cache as CreateCache does, with a given epoch.
func (r *replayer) addCache(name string, epoch uint64, parts int, scheme store.KeyScheme, tiling store.Tiling, attrs map[string]string) error {
	if !store.ValidCacheName(name) || parts < 1 || parts > epk.MaxPartitions || scheme > store.KeyCosmosMultiHash || tiling > store.TilingV1 || epoch == 0 {
		return badRecord("invalid cache %q (epoch %d, %d partitions)", name, epoch, parts)
	}
	if r.byEpoch[epoch] != nil {
		return nil // in the snapshot already
	}
	if old := r.byName[name]; old != nil {
		r.dropCache(old)
	}
	c := &cache{name: name, epoch: epoch, scheme: scheme, tiling: tiling, attrs: attrs, parts: make([]partition, parts)}
	for i := range c.parts {
		c.parts[i].items = newItemTable()
		c.parts[i].initFeed(&r.s.feedCfg, &c.notify)
	}
	r.byEpoch[epoch], r.byName[name] = c, c
	r.maxEpoch = max(r.maxEpoch, epoch)
	return nil
}

func (r *replayer) dropCache(c *cache) {
	for i := range c.parts {
		r.s.used.Add(-c.parts[i].clear())
	}
	delete(r.byEpoch, c.epoch)
	if r.byName[c.name] == c {
		delete(r.byName, c.name)
	}
}

// part finds a partition of a logged change; nil (skip) when its cache is
// unknown: deleted later, or lost with the log's beginning.
func (r *replayer) part(epoch uint64, index int) (*cache, *partition, error) {
	c := r.byEpoch[epoch]
	if c == nil {
		if epoch > r.maxEpoch && !r.lostBase {
			return nil, nil, badRecord("change of an unknown cache epoch %d", epoch)
		}
		return nil, nil, nil
	}
	if index < 0 || index >= len(c.parts) {
		return nil, nil, badRecord("partition %d of a cache of %d", index, len(c.parts))
	}
	return c, &c.parts[index], nil
}

// apply applies one log record.
func (r *replayer) apply(rec []byte) error {
	if len(rec) == 0 {
		return badRecord("empty record")
	}
	d := &dec{b: rec[1:]}
	var err error
	switch rec[0] {
	case recCacheCreate:
		epoch := d.uvarint()
		name := d.string()
		parts := d.int(epk.MaxPartitions)
		scheme, tiling := store.KeyScheme(d.byte()), store.Tiling(d.byte())
		n := d.count()
		attrs := make(map[string]string, min(n, 64))
		for range n {
			k := d.string()
			attrs[k] = d.string()
		}
		if d.err == nil {
			err = r.addCache(name, epoch, parts, scheme, tiling, attrs)
		}
	case recCacheDelete:
		epoch := d.uvarint()
		if c := r.byEpoch[epoch]; c != nil && d.err == nil {
			r.dropCache(c)
		}
		r.maxEpoch = max(r.maxEpoch, epoch)
	case recCommit:
		err = r.commit(d)
	case recFlush, recLogOn, recLSNJump:
		epoch, index, lsn := d.uvarint(), d.int(epk.MaxPartitions), d.uvarint()
		if d.err != nil {
			break
		}
		_, p, perr := r.part(epoch, index)
		if p == nil {
			err = perr
			break
		}
		switch rec[0] {
		case recFlush:
			if lsn > p.lsn {
				p.lsn = lsn - 1
				r.s.used.Add(-p.clear())
			}
		case recLogOn:
			if lsn < p.lsn || p.feed.logOn {
				break
			}
			if lsn > p.lsn {
				err = badRecord("all-versions log starts at LSN %d, after the partition's %d", lsn, p.lsn)
				break
			}
			p.startLog()
		case recLSNJump:
			p.lsn = max(p.lsn, lsn)
		}
	case recEpoch:
		old, next := d.uvarint(), d.uvarint()
		if c := r.byEpoch[old]; c != nil && d.err == nil && next > old {
			delete(r.byEpoch, old)
			c.epoch = next
			r.byEpoch[next] = c
		}
		r.maxEpoch = max(r.maxEpoch, next)
	case recPut:
		ns, key := d.string(), d.string()
		v := d.bytes()
		if d.err == nil {
			r.s.putRecord(ns, key, v)
		}
	case recDel:
		ns, key := d.string(), d.string()
		if d.err == nil {
			r.s.deleteRecord(ns, key)
		}
	case recTopicCreate, recTopicAppend, recTopicDrop, recTopicDropCache, recTopicDedup:
		err = r.topicRecord(rec[0], d)
	default:
		return badRecord("unknown record type %d", rec[0])
	}
	if err == nil && d.err != nil {
		err = badRecord("record type %d: %v", rec[0], d.err)
	}
	if err == nil {
		r.rep.Records++
	}
	return err
}

// commit applies a recCommit: the change is made as the original write
// made it, through partition.commit with the logged LSN and time.
func (r *replayer) commit(d *dec) error {
	epoch, index, lsn := d.uvarint(), d.int(epk.MaxPartitions), d.uvarint()
	at := r.nanos(d.varint())
	op := store.FeedOp(d.byte())
	flags := d.byte()
	batchEnd := d.uvarint()
	kind := store.Kind(d.byte())
	expires := r.expiry(d.varint())
	key := d.string()
	if d.err != nil {
		return nil // reported by apply
	}
	_, p, err := r.part(epoch, index)
	if p == nil || lsn <= p.lsn {
		return err // skipped: unknown cache, or in the snapshot
	}
	if lsn != p.lsn+1 && !r.popts.Repair {
		return badRecord("LSN %d follows LSN %d in partition %d of cache epoch %d", lsn, p.lsn, index, epoch)
	}
	p.lsn = lsn - 1
	p.feed.batchEnd = batchEnd
	defer func() { p.feed.batchEnd = 0 }()
	it := p.items.getStr(key)
	switch op {
	case store.FeedDelete:
		if it == nil {
			return badRecord("delete of a missing key at LSN %d", lsn)
		}
		p.commit(at, store.FeedDelete, it, image{}, flags&commitTTLExpired != 0)
		freed := p.remove(it)
		p.bytes -= freed
		r.s.used.Add(-freed)
		return nil
	case store.FeedCreate, store.FeedReplace:
	default:
		return badRecord("unknown op %d", op)
	}
	if kind > store.KindSortedSet {
		return badRecord("unknown kind %d", kind)
	}
	if op == store.FeedCreate && it != nil || op == store.FeedReplace && it == nil {
		return badRecord("%v of key %q that is %s at LSN %d", op, key, map[bool]string{true: "present", false: "missing"}[it != nil], lsn)
	}
	var value []byte
	var coll collection
	switch {
	case kind == store.KindScalar:
		value = d.bytes()
	case flags&commitFull != 0:
		coll = decodeCollection(d, kind)
	case flags&commitDelta != 0:
		if it == nil || it.kind != kind || it.coll == nil {
			return badRecord("collection change of a key that holds no %v at LSN %d", kind, lsn)
		}
	default:
		return badRecord("collection commit without a body at LSN %d", lsn)
	}
	if d.err != nil {
		return nil
	}
	var prev image
	var before int64
	if it == nil {
		it = newItem(key, value, kind, expires)
		it.setCollection(coll)
		it.touchAt(at)
		p.insert(it)
	} else {
		prev, before = imageOf(it), it.size()
		if flags&commitDelta != 0 {
			applyDelta(d, it.collection())
			if d.err != nil {
				return nil
			}
		} else {
			it.kind = kind
			it.setKV(it.key(), value)
			it.setCollection(coll)
		}
		p.setExpiry(it, expires)
	}
	if it.kind != store.KindScalar && it.collection().length() == 0 {
		return badRecord("empty collection at LSN %d", lsn)
	}
	p.commit(at, op, it, prev, false)
	p.bytes += it.size() - before
	r.s.used.Add(it.size() - before)
	return nil
}

// finish installs the catalog and the counters.
func (r *replayer) finish() {
	cat := &catalog{byName: r.byName}
	for _, c := range r.byName {
		cat.list = append(cat.list, c)
	}
	slices.SortFunc(cat.list, func(a, b *cache) int { return cmp.Compare(a.epoch, b.epoch) })
	r.s.catalog.Store(cat)
	for {
		cur := epochs.Load()
		if cur >= r.maxEpoch || epochs.CompareAndSwap(cur, r.maxEpoch) {
			break
		}
	}
	r.tl.finishRestore(r.maxPage)
	r.rep.Caches = len(r.byName)
	r.rep.Items = r.items()
	r.rep.Topics, r.rep.Messages = r.tl.counts()
}

// jumpLSNs makes every partition skip lsnGap LSNs, and logs it.
func (r *replayer) jumpLSNs() {
	for _, c := range r.byName {
		for i := range c.parts {
			p := &c.parts[i]
			p.lsn += lsnGap
			b := putUvarint(putUvarint([]byte{recLSNJump}, c.epoch), uint64(i))
			r.rep.restoreRecords = append(r.rep.restoreRecords, putUvarint(b, p.lsn))
		}
	}
}

// renew gives every cache a new epoch and drops every topic (history was
// lost), and logs it.
func (r *replayer) renew() {
	for _, c := range r.byName {
		old := c.epoch
		c.epoch = epochs.Add(1)
		delete(r.byEpoch, old)
		r.byEpoch[c.epoch] = c
		r.rep.restoreRecords = append(r.rep.restoreRecords, putUvarint(putUvarint([]byte{recEpoch}, old), c.epoch))
	}
	r.rep.restoreRecords = append(r.rep.restoreRecords, r.tl.dropAllForRestore()...)
	r.rep.Topics, r.rep.Messages = 0, 0
}
