package memstore

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSetFeed compares Set with the change feed off (the engine as it
// was before the feed: LSNs only), with the latest-version index only (the
// default until an all-versions reader comes) and with the all-versions log
// on as well.
func BenchmarkSetFeed(b *testing.B) {
	for _, sz := range benchSizes {
		for _, mode := range []string{"off", "index", "log"} {
			b.Run(sz.name+"/"+mode, func(b *testing.B) {
				s, keys, value := benchStore(b, sz.size)
				c := s.catalog.Load().byName["c"]
				for i := range c.parts {
					switch mode {
					case "off":
						c.parts[i].feed = feedState{}
					case "log": // an all-versions reader switched the log on
						c.parts[i].startLog()
					}
				}
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
}
