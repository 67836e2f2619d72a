package memstore

import (
	"context"
	"math/rand/v2"

	"github.com/setsuna-io/setsuna/internal/store"
)

// SetAdd adds elements.
func (s *Store) SetAdd(_ context.Context, name string, key []byte, elements [][]byte, ttl store.CollectionTTL) error {
	if err := store.CheckElements(elements, "set element"); err != nil {
		return err
	}
	_, err := s.collWrite(name, key, store.KindSet, collNeed(key, sumLen(elements), len(elements), setEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			st := c.(*set)
			for _, e := range elements {
				st.add(string(e))
			}
			return true, nil
		})
	return err
}

// SetRemove removes elements.
func (s *Store) SetRemove(_ context.Context, name string, key []byte, elements [][]byte) (bool, error) {
	return s.collWrite(name, key, store.KindSet, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (changed bool, _ error) {
			st := c.(*set)
			for _, e := range elements {
				if st.del(string(e)) {
					changed = true
				}
			}
			return changed, nil
		})
}

// SetFetch returns every element.
func (s *Store) SetFetch(_ context.Context, name string, key []byte) (elements [][]byte, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSet, func(c collection) {
		st := c.(*set)
		elements = make([][]byte, 0, len(st.m))
		for e := range st.m {
			elements = append(elements, []byte(e))
		}
	})
	return elements, found, err
}

// SetContains reports membership of each element.
func (s *Store) SetContains(_ context.Context, name string, key []byte, elements [][]byte) (contains []bool, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSet, func(c collection) {
		st := c.(*set)
		contains = make([]bool, len(elements))
		for i, e := range elements {
			_, contains[i] = st.m[string(e)]
		}
	})
	return contains, found, err
}

// SetSample returns up to limit distinct elements chosen uniformly
// (reservoir sampling over the map).
func (s *Store) SetSample(_ context.Context, name string, key []byte, limit int) (elements [][]byte, found bool, err error) {
	limit = max(limit, 0)
	found, err = s.collRead(name, key, store.KindSet, func(c collection) {
		elements = sample(c.(*set), limit)
	})
	return elements, found, err
}

func sample(st *set, limit int) [][]byte {
	out := make([][]byte, 0, min(limit, len(st.m)))
	i := 0
	for e := range st.m {
		if i < limit {
			out = append(out, []byte(e))
		} else if j := rand.IntN(i + 1); j < limit {
			out[j] = []byte(e)
		}
		i++
	}
	return out
}

// SetPop removes and returns up to count random elements.
func (s *Store) SetPop(_ context.Context, name string, key []byte, count int) (elements [][]byte, found bool, err error) {
	count = max(count, 0)
	found, err = s.collWrite(name, key, store.KindSet, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (bool, error) {
			st := c.(*set)
			elements = sample(st, count)
			for _, e := range elements {
				st.del(string(e))
			}
			return len(elements) > 0, nil
		})
	return elements, found, err
}

// SetLength returns the number of elements.
func (s *Store) SetLength(_ context.Context, name string, key []byte) (n int, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSet, func(c collection) { n = c.length() })
	return n, found, err
}
