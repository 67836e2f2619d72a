package memstore

import (
	"sync"
	"sync/atomic"

	"github.com/setsuna-io/setsuna/internal/store"
)

// ItemOverhead is the bytes accounted per item on top of len(key)+len(value):
// the item struct (96 B), its map slot (24 B key+pointer, control byte and
// load-factor slack), its slot in partition.all, its latest-version feed
// index entry (32 B, up to twice with stale entries and append slack; see
// feed.go), and size-class rounding of the key and value allocations.
// TestItemOverhead measured 140-152 B before the feed index, with
// exactly-sized allocations; the rest covers rounding. The all-versions log
// is a separate budget (Options.FeedLogRecords, FeedLogBytes).
const ItemOverhead = 192

type item struct {
	key   string // shared with the map key
	value []byte // scalar value; never mutated in place (readers keep it)
	coll  any    // collection value of a non-scalar kind (collections issue)
	// expires is the expiry as clock nanos; 0 means never.
	expires int64
	lsn     uint64
	// access is the last access as clock nanos, for LRU eviction; updated
	// atomically by readers holding only the read lock.
	access atomic.Int64
	idx    int32 // position in partition.all
	tidx   int32 // position in partition.ttl while expires != 0
	kind   store.Kind
}

func (it *item) size() int64 {
	n := int64(len(it.key)+len(it.value)) + ItemOverhead
	if c, ok := it.coll.(collection); ok {
		n += c.mem()
	}
	return n
}

func (it *item) expired(now int64) bool { return it.expires != 0 && it.expires <= now }

// partition is one shard of a cache. Its fields are guarded by mu, except
// item.access.
type partition struct {
	mu    sync.RWMutex
	items map[string]*item
	all   []*item // every item: O(1) uniform sampling for eviction
	ttl   []*item // items with an expiry: sampling for active expiry
	lsn   uint64  // last LSN handed out
	dead  bool    // the cache was deleted
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
	p.items[it.key] = it
	it.idx = int32(len(p.all))
	p.all = append(p.all, it)
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
	delete(p.items, it.key)
	last := p.all[len(p.all)-1]
	p.all[it.idx], last.idx = last, it.idx
	p.all[len(p.all)-1] = nil
	p.all = p.all[:len(p.all)-1]
	if it.expires != 0 {
		p.removeTTL(it)
	}
	it.value, it.coll = nil, nil
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
	for _, it := range p.all {
		freed += it.size()
	}
	p.items = map[string]*item{}
	p.all, p.ttl = nil, nil
	p.bytes = 0
	p.flushFeed()
	return freed
}

// live returns the unexpired item under key, or nil.
func (p *partition) live(key []byte, c *clock) *item {
	it := p.items[string(key)]
	if it == nil || it.expires != 0 && it.expires <= c.nanos() {
		return nil
	}
	return it
}

// putScalar stores a copy of value under key as a scalar with the given
// expiry and a new LSN, and returns the change in accounted bytes.
func (p *partition) putScalar(key, value []byte, expires, now int64) int64 {
	v := make([]byte, len(value))
	copy(v, value)
	if it := p.items[string(key)]; it != nil {
		before := it.size()
		op, prev := store.FeedCreate, image{}
		if it.expired(now) {
			p.commit(now, store.FeedDelete, it, image{}, true) // purged, then reused
		} else {
			op, prev = store.FeedReplace, imageOf(it)
		}
		it.value, it.coll, it.kind = v, nil, store.KindScalar
		p.setExpiry(it, expires)
		p.commit(now, op, it, prev, false)
		it.access.Store(now)
		return it.size() - before
	}
	it := &item{key: string(key), value: v, kind: store.KindScalar, expires: expires}
	it.access.Store(now)
	p.insert(it)
	p.commit(now, store.FeedCreate, it, image{}, false)
	return it.size()
}
