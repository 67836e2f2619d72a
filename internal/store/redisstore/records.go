package redisstore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Records live in one hash per namespace, sx:{r}:<ns> (doc.go).

func recordKey(ns string) string { return "sx:{r}:" + ns }

func checkRecordName(ns, key string) error {
	if !store.ValidRecordName(ns) || !store.ValidRecordName(key) {
		return errs.ErrInvalidArgument.Msgf("record namespace and key must be 1-%d printable ASCII bytes", store.MaxCacheNameLen)
	}
	return nil
}

// PutRecord implements store.Records.
func (s *Store) PutRecord(ctx context.Context, ns, key string, value []byte) error {
	if err := checkRecordName(ns, key); err != nil {
		return err
	}
	if len(value) > store.MaxRecordSize {
		return errs.ErrItemTooLarge.Withf("record of %d bytes exceeds %d", len(value), store.MaxRecordSize)
	}
	_, err := s.run.Do(ctx, false, "hset", recordKey(ns), key, value)
	return err
}

// GetRecord implements store.Records.
func (s *Store) GetRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	if err := checkRecordName(ns, key); err != nil {
		return nil, false, err
	}
	v, err := s.run.Do(ctx, true, "hget", recordKey(ns), key)
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	str, _ := v.(string)
	return []byte(str), true, nil
}

// DeleteRecord implements store.Records.
func (s *Store) DeleteRecord(ctx context.Context, ns, key string) error {
	if err := checkRecordName(ns, key); err != nil {
		return err
	}
	_, err := s.run.Do(ctx, false, "hdel", recordKey(ns), key)
	return err
}

// ListRecords implements store.Records.
func (s *Store) ListRecords(ctx context.Context, ns string) ([]store.Record, error) {
	if !store.ValidRecordName(ns) {
		return nil, errs.ErrInvalidArgument.Msgf("record namespace must be 1-%d printable ASCII bytes", store.MaxCacheNameLen)
	}
	v, err := s.run.Do(ctx, true, "hgetall", recordKey(ns))
	if err != nil {
		return nil, err
	}
	var out []store.Record
	eachPair(v, func(k, val string) { out = append(out, store.Record{Key: k, Value: []byte(val)}) })
	slices.SortFunc(out, func(a, b store.Record) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// eachPair walks a HGETALL reply (RESP2 array or RESP3 map).
func eachPair(v any, fn func(k, v string)) {
	switch m := v.(type) {
	case []any:
		for i := 0; i+1 < len(m); i += 2 {
			k, _ := m[i].(string)
			val, _ := m[i+1].(string)
			fn(k, val)
		}
	case map[any]any:
		for k, val := range m {
			ks, _ := k.(string)
			vs, _ := val.(string)
			fn(ks, vs)
		}
	}
}

// NewRecords returns the records of the engine behind c without a Store
// (no catalog, no background work), for tools such as setsuna cluster
// nodes.
func NewRecords(c redis.UniversalClient) store.Records {
	return &recordsOnly{s: &Store{c: c, run: Runner{C: c}}}
}

// recordsOnly exposes only the Records methods of its Store.
type recordsOnly struct{ s *Store }

func (r *recordsOnly) PutRecord(ctx context.Context, ns, key string, value []byte) error {
	return r.s.PutRecord(ctx, ns, key, value)
}

func (r *recordsOnly) GetRecord(ctx context.Context, ns, key string) ([]byte, bool, error) {
	return r.s.GetRecord(ctx, ns, key)
}

func (r *recordsOnly) DeleteRecord(ctx context.Context, ns, key string) error {
	return r.s.DeleteRecord(ctx, ns, key)
}

func (r *recordsOnly) ListRecords(ctx context.Context, ns string) ([]store.Record, error) {
	return r.s.ListRecords(ctx, ns)
}
