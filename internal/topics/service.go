package topics

import (
	"context"
	"sync"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Value is a message payload and its kind.
type Value = store.TopicValue

// MaxTopicNameLen bounds topic names, in bytes.
const MaxTopicNameLen = store.MaxTopicNameLen

// DefaultMaxPayload is Momento's documented 4 KB message limit.
const DefaultMaxPayload = 4096

// Service is the topics service: publish and subscribe, validated and
// authorized, over a hub.
type Service struct {
	hub        *Hub
	maxPayload int
	perKey     int // subscriptions per caller (0: no bound)
	quotas     *quotas
	now        func() time.Time

	mu   sync.Mutex
	keys map[string]int // open subscriptions by caller
}

// DefaultMaxSubscriptionsPerKey bounds one caller's subscriptions, a tenth
// of a cache's, so that one key cannot take every slot of a cache.
const DefaultMaxSubscriptionsPerKey = DefaultMaxSubscriptionsPerCache / 10

// NewService returns the service over hub; maxPayload bounds a message's
// payload in bytes (0: DefaultMaxPayload) and perKey one caller's open
// subscriptions (0: DefaultMaxSubscriptionsPerKey; negative: no bound). In
// dev mode (auth off) there is one caller and no per-caller bound.
func NewService(hub *Hub, maxPayload, perKey int) *Service {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	switch {
	case perKey == 0:
		perKey = DefaultMaxSubscriptionsPerKey
	case perKey < 0:
		perKey = 0
	}
	return &Service{hub: hub, maxPayload: maxPayload, perKey: perKey, keys: map[string]int{}, now: time.Now}
}

// WithPublishQuota bounds each API key's publications (see PublishQuota);
// call it before the service is used.
func (s *Service) WithPublishQuota(q PublishQuota) *Service {
	s.quotas = newQuotas(q)
	return s
}

// Limits are the limits the service enforces, for surfaces that advertise
// them.
type Limits struct {
	MaxPayloadBytes  int
	MaxSubscriptions int // per cache
	Publish          PublishQuota
}

// Limits returns the service's limits.
func (s *Service) Limits() Limits {
	l := Limits{MaxPayloadBytes: s.maxPayload, MaxSubscriptions: s.hub.opts.MaxSubscriptionsPerCache}
	if s.quotas != nil {
		l.Publish = s.quotas.q
	}
	return l
}

// Hub returns the hub, for the orchestration of cache deletes.
func (s *Service) Hub() *Hub { return s.hub }

func checkTopic(cache, topic string) error {
	if !store.ValidCacheName(cache) {
		return errs.ErrInvalidName.Msgf("invalid cache name %q: it must be 1-%d printable ASCII bytes without spaces", trunc(cache), store.MaxCacheNameLen)
	}
	if !store.ValidTopicName(topic) {
		return errs.ErrInvalidTopic.Msgf("invalid topic name %q: it must be 1-%d bytes of UTF-8 without control characters", trunc(topic), store.MaxTopicNameLen)
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func authorize(ctx context.Context, name string, a auth.Access, cache, topic string) error {
	if err := auth.Check(ctx, auth.Op{Name: name, Resource: auth.ResourceTopic, Access: a, Cache: cache, Topic: topic}); err != nil {
		return err
	}
	return ctx.Err()
}

// Publish appends v to a topic of cache (creating the topic) and returns its
// sequence number and page. The publisher id is the caller's token id.
func (s *Service) Publish(ctx context.Context, cache, topic string, v Value) (seq, page uint64, err error) {
	p, err := s.PublishWith(ctx, cache, topic, v, PublishOptions{})
	return p.Seq, p.Page, err
}

// Subscribe opens a subscription to a topic of cache starting at from.
func (s *Service) Subscribe(ctx context.Context, cache, topic string, from Position) (*Subscription, error) {
	if err := checkTopic(cache, topic); err != nil {
		return nil, err
	}
	if err := authorize(ctx, "Subscribe", auth.AccessRead, cache, topic); err != nil {
		return nil, err
	}
	release, err := s.takeSlot(auth.FromContext(ctx))
	if err != nil {
		return nil, err
	}
	return s.hub.subscribe(ctx, cache, topic, from, release)
}

// takeSlot counts a subscription of p against its bound.
func (s *Service) takeSlot(p *auth.Principal) (release func(), err error) {
	if s.perKey == 0 || p == nil || p == auth.DevPrincipal {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[p.ID] >= s.perKey {
		return nil, errs.ErrTooManySubscriptions.Withf("this key has %d open subscriptions, its limit; close some or use another key", s.perKey)
	}
	s.keys[p.ID]++
	return func() {
		s.mu.Lock()
		if s.keys[p.ID]--; s.keys[p.ID] <= 0 {
			delete(s.keys, p.ID)
		}
		s.mu.Unlock()
	}, nil
}

// Subscribers is the number of local subscriptions of a topic (presence, for
// a later "no subscriber" publish status).
func (s *Service) Subscribers(cache, topic string) int { return s.hub.Subscribers(cache, topic) }
