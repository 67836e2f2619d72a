package memstore

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The change feed of the memory engine. Every committed change of a
// partition goes through partition.commit, which
//
//   - hands out the next LSN of the partition;
//   - appends (lsn, item) to the latest-version index, an append-only slice
//     of 16 B entries in LSN order with lazy invalidation: an entry is
//     current iff its item's lsn still equals the entry's (a later change or
//     a removal changes item.lsn), and the commit time, op and batch span of
//     a current entry are its item's (item.at, op, span). When half of the
//     slice is stale it is compacted in place, incrementally: each commit
//     moves a few entries (compactStep), so no write pays an O(n) pass under
//     the partition lock. Its size stays within about 2x the live items and
//     a read binary-searches its start: O(log n + page);
//   - appends a record to the all-versions log, a ring bounded by record
//     count, retained bytes and age (feedConfig), with the previous image.
//     Like Cosmos DB, which keeps all versions only for containers that
//     enable it, a partition keeps the log only once asked to: the first
//     all-versions read of a partition (which must start from Now or a
//     continuation) switches it on, and changes before that are out of
//     retention. Options.FeedLogAlways keeps it from cache creation. So a
//     cache nobody reads in all-versions mode pays only for the index.
//
// Deletes are changes: explicit deletes, evictions (recorded as deletes with
// TTLExpired false) and expiries, which are recorded when the expired item
// is purged (active sweep, or a write or delete that meets it), with
// TTLExpired true, as Cosmos DB records TTL purges. An expired item is
// invisible to latest-version reads at once.
//
// FlushCache records no per-item change: it empties both views, consumes one
// LSN, and raises the all-versions retention floor to it, so that an
// all-versions reader positioned before the flush gets ErrFeedRetention (it
// must restart from Now, as after a Cosmos container re-creation) instead of
// silently missing the deletes. Latest-version readers are unaffected (they
// never see deletes). DeleteCache ends the epoch.
//
// Values are never copied: scalar values are immutable once stored, so the
// index and the log share them with the items. Collections are mutated in
// place, so their changes carry the kind only, not a snapshot.

// Defaults of the all-versions log, per partition.
const (
	DefaultFeedLogRecords = 16 << 10
	DefaultFeedLogBytes   = 16 << 20
	// DefaultFeedPageSize is the page size when a read gives no hint.
	DefaultFeedPageSize = 100
	// MaxFeedPageSize bounds the hint.
	MaxFeedPageSize = 10000
	// feedRecordOverhead is what a log record costs beyond key and values.
	feedRecordOverhead = 104
	// minCompact is the index length under which it is never compacted.
	minCompact = 1024
)

// feedConfig bounds the all-versions log of each partition.
type feedConfig struct {
	always  bool  // log from cache creation, not from the first all-versions read
	records int   // 0: no log (every all-versions read is out of retention)
	bytes   int64 // retained bytes
	age     int64 // nanos; 0: no age limit
	// total is the bytes of every partition's log and totalMax its bound
	// (0: none): with MaxMemory the logs have a budget of their own, an
	// eighth of it, and a push over it drops the pushing partition's oldest
	// records (its readers then get ErrFeedRetention, never a silent gap).
	total    atomic.Int64
	totalMax int64
}

func (c *feedConfig) init(o Options) {
	c.always, c.records, c.bytes, c.age = o.FeedLogAlways, o.FeedLogRecords, o.FeedLogBytes, int64(o.FeedLogRetention)
	if c.records == 0 {
		c.records = DefaultFeedLogRecords
	}
	if c.records < 0 {
		c.always, c.records = false, 0
	}
	if c.bytes <= 0 {
		c.bytes = DefaultFeedLogBytes
	}
	switch {
	case o.FeedLogTotalBytes > 0:
		c.totalMax = o.FeedLogTotalBytes
	case o.FeedLogTotalBytes == 0 && o.MaxMemory > 0:
		c.totalMax = max(o.MaxMemory/8, 1)
	}
}

