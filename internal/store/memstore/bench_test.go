package memstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/setsuna-io/setsuna/internal/store"
)

const benchKeys = 1 << 16

func benchStore(b *testing.B, valueSize int) (*Store, [][]byte, []byte) {
	s := New(Options{Partitions: 16, ExpirySweepInterval: -1})
	b.Cleanup(func() { s.Close() })
	s.CreateCache(ctx, "c", store.CacheConfig{})
	keys := make([][]byte, benchKeys)
	value := make([]byte, valueSize)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%010d", i)
		s.Set(ctx, "c", keys[i], value, 0)
	}
	return s, keys, value
}

var benchSizes = []struct {
	name string
	size int
}{{"100B", 100}, {"10KB", 10 << 10}}

func BenchmarkGet(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, keys, _ := benchStore(b, sz.size)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(benchKeys)
				for pb.Next() {
					if _, ok, _ := s.Get(ctx, "c", keys[i%benchKeys]); !ok {
						b.Error("missing key")
						return
					}
					i++
				}
			})
		})
	}
}

func BenchmarkSet(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, keys, value := benchStore(b, sz.size)
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(benchKeys)
				for pb.Next() {
					if err := s.Set(ctx, "c", keys[i%benchKeys], value, 0); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

func BenchmarkSetBatch(b *testing.B) {
	s, keys, value := benchStore(b, 100)
	const batch = 100
	items := make([]store.Item, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range items {
			items[j] = store.Item{Key: keys[(i*batch+j)%benchKeys], Value: value}
		}
		if err := s.SetBatch(ctx, "c", items); err != nil {
			b.Fatal(err)
		}
	}
}
