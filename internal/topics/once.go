package topics

import (
	"context"
	"errors"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Idempotent publication, for the publish API: over a log that implements
// store.TopicAppendOnce (every engine of Setsuna does), a publication
// retried with the same key within the window lands once, whichever node of
// the engine the retry reaches.

func (h *Hub) appendOnce() (store.TopicAppendOnce, error) {
	o, ok := h.log.(store.TopicAppendOnce)
	if !ok {
		return nil, errs.ErrIdempotencyUnsupported
	}
	return o, nil
}

// PublishOnce appends a message unless key was used with the topic within
// window; dup says it was, and seq and page are then the first append's.
func (h *Hub) PublishOnce(ctx context.Context, cache, topic string, v store.TopicValue, publisherID, key string, window time.Duration) (seq, page uint64, dup bool, err error) {
	o, err := h.appendOnce()
	if err != nil {
		return 0, 0, false, err
	}
	for attempt := 0; ; attempt++ {
		e, err := h.epoch(ctx, cache)
		if err != nil {
			return 0, 0, false, err
		}
		seq, page, dup, err = o.AppendOnce(ctx, store.TopicRef{Cache: cache, Epoch: e, Name: topic}, v, publisherID, key, window)
		if err == nil || attempt > 0 || !errors.Is(err, errs.ErrCacheNotFound) {
			return seq, page, dup, err
		}
		h.forget(cache, e) // as in Publish: the cache was re-created elsewhere
	}
}

// Published reports whether key was used with the topic within its window.
func (h *Hub) Published(ctx context.Context, cache, topic, key string) (seq, page uint64, found bool, err error) {
	o, err := h.appendOnce()
	if err != nil {
		return 0, 0, false, err
	}
	e, err := h.epoch(ctx, cache)
	if err != nil {
		return 0, 0, false, err
	}
	return o.Appended(ctx, store.TopicRef{Cache: cache, Epoch: e, Name: topic}, key)
}

// Epoch returns the current epoch of a cache (errs.ErrCacheNotFound when
// it does not exist), from the hub's memory when it can.
func (h *Hub) Epoch(ctx context.Context, cache string) (uint64, error) { return h.epoch(ctx, cache) }