// image is the state of an item before a change.
type image struct {
	ok    bool
	kind  store.Kind
	value []byte
	lsn   uint64
}

func imageOf(it *item) image { return image{ok: true, kind: it.kind, value: it.value(), lsn: it.lsn} }

// idxEntry is one latest-version index entry (16 bytes). It is current iff
// it.lsn == lsn; then it.at, it.op and it.span describe the change.
type idxEntry struct {
	lsn uint64
	it  *item
}

func (e *idxEntry) current() bool { return e.it != nil && e.it.lsn == e.lsn }

// compactStep is how many index entries a commit moves while the index is
// being compacted: compaction starts when at least half the entries are
// stale, so a step of 4 finishes it while the index grows by at most a
// quarter, and costs a commit what the O(n) pass cost amortized.
const compactStep = 4

// record is one all-versions log entry.
type record struct {
	lsn      uint64
	prevLSN  uint64
	at       int64
	key      string
	value    []byte
	prev     []byte
	span     uint32
	op       store.FeedOp
	kind     store.Kind
	prevKind store.Kind
	hasPrev  bool
	ttl      bool
}

func (r *record) size() int64 {
	return int64(len(r.key)+len(r.value)+len(r.prev)) + feedRecordOverhead
}

// changeLog is a ring of records in LSN order.
type changeLog struct {
	recs  []record
	head  int // index of the oldest record
	n     int
	bytes int64
	// floor is the highest LSN no longer retained: reads after an LSN below
	// it are out of retention.
	floor uint64
}

func (l *changeLog) at(i int) *record { return &l.recs[(l.head+i)%len(l.recs)] }

func (l *changeLog) dropOldest(cfg *feedConfig) {
	r := l.at(0)
	l.floor = r.lsn
	l.bytes -= r.size()
	cfg.total.Add(-r.size())
	*r = record{}
	l.head = (l.head + 1) % len(l.recs)
	l.n--
}

func (l *changeLog) reset(floor uint64, cfg *feedConfig) {
	cfg.total.Add(-l.bytes)
	*l = changeLog{floor: floor}
}

// push appends r, dropping the oldest records beyond the bounds of cfg.
func (l *changeLog) push(r record, cfg *feedConfig) {
	sz := r.size()
	for l.n > 0 && (l.n >= cfg.records || l.bytes+sz > cfg.bytes || cfg.age > 0 && l.at(0).at < r.at-cfg.age ||
		cfg.totalMax > 0 && cfg.total.Load()+sz > cfg.totalMax) {
		l.dropOldest(cfg)
	}
	if sz > cfg.bytes || cfg.totalMax > 0 && sz > cfg.totalMax {
		l.floor = r.lsn
		return
	}
	if l.n == len(l.recs) {
		nc := min(max(2*len(l.recs), 64), cfg.records)
		recs := make([]record, nc)
		for i := range l.n {
			recs[i] = *l.at(i)
		}
		l.recs, l.head = recs, 0
	}
	*l.at(l.n) = r
	l.n++
	l.bytes += sz
	cfg.total.Add(sz)
}

// search returns the index of the first record with lsn > after.
func (l *changeLog) search(after uint64) int {
	return sort.Search(l.n, func(i int) bool { return l.at(i).lsn > after })
}

// feedState is the change feed of one partition, guarded by partition.mu.
type feedState struct {
	cfg *feedConfig
	// idx is the latest-version index. While a compaction runs (compacting),
	// idx[cw:cr] is a gap of dropped entries: the index is idx[:cw] ‖
	// idx[cr:]. Use n, entry and search, never idx directly.
	idx        []idxEntry
	cw, cr     int
	compacting bool
	log        changeLog
	batchEnd   uint64 // while a batch commits: the LSN of its last change
	logOn      bool   // the all-versions log records; before, log.floor is stale
	notify     *atomic.Pointer[chan struct{}]
}

