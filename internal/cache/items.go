package cache

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// Get returns the value of a live scalar item; found is false when there is
// none. A collection under key is errs.ErrWrongType.
func (s *Service) Get(ctx context.Context, cache string, key []byte) (value []byte, found bool, err error) {
	if err := one(ctx, "Get", read, cache, key); err != nil {
		return nil, false, err
	}
	return s.st.Get(ctx, cache, key)
}

// GetBatch is Get of many keys, in request order.
func (s *Service) GetBatch(ctx context.Context, cache string, keys [][]byte) (values [][]byte, found []bool, err error) {
	if err := many(ctx, "GetBatch", read, cache, keys); err != nil {
		return nil, nil, err
	}
	if len(keys) == 0 {
		// Nothing to read, but a missing cache is still NOT_FOUND, as
		// Momento answers.
		if _, err := s.st.CacheInfo(ctx, cache); err != nil {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	return s.st.GetBatch(ctx, cache, keys)
}

// Set stores a scalar item, replacing an item of any kind.
func (s *Service) Set(ctx context.Context, cache string, key, value []byte, ttl time.Duration) error {
	if err := one(ctx, "Set", write, cache, key); err != nil {
		return err
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	return s.st.Set(ctx, cache, key, value, ttl)
}

// SetBatch stores scalar items, atomically per partition.
func (s *Service) SetBatch(ctx context.Context, cache string, items []Item) error {
	keys := make([][]byte, len(items))
	for i := range items {
		keys[i] = items[i].Key
	}
	if err := many(ctx, "SetBatch", write, cache, keys); err != nil {
		return err
	}
	for i := range items {
		if err := checkTTL(items[i].TTL); err != nil {
			return errs.Prefixf(err, "item %d", i)
		}
	}
	return s.st.SetBatch(ctx, cache, items)
}

func checkCond(c Condition) error {
	if c.Kind > CondLSNEqual {
		return errs.ErrInvalidArgument.Msgf("unknown condition %d", c.Kind)
	}
	return nil
}

// SetIf stores a scalar item when cond holds and says what it did (see
// WriteResult). It reads the item, so it needs read and write access.
func (s *Service) SetIf(ctx context.Context, cache string, key, value []byte, ttl time.Duration, c Condition) (WriteResult, error) {
	if err := one(ctx, "SetIf", cond, cache, key); err != nil {
		return WriteResult{}, err
	}
	if err := checkTTL(ttl); err != nil {
		return WriteResult{}, err
	}
	if err := checkCond(c); err != nil {
		return WriteResult{}, err
	}
	return s.st.SetIf(ctx, cache, key, value, ttl, c)
}

// GetWithMeta returns a live scalar's value with its Meta (LSN, commit
// time), read together.
func (s *Service) GetWithMeta(ctx context.Context, cache string, key []byte) ([]byte, Meta, bool, error) {
	if err := one(ctx, "Get", read, cache, key); err != nil {
		return nil, Meta{}, false, err
	}
	return s.st.GetWithMeta(ctx, cache, key)
}

// Delete removes an item of any kind; a missing key is not an error.
func (s *Service) Delete(ctx context.Context, cache string, key []byte) error {
	if err := one(ctx, "Delete", write, cache, key); err != nil {
		return err
	}
	return s.st.Delete(ctx, cache, key)
}

// DeleteIf removes a scalar item when cond holds; deleted says whether it did.
func (s *Service) DeleteIf(ctx context.Context, cache string, key []byte, c Condition) (deleted bool, err error) {
	if err := one(ctx, "DeleteIf", cond, cache, key); err != nil {
		return false, err
	}
	if err := checkCond(c); err != nil {
		return false, err
	}
	return s.st.DeleteIf(ctx, cache, key, c)
}

// KeysExist reports, in request order, which keys hold a live item.
func (s *Service) KeysExist(ctx context.Context, cache string, keys [][]byte) ([]bool, error) {
	if err := many(ctx, "KeysExist", read, cache, keys); err != nil {
		return nil, err
	}
	return s.st.KeysExist(ctx, cache, keys)
}

// Increment adds amount to a base-10 integer value (created as amount).
func (s *Service) Increment(ctx context.Context, cache string, key []byte, amount int64, ttl time.Duration) (int64, error) {
	if err := one(ctx, "Increment", cond, cache, key); err != nil {
		return 0, err
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	return s.st.Increment(ctx, cache, key, amount, ttl)
}

// UpdateTTL changes the expiry of a live item. It is conditional on the
// item's presence and TTL, which write-only callers may not observe.
func (s *Service) UpdateTTL(ctx context.Context, cache string, key []byte, mode TTLMode, ttl time.Duration) (TTLResult, error) {
	if err := one(ctx, "UpdateTtl", cond, cache, key); err != nil {
		return 0, err
	}
	if mode > TTLDecrease {
		return 0, errs.ErrInvalidArgument.Msgf("update ttl: unknown mode %d", mode)
	}
	if ttl <= 0 {
		return 0, errs.ErrInvalidArgument.Msgf("update ttl: ttl must be positive")
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	return s.st.UpdateTTL(ctx, cache, key, mode, ttl)
}

// ItemMeta returns the kind, expiry and LSN of a live item of any kind.
func (s *Service) ItemMeta(ctx context.Context, cache string, key []byte) (Meta, bool, error) {
	if err := one(ctx, "ItemMeta", read, cache, key); err != nil {
		return Meta{}, false, err
	}
	return s.st.Meta(ctx, cache, key)
}

// Remaining is how long an item with this expiry lives on (0 when it is
// due); ok is false for an item that never expires.
func (s *Service) Remaining(expiresAt time.Time) (d time.Duration, ok bool) {
	if expiresAt.IsZero() {
		return 0, false
	}
	return max(expiresAt.Sub(s.now()), 0), true
}
