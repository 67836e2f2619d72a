package memstore

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/setsuna-io/setsuna/internal/store"
)

// ItemOverhead is the bytes accounted per item on top of len(key)+len(value):
// the item struct (64 B), its slot in the item table (9 B at 3/8 to 3/4
// load, see table.go), its latest-version feed index entry (16 B, up to
// twice with stale entries and append slack; see feed.go), its slot in
// partition.ttl, and size-class rounding of the key ‖ value allocation.
// TestItemOverhead measures 119 B without a TTL; the rest covers the ttl
// slot and rounding. The all-versions log is a separate budget
// (Options.FeedLogRecords, FeedLogBytes).
const ItemOverhead = 144

// item is one entry of a partition. Its key and scalar value share one
// allocation, kv = key ‖ value, from which the item table reads the key:
// one allocation per item besides the struct. A scalar value is never
// mutated in place (readers keep it): a write stores a new kv.
// The struct is 64 B (a size class): collections, rare next to scalars,
// hang off a pointer instead of a 16 B interface in every item.
type item struct {
	kv         *byte // key ‖ value; nil when both are empty
	klen, vlen uint32
	coll       *collRef // collection value of a non-scalar kind (collections issue)
	// expires is the expiry as clock nanos; 0 means never.
	expires int64
	lsn     uint64
	// at, op and span describe the change at lsn, for its latest-version
	// index entry (feed.go): commit time (clock nanos), create or replace,
	// and batch span (see batchEnd).
	at int64
	// access is the last access in clock ticks of 2^20 ns (~1 ms, as
	// touchGranularity), for LRU eviction; updated atomically by readers
	// holding only the read lock. It wraps after ~52 days of ticks: ages
	// are compared modulo 2^32 (accessAge).
	access atomic.Uint32
	tidx   int32 // position in partition.ttl while expires != 0
	span   uint32
	kind   store.Kind
	op     store.FeedOp
}

// collRef holds the collection of a non-scalar item.
type collRef struct{ c collection }

// accessShift converts clock nanos to access ticks.
const accessShift = 20

func accessTick(now int64) uint32 { return uint32(now >> accessShift) }

// accessAge is how many ticks ago it was last accessed, modulo 2^32.
func (it *item) accessAge(now int64) uint32 { return accessTick(now) - it.access.Load() }

func (it *item) touchAt(now int64) { it.access.Store(accessTick(now)) }

// newItem returns an item holding a copy of key and value.
func newItem(key string, value []byte, kind store.Kind, expires int64) *item {
	it := &item{kind: kind, expires: expires}
	it.setKV(key, value)
	return it
}

// setKV stores a copy of key ‖ value in one new allocation. The table
// reads the key from the item, so nothing else refers to the old kv.
func (it *item) setKV(key string, value []byte) {
	n := len(key) + len(value)
	it.klen, it.vlen = uint32(len(key)), uint32(len(value))
	if n == 0 {
		it.kv = nil
		return
	}
	b := make([]byte, n)
	copy(b, key)
	copy(b[len(key):], value)
	it.kv = &b[0]
}

// key is the item's key; it shares the kv allocation.
func (it *item) key() string {
	if it.kv == nil {
		return ""
	}
	return unsafe.String(it.kv, int(it.klen))
}

// value is the scalar value (nil for collections and removed items), capped
// so that an append by a reader cannot write into anything else.
func (it *item) value() []byte {
	if it.vlen == 0 {
		return nil
	}
	b := unsafe.Slice(it.kv, int(it.klen+it.vlen))
	return b[it.klen:len(b):len(b)]
}

// collection is the collection value of a non-scalar item, else nil.
func (it *item) collection() collection {
	if it.coll == nil {
		return nil
	}
	return it.coll.c
}

func (it *item) setCollection(c collection) {
	if c == nil {
		it.coll = nil
	} else {
		it.coll = &collRef{c}
	}
}

