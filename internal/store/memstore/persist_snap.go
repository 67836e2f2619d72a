package memstore

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// Snapshot files: <dir>/<segment as 16 hex digits>.snap, in the WAL's frame
// format (length, CRC-32C, record), written to a .tmp file, fsynced and
// renamed. The frames, in order:
//
//	snapHeader     version, segment, wall time, epoch counter, page counter
//	recPut*        the Records
//	per cache:     recCacheCreate, then per partition: snapPartition,
//	               snapItem* in LSN order, snapFeedRec* (all-versions log)
//	per topic log: recTopicDropCache (a dropped epoch), or per topic
//	               snapTopic and recTopicAppend* (its retained messages)
//	snapEnd        caches, items, topics, messages
//
// The snapshot of segment N holds everything committed before the log was
// rotated to segment N and possibly more; a replay applies segments N and
// later on top of it and skips what it holds.

const snapVersion = 1

// snapshot writes a snapshot and deletes the log and snapshots before it.
func (ps *persister) snapshot() error {
	ps.snapMu.Lock()
	defer ps.snapMu.Unlock()
	if ps.closed.Load() && ps.log.Err() != nil {
		return nil
	}
	began := time.Now()
	written := ps.log.Written()
	seg, err := ps.log.Rotate()
	if err != nil {
		return err
	}
	dir := ps.opts.Dir
	tmp := filepath.Join(dir, snapName(seg)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cw := &countWriter{w: f}
	w := bufio.NewWriterSize(cw, 1<<20)
	st, err := ps.writeSnapshot(w, seg)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, snapName(seg)))
	}
	if err == nil {
		err = wal.SyncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	// The snapshot is durable: what precedes it goes.
	segs, _ := wal.ListSegments(dir)
	for _, s := range segs {
		if s < seg {
			os.Remove(filepath.Join(dir, wal.SegmentName(s)))
		}
	}
	snaps, _ := listSnapshots(dir)
	for _, s := range snaps {
		if s < seg {
			os.Remove(filepath.Join(dir, snapName(s)))
		}
	}
	wal.SyncDir(dir)
	ps.snapWritten, ps.snapSize = written, cw.n
	ps.lg.Info("memstore: snapshot written", "snapshot", snapName(seg), "bytes", cw.n, "caches", st.caches, "items", st.items,
		"topics", st.topics, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type snapStats struct{ caches, items, topics, messages int }

func (ps *persister) writeSnapshot(w io.Writer, seg uint64) (snapStats, error) {
	var st snapStats
	var frame []byte
	put := func(rec []byte) error {
		frame = wal.AppendRecord(frame[:0], rec)
		_, err := w.Write(frame)
		return err
	}
	s := ps.s
	h := []byte{snapHeader, snapVersion}
	h = putUvarint(h, seg)
	h = putVarint(h, time.Now().UnixNano())
	h = putUvarint(h, epochs.Load())
	h = putUvarint(h, lastPage.Load())
	if err := put(h); err != nil {
		return st, err
	}
	// Records.
	s.recMu.Lock()
	var recs [][]byte
	for ns, m := range s.recs.byNS {
		for k, v := range m {
			recs = append(recs, putBytes(putString(putString([]byte{recPut}, ns), k), v))
		}
	}
	s.recMu.Unlock()
	for _, r := range recs {
		if err := put(r); err != nil {
			return st, err
		}
	}
	// Caches, a partition at a time under its read lock.
	list := slices.Clone(s.catalog.Load().list)
	slices.SortFunc(list, func(a, b *cache) int { return cmp.Compare(a.epoch, b.epoch) })
	var buf []byte
	for _, c := range list {
		if err := put(encodeCache(nil, c)); err != nil {
			return st, err
		}
		st.caches++
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			buf, st.items = ps.encodePartition(buf[:0], c, i, p, st.items)
			p.mu.RUnlock()
			if _, err := w.Write(buf); err != nil {
				return st, err
			}
			if cap(buf) > 64<<20 {
				buf = nil
			}
		}
	}
	// Topics.
	if ps.tl != nil {
		if err := ps.tl.snapshot(put, &st); err != nil {
			return st, err
		}
	}
	end := []byte{snapEnd}
	for _, n := range []int{st.caches, st.items, st.topics, st.messages} {
		end = putUvarint(end, uint64(n))
	}
	return st, put(end)
}

// encodePartition appends the frames of one partition (under its lock).
func (ps *persister) encodePartition(b []byte, c *cache, index int, p *partition, items int) ([]byte, int) {
	if p.dead {
		return b, items
	}
	var rec []byte
	frame := func() { b = wal.AppendRecord(b, rec) }
	rec = append(rec[:0], snapPartition)
	rec = putUvarint(rec, c.epoch)
	rec = putUvarint(rec, uint64(index))
	rec = putUvarint(rec, p.lsn)
	rec = putBool(rec, p.feed.logOn)
	rec = putUvarint(rec, p.feed.log.floor)
	frame()
	item := func(it *item, e *idxEntry) {
		rec = append(rec[:0], snapItem)
		rec = putString(rec, it.key())
		rec = append(rec, byte(it.kind))
		var exp int64
		if it.expires != 0 {
			exp = ps.wall(it.expires)
		}
		rec = putVarint(rec, exp)
		rec = putUvarint(rec, it.lsn)
		if e != nil {
			rec = putBool(rec, true)
			rec = putVarint(rec, ps.wall(it.at))
			rec = putUvarint(rec, uint64(it.span))
			rec = append(rec, byte(it.op))
		} else {
			rec = putBool(rec, false)
		}
		if it.kind == store.KindScalar {
			rec = putBytes(rec, it.value())
		} else {
			rec = appendCollection(rec, it.collection())
		}
		frame()
		items++
	}
	// Items in LSN order, from the latest-version index.
	n := 0
	for k := range p.feed.n() {
		e := p.feed.entry(k)
		if e.current() && p.items.getStr(e.it.key()) == e.it {
			item(e.it, e)
			n++
		}
	}
	if n != p.items.len() {
		// Items the index does not hold (none are expected).
		for it := range p.items.all() {
			if !indexed(p, it) {
				item(it, nil)
			}
		}
	}
	l := &p.feed.log
	for k := range l.n {
		r := l.at(k)
		rec = append(rec[:0], snapFeedRec)
		rec = putUvarint(rec, r.lsn)
		rec = putUvarint(rec, r.prevLSN)
		rec = putVarint(rec, ps.wall(r.at))
		rec = putString(rec, r.key)
		rec = putBytes(rec, r.value)
		rec = putBytes(rec, r.prev)
		rec = putUvarint(rec, uint64(r.span))
		rec = append(rec, byte(r.op), byte(r.kind), byte(r.prevKind))
		rec = putBool(putBool(rec, r.hasPrev), r.ttl)
		rec = putBool(rec, r.value == nil)
		rec = putBool(rec, r.prev == nil)
		frame()
	}
	return b, items
}

func indexed(p *partition, it *item) bool { return p.feed.find(it) != nil }

// loadSnapshot reads a snapshot into the replayer's empty store.
func (r *replayer) loadSnapshot(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rd := wal.NewReader(bufio.NewReaderSize(f, 1<<20))
	var c *cache
	var p *partition
	var t *topic
	var got snapStats
	first := true
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rd.Offset(), errors.New("snapshot ends before its end frame")
		}
		if err != nil {
			return rd.Offset(), fmt.Errorf("at offset %d: %w", rd.Offset(), err)
		}
		if len(rec) == 0 {
			return rd.Offset(), errors.New("empty frame")
		}
		d := &dec{b: rec[1:]}
		if first != (rec[0] == snapHeader) {
			return rd.Offset(), errors.New("snapshot header missing")
		}
		first = false
		switch rec[0] {
		case snapHeader:
			if d.byte() != snapVersion {
				return 0, errors.New("unknown snapshot version")
			}
			d.uvarint()
			d.varint()
			r.maxEpoch = max(r.maxEpoch, d.uvarint())
			r.maxPage = max(r.maxPage, d.uvarint())
		case recPut:
			err = r.apply(rec)
		case recCacheCreate:
			if err = r.apply(rec); err == nil {
				c, p = r.byEpoch[d.uvarint()], nil
				got.caches++
			}
		case snapPartition:
			epoch, index := d.uvarint(), d.int(epk.MaxPartitions)
			if c == nil || c.epoch != epoch || index >= len(c.parts) {
				return rd.Offset(), errors.New("partition of an unknown cache")
			}
			p = &c.parts[index]
			p.lsn = d.uvarint()
			if logOn := d.bool(); logOn {
				p.feed.logOn = true
			}
			p.feed.log.reset(d.uvarint(), p.feed.cfg)
		case snapItem:
			if p == nil {
				return rd.Offset(), errors.New("item outside a partition")
			}
			err = r.loadItem(d, p)
			got.items++
		case snapFeedRec:
			if p == nil {
				return rd.Offset(), errors.New("feed record outside a partition")
			}
			var fr record
			fr.lsn, fr.prevLSN, fr.at = d.uvarint(), d.uvarint(), r.nanos(d.varint())
			fr.key = d.string()
			fr.value, fr.prev = d.bytes(), d.bytes()
			fr.span = uint32(d.uvarint())
			fr.op, fr.kind, fr.prevKind = store.FeedOp(d.byte()), store.Kind(d.byte()), store.Kind(d.byte())
			fr.hasPrev, fr.ttl = d.bool(), d.bool()
			if d.bool() {
				fr.value = nil
			}
			if d.bool() {
				fr.prev = nil
			}
			if it := p.items.getStr(fr.key); it != nil && it.lsn == fr.lsn && it.kind == store.KindScalar && string(it.value()) == string(fr.value) {
				fr.value = it.value() // share, as the live log does
			}
			p.feed.log.push(fr, p.feed.cfg)
		case recTopicDedup:
			err = r.topicRecord(rec[0], d)
		case snapTopic, recTopicAppend, recTopicDropCache:
			t, err = r.loadTopic(rec[0], d, t, &got)
		case snapEnd:
			want := [4]int{int(d.uvarint()), int(d.uvarint()), int(d.uvarint()), int(d.uvarint())}
			if d.err == nil && want != [4]int{got.caches, got.items, got.topics, got.messages} {
				return rd.Offset(), fmt.Errorf("snapshot counts %v, read %v", want, got)
			}
			if _, err := rd.Next(); err != io.EOF {
				return rd.Offset(), errors.New("data after the snapshot's end frame")
			}
			return rd.Offset(), d.err
		default:
			return rd.Offset(), fmt.Errorf("unknown snapshot frame %d", rec[0])
		}
		if err == nil {
			err = d.err
		}
		if err != nil {
			return rd.Offset(), err
		}
	}
}

