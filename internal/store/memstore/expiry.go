package memstore

import (
	"math/rand/v2"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

// clock measures nanoseconds since the Store was created. With the real
// clock this uses the monotonic reading, so wall-clock jumps never expire
// items early or late.
type clock struct {
	base time.Time
	now  func() time.Time // nil: time.Now
}

func newClock(now func() time.Time) clock {
	if now == nil {
		return clock{base: time.Now()}
	}
	return clock{base: now(), now: now}
}

func (c *clock) nanos() int64 {
	if c.now != nil {
		return int64(c.now().Sub(c.base))
	}
	return int64(time.Since(c.base))
}

// expiry converts a TTL into clock nanos; 0 stays "never". The result is at
// least 1 so that it never reads as "never" even if a test clock moves back.
func (c *clock) expiry(ttl time.Duration, now int64) int64 {
	if ttl == 0 {
		return 0
	}
	return max(now+int64(ttl), 1)
}

func (c *clock) time(nanos int64) time.Time { return c.base.Add(time.Duration(nanos)) }

// Active expiry, as Redis does it: sample items with a TTL and repeat while
// many of the sample had expired, so that the work follows the garbage.
const (
	sweepSample = 20
	sweepRounds = 16 // bound per partition and tick
)

func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep runs one active-expiry pass over every partition of every cache.
func (s *Store) sweep() {
	for _, c := range s.catalog.Load().list {
		for i := range c.parts {
			s.sweepPartition(&c.parts[i])
		}
	}
}

func (s *Store) sweepPartition(p *partition) {
	for range sweepRounds {
		p.mu.Lock()
		freed, more := p.sweepOnce(s.clock.nanos())
		p.bytes -= freed
		p.mu.Unlock()
		s.used.Add(-freed)
		if !more {
			return
		}
	}
}

// sweepOnce removes expired items among a sample and reports the bytes freed
// and whether enough of the sample had expired to sample again.
func (p *partition) sweepOnce(now int64) (freed int64, more bool) {
	n := len(p.ttl)
	if n <= sweepSample {
		// Few enough to check all; walk backwards because remove moves the
		// last item into the freed slot.
		for j := n - 1; j >= 0; j-- {
			if it := p.ttl[j]; it.expires <= now {
				p.commit(now, store.FeedDelete, it, image{}, true)
				freed += p.remove(it)
			}
		}
		return freed, false
	}
	expired := 0
	for range sweepSample {
		if it := p.ttl[rand.IntN(len(p.ttl))]; it.expires <= now {
			p.commit(now, store.FeedDelete, it, image{}, true)
			freed += p.remove(it)
			expired++
		}
	}
	return freed, expired*4 > sweepSample
}
