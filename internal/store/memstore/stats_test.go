package memstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/storetest"
)

func TestStats(t *testing.T) {
	clk := storetest.NewClock()
	const itemSize = 4 + 96 + ItemOverhead
	s := newTest(t, Options{Now: clk.Now, MaxMemory: 10 * itemSize, Partitions: 2, ExpirySweepInterval: -1})
	value := make([]byte, 96)
	for i := range 5 {
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "t%03d", i), value, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Second)
	s.sweep()           // five expirations
	for i := range 15 { // ten fit: five evictions
		if err := s.Set(ctx, "c", fmt.Appendf(nil, "k%03d", i), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine != "memory" || st.MaxBytes != 10*itemSize || st.UsedBytes != s.UsedMemory() {
		t.Fatalf("stats = %+v", st)
	}
	if len(st.Caches) != 1 {
		t.Fatalf("caches = %+v", st.Caches)
	}
	c := st.Caches[0]
	if c.Name != "c" || c.Items != 10 || c.Bytes != 10*itemSize || c.Evictions != 5 || c.Expirations != 5 || len(c.LSNs) != 2 {
		t.Fatalf("cache stats = %+v", c)
	}
	if c.LSNs[0]+c.LSNs[1] != 5+5+15+5 { // sets, expiries, sets, evictions
		t.Fatalf("LSNs = %v", c.LSNs)
	}
	if st.Evictions != 5 || st.Expirations != 5 {
		t.Fatalf("engine counts = %d evictions, %d expirations", st.Evictions, st.Expirations)
	}

	// A deleted cache's counts stay in the engine's totals.
	if err := s.DeleteCache(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Stats(ctx)
	if len(st.Caches) != 0 || st.Evictions != 5 || st.Expirations != 5 || st.UsedBytes != 0 {
		t.Fatalf("after delete: %+v", st)
	}
	if _, err := s.CreateCache(ctx, "c", store.CacheConfig{}); err != nil {
		t.Fatal(err)
	}
}