// n is the number of entries of the latest-version index.
func (f *feedState) n() int { return len(f.idx) - (f.cr - f.cw) }

// entry is the i-th entry of the latest-version index, i < n().
func (f *feedState) entry(i int) *idxEntry {
	if i >= f.cw {
		i += f.cr - f.cw
	}
	return &f.idx[i]
}

// search returns the position of the first entry with lsn > after.
func (f *feedState) search(after uint64) int {
	return sort.Search(f.n(), func(i int) bool { return f.entry(i).lsn > after })
}

// find returns the current entry of it, or nil when it is not indexed.
func (f *feedState) find(it *item) *idxEntry {
	n := f.n()
	if i := sort.Search(n, func(i int) bool { return f.entry(i).lsn >= it.lsn }); i < n {
		if e := f.entry(i); e.lsn == it.lsn && e.it == it {
			return e
		}
	}
	return nil
}

// append adds an entry at the end of the index.
func (f *feedState) append(e idxEntry) { f.idx = append(f.idx, e) }

// compactSome moves up to compactStep entries of a running compaction,
// dropping stale ones, and ends it when the whole index has been seen.
func (f *feedState) compactSome() {
	for k := 0; k < compactStep && f.cr < len(f.idx); k++ {
		e := f.idx[f.cr]
		f.idx[f.cr] = idxEntry{} // the gap must not keep removed items alive
		f.cr++
		if e.current() {
			f.idx[f.cw] = e
			f.cw++
		}
	}
	if f.cr < len(f.idx) {
		return
	}
	f.idx = f.idx[:f.cw]
	f.cw, f.cr, f.compacting = 0, 0, false
	if cap(f.idx) > 4*len(f.idx)+minCompact {
		// Mostly deleted: give the space back (a copy of the quarter that
		// is left, paid for by the deletes that emptied the rest).
		f.idx = slices.Clone(f.idx)
	}
}

// sample returns a uniformly random live item of the index, or nil after a
// few stale picks (at least half the entries are current but for the lag of
// a running compaction).
func (f *feedState) sample() *item {
	n := f.n()
	if n == 0 {
		return nil
	}
	for range 8 {
		if e := f.entry(rand.IntN(n)); e.current() {
			return e.it
		}
	}
	return nil
}

// wake closes the cache's notification channel, if a reader waits.
func (f *feedState) wake() {
	if f.notify == nil {
		return
	}
	if ch := f.notify.Load(); ch != nil && f.notify.CompareAndSwap(ch, nil) {
		close(*ch)
	}
}

// FeedNotify returns a channel closed at the next change of the cache.
func (s *Store) FeedNotify(_ context.Context, name string) (<-chan struct{}, error) {
	c, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	for {
		if ch := c.notify.Load(); ch != nil {
			return *ch, nil
		}
		ch := make(chan struct{})
		if c.notify.CompareAndSwap(nil, &ch) {
			return ch, nil
		}
	}
}

// startLog switches the all-versions log on; every change so far is out of
// its retention.
func (p *partition) startLog() {
	p.feed.logOn = true
	p.feed.log.reset(p.lsn, p.feed.cfg)
	p.journalLogOn()
}

// logFloor is the highest LSN the all-versions log no longer retains.
func (p *partition) logFloor() uint64 {
	if !p.feed.logOn {
		return p.lsn
	}
	return p.feed.log.floor
}