func (r *replayer) loadItem(d *dec, p *partition) error {
	key := d.string()
	kind := store.Kind(d.byte())
	expires := r.expiry(d.varint())
	lsn := d.uvarint()
	it := &item{kind: kind, expires: expires, lsn: lsn}
	indexedItem := d.bool()
	if indexedItem {
		it.at, it.span, it.op = r.nanos(d.varint()), uint32(d.uvarint()), store.FeedOp(d.byte())
	}
	switch {
	case kind == store.KindScalar:
		it.setKV(key, d.bytes())
	case kind <= store.KindSortedSet:
		it.setKV(key, nil)
		it.setCollection(decodeCollection(d, kind))
	default:
		return errors.New("unknown item kind")
	}
	if d.err != nil {
		return d.err
	}
	if p.items.getStr(key) != nil || lsn == 0 || lsn > p.lsn {
		return fmt.Errorf("item %q: duplicate or LSN %d outside the partition's %d", key, lsn, p.lsn)
	}
	if indexedItem {
		if n := p.feed.n(); n > 0 && p.feed.entry(n-1).lsn >= lsn {
			return fmt.Errorf("item %q out of LSN order", key)
		}
		p.feed.append(idxEntry{lsn: lsn, it: it})
	}
	it.touchAt(r.s.clock.nanos())
	p.insert(it)
	p.bytes += it.size()
	r.s.used.Add(it.size())
	return nil
}
