package topics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

// Presence across nodes. When the log implements store.TopicPresence (an
// engine that several nodes share), the hub reports its local subscriber
// count of a topic whenever a local subscription of it opens or closes, and
// renews its counts every presenceRefresh (from the janitor); an entry
// lives presenceTTL, so the counts of a node that died vanish within that.
// Present asks the local count first and the engine only when there is no
// local subscriber.
const (
	presenceTTL     = 15 * time.Second
	presenceRefresh = 5 * time.Second
)

// presence is the hub's reporting state.
type presence struct {
	once sync.Once
	node string
	// mu serializes reports, so that the last report of a topic carries its
	// latest count. Lock order: presence.mu, then Hub.mu.
	mu sync.Mutex
	// refreshed: the last renewal (the janitor's goroutine only).
	refreshed time.Time
}

func (h *Hub) presenceLog() (store.TopicPresence, bool) {
	p, ok := h.log.(store.TopicPresence)
	return p, ok
}

// NodeID is the hub's identity in the engine's presence table.
func (h *Hub) NodeID() string {
	h.pres.once.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		h.pres.node = hex.EncodeToString(b)
	})
	return h.pres.node
}

// localCount is the number of local subscriptions of ref (at its epoch).
func (h *Hub) localCount(ref store.TopicRef) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.caches[ref.Cache]; c != nil {
		if t := c.topics[ref.Name]; t != nil && t.ref.Epoch == ref.Epoch {
			return t.subs
		}
	}
	return 0
}

// reportPresence tells the engine how many local subscribers ref has now.
// A failure is retried by the refresh.
func (h *Hub) reportPresence(ctx context.Context, ref store.TopicRef) {
	p, ok := h.presenceLog()
	if !ok {
		return
	}
	node := h.NodeID()
	h.pres.mu.Lock()
	defer h.pres.mu.Unlock()
	_ = p.SetPresence(ctx, node, ref, h.localCount(ref), presenceTTL)
}

// tickPresence renews, every presenceRefresh, the entries of every topic
// with local subscribers. The janitor calls it each tick.
func (h *Hub) tickPresence(now time.Time) {
	if _, ok := h.presenceLog(); !ok || now.Sub(h.pres.refreshed) < presenceRefresh {
		return
	}
	h.pres.refreshed = now
	var refs []store.TopicRef
	h.mu.Lock()
	for _, c := range h.caches {
		for _, t := range c.topics {
			refs = append(refs, t.ref)
		}
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), presenceRefresh)
	defer cancel()
	for _, ref := range refs {
		h.reportPresence(ctx, ref)
	}
}

// Present reports whether a topic of cache has a subscriber: on this node,
// or, when the engine shares presence, on any node.
func (h *Hub) Present(ctx context.Context, cache, topic string) (bool, error) {
	if h.Subscribers(cache, topic) > 0 {
		return true, nil
	}
	p, ok := h.presenceLog()
	if !ok {
		return false, nil
	}
	e, err := h.epoch(ctx, cache)
	if err != nil {
		return false, err
	}
	n, err := p.Presence(ctx, store.TopicRef{Cache: cache, Epoch: e, Name: topic})
	return n > 0, err
}