// commit records a committed change at now and returns its LSN. For a
// create or replace, it is the item after the change and prev its image
// before (replace only); for a delete, it is the removed item, which the
// caller unlinks (or reuses) afterwards. The index entry of the item's
// previous change goes stale by it.lsn changing.
func (p *partition) commit(now int64, op store.FeedOp, it *item, prev image, ttlExpired bool) uint64 {
	lsn := p.nextLSN()
	if ttlExpired {
		p.expirations++
	}
	f := &p.feed
	if f.cfg == nil { // no feed: only benchmarks build such partitions
		if it.lsn = lsn; op == store.FeedDelete {
			it.lsn = 0
		}
		return lsn
	}
	var span uint32
	if f.batchEnd != 0 {
		span = uint32(f.batchEnd-lsn) + 1
	}
	if p.jr != nil { // persistence (persist.go)
		p.journal(lsn, now, op, it, ttlExpired, f.batchEnd)
	}
	f.wake()
	if f.logOn {
		r := record{lsn: lsn, at: now, key: it.key(), span: span, op: op, kind: it.kind, ttl: ttlExpired}
		if op == store.FeedDelete {
			r.hasPrev, r.prevKind, r.prev, r.prevLSN = true, it.kind, it.value(), it.lsn
		} else {
			r.value = it.value()
			r.hasPrev, r.prevKind, r.prev, r.prevLSN = prev.ok, prev.kind, prev.value, prev.lsn
		}
		f.log.push(r, f.cfg)
	}
	if op == store.FeedDelete {
		it.lsn = 0
	} else {
		it.lsn, it.at, it.op, it.span = lsn, now, op, span
		f.append(idxEntry{lsn: lsn, it: it})
	}
	// Compact when at least half the entries are stale (a removed item
	// stays in p.items until after this call; its entry is already stale).
	if !f.compacting && f.n() >= minCompact && f.n() >= 2*p.items.len() {
		f.compacting = true
	}
	if f.compacting {
		f.compactSome()
	}
	return lsn
}

// beginBatch marks the next n commits as one batch.
func (p *partition) beginBatch(n int) {
	if n > 1 {
		p.feed.batchEnd = p.lsn + uint64(n)
	}
}

func (p *partition) endBatch() { p.feed.batchEnd = 0 }

// purgeExpired removes the item under key if it has expired, recording the
// expiry, and returns the change in accounted bytes.
func (p *partition) purgeExpired(key []byte, now int64) int64 {
	it := p.items.get(key)
	if it == nil || !it.expired(now) {
		return 0
	}
	p.commit(now, store.FeedDelete, it, image{}, true)
	return -p.remove(it)
}

// flushFeed empties both views; the flush consumes one LSN and becomes the
// all-versions retention floor.
func (p *partition) flushFeed() {
	p.feed.idx, p.feed.cw, p.feed.cr, p.feed.compacting = nil, 0, 0, false
	p.feed.log.reset(p.nextLSN(), p.feed.cfg)
	p.feed.wake()
}

// initFeed prepares the feed of a new partition.
func (p *partition) initFeed(cfg *feedConfig, notify *atomic.Pointer[chan struct{}]) {
	p.feed.cfg, p.feed.notify = cfg, notify
	if cfg.always && cfg.records > 0 {
		p.startLog()
	}
}

