// Package graphqltest holds in-memory fakes of the graphql package's
// contracts, for tests and the AppSync test server. The real Store is backed
// by the cache service.
package graphqltest

import (
	"context"
	"sort"
	"sync"

	"github.com/setsuna-io/setsuna/internal/graphql"
)

// MemStore is a graphql.Store in a map.
type MemStore struct {
	mu    sync.Mutex
	items map[graphql.Table]map[string]graphql.Item
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{items: map[graphql.Table]map[string]graphql.Item{}} }

func clone(it graphql.Item) graphql.Item {
	out := make(graphql.Item, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

func version(it graphql.Item) int64 {
	v, _ := it["version"].(int64)
	return v
}

// Get implements graphql.Store.
func (s *MemStore) Get(_ context.Context, _ *graphql.Identity, t graphql.Table, id string) (graphql.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.items[t][id]; ok {
		return clone(it), nil
	}
	return nil, nil
}

// List implements graphql.Store: ids in order, nextToken = the last id returned.
func (s *MemStore) List(_ context.Context, _ *graphql.Identity, t graphql.Table, limit int, next string) ([]graphql.Item, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.items[t]))
	for id := range s.items[t] {
		if id > next {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	token := ""
	if len(ids) > limit {
		ids = ids[:limit]
		token = ids[limit-1]
	}
	out := make([]graphql.Item, len(ids))
	for i, id := range ids {
		out[i] = clone(s.items[t][id])
	}
	return out, token, nil
}

// Create implements graphql.Store.
func (s *MemStore) Create(_ context.Context, _ *graphql.Identity, t graphql.Table, item graphql.Item) (graphql.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := item["id"].(string)
	if s.items[t] == nil {
		s.items[t] = map[string]graphql.Item{}
	}
	if _, ok := s.items[t][id]; ok {
		return nil, graphql.ErrConditionFailed
	}
	it := clone(item)
	it["version"] = int64(1)
	s.items[t][id] = it
	return clone(it), nil
}

// Update implements graphql.Store.
func (s *MemStore) Update(_ context.Context, _ *graphql.Identity, t graphql.Table, id string, fields graphql.Item, expected *int64) (graphql.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[t][id]
	if !ok || (expected != nil && version(it) != *expected) {
		return nil, graphql.ErrConditionFailed
	}
	it = clone(it)
	for k, v := range fields {
		if v == nil {
			delete(it, k)
		} else {
			it[k] = v
		}
	}
	it["version"] = version(it) + 1
	s.items[t][id] = it
	return clone(it), nil
}

// Delete implements graphql.Store.
func (s *MemStore) Delete(_ context.Context, _ *graphql.Identity, t graphql.Table, id string, expected *int64) (graphql.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[t][id]
	if !ok || (expected != nil && version(it) != *expected) {
		return nil, graphql.ErrConditionFailed
	}
	delete(s.items[t], id)
	return it, nil
}

// Len is the number of items of t (for tests).
func (s *MemStore) Len(t graphql.Table) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items[t])
}
