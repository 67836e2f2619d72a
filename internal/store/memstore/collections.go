package memstore

import (
	"cmp"

	"github.com/setsuna-io/setsuna/internal/store"
)

// collection is the value of a non-scalar item. mem is the bytes its
// elements account for on top of the item itself; every type keeps it up
// to date as elements come and go, so item.size stays O(1).
type collection interface {
	mem() int64
	length() int
}

// Per-element overheads on top of the element bytes: map slots with their
// load-factor slack, slice headers and node structs, rounded up to the
// allocator's size classes.
const (
	dictEntryOverhead = 64  // map slot: string + slice headers, control byte, slack; value allocation
	setEntryOverhead  = 40  // map slot: string header, control byte, slack
	listEntryOverhead = 32  // slice header in the ring and the ring's slack
	zsetEntryOverhead = 128 // skip-list node with its levels + map slot
)

func newCollection(kind store.Kind) collection {
	switch kind {
	case store.KindDictionary:
		return &dict{m: map[string][]byte{}}
	case store.KindSet:
		return &set{m: map[string]struct{}{}}
	case store.KindList:
		return &list{}
	case store.KindSortedSet:
		return newZSet()
	}
	panic("BUG: not a collection kind")
}

// collNeed is the reservation for a write of elements of total bytes n.
func collNeed(key []byte, n int64, count int, overhead int64) int64 {
	return int64(len(key)) + ItemOverhead + n + int64(count)*overhead
}

func sumLen(bs [][]byte) int64 {
	var n int64
	for _, b := range bs {
		n += int64(len(b))
	}
	return n
}

// collOp is one mutation of a collection under the partition's write lock.
// It must validate before it mutates: an error leaves the collection as it
// was. It reports whether the collection changed.
type collOp func(c collection, now int64) (changed bool, err error)

// collWrite runs op on the live collection of kind under key. A missing (or
// expired) collection is created when create is set, and only kept when op
// leaves it non-empty; otherwise found is false and op does not run. The
// write is one change with the next LSN; a collection op leaves empty is
// deleted. ttl applies on creation, and on an existing collection only with
// Refresh.
func (s *Store) collWrite(name string, key []byte, kind store.Kind, need int64, create bool, ttl store.CollectionTTL, op collOp) (found bool, err error) {
	if len(key) == 0 {
		return false, errEmptyKey
	}
	if err := checkTTL(ttl.TTL); err != nil {
		return false, err
	}
	err = s.write(name, key, need, func(p *partition, now int64) (int64, error) {
		var delta int64
		it := p.items.get(key)
		if it != nil && it.expired(now) {
			p.commit(now, store.FeedDelete, it, image{}, true)
			delta -= p.remove(it)
			it = nil
		}
		if it == nil {
			if !create {
				return delta, nil
			}
			c := newCollection(kind)
			if _, err := op(c, now); err != nil {
				return delta, err
			}
			if c.length() == 0 {
				return delta, nil
			}
			found = true
			it = newItem(string(key), nil, kind, s.clock.expiry(ttl.TTL, now))
			it.setCollection(c)
			it.touchAt(now)
			p.insert(it)
			p.commit(now, store.FeedCreate, it, image{}, false)
			return delta + it.size(), nil
		}
		if it.kind != kind {
			return delta, wrongType(it)
		}
		found = true
		before := it.size()
		changed, err := op(it.collection(), now)
		if err != nil {
			return delta, err
		}
		it.touchAt(now)
		if it.collection().length() == 0 {
			p.commit(now, store.FeedDelete, it, image{}, false) // the deletion is the change
			p.remove(it)
			return delta - before, nil
		}
		if ttl.Refresh {
			p.setExpiry(it, s.clock.expiry(ttl.TTL, now))
			changed = true
		}
		if changed {
			p.commit(now, store.FeedReplace, it, image{ok: true, kind: kind, lsn: it.lsn}, false)
		}
		return delta + it.size() - before, nil
	})
	return found, err
}

// collRead runs fn on the live collection of kind under key, under the
// partition's read lock.
func (s *Store) collRead(name string, key []byte, kind store.Kind, fn func(c collection)) (found bool, err error) {
	var kindErr error
	err = s.read(name, key, func(p *partition, _ int) {
		it := p.items.get(key)
		if !s.alive(it) {
			return
		}
		if it.kind != kind {
			kindErr = wrongType(it)
			return
		}
		s.touch(it)
		found = true
		fn(it.collection())
	})
	return found, cmp.Or(err, kindErr)
}

// sliceBounds applies Python slice semantics to [start, end) over n elements.
func sliceBounds(n, start, end int) (int, int) {
	clamp := func(i int) int {
		if i < 0 {
			i += n
			if i < 0 {
				return 0
			}
		}
		return min(i, n)
	}
	start, end = clamp(start), clamp(end)
	if end < start {
		end = start
	}
	return start, end
}
