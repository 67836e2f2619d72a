package memstore

import (
	"math/rand/v2"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
)

// BenchmarkSetPersist is BenchmarkSet/100B with persistence, per policy.
func BenchmarkSetPersist(b *testing.B) {
	for _, policy := range []wal.Fsync{wal.FsyncNo, wal.FsyncEverySec, wal.FsyncAlways} {
		b.Run(policy.String(), func(b *testing.B) {
			s, tl := openP(b, b.TempDir(), Options{Partitions: 16, ExpirySweepInterval: -1}, PersistOptions{Fsync: policy, SnapshotAfter: -1})
			b.Cleanup(func() { closeP(b, s, tl) })
			s.CreateCache(bg, "c", store.CacheConfig{})
			keys := make([][]byte, benchKeys)
			for i := range keys {
				keys[i] = []byte("user:" + string(rune('a'+i%26)) + string(rune(i)))
			}
			value := make([]byte, 100)
			b.SetBytes(100)
			b.ReportAllocs()
			b.SetParallelism(8) // concurrent writers share writes and fsyncs
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(benchKeys)
				for pb.Next() {
					if err := s.Set(bg, "c", keys[i%benchKeys], value, 0); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
