package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/setsuna-io/setsuna/bench/drivers"
	"github.com/setsuna-io/setsuna/bench/loadgen"
)

// cachePair is a started Setsuna and redis-server with a driver for each.
type cachePair struct {
	srv, peer      *Server
	setsuna, redis drivers.KV
}

// startCachePair starts both servers; redisPool is the connection count of
// the Redis client (the largest worker count of the scenario).
func startCachePair(e *Env, redisPool int) (*cachePair, error) {
	ctx, cancel := context.WithTimeout(e.Context(), 30*time.Second)
	defer cancel()
	s, err := e.StartSetsuna()
	if err != nil {
		return nil, err
	}
	r, err := e.StartRedis()
	if err != nil {
		return nil, err
	}
	sd, err := drivers.NewSetsuna(ctx, s.Addr)
	if err != nil {
		return nil, err
	}
	rd, err := drivers.NewRedis(ctx, r.Addr, redisPool)
	if err != nil {
		sd.Close()
		return nil, err
	}
	return &cachePair{srv: s, peer: r, setsuna: sd, redis: rd}, nil
}

func (p *cachePair) close() {
	p.setsuna.Close()
	p.redis.Close()
}

// each runs fn for Setsuna and then Redis.
func (p *cachePair) each(fn func(kv drivers.KV, s *Server) error) error {
	if err := fn(p.setsuna, p.srv); err != nil {
		return fmt.Errorf("setsuna: %w", err)
	}
	if err := fn(p.redis, p.peer); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// measure runs op closed-loop (rate 0) or open-loop against one server.
func (e *Env) measure(s *Server, workers int, rate float64, op loadgen.Op) (*loadgen.Result, error) {
	r, err := loadgen.Run(e.Context(), loadgen.Config{
		Workers: workers, Rate: rate, Warmup: e.Warmup(), Duration: e.Duration(), ServerPIDs: []int{s.PID},
	}, op)
	if err != nil {
		return nil, err
	}
	mode := fmt.Sprintf("%d workers", workers)
	if rate > 0 {
		mode = fmt.Sprintf("%s/s open loop", fmtRate(rate))
	}
	e.Logf("%-7s %-22s %9s ops/s  p50 %-8s p99 %-8s errors %d  gen CPU %.0f%%  server CPU %s",
		s.Name, mode, fmtRate(r.Throughput()), fmtDur(r.Hist.QuantileDuration(0.5)), fmtDur(r.Hist.QuantileDuration(0.99)),
		r.Errors, 100*r.GenCPU, fmtServerCPU(r))
	return r, nil
}

// makeKeys returns n distinct keys "key:0000000".. of 11 bytes.
func makeKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%07d", i)
	}
	return keys
}

// makeValue returns size random bytes (incompressible, same for both systems).
func makeValue(size int) []byte {
	r := rand.New(rand.NewPCG(7, 7))
	v := make([]byte, size)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}
