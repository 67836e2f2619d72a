// Package bridge backs the AppSync surface with Setsuna's services:
//
//   - Fanout: subscription events travel as messages of the topics
//     "graphql/<subscription field>" of the cache "graphql" (the surface's
//     own, created at start), through the topics hub, so a mutation on one
//     node reaches the subscribers of every node of the engine;
//   - Store: the Setsuna-cache data source keeps an object of type T with
//     id I as the item "T#I" of the table's cache, its value the object's
//     JSON (a scalar, so that expectedVersion checks are compare-and-swap
//     writes on the item's LSN); other surfaces see and change it like any
//     item, and its changes are in the cache's change feed.
//
// Data-source calls run as the caller the surface identified: a Setsuna
// token's principal, or for an API key the GraphQL API itself.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cache"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/feed"
	"github.com/setsuna-io/setsuna/internal/graphql"
	"github.com/setsuna-io/setsuna/internal/topics"
)

// FanoutCache is the cache whose topics carry the subscription events.
const FanoutCache = "graphql"

// APIKeyCaller is who an API-key request acts as: the GraphQL API, which
// may use its data sources (the schema's auth directives decide what a
// caller may do).
var APIKeyCaller = &auth.Principal{ID: "graphql-api-key", Kind: auth.KindAPIKey, SuperUser: true}

// system is the context of the surface's own work (its fan-out cache).
func system(ctx context.Context) context.Context { return auth.NewContext(ctx, auth.DevPrincipal) }

// EnsureCache creates a cache the surface needs when it is missing.
func EnsureCache(ctx context.Context, c *cache.Service, name string) error {
	_, err := c.CreateCache(system(ctx), name, cache.CacheConfig{})
	if err == nil || errors.Is(err, errs.ErrCacheExists) {
		return nil
	}
	return err
}

// Fanout implements appsync.Fanout on the topics hub.
type Fanout struct {
	hub   *topics.Hub
	cache *cache.Service
	log   *slog.Logger
}

// NewFanout returns the fan-out over hub; events go to topics of FanoutCache.
func NewFanout(hub *topics.Hub, c *cache.Service, log *slog.Logger) *Fanout {
	return &Fanout{hub: hub, cache: c, log: log}
}

// Publish implements appsync.Fanout.
func (f *Fanout) Publish(ctx context.Context, topic string, event []byte) error {
	v := topics.Value{Data: event, Binary: true}
	_, _, err := f.hub.Publish(ctx, FanoutCache, topic, v, "graphql")
	if errors.Is(err, errs.ErrCacheNotFound) {
		// Someone deleted the surface's cache: it comes back.
		if err := EnsureCache(ctx, f.cache, FanoutCache); err != nil {
			return err
		}
		_, _, err = f.hub.Publish(ctx, FanoutCache, topic, v, "graphql")
	}
	return err
}

// Subscribe implements appsync.Fanout: one hub subscription, read by one
// goroutine that calls deliver in order; if the subscription ends (the
// cache deleted, the engine unreachable) it opens a new one for new
// events, so events in between are dropped, never duplicated.
func (f *Fanout) Subscribe(topic string, deliver func(event []byte)) (cancel func(), err error) {
	ctx, stop := context.WithCancel(context.Background())
	sub, err := f.open(ctx, topic)
	if err != nil {
		stop()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.pump(ctx, topic, sub, deliver)
	}()
	return func() {
		stop()
		<-done
	}, nil
}

func (f *Fanout) open(ctx context.Context, topic string) (*topics.Subscription, error) {
	sub, err := f.hub.Subscribe(ctx, FanoutCache, topic, topics.Position{})
	if errors.Is(err, errs.ErrCacheNotFound) {
		if err := EnsureCache(ctx, f.cache, FanoutCache); err != nil {
			return nil, err
		}
		sub, err = f.hub.Subscribe(ctx, FanoutCache, topic, topics.Position{})
	}
	return sub, err
}

func (f *Fanout) pump(ctx context.Context, topic string, sub *topics.Subscription, deliver func([]byte)) {
	buf := make([]topics.Event, 0, 64)
	backoff := 100 * time.Millisecond
	for {
		ready := sub.Ready()
		evs, err := sub.Poll(ctx, buf[:0])
		for i := range evs {
			if evs[i].Msg != nil {
				deliver(evs[i].Msg.Value.Data)
			}
			evs[i] = topics.Event{}
		}
		if err != nil {
			sub.Close()
			if ctx.Err() != nil || errors.Is(err, errs.ErrShuttingDown) {
				return
			}
			f.log.Warn("graphql fan-out subscription ended; reopening", "topic", topic, "err", err)
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				if sub, err = f.open(ctx, topic); err == nil {
					break
				}
				backoff = min(2*backoff, 5*time.Second)
			}
			continue
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			sub.Close()
			return
		case <-ready:
		}
	}
}

// Store implements graphql.Store on the cache and feed services.
type Store struct {
	cache *cache.Service
	feed  *feed.Service
}

// NewStore returns the data source's store.
func NewStore(c *cache.Service, f *feed.Service) *Store { return &Store{cache: c, feed: f} }

var _ graphql.Store = (*Store)(nil)

// as is the context a data-source call runs with.
func as(ctx context.Context, who *graphql.Identity) context.Context {
	if who == nil {
		return auth.NewContext(ctx, auth.DevPrincipal) // auth is off
	}
	if p, ok := who.Principal.(*auth.Principal); ok && p != nil {
		return auth.NewContext(ctx, p)
	}
	return auth.NewContext(ctx, APIKeyCaller)
}

