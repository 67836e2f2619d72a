// Package cluster is the node registry: every node of an engine records
// itself (id, the address of each listener, a heartbeat) in the engine's
// records, so that any node, the CLI and the failover clients can list the
// nodes that serve the same data. A node that stops heartbeating (killed,
// partitioned) is listed as down after TTL and dropped after an hour.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Namespace is the records namespace of the registry.
const Namespace = "cluster.nodes"

// Defaults of Options.
const (
	DefaultInterval = time.Second
	DefaultTTL      = 5 * time.Second
	// forgetAfter drops the records of nodes that have been down that long.
	forgetAfter = time.Hour
)

// Node is one registered node.
type Node struct {
	ID      string `json:"id"`
	Engine  string `json:"engine"`
	Version string `json:"version,omitempty"`
	// Addrs are the node's listeners by name: grpc, http, cosmos, graphql.
	Addrs     map[string]string `json:"addrs"`
	Started   time.Time         `json:"started"`
	Heartbeat time.Time         `json:"heartbeat"`
}

// Alive reports whether n heartbeated within ttl of now.
func (n Node) Alive(now time.Time, ttl time.Duration) bool {
	return now.Sub(n.Heartbeat) <= ttl
}

// Options of a Registry.
type Options struct {
	Interval time.Duration // heartbeat period (default 1s)
	TTL      time.Duration // a node is down after this without heartbeat (default 5s)
	Now      func() time.Time
	Logger   *slog.Logger
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Registry keeps this node's record fresh and caches the list of nodes.
type Registry struct {
	rec  store.Records
	o    Options
	self Node

	mu    sync.Mutex
	nodes []Node // the last list read, alive ones first
	// healthy is false while heartbeats fail (the engine is unreachable)
	// and before the first; failing says the last one failed (logged once).
	healthy, failing bool

	stop chan struct{}
	done chan struct{}
}

// New returns a registry for self; nothing is written until Start. With
// rec nil the node is alone (an engine no other node shares): it lists
// itself and writes nothing.
func New(rec store.Records, self Node, o Options) *Registry {
	o.defaults()
	return &Registry{rec: rec, o: o, self: self}
}

// Start records the node and heartbeats until Stop. The first heartbeat is
// written before Start returns, so the node is listed once it serves.
// addrs are the node's listeners, known once they are bound.
func (r *Registry) Start(ctx context.Context, addrs map[string]string) {
	r.mu.Lock()
	r.self.Started = r.o.Now()
	if addrs != nil {
		r.self.Addrs = addrs
	}
	r.mu.Unlock()
	r.beat(ctx)
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.loop()
}

// Stop ends the heartbeats and removes the node's record, so that a node
// that stops cleanly is not listed as down.
func (r *Registry) Stop(ctx context.Context) {
	if r.stop == nil {
		return
	}
	close(r.stop)
	<-r.done
	r.stop = nil
	if r.rec == nil {
		return
	}
	if err := r.rec.DeleteRecord(ctx, Namespace, r.self.ID); err != nil {
		r.o.Logger.Warn("cannot remove the node from the registry", "node", r.self.ID, "err", err)
	}
}

func (r *Registry) loop() {
	defer close(r.done)
	t := time.NewTicker(r.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), r.o.Interval)
			r.beat(ctx)
			cancel()
		}
	}
}

// beat writes the node's record and rereads the list.
func (r *Registry) beat(ctx context.Context) {
	r.mu.Lock()
	r.self.Heartbeat = r.o.Now()
	self := r.self
	r.mu.Unlock()
	if r.rec == nil { // a node alone: nothing to share
		r.mu.Lock()
		r.healthy, r.nodes = true, []Node{self}
		r.mu.Unlock()
		return
	}
	b, err := json.Marshal(self)
	if err != nil {
		panic("BUG: node record: " + err.Error())
	}
	err = r.rec.PutRecord(ctx, Namespace, self.ID, b)
	var nodes []Node
	if err == nil {
		nodes, err = List(ctx, r.rec)
	}
	r.mu.Lock()
	failing := r.failing
	r.failing, r.healthy = err != nil, err == nil
	if err == nil {
		r.nodes = nodes
	}
	r.mu.Unlock()
	if err != nil && !failing {
		r.o.Logger.Warn("node heartbeat failed", "node", self.ID, "err", err)
	} else if err == nil && failing {
		r.o.Logger.Info("node heartbeat restored", "node", self.ID)
	}
	if err == nil {
		r.forget(ctx, nodes)
	}
}

// forget drops the records of nodes down for over an hour.
func (r *Registry) forget(ctx context.Context, nodes []Node) {
	now := r.o.Now()
	for _, n := range nodes {
		if now.Sub(n.Heartbeat) > forgetAfter {
			_ = r.rec.DeleteRecord(ctx, Namespace, n.ID)
		}
	}
}

// Nodes returns the nodes read at the last heartbeat, with whether each is
// alive; this node is always listed.
func (r *Registry) Nodes() []Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.nodes)
	if !slices.ContainsFunc(out, func(n Node) bool { return n.ID == r.self.ID }) {
		out = append(out, r.self)
	}
	return out
}

// AliveAddrs returns the address of listener name of every alive node, this
// node's first.
func (r *Registry) AliveAddrs(name string) []string {
	now := r.o.Now()
	r.mu.Lock()
	self := r.self
	r.mu.Unlock()
	var out []string
	if a := self.Addrs[name]; a != "" {
		out = append(out, a)
	}
	for _, n := range r.Nodes() {
		if n.ID == self.ID || !n.Alive(now, r.o.TTL) {
			continue
		}
		if a := n.Addrs[name]; a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Healthy reports whether the last heartbeat reached the engine.
func (r *Registry) Healthy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy
}

// TTL is the heartbeat age after which a node is down.
func (r *Registry) TTL() time.Duration { return r.o.TTL }

// List reads every node record in id order. Records that do not parse are
// skipped (written by a newer version, or damaged).
func List(ctx context.Context, rec store.Records) ([]Node, error) {
	rs, err := rec.ListRecords(ctx, Namespace)
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(rs))
	for _, r := range rs {
		var n Node
		if json.Unmarshal(r.Value, &n) != nil || n.ID == "" {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}
