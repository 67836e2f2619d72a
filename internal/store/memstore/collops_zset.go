package memstore

import (
	"context"
	"math"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

func checkScore(f float64) error {
	if math.IsNaN(f) {
		return errs.ErrInvalidArgument.Msgf("score is NaN")
	}
	return nil
}

// SortedSetPut sets the scores of elements; a later duplicate wins.
func (s *Store) SortedSetPut(_ context.Context, name string, key []byte, elements []store.ScoredElement, ttl store.CollectionTTL) error {
	var n int64
	for _, e := range elements {
		if err := store.CheckElement(e.Value, "sorted set element"); err != nil {
			return err
		}
		if err := checkScore(e.Score); err != nil {
			return err
		}
		n += int64(len(e.Value))
	}
	_, err := s.collWrite(name, key, store.KindSortedSet, collNeed(key, n, len(elements), zsetEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			z := c.(*zset)
			for _, e := range elements {
				z.put(string(e.Value), e.Score)
			}
			return true, nil
		})
	return err
}

func scored(x *znode) store.ScoredElement {
	return store.ScoredElement{Value: []byte(x.val), Score: x.score}
}

// walk appends count elements starting at ascending rank r, going up or down.
func walk(z *zset, r, count int, descending bool) []store.ScoredElement {
	if count <= 0 {
		return []store.ScoredElement{}
	}
	out := make([]store.ScoredElement, 0, count)
	for x := z.at(r); x != nil && len(out) < count; {
		out = append(out, scored(x))
		if descending {
			x = x.prev
		} else {
			x = x.lv[0].next
		}
	}
	return out
}

// SortedSetFetchByRank returns the slice [start, end) in the given order.
func (s *Store) SortedSetFetchByRank(_ context.Context, name string, key []byte, start, end int, descending bool) (elements []store.ScoredElement, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) {
		z := c.(*zset)
		start, end := sliceBounds(z.n, start, end)
		first := start
		if descending {
			first = z.n - 1 - start
		}
		elements = walk(z, first, end-start, descending)
	})
	return elements, found, err
}

// scoreRanks returns the ascending ranks [lo, hi) of scores within min..max.
func scoreRanks(z *zset, min, max store.ScoreBound) (lo, hi int) {
	lo = z.countBelow(min.Score, min.Exclusive)
	hi = z.countBelow(max.Score, !max.Exclusive)
	return lo, hi
}

func checkBounds(min, max store.ScoreBound) error {
	if math.IsNaN(min.Score) || math.IsNaN(max.Score) {
		return errs.ErrInvalidArgument.Msgf("score bound is NaN")
	}
	return nil
}

// SortedSetFetchByScore returns elements with scores in [min, max].
func (s *Store) SortedSetFetchByScore(_ context.Context, name string, key []byte, min, max store.ScoreBound, descending bool, offset, count int) (elements []store.ScoredElement, found bool, err error) {
	if err := checkBounds(min, max); err != nil {
		return nil, false, err
	}
	if offset < 0 {
		return nil, false, errs.ErrInvalidArgument.Msgf("offset %d", offset)
	}
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) {
		z := c.(*zset)
		lo, hi := scoreRanks(z, min, max)
		n := hi - lo - offset
		if count >= 0 {
			n = intMin(n, count)
		}
		first := lo + offset
		if descending {
			first = hi - 1 - offset
		}
		elements = walk(z, first, n, descending)
	})
	return elements, found, err
}

func intMin(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// SortedSetGetScores returns the score of each value.
func (s *Store) SortedSetGetScores(_ context.Context, name string, key []byte, values [][]byte) (scores []float64, present []bool, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) {
		z := c.(*zset)
		scores, present = make([]float64, len(values)), make([]bool, len(values))
		for i, v := range values {
			if x := z.nodes[string(v)]; x != nil {
				scores[i], present[i] = x.score, true
			}
		}
	})
	return scores, present, found, err
}

// SortedSetGetRank returns the 0-based rank of value.
func (s *Store) SortedSetGetRank(_ context.Context, name string, key []byte, value []byte, descending bool) (rank int, present, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) {
		z := c.(*zset)
		x := z.nodes[string(value)]
		if x == nil {
			return
		}
		present, rank = true, z.rank(x)
		if descending {
			rank = z.n - 1 - rank
		}
	})
	return rank, present, found, err
}

