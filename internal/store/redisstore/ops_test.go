package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/redistest"
	"github.com/setsuna-io/setsuna/internal/store"
)

func TestStatsAndPing(t *testing.T) {
	e := newEngine(t, testCluster(t), Options{SweepInterval: -1})
	info := e.cache(store.CacheConfig{Partitions: 8})
	for i := range 20 {
		if err := e.s.Set(e.ctx, info.Name, []byte(fmt.Sprint("k", i)), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.Ping(e.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	st, err := e.s.Stats(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine != "redis" || st.UsedBytes <= 0 {
		t.Fatalf("Stats = %s, %d used bytes", st.Engine, st.UsedBytes)
	}
	for _, c := range st.Caches {
		if c.Name != info.Name {
			continue
		}
		var lsns uint64
		for _, l := range c.LSNs {
			lsns += l
		}
		if c.Items != 20 || len(c.LSNs) != 8 || lsns != 20 {
			t.Fatalf("cache stats %+v: want 20 items over 8 partitions, 20 changes", c)
		}
		return
	}
	t.Fatalf("Stats lists no %s", info.Name)
}

func TestPingUnreachable(t *testing.T) {
	single := redistest.Start(t, redistest.Options{})
	e := newEngine(t, single, Options{SweepInterval: -1})
	single.Servers[0].Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.s.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("Ping with the server down: %v, want unavailable", err)
	}
	if err := single.Servers[0].Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ping after the restart", func() bool { return e.s.Ping(context.Background()) == nil })
}
