package redisstore

import (
	"context"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The methods still to come on this branch.

var errPending = errs.ErrUnimplemented.Msgf("not implemented by the redis engine yet")

func (s *Store) ReadFeed(ctx context.Context, cache string, r store.FeedRead) (store.FeedPage, error) {
	return store.FeedPage{}, errPending
}
func (s *Store) FeedNotify(ctx context.Context, cache string) (<-chan struct{}, error) {
	return nil, errPending
}
