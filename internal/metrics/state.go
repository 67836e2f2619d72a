package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// Snapshot is the node's state at one moment: what /metrics exports as
// gauges and /v1/status as JSON.
type Snapshot struct {
	Time          time.Time         `json:"time"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	Ready         bool              `json:"ready"`
	Listeners     map[string]string `json:"listeners,omitempty"`
	Engine        EngineState       `json:"engine"`
	Topics        TopicsState       `json:"topics"`
	FeedLag       []FeedLag         `json:"feed_lag"`
}

// EngineState is the engine's part of a Snapshot.
type EngineState struct {
	Name        string       `json:"name"`
	UsedBytes   int64        `json:"used_bytes"`
	MaxBytes    int64        `json:"max_bytes"` // 0: unbounded
	Evictions   uint64       `json:"evictions"`
	Expirations uint64       `json:"expirations"`
	Caches      []CacheState `json:"caches"`
	Error       string       `json:"error,omitempty"`
}

// CacheState is one cache.
type CacheState struct {
	Name        string   `json:"name"`
	Items       int64    `json:"items"`
	Bytes       int64    `json:"bytes"`
	Evictions   uint64   `json:"evictions"`
	Expirations uint64   `json:"expirations"`
	LSNs        []uint64 `json:"lsns"` // newest LSN per partition
}

// TopicsState is the hub's part of a Snapshot.
type TopicsState struct {
	Subscriptions   int                 `json:"subscriptions"`
	Discontinuities uint64              `json:"discontinuities"`
	Topics          []topics.TopicStats `json:"topics"`
}

// FeedLag is one partition that readers read lately.
type FeedLag struct {
	Cache     string `json:"cache"`
	Partition int    `json:"partition"`
	Newest    uint64 `json:"newest_lsn"`
	Read      uint64 `json:"read_lsn"`
	Lag       uint64 `json:"lag"`
}

// Snapshot reads the node's state from its sources.
func (m *Metrics) Snapshot(ctx context.Context) Snapshot {
	now := m.opts.Now()
	s := Snapshot{Time: now, UptimeSeconds: now.Sub(m.started).Seconds(), FeedLag: []FeedLag{}}
	if m.src.Ready != nil {
		s.Ready = m.src.Ready()
	}
	if m.src.Listeners != nil {
		s.Listeners = m.src.Listeners()
	}
	s.Engine.Caches = []CacheState{}
	if m.src.Engine != nil {
		es, err := m.src.Engine.Stats(ctx)
		if err != nil {
			s.Engine.Error = err.Error()
		}
		s.Engine.Name, s.Engine.UsedBytes, s.Engine.MaxBytes = es.Engine, es.UsedBytes, es.MaxBytes
		s.Engine.Evictions, s.Engine.Expirations = es.Evictions, es.Expirations
		pos := m.feed.snapshot()
		for _, c := range es.Caches {
			s.Engine.Caches = append(s.Engine.Caches, CacheState{Name: c.Name, Items: c.Items, Bytes: c.Bytes,
				Evictions: c.Evictions, Expirations: c.Expirations, LSNs: c.LSNs})
			s.FeedLag = append(s.FeedLag, feedLags(c, pos)...)
		}
	}
	s.Topics.Topics = []topics.TopicStats{}
	if m.src.Hub != nil {
		hs := m.src.Hub()
		s.Topics.Subscriptions, s.Topics.Discontinuities = hs.Subscriptions, hs.Discontinuities
		if hs.Topics != nil {
			s.Topics.Topics = hs.Topics
		}
	}
	return s
}

// feedLags are the lags of the partitions of c that readers read lately
// in c's current epoch.
func feedLags(c store.CacheStats, pos map[feedKey]feedPos) []FeedLag {
	var out []FeedLag
	for part, newest := range c.LSNs {
		p, ok := pos[feedKey{c.Name, part}]
		if !ok || p.epoch != c.Epoch {
			continue
		}
		out = append(out, FeedLag{Cache: c.Name, Partition: part, Newest: newest, Read: p.lsn, Lag: newest - min(p.lsn, newest)})
	}
	return out
}

// Descriptions of the state gauges.
var (
	descReady       = prometheus.NewDesc("setsuna_ready", "1 while the node serves (listeners up, engine reachable), else 0.", nil, nil)
	descUptime      = prometheus.NewDesc("setsuna_uptime_seconds", "Seconds since the node started.", nil, nil)
	descMemUsed     = prometheus.NewDesc("setsuna_memory_used_bytes", "Bytes of cached data as the engine accounts them (what --max-memory bounds).", []string{"engine"}, nil)
	descMemMax      = prometheus.NewDesc("setsuna_memory_max_bytes", "The --max-memory bound (0: unbounded).", []string{"engine"}, nil)
	descEvictions   = prometheus.NewDesc("setsuna_evictions_total", "Items evicted to stay under --max-memory, since start.", []string{"engine"}, nil)
	descExpirations = prometheus.NewDesc("setsuna_expirations_total", "Expired items purged, since start.", []string{"engine"}, nil)
	descCaches      = prometheus.NewDesc("setsuna_caches", "Caches that exist.", nil, nil)
	descItems       = prometheus.NewDesc("setsuna_cache_items", "Items of a cache (expired ones not yet purged included).", []string{"cache"}, nil)
	descBytes       = prometheus.NewDesc("setsuna_cache_bytes", "Accounted bytes of a cache's items.", []string{"cache"}, nil)
	descCacheEvict  = prometheus.NewDesc("setsuna_cache_evictions_total", "Items of a cache evicted; resets when the cache is re-created.", []string{"cache"}, nil)
	descCacheExpire = prometheus.NewDesc("setsuna_cache_expirations_total", "Expired items of a cache purged; resets when the cache is re-created.", []string{"cache"}, nil)
	descSubsTotal   = prometheus.NewDesc("setsuna_topic_subscriptions", "Open topic subscriptions on this node.", nil, nil)
	descDiscont     = prometheus.NewDesc("setsuna_topic_discontinuities_total", "Discontinuities reported to subscribers (lost ranges, slow subscribers skipped ahead).", nil, nil)
	descSubs        = prometheus.NewDesc("setsuna_topic_subscribers", "Subscribers of a topic on this node.", []string{"cache", "topic"}, nil)
	descBacklog     = prometheus.NewDesc("setsuna_topic_backlog_messages", "Fan-out backlog of a topic: messages published but not yet taken, summed over its subscribers.", []string{"cache", "topic"}, nil)
	descMaxLag      = prometheus.NewDesc("setsuna_topic_subscriber_max_lag_messages", "Messages the slowest subscriber of a topic has not taken yet.", []string{"cache", "topic"}, nil)
	descFeedLag     = prometheus.NewDesc("setsuna_feed_lag", "Changes (LSNs) committed to a partition after the furthest position a feed reader reached in the last 5 minutes; partitions nobody read lately have none. cache=\"_other\" is the largest lag of the caches over the label cap.", []string{"cache", "partition"}, nil)
)

// stateCollector exports a Snapshot at each scrape.
type stateCollector struct{ m *Metrics }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReady, descUptime, descMemUsed, descMemMax, descEvictions, descExpirations,
		descCaches, descItems, descBytes, descCacheEvict, descCacheExpire, descSubsTotal, descDiscont, descSubs,
		descBacklog, descMaxLag, descFeedLag} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// otherLabel is the label value of what is over a cap.
const otherLabel = "_other"

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := m.Snapshot(ctx)
	gauge(ch, descReady, b2f(s.Ready))
	gauge(ch, descUptime, s.UptimeSeconds)
	if m.src.Engine != nil {
		e := s.Engine
		gauge(ch, descMemUsed, float64(e.UsedBytes), e.Name)
		gauge(ch, descMemMax, float64(e.MaxBytes), e.Name)
		counter(ch, descEvictions, float64(e.Evictions), e.Name)
		counter(ch, descExpirations, float64(e.Expirations), e.Name)
		gauge(ch, descCaches, float64(len(e.Caches)))
		capped := capSet(len(e.Caches), m.opts.CacheLabels)
		var other CacheState
		for i, cs := range e.Caches {
			if i >= capped {
				other.Items += cs.Items
				other.Bytes += cs.Bytes
				other.Evictions += cs.Evictions
				other.Expirations += cs.Expirations
				continue
			}
			gauge(ch, descItems, float64(cs.Items), cs.Name)
			gauge(ch, descBytes, float64(cs.Bytes), cs.Name)
			counter(ch, descCacheEvict, float64(cs.Evictions), cs.Name)
			counter(ch, descCacheExpire, float64(cs.Expirations), cs.Name)
		}
		if len(e.Caches) > capped && m.opts.CacheLabels > 0 {
			gauge(ch, descItems, float64(other.Items), otherLabel)
			gauge(ch, descBytes, float64(other.Bytes), otherLabel)
			counter(ch, descCacheEvict, float64(other.Evictions), otherLabel)
			counter(ch, descCacheExpire, float64(other.Expirations), otherLabel)
		}
		// Feed lag: per partition for the caches under the cap, the
		// largest of the others.
		named := map[string]bool{}
		for _, cs := range e.Caches[:capped] {
			named[cs.Name] = true
		}
		var otherLag uint64
		haveOther := false
		for _, fl := range s.FeedLag {
			if named[fl.Cache] {
				gauge(ch, descFeedLag, float64(fl.Lag), fl.Cache, strconv.Itoa(fl.Partition))
			} else {
				otherLag, haveOther = max(otherLag, fl.Lag), true
			}
		}
		if haveOther && m.opts.CacheLabels > 0 {
			gauge(ch, descFeedLag, float64(otherLag), otherLabel, "all")
		}
	}
	if m.src.Hub != nil {
		t := s.Topics
		gauge(ch, descSubsTotal, float64(t.Subscriptions))
		counter(ch, descDiscont, float64(t.Discontinuities))
		capped := capSet(len(t.Topics), m.opts.TopicLabels)
		var other topics.TopicStats
		for i, ts := range t.Topics {
			if i >= capped {
				other.Subscribers += ts.Subscribers
				other.Backlog += ts.Backlog
				other.MaxLag = max(other.MaxLag, ts.MaxLag)
				continue
			}
			gauge(ch, descSubs, float64(ts.Subscribers), ts.Cache, ts.Topic)
			gauge(ch, descBacklog, float64(ts.Backlog), ts.Cache, ts.Topic)
			gauge(ch, descMaxLag, float64(ts.MaxLag), ts.Cache, ts.Topic)
		}
		if len(t.Topics) > capped && m.opts.TopicLabels > 0 {
			gauge(ch, descSubs, float64(other.Subscribers), otherLabel, otherLabel)
			gauge(ch, descBacklog, float64(other.Backlog), otherLabel, otherLabel)
			gauge(ch, descMaxLag, float64(other.MaxLag), otherLabel, otherLabel)
		}
	}
}

// capSet is how many of n items get their own series under limit
// (negative: none).
func capSet(n, limit int) int {
	if limit < 0 {
		return 0
	}
	return min(n, limit)
}
