package redisstore

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The Collections methods, until the collection scripts land (branch
// redis-coll replaces this file).

var errNoCollections = errs.ErrUnimplemented.Msgf("collections are not implemented by the redis engine yet")

func (s *Store) SortedSetPut(ctx context.Context, cache string, key []byte, elements []store.ScoredElement, ttl store.CollectionTTL) error {
	return errNoCollections
}

func (s *Store) SortedSetFetchByRank(ctx context.Context, cache string, key []byte, start, end int, descending bool) (elements []store.ScoredElement, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetFetchByScore(ctx context.Context, cache string, key []byte, min, max store.ScoreBound, descending bool, offset, count int) (elements []store.ScoredElement, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetGetScores(ctx context.Context, cache string, key []byte, values [][]byte) (scores []float64, present []bool, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetGetRank(ctx context.Context, cache string, key []byte, value []byte, descending bool) (rank int, present, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetIncrement(ctx context.Context, cache string, key []byte, value []byte, amount float64, ttl store.CollectionTTL) (float64, error) {
	return 0, errNoCollections
}

func (s *Store) SortedSetRemove(ctx context.Context, cache string, key []byte, values [][]byte) error {
	return errNoCollections
}

func (s *Store) SortedSetLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetLengthByScore(ctx context.Context, cache string, key []byte, min, max store.ScoreBound) (n int, found bool, err error) {
	err = errNoCollections
	return
}

func (s *Store) SortedSetUnionStore(ctx context.Context, cache string, key []byte, sources []store.UnionSource, agg store.Aggregate, ttl time.Duration) (length int, err error) {
	err = errNoCollections
	return
}
