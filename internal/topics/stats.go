package topics

import (
	"cmp"
	"slices"
)

// HubStats is a snapshot of the hub, for metrics.
type HubStats struct {
	// Subscriptions open on this node.
	Subscriptions int
	// Discontinuities reported to subscribers since the hub started (gaps
	// of resumes, slow subscribers skipped ahead, topics that started over).
	Discontinuities uint64
	Topics          []TopicStats // sorted by cache, then topic
}

// TopicStats is one topic with local subscribers.
type TopicStats struct {
	Cache, Topic string
	Subscribers  int
	// Last is the newest sequence number in the hub's window.
	Last uint64
	// Backlog is the fan-out backlog: messages in the window that
	// subscribers have not taken yet, summed over them; MaxLag is the
	// largest of one subscriber.
	Backlog, MaxLag uint64
}

// Stats returns the hub's topics with local subscribers and their backlog.
// It costs O(subscriptions) and takes each topic's lock briefly.
func (h *Hub) Stats() HubStats {
	type snap struct {
		t   *hubTopic
		pos []uint64
	}
	var snaps []snap
	st := HubStats{Discontinuities: h.discontinuities.Load()}
	h.mu.Lock()
	for _, c := range h.caches {
		st.Subscriptions += c.subs
		for _, t := range c.topics {
			sn := snap{t: t, pos: make([]uint64, 0, len(t.set))}
			for s := range t.set {
				sn.pos = append(sn.pos, s.pos.Load())
			}
			snaps = append(snaps, sn)
		}
	}
	h.mu.Unlock()
	for _, sn := range snaps {
		sn.t.mu.RLock()
		last := sn.t.last
		sn.t.mu.RUnlock()
		ts := TopicStats{Cache: sn.t.ref.Cache, Topic: sn.t.ref.Name, Subscribers: len(sn.pos), Last: last}
		for _, next := range sn.pos {
			if next <= last {
				lag := last - next + 1
				ts.Backlog += lag
				ts.MaxLag = max(ts.MaxLag, lag)
			}
		}
		st.Topics = append(st.Topics, ts)
	}
	slices.SortFunc(st.Topics, func(a, b TopicStats) int {
		return cmp.Or(cmp.Compare(a.Cache, b.Cache), cmp.Compare(a.Topic, b.Topic))
	})
	return st
}
