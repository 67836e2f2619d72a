package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/setsuna-io/setsuna/internal/store/memstore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	defer st.Close()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	o := Options{Interval: time.Hour, Now: clk.now} // heartbeats only when the test calls beat
	a := New(st, Node{ID: "a", Engine: "memory", Addrs: map[string]string{"grpc": "127.0.0.1:1"}}, o)
	b := New(st, Node{ID: "b", Engine: "memory", Addrs: map[string]string{"grpc": "127.0.0.1:2"}}, o)
	a.Start(ctx, nil)
	b.Start(ctx, nil)
	a.beat(ctx)
	if got := a.AliveAddrs("grpc"); len(got) != 2 || got[0] != "127.0.0.1:1" || got[1] != "127.0.0.1:2" {
		t.Fatalf("AliveAddrs = %v, want a's then b's", got)
	}
	if !a.Healthy() {
		t.Fatal("not healthy after a heartbeat")
	}

	// b stops heartbeating (killed): after the TTL it is down, not listed.
	clk.add(DefaultTTL + time.Second)
	a.beat(ctx)
	if got := a.AliveAddrs("grpc"); len(got) != 1 {
		t.Fatalf("AliveAddrs = %v, want only a's", got)
	}
	nodes, err := List(ctx, st)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("List = %v, %v; want both records", nodes, err)
	}
	// After an hour down, its record is dropped.
	clk.add(forgetAfter)
	a.beat(ctx)
	if nodes, _ := List(ctx, st); len(nodes) != 1 || nodes[0].ID != "a" {
		t.Fatalf("List = %v, want only a", nodes)
	}

	// A clean stop removes the record.
	a.Stop(ctx)
	if nodes, _ := List(ctx, st); len(nodes) != 0 {
		t.Fatalf("List after Stop = %v", nodes)
	}
	b.Stop(ctx)
}

func TestListSkipsDamagedRecords(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(memstore.Options{})
	defer st.Close()
	f := func(value string) {
		t.Helper()
		if err := st.PutRecord(ctx, Namespace, "x", []byte(value)); err != nil {
			t.Fatal(err)
		}
		nodes, err := List(ctx, st)
		if err != nil || len(nodes) != 0 {
			t.Fatalf("List with record %q = %v, %v; want none", value, nodes, err)
		}
	}
	f("not json")
	f(`{"id":""}`)
	f(`[]`)
}

func TestRegistryAlone(t *testing.T) {
	r := New(nil, Node{ID: "solo", Addrs: map[string]string{"grpc": "127.0.0.1:1"}}, Options{Interval: time.Hour})
	r.Start(context.Background(), nil)
	defer r.Stop(context.Background())
	if got := r.AliveAddrs("grpc"); len(got) != 1 || got[0] != "127.0.0.1:1" {
		t.Fatalf("AliveAddrs = %v", got)
	}
	if n := r.Nodes(); len(n) != 1 || n[0].ID != "solo" || !r.Healthy() {
		t.Fatalf("Nodes = %v, healthy %v", n, r.Healthy())
	}
}
