package redisstore

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The methods still to come on this branch.

var errPending = errs.ErrUnimplemented.Msgf("not implemented by the redis engine yet")

func (s *Store) DeleteCache(ctx context.Context, name string) error { return errPending }
func (s *Store) FlushCache(ctx context.Context, name string) error  { return errPending }
func (s *Store) GetBatch(ctx context.Context, cache string, keys [][]byte) ([][]byte, []bool, error) {
	return nil, nil, errPending
}
func (s *Store) SetBatch(ctx context.Context, cache string, items []store.Item) error {
	return errPending
}
func (s *Store) SetIf(ctx context.Context, cache string, key, value []byte, ttl time.Duration, cond store.Condition) (store.WriteResult, error) {
	return store.WriteResult{}, errPending
}
func (s *Store) Delete(ctx context.Context, cache string, key []byte) error { return errPending }
func (s *Store) DeleteIf(ctx context.Context, cache string, key []byte, cond store.Condition) (bool, error) {
	return false, errPending
}
func (s *Store) DeleteKind(ctx context.Context, cache string, key []byte, kind store.Kind) (bool, error) {
	return false, errPending
}
func (s *Store) GetWithMeta(ctx context.Context, cache string, key []byte) ([]byte, store.Meta, bool, error) {
	return nil, store.Meta{}, false, errPending
}
func (s *Store) KeysExist(ctx context.Context, cache string, keys [][]byte) ([]bool, error) {
	return nil, errPending
}
func (s *Store) Increment(ctx context.Context, cache string, key []byte, amount int64, ttl time.Duration) (int64, error) {
	return 0, errPending
}
func (s *Store) UpdateTTL(ctx context.Context, cache string, key []byte, mode store.TTLMode, ttl time.Duration) (store.TTLResult, error) {
	return 0, errPending
}
func (s *Store) Meta(ctx context.Context, cache string, key []byte) (store.Meta, bool, error) {
	return store.Meta{}, false, errPending
}
func (s *Store) ReadFeed(ctx context.Context, cache string, r store.FeedRead) (store.FeedPage, error) {
	return store.FeedPage{}, errPending
}
func (s *Store) FeedNotify(ctx context.Context, cache string) (<-chan struct{}, error) {
	return nil, errPending
}
func (s *Store) PutRecord(ctx context.Context, ns, key string, value []byte) error { return errPending }
func (s *Store) GetRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	return nil, false, errPending
}
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) error { return errPending }
func (s *Store) ListRecords(ctx context.Context, ns string) ([]store.Record, error) {
	return nil, errPending
}
