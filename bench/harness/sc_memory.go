package harness

import (
	"fmt"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// 1,000,000 keys of 100 B each: resident memory of Setsuna vs Redis.
func init() {
	Register(&Scenario{
		Name:  "memory-1m",
		Title: "resident memory with 1,000,000 keys × 100 B loaded",
		Quick: true,
		Order: 30,
		Run:   runMemory,
	})
}

const (
	memKeys    = 1_000_000
	memLoaders = 8
)

func runMemory(e *Env) (*Table, error) {
	p, err := startCachePair(e, memLoaders)
	if err != nil {
		return nil, err
	}
	defer p.close()
	keys := makeKeys(memKeys)
	value := makeValue(100)
	t := &Table{Header: []string{"system", "keys", "idle RSS", "loaded RSS", "data (loaded − idle)", "bytes/key", "load time"}}
	type mem struct{ idle, loaded int64 }
	var m [2]mem
	i := 0
	err = p.each(func(kv drivers.KV, s *Server) error {
		time.Sleep(500 * time.Millisecond)
		idle, err := loadgen.RSS(s.PID)
		if err != nil {
			return err
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, memLoaders)
		per := (len(keys) + memLoaders - 1) / memLoaders
		for l := 0; l < memLoaders; l++ {
			part := keys[min(l*per, len(keys)):min((l+1)*per, len(keys))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[l] = kv.Load(e.Context(), part, value, drivers.TTL)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
		}
		loadTime := time.Since(t0)
		// Every key must still be there (no eviction under the 1 GiB bound):
		// read a spread sample back.
		sample := make([]string, 0, 100)
		for k := 0; k < 100; k++ {
			sample = append(sample, keys[k*(memKeys/100)+k])
		}
		if err := kv.GetBatch(e.Context(), sample); err != nil {
			return fmt.Errorf("read-back after load: %w", err)
		}
		time.Sleep(time.Second) // let allocators settle
		loaded, err := loadgen.RSS(s.PID)
		if err != nil {
			return err
		}
		m[i] = mem{idle, loaded}
		i++
		e.Logf("%-7s idle %s, loaded %s, load %v", s.Name, fmtBytes(idle), fmtBytes(loaded), loadTime.Round(time.Millisecond))
		t.Rows = append(t.Rows, []string{s.Name, fmt.Sprint(memKeys), fmtBytes(idle), fmtBytes(loaded), fmtBytes(loaded - idle),
			fmt.Sprintf("%.0f", float64(loaded-idle)/memKeys), loadTime.Round(time.Millisecond).String()})
		return nil
	})
	if err != nil {
		return t, err
	}
	s, r := m[0], m[1]
	t.Rows = append(t.Rows, []string{"setsuna/redis", "", fmtRatio(float64(s.idle), float64(r.idle)), fmtRatio(float64(s.loaded), float64(r.loaded)),
		fmtRatio(float64(s.loaded-s.idle), float64(r.loaded-r.idle)), "", ""})
	t.AddNote("RSS is VmRSS of /proc/<pid>/status: idle after start-up (and cache creation), loaded 1 s after the last write. Keys are 11 B (`key:0000000`), values 100 B random, each with a 1 h TTL in both systems (Redis: pipelined SET EX, 100 per round trip; Setsuna: SetBatch of 100). Both run with a 1 GiB memory bound; a sample read-back checks nothing was evicted.")
	ratio := float64(s.loaded) / float64(r.loaded)
	dataRatio := float64(s.loaded-s.idle) / float64(r.loaded-r.idle)
	detail := fmt.Sprintf("Setsuna resident memory %s vs Redis %s = %.2f× (goal ≤ 1.2×", fmtBytes(s.loaded), fmtBytes(r.loaded), ratio)
	if ratio > 1.2 {
		detail += fmt.Sprintf(", %.0f%% over the bound, i.e. %s too much", 100*(ratio/1.2-1), fmtBytes(s.loaded-int64(1.2*float64(r.loaded))))
	}
	detail += fmt.Sprintf("); data only (loaded − idle): %.2f×, %.0f vs %.0f bytes/key", dataRatio, float64(s.loaded-s.idle)/memKeys, float64(r.loaded-r.idle)/memKeys)
	t.Goals = append(t.Goals, Goal{Name: "memory 1M × 100 B", Met: ratio <= 1.2, Detail: detail})
	return t, nil
}