func (it *item) size() int64 {
	n := int64(it.klen+it.vlen) + ItemOverhead
	if it.coll != nil {
		n += it.coll.c.mem()
	}
	return n
}

func (it *item) expired(now int64) bool { return it.expires != 0 && it.expires <= now }

// partition is one shard of a cache. Its fields are guarded by mu, except
// item.access.
type partition struct {
	mu    sync.RWMutex
	items itemTable // eviction samples the feed index (feedState.sample)
	ttl   []*item   // items with an expiry: sampling for active expiry
	lsn   uint64    // last LSN handed out
	dead  bool      // the cache was deleted
	feed  feedState
	jr    *partJournal // persistence (persist.go); nil when off
	// bytes is the accounted size of the partition's items (its share of
	// Store.used); evictions and expirations count its removals (stats.go).
	bytes                  int64
	evictions, expirations uint64
	_                      [64]byte
}

func (p *partition) nextLSN() uint64 {
	p.lsn++
	return p.lsn
}

func (p *partition) insert(it *item) {
	p.items.put(it)
	if it.expires != 0 {
		p.addTTL(it)
	}
}

// remove unlinks it and returns the bytes it accounted for. It lets go of
// the value too: stale entries of the latest-version index still point at
// a removed item until the next compaction, and must not keep its value
// reachable (readers who were handed the value keep their own reference).
func (p *partition) remove(it *item) int64 {
	n := it.size()
	p.items.del(it)
	if it.expires != 0 {
		p.removeTTL(it)
	}
	it.kv, it.vlen, it.coll = nil, 0, nil // klen stays: key() of a removed item is ""
	return n
}

func (p *partition) addTTL(it *item) {
	it.tidx = int32(len(p.ttl))
	p.ttl = append(p.ttl, it)
}

func (p *partition) removeTTL(it *item) {
	last := p.ttl[len(p.ttl)-1]
	p.ttl[it.tidx], last.tidx = last, it.tidx
	p.ttl[len(p.ttl)-1] = nil
	p.ttl = p.ttl[:len(p.ttl)-1]
}

// setExpiry changes it.expires and keeps the ttl index in step.
func (p *partition) setExpiry(it *item, expires int64) {
	switch {
	case it.expires == 0 && expires != 0:
		it.expires = expires
		p.addTTL(it)
	case it.expires != 0 && expires == 0:
		p.removeTTL(it)
		it.expires = 0
	default:
		it.expires = expires
	}
}

// clear drops every item and returns the bytes they accounted for.
func (p *partition) clear() int64 {
	var freed int64
	for it := range p.items.all() {
		freed += it.size()
	}
	p.items.reset()
	p.ttl = nil
	p.bytes = 0
	p.flushFeed()
	return freed
}

// live returns the unexpired item under key, or nil.
func (p *partition) live(key []byte, c *clock) *item {
	it := p.items.get(key)
	if it == nil || it.expires != 0 && it.expires <= c.nanos() {
		return nil
	}
	return it
}

// putScalar stores a copy of value under key as a scalar with the given
// expiry and a new LSN, and returns the change in accounted bytes.
func (p *partition) putScalar(key, value []byte, expires, now int64) int64 {
	if it := p.items.get(key); it != nil {
		before := it.size()
		op, prev := store.FeedCreate, image{}
		if it.expired(now) {
			p.commit(now, store.FeedDelete, it, image{}, true) // purged, then reused
		} else {
			op, prev = store.FeedReplace, imageOf(it)
		}
		it.setKV(it.key(), value)
		it.coll, it.kind = nil, store.KindScalar
		p.setExpiry(it, expires)
		p.commit(now, op, it, prev, false)
		it.touchAt(now)
		return it.size() - before
	}
	it := newItem(string(key), value, store.KindScalar, expires)
	it.touchAt(now)
	p.insert(it)
	p.commit(now, store.FeedCreate, it, image{}, false)
	return it.size()
}
