package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/setsuna-io/setsuna/internal/store"
)

var (
	_ store.StatsReader = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
)

// Stats reports what the store holds. It takes each partition's read lock
// once and reads counters only: O(caches × partitions). Engine-wide
// evictions and expirations are those of the live caches plus those of
// deleted caches, so they never go down.
func (s *Store) Stats(context.Context) (store.EngineStats, error) {
	cat := s.catalog.Load()
	st := store.EngineStats{
		Engine:      "memory",
		UsedBytes:   s.used.Load(),
		MaxBytes:    s.maxMemory,
		Caches:      make([]store.CacheStats, 0, len(cat.list)),
		Evictions:   s.retiredEvictions.Load(),
		Expirations: s.retiredExpirations.Load(),
	}
	for _, c := range cat.list {
		cs := store.CacheStats{Name: c.name, Epoch: c.epoch, LSNs: make([]uint64, len(c.parts))}
		dead := false
		for i := range c.parts {
			p := &c.parts[i]
			p.mu.RLock()
			dead = dead || p.dead
			cs.Items += int64(p.items.len())
			cs.Bytes += p.bytes
			cs.Evictions += p.evictions
			cs.Expirations += p.expirations
			cs.LSNs[i] = p.lsn
			p.mu.RUnlock()
		}
		if dead { // deleted under us: its counts are retired already
			continue
		}
		st.Evictions += cs.Evictions
		st.Expirations += cs.Expirations
		st.Caches = append(st.Caches, cs)
	}
	// A cache deleted during the walk may be missed by both sums (its
	// partitions were dead, its counts retired after they were loaded):
	// never report less than before.
	s.statsMu.Lock()
	st.Evictions = max(st.Evictions, s.lastEvictions)
	st.Expirations = max(st.Expirations, s.lastExpirations)
	s.lastEvictions, s.lastExpirations = st.Evictions, st.Expirations
	s.statsMu.Unlock()
	slices.SortFunc(st.Caches, func(a, b store.CacheStats) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

// retire keeps the counts of a deleted cache's partition.
func (s *Store) retire(evictions, expirations uint64) {
	s.retiredEvictions.Add(evictions)
	s.retiredExpirations.Add(expirations)
}

// Ping always succeeds: the data is in this process.
func (s *Store) Ping(context.Context) error { return nil }