// ReadFeed reads one page of one partition under its read lock.
func (s *Store) ReadFeed(_ context.Context, name string, r store.FeedRead) (store.FeedPage, error) {
	c, err := s.lookup(name)
	if err != nil {
		return store.FeedPage{}, err
	}
	if r.Epoch != 0 && r.Epoch != c.epoch {
		return store.FeedPage{}, errs.ErrFeedEpoch.Withf("cache %q is at epoch %d, not %d", name, c.epoch, r.Epoch)
	}
	if r.Partition < 0 || r.Partition >= len(c.parts) {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("partition %d outside [0, %d)", r.Partition, len(c.parts))
	}
	if r.Mode > store.FeedAllVersions || r.Start > store.FeedFromTime {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("feed mode %d / start %d", r.Mode, r.Start)
	}
	if r.PartitionKey != nil && c.partitionIndex(r.PartitionKey) != r.Partition {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("partition key is not in partition %d", r.Partition)
	}
	size := r.PageSizeHint
	if size <= 0 {
		size = DefaultFeedPageSize
	}
	size = min(size, MaxFeedPageSize)
	p := &c.parts[r.Partition]
	p.mu.RLock()
	if r.Mode == store.FeedAllVersions && !p.feed.logOn && s.feedCfg.records > 0 {
		// The first all-versions read of the partition switches its log on.
		p.mu.RUnlock()
		p.mu.Lock()
		if !p.feed.logOn && !p.dead {
			p.startLog()
		}
		p.mu.Unlock()
		p.mu.RLock()
	}
	defer p.mu.RUnlock()
	if p.dead {
		return store.FeedPage{}, errNoCache(name)
	}
	page := store.FeedPage{Epoch: c.epoch}
	now := s.clock.nanos()
	after := r.AfterLSN
	switch r.Start {
	case store.FeedFromNow:
		page.LastLSN, page.NotModified = p.lsn, true
		return page, nil
	case store.FeedFromTime:
		after, err = p.lsnAt(r.Mode, int64(r.StartTime.Sub(s.clock.base)))
		if err != nil {
			return store.FeedPage{}, err
		}
	}
	if after > p.lsn {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("feed position %d is after the current LSN %d of partition %d", after, p.lsn, r.Partition)
	}
	f := filter{key: r.PartitionKey, min: r.MinEPK, max: r.MaxEPK, scheme: c.scheme}
	if r.Mode == store.FeedLatestVersion {
		page.Changes, page.LastLSN = p.readLatest(after, size, r.MaxBytes, now, &f, &s.clock)
	} else {
		page.Changes, page.LastLSN, err = p.readAll(after, size, r.MaxBytes, &f, &s.clock)
		if err != nil {
			return store.FeedPage{}, err
		}
	}
	page.NotModified = len(page.Changes) == 0
	return page, nil
}

// lsnAt returns the position before the first change committed at or after
// t (clock nanos).
func (p *partition) lsnAt(mode store.FeedMode, t int64) (uint64, error) {
	if mode == store.FeedLatestVersion {
		// Stale entries carry no commit time: search the current ones,
		// whose times rise with their LSNs, each probe stepping to the next
		// current entry. The changes from the position found are the same
		// as from the first entry, stale or not, committed at or after t.
		f := &p.feed
		n := f.n()
		next := func(i int) int {
			for i < n && !f.entry(i).current() {
				i++
			}
			return i
		}
		j := sort.Search(n, func(i int) bool { k := next(i); return k == n || f.entry(k).it.at >= t })
		if k := next(j); k < n {
			return f.entry(k).lsn - 1, nil
		}
		return p.lsn, nil
	}
	l := &p.feed.log
	j := sort.Search(l.n, func(i int) bool { return l.at(i).at >= t })
	if floor := p.logFloor(); j == 0 && floor > 0 {
		return 0, errs.ErrFeedRetention.Withf("changes up to LSN %d are no longer retained", floor)
	}
	if j < l.n {
		return l.at(j).lsn - 1, nil
	}
	return p.lsn, nil
}

// keyBytes shares the bytes of an item key with a change without copying:
// keys are immutable and callers must not modify returned slices (Store).
func keyBytes(k string) []byte { return unsafe.Slice(unsafe.StringData(k), len(k)) }

// filter narrows a read to one key or an EPK range.
type filter struct {
	key      []byte
	min, max string
	scheme   store.KeyScheme
}

func (f *filter) match(key string) bool {
	if f.key != nil {
		return key == string(f.key)
	}
	if f.min == "" && f.max == "" {
		return true
	}
	if f.scheme != store.KeyPlain {
		e := store.EPKOf(f.scheme, keyBytes(key))
		return e >= f.min && (f.max == "" || e < f.max)
	}
	h := epkHex(key)
	return string(h[:]) >= f.min && (f.max == "" || string(h[:]) < f.max)
}

// epkHex is epk.V2Bytes(key).String() without allocating.
func epkHex(key string) [32]byte {
	const digits = "0123456789ABCDEF"
	e := epk.V2Bytes([]byte(key))
	var out [32]byte
	for i, b := range e {
		out[2*i], out[2*i+1] = digits[b>>4], digits[b&0x0F]
	}
	return out
}