// SortedSetIncrement adds amount to the score of value.
func (s *Store) SortedSetIncrement(_ context.Context, name string, key []byte, value []byte, amount float64, ttl store.CollectionTTL) (score float64, err error) {
	if err := store.CheckElement(value, "sorted set element"); err != nil {
		return 0, err
	}
	if err := checkScore(amount); err != nil {
		return 0, err
	}
	_, err = s.collWrite(name, key, store.KindSortedSet, collNeed(key, int64(len(value)), 1, zsetEntryOverhead), true, ttl,
		func(c collection, _ int64) (bool, error) {
			z := c.(*zset)
			score = amount
			if x := z.nodes[string(value)]; x != nil {
				score = x.score + amount
			}
			if math.IsNaN(score) {
				return false, errs.ErrInvalidArgument.Msgf("increment gives NaN")
			}
			z.put(string(value), score)
			return true, nil
		})
	return score, err
}

// SortedSetRemove removes values.
func (s *Store) SortedSetRemove(_ context.Context, name string, key []byte, values [][]byte) error {
	_, err := s.collWrite(name, key, store.KindSortedSet, 0, false, store.CollectionTTL{},
		func(c collection, _ int64) (changed bool, _ error) {
			z := c.(*zset)
			for _, v := range values {
				if z.del(string(v)) {
					changed = true
				}
			}
			return changed, nil
		})
	return err
}

// SortedSetLength returns the number of elements.
func (s *Store) SortedSetLength(_ context.Context, name string, key []byte) (n int, found bool, err error) {
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) { n = c.length() })
	return n, found, err
}

// SortedSetLengthByScore counts the elements with scores in [min, max].
func (s *Store) SortedSetLengthByScore(_ context.Context, name string, key []byte, min, max store.ScoreBound) (n int, found bool, err error) {
	if err := checkBounds(min, max); err != nil {
		return 0, false, err
	}
	found, err = s.collRead(name, key, store.KindSortedSet, func(c collection) {
		lo, hi := scoreRanks(c.(*zset), min, max)
		n = hi - lo
		if n < 0 {
			n = 0
		}
	})
	return n, found, err
}

// SortedSetUnionStore replaces key with the weighted union of sources. The
// sources are read one at a time (each under its partition's read lock), so
// the union is not a snapshot across partitions; the replacement itself is
// one change.
func (s *Store) SortedSetUnionStore(_ context.Context, name string, key []byte, sources []store.UnionSource, agg store.Aggregate, ttl time.Duration) (length int, err error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	if agg > store.AggregateMax {
		return 0, errs.ErrInvalidArgument.Msgf("aggregate %d", agg)
	}
	acc := map[string]float64{}
	for _, src := range sources {
		if len(src.Key) == 0 {
			return 0, errEmptyKey
		}
		_, err := s.collRead(name, src.Key, store.KindSortedSet, func(c collection) {
			for x := c.(*zset).head.lv[0].next; x != nil; x = x.lv[0].next {
				v := x.score * src.Weight
				if math.IsNaN(v) {
					v = 0 // inf * 0
				}
				old, ok := acc[x.val]
				switch {
				case !ok:
				case agg == store.AggregateSum:
					if v += old; math.IsNaN(v) {
						v = 0 // +inf + -inf
					}
				case agg == store.AggregateMin:
					v = math.Min(v, old)
				case agg == store.AggregateMax:
					v = math.Max(v, old)
				}
				acc[x.val] = v
			}
		})
		if err != nil {
			return 0, err
		}
	}
	z := newZSet()
	var n int64
	for v, score := range acc {
		z.put(v, score)
		n += int64(len(v))
	}
	err = s.write(name, key, collNeed(key, n, len(acc), zsetEntryOverhead), func(p *partition, now int64) (int64, error) {
		var delta int64
		it := p.items.get(key)
		if live(it, now) && it.kind != store.KindSortedSet {
			return 0, wrongType(it)
		}
		var prev image
		if it != nil {
			switch {
			case !live(it, now):
				p.commit(now, store.FeedDelete, it, image{}, true)
			case z.n == 0:
				p.commit(now, store.FeedDelete, it, image{}, false) // the deletion is the change
			default:
				prev = imageOf(it)
			}
			delta -= p.remove(it)
			it.lsn = 0 // the replaced item's latest-version index entry goes stale
		}
		if z.n == 0 {
			return delta, nil
		}
		it = newItem(string(key), nil, store.KindSortedSet, s.clock.expiry(ttl, now))
		it.setCollection(z)
		it.touchAt(now)
		p.insert(it)
		op := store.FeedCreate
		if prev.ok {
			op = store.FeedReplace
		}
		p.commit(now, op, it, prev, false)
		return delta + it.size(), nil
	})
	if err != nil {
		return 0, err
	}
	return z.n, nil
}
