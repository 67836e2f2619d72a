package memstore

import (
	"math"
	"math/rand/v2"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Sampled LRU, as Redis does it: the least recently accessed of a few random
// items is close enough to the true LRU and costs O(1) per eviction.
const (
	evictSamples  = 10
	evictAttempts = 4 // re-samples when the chosen item changed under us
)

// The access tick (2^20 ns, ~1 ms; item.access) avoids writing the access
// time of a hot item on every read (cache-line bouncing between cores); LRU
// needs no finer order.

func (s *Store) touch(it *item) {
	if s.maxMemory == 0 {
		return
	}
	if t := accessTick(s.clock.nanos()); it.access.Load() != t {
		it.access.Store(t)
	}
}

// reserve accounts need bytes before a write and evicts until the store is
// back under MaxMemory. The caller holds no partition lock and settles the
// reservation with s.used.Add(actual - reserved) after the write.
func (s *Store) reserve(need int64) (reserved int64, err error) {
	if s.maxMemory == 0 || need == 0 {
		return 0, nil
	}
	if need > s.maxMemory {
		return 0, errs.ErrOutOfMemory.Withf("write of %d bytes exceeds max memory of %d", need, s.maxMemory)
	}
	s.used.Add(need)
	for s.used.Load() > s.maxMemory {
		if !s.evictOne() && s.used.Load() > s.maxMemory {
			s.used.Add(-need)
			return 0, errs.ErrOutOfMemory.Withf("max memory of %d reached and nothing to evict", s.maxMemory)
		}
	}
	return need, nil
}

// evictOne removes the least recently accessed of a random sample of items
// across all caches (an expired item first). It locks one partition at a
// time, so it cannot deadlock with writers. It reports false when there is
// nothing to evict.
func (s *Store) evictOne() bool {
	cat := s.catalog.Load()
	if len(cat.list) == 0 {
		return false
	}
	for range evictAttempts {
		p, it := s.sample(cat)
		if it == nil {
			if p, it = firstItem(cat); it == nil {
				return false
			}
		}
		p.mu.Lock()
		// Another writer may have deleted or evicted it meanwhile.
		ok := !p.dead && p.items.getStr(it.key()) == it
		var freed int64
		if ok {
			// An eviction is a delete; an expired victim is an expiry.
			now := s.clock.nanos()
			expired := it.expired(now)
			p.commit(now, store.FeedDelete, it, image{}, expired)
			freed = p.remove(it)
			p.bytes -= freed
			if !expired { // an expired victim counts as an expiration (commit)
				p.evictions++
			}
		}
		p.mu.Unlock()
		if ok {
			s.used.Add(-freed)
			return true
		}
	}
	return false
}

// sample picks the eviction candidate among evictSamples random items.
func (s *Store) sample(cat *catalog) (best *partition, bestIt *item) {
	bestAge := int64(-1) // the oldest access wins; an expired item at once
	now := s.clock.nanos()
	for j, found := 0, 0; j < 2*evictSamples && found < evictSamples; j++ {
		c := cat.list[rand.IntN(len(cat.list))]
		p := &c.parts[rand.IntN(len(c.parts))]
		p.mu.RLock()
		if it := p.sampleItem(); it != nil {
			found++
			age := int64(it.accessAge(now))
			if it.expired(now) {
				age = math.MaxInt64
			}
			if age > bestAge {
				best, bestIt, bestAge = p, it, age
			}
		}
		p.mu.RUnlock()
		if bestAge == math.MaxInt64 {
			break
		}
	}
	return best, bestIt
}

// sampleItem picks a random item, uniformly through the latest-version
// index, where every live item has its current entry, else any item (items
// written around the feed, which only tests do).
func (p *partition) sampleItem() *item {
	if it := p.feed.sample(); it != nil {
		return it
	}
	return p.anyItem()
}

// anyItem returns some item of the partition, or nil when it is empty.
func (p *partition) anyItem() *item {
	return p.items.any()
}

// firstItem finds any item when random sampling hit only empty partitions.
func firstItem(cat *catalog) (*partition, *item) {
	for _, c := range cat.list {
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			it := p.anyItem()
			p.mu.RUnlock()
			if it != nil {
				return p, it
			}
		}
	}
	return nil, nil
}