func itemKey(t graphql.Table, id string) []byte { return []byte(t.Type + "#" + id) }

// decode reads a stored object; integral numbers come back as int64, as
// the executor's Int fields (and version) expect.
func decode(b []byte) (graphql.Item, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var it graphql.Item
	if err := dec.Decode(&it); err != nil {
		return nil, errs.ErrWrongType.Withf("the item is not a JSON object")
	}
	for k, v := range it {
		it[k] = normalize(v)
	}
	return it, nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

func versionOf(it graphql.Item) int64 {
	v, _ := it["version"].(int64)
	return v
}

// Get implements graphql.Store.
func (s *Store) Get(ctx context.Context, who *graphql.Identity, t graphql.Table, id string) (graphql.Item, error) {
	v, found, err := s.cache.Get(as(ctx, who), t.Cache, itemKey(t, id))
	if err != nil || !found {
		return nil, err
	}
	return decode(v)
}

// List implements graphql.Store: the live objects of the type in the order
// of their last change (the cache's latest-version change feed); nextToken
// is the feed's continuation.
func (s *Store) List(ctx context.Context, who *graphql.Identity, t graphql.Table, limit int, nextToken string) ([]graphql.Item, string, error) {
	ctx = as(ctx, who)
	r := feed.Request{Cache: t.Cache, Start: feed.StartBeginning, Continuation: nextToken, PageSizeHint: limit}
	prefix := t.Type + "#"
	var out []graphql.Item
	for len(out) < limit {
		page, err := s.feed.Read(ctx, r)
		if err != nil {
			return nil, "", err
		}
		r.Continuation = page.Continuation
		if page.NotModified {
			return out, "", nil
		}
		for _, c := range page.Changes {
			if c.Op == feed.OpDelete || c.Kind != cache.KindScalar || !strings.HasPrefix(string(c.Key), prefix) {
				continue
			}
			if it, err := decode(c.Value); err == nil {
				out = append(out, it)
			}
		}
	}
	return out, r.Continuation, nil
}

// Create implements graphql.Store.
func (s *Store) Create(ctx context.Context, who *graphql.Identity, t graphql.Table, item graphql.Item) (graphql.Item, error) {
	id, _ := item["id"].(string)
	it := make(graphql.Item, len(item)+1)
	for k, v := range item {
		it[k] = v
	}
	it["version"] = int64(1)
	b, err := json.Marshal(it)
	if err != nil {
		return nil, errs.ErrInvalidArgument.Msgf("the object cannot be stored as JSON: %v", err)
	}
	res, err := s.cache.SetIf(as(ctx, who), t.Cache, itemKey(t, id), b, 0, cache.Condition{Kind: cache.CondAbsent})
	if err != nil {
		return nil, err
	}
	if !res.Stored {
		return nil, graphql.ErrConditionFailed
	}
	return it, nil
}

// maxRetries bounds the compare-and-swap loop of an update or delete that
// names no expectedVersion and races with other writers.
const maxRetries = 8

// Update implements graphql.Store.
func (s *Store) Update(ctx context.Context, who *graphql.Identity, t graphql.Table, id string, fields graphql.Item, expectedVersion *int64) (graphql.Item, error) {
	ctx = as(ctx, who)
	key := itemKey(t, id)
	for range maxRetries {
		v, m, found, err := s.cache.GetWithMeta(ctx, t.Cache, key)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, graphql.ErrConditionFailed
		}
		it, err := decode(v)
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && versionOf(it) != *expectedVersion {
			return nil, graphql.ErrConditionFailed
		}
		for k, fv := range fields {
			if fv == nil {
				delete(it, k)
			} else {
				it[k] = fv
			}
		}
		it["version"] = versionOf(it) + 1
		b, err := json.Marshal(it)
		if err != nil {
			return nil, errs.ErrInvalidArgument.Msgf("the object cannot be stored as JSON: %v", err)
		}
		res, err := s.cache.SetIf(ctx, t.Cache, key, b, 0, cache.Condition{Kind: cache.CondLSNEqual, LSN: m.LSN})
		if err != nil {
			return nil, err
		}
		if res.Stored {
			return it, nil
		}
		if expectedVersion != nil {
			return nil, graphql.ErrConditionFailed // someone else changed it since
		}
	}
	return nil, errs.ErrUnavailable.Msgf("the object changed %d times while it was being updated; retry", maxRetries)
}

// Delete implements graphql.Store.
func (s *Store) Delete(ctx context.Context, who *graphql.Identity, t graphql.Table, id string, expectedVersion *int64) (graphql.Item, error) {
	ctx = as(ctx, who)
	key := itemKey(t, id)
	for range maxRetries {
		v, m, found, err := s.cache.GetWithMeta(ctx, t.Cache, key)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, graphql.ErrConditionFailed
		}
		it, err := decode(v)
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && versionOf(it) != *expectedVersion {
			return nil, graphql.ErrConditionFailed
		}
		deleted, err := s.cache.DeleteIf(ctx, t.Cache, key, cache.Condition{Kind: cache.CondLSNEqual, LSN: m.LSN})
		if err != nil {
			return nil, err
		}
		if deleted {
			return it, nil
		}
		if expectedVersion != nil {
			return nil, graphql.ErrConditionFailed
		}
	}
	return nil, errs.ErrUnavailable.Msgf("the object changed %d times while it was being deleted; retry", maxRetries)
}
