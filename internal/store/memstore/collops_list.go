package memstore

import (
	"bytes"
	"context"
	"slices"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// ListPush adds values at one end and truncates the other end to truncateTo.
func (s *Store) ListPush(_ context.Context, name string, key []byte, values [][]byte, front bool, truncateTo int, ttl store.CollectionTTL) (length int, err error) {
	if err := store.CheckElements(values, "list value"); err != nil {
		return 0, err
	}
	if truncateTo < 0 {
		return 0, errs.ErrInvalidArgument.Msgf("truncate to %d", truncateTo)
	}
	_, err = s.collWrite(name, key, store.KindList, collNeed(key, sumLen(values), len(values), listEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			l := c.(*list)
			if front {
				for i := len(values) - 1; i >= 0; i-- {
					l.pushFront(clone(values[i]))
				}
				for truncateTo > 0 && l.n > truncateTo {
					l.popBack()
				}
			} else {
				for _, v := range values {
					l.pushBack(clone(v))
				}
				for truncateTo > 0 && l.n > truncateTo {
					l.popFront()
				}
			}
			length = l.n
			return true, nil
		})
	return length, err
}

// ListPop removes the first or last element.
func (s *Store) ListPop(_ context.Context, name string, key []byte, front bool) (value []byte, length int, found bool, err error) {
	found, err = s.collWrite(name, key, store.KindList, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (bool, error) {
			l := c.(*list)
			if front {
				value = l.popFront()
			} else {
				value = l.popBack()
			}
			length = l.n
			return true, nil
		})
	return value, length, found, err
}

// ListFetch returns the slice [start, end).
func (s *Store) ListFetch(_ context.Context, name string, key []byte, start, end int) (values [][]byte, found bool, err error) {
	found, err = s.collRead(name, key, store.KindList, func(c collection) {
		l := c.(*list)
		start, end := sliceBounds(l.n, start, end)
		values = l.slice(start, end)
	})
	return values, found, err
}

// ListRetain keeps only the slice [start, end).
func (s *Store) ListRetain(_ context.Context, name string, key []byte, start, end int, ttl store.CollectionTTL) (length int, found bool, err error) {
	found, err = s.collWrite(name, key, store.KindList, 0, false, ttl,
		func(c collection, _ int64) (bool, error) {
			l := c.(*list)
			start, end := sliceBounds(l.n, start, end)
			changed := l.keep(func(i int, _ []byte) bool { return i >= start && i < end })
			length = l.n
			return changed, nil
		})
	return length, found, err
}

// ListRemove removes every element equal to value.
func (s *Store) ListRemove(_ context.Context, name string, key []byte, value []byte) (length int, found bool, err error) {
	found, err = s.collWrite(name, key, store.KindList, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (bool, error) {
			l := c.(*list)
			changed := l.keep(func(_ int, v []byte) bool { return !bytes.Equal(v, value) })
			length = l.n
			return changed, nil
		})
	return length, found, err
}

// ListErase removes the positions covered by ranges (nil: all).
func (s *Store) ListErase(_ context.Context, name string, key []byte, ranges []store.IndexRange) (length int, found bool, err error) {
	for _, r := range ranges {
		if r.Start < 0 || r.Count < 0 {
			return 0, false, errs.ErrInvalidArgument.Msgf("erase range %+v", r)
		}
	}
	found, err = s.collWrite(name, key, store.KindList, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (bool, error) {
			l := c.(*list)
			var changed bool
			if ranges == nil {
				changed = l.keep(func(int, []byte) bool { return false })
			} else {
				rs := slices.Clone(ranges)
				slices.SortFunc(rs, func(a, b store.IndexRange) int { return a.Start - b.Start })
				j := 0
				changed = l.keep(func(i int, _ []byte) bool {
					for j < len(rs) && i >= rs[j].Start+rs[j].Count {
						j++
					}
					// Ranges are sorted by start; an earlier, longer range may still cover i.
					for k := j; k < len(rs) && rs[k].Start <= i; k++ {
						if i < rs[k].Start+rs[k].Count {
							return false
						}
					}
					return true
				})
			}
			length = l.n
			return changed, nil
		})
	return length, found, err
}

// ListLength returns the number of elements.
func (s *Store) ListLength(_ context.Context, name string, key []byte) (n int, found bool, err error) {
	found, err = s.collRead(name, key, store.KindList, func(c collection) { n = c.length() })
	return n, found, err
}