// batchEnd is the LSN of the last change of the batch of the change at lsn,
// or 0 when it is not part of a batch.
func batchEnd(lsn uint64, span uint32) uint64 {
	if span == 0 {
		return 0
	}
	return lsn + uint64(span) - 1
}

// pageFull reports whether a page of n changes may stop before the change
// at lsn: it is full and lsn is past the batch of the last change taken,
// or the next change would take it over maxBytes.
func pageFull(n, size int, lsn, batchEnd uint64) bool { return n >= size && lsn > batchEnd }

// overBytes reports whether a page of n changes and bytes must end before a
// change of next bytes (see FeedRead.MaxBytes).
func overBytes(n, bytes, next, maxBytes int) bool {
	return n > 0 && maxBytes > 0 && bytes+next > maxBytes
}

func (p *partition) readLatest(after uint64, size, maxBytes int, now int64, f *filter, c *clock) ([]store.Change, uint64) {
	if f.key != nil {
		// One key: its item is the whole answer.
		it := p.items.get(f.key)
		if it == nil || it.lsn <= after || it.expired(now) {
			return nil, p.lsn
		}
		e := p.feed.find(it)
		if e == nil {
			return nil, p.lsn // not indexed (written around the feed)
		}
		return []store.Change{latestChange(e, c)}, p.lsn
	}
	fs := &p.feed
	n := fs.n()
	var out []store.Change
	var end uint64
	bytes := 0
	for i := fs.search(after); i < n; i++ {
		e := fs.entry(i)
		if pageFull(len(out), size, e.lsn, end) {
			return out, e.lsn - 1
		}
		if !e.current() || e.it.expired(now) || !f.match(e.it.key()) {
			continue
		}
		next := int(e.it.klen + e.it.vlen)
		if overBytes(len(out), bytes, next, maxBytes) {
			return out, e.lsn - 1
		}
		if out == nil {
			out = make([]store.Change, 0, min(size, n-i))
		}
		out = append(out, latestChange(e, c))
		bytes += next
		end = batchEnd(e.lsn, e.it.span)
	}
	return out, p.lsn
}

// latestChange is the change of a current entry.
func latestChange(e *idxEntry, c *clock) store.Change {
	it := e.it
	return store.Change{
		Op: it.op, LSN: e.lsn, CommitTime: c.time(it.at), Key: keyBytes(it.key()), Kind: it.kind, Value: it.value(),
		BatchEnd: batchEnd(e.lsn, it.span),
	}
}

func (p *partition) readAll(after uint64, size, maxBytes int, f *filter, c *clock) ([]store.Change, uint64, error) {
	l := &p.feed.log
	if floor := p.logFloor(); after < floor {
		return nil, 0, errs.ErrFeedRetention.Withf("all-versions changes up to LSN %d are not retained (position %d)", floor, after)
	}
	var out []store.Change
	var end uint64
	bytes := 0
	for i := l.search(after); i < l.n; i++ {
		r := l.at(i)
		if pageFull(len(out), size, r.lsn, end) {
			return out, r.lsn - 1, nil
		}
		if !f.match(r.key) {
			continue
		}
		next := len(r.key) + len(r.value) + len(r.prev)
		if overBytes(len(out), bytes, next, maxBytes) {
			return out, r.lsn - 1, nil
		}
		bytes += next
		ch := store.Change{
			Op: r.op, LSN: r.lsn, CommitTime: c.time(r.at), Key: keyBytes(r.key), Kind: r.kind, Value: r.value,
			HasPrevious: r.hasPrev, PreviousKind: r.prevKind, Previous: r.prev, PreviousLSN: r.prevLSN, TTLExpired: r.ttl,
			BatchEnd: batchEnd(r.lsn, r.span),
		}
		out = append(out, ch)
		end = ch.BatchEnd
	}
	return out, p.lsn, nil
}
