package cache

import (
	"context"
	"math"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// Collections share the key space with scalars: an item of another kind is
// errs.ErrWrongType; a read of a missing collection reports found == false;
// a collection that becomes empty is deleted. See store.Collections.

// collWrite authorizes a write to collection key with a collection TTL.
func collWrite(ctx context.Context, name string, a auth.Access, cache string, key []byte, ttl CollectionTTL) error {
	if err := one(ctx, name, a, cache, key); err != nil {
		return err
	}
	return checkTTL(ttl.TTL)
}

// ---- dictionaries ----

// DictionarySet writes fields of a dictionary (a later duplicate wins).
func (s *Service) DictionarySet(ctx context.Context, cache string, key []byte, items []FieldValue, ttl CollectionTTL) error {
	if err := collWrite(ctx, "DictionarySet", write, cache, key, ttl); err != nil {
		return err
	}
	return s.st.DictionarySet(ctx, cache, key, items, ttl)
}

// DictionaryGet returns, per field, its value and whether it is present.
func (s *Service) DictionaryGet(ctx context.Context, cache string, key []byte, fields [][]byte) (values [][]byte, present []bool, found bool, err error) {
	if err := one(ctx, "DictionaryGet", read, cache, key); err != nil {
		return nil, nil, false, err
	}
	return s.st.DictionaryGet(ctx, cache, key, fields)
}

// DictionaryFetch returns every entry of a dictionary.
func (s *Service) DictionaryFetch(ctx context.Context, cache string, key []byte) ([]FieldValue, bool, error) {
	if err := one(ctx, "DictionaryFetch", read, cache, key); err != nil {
		return nil, false, err
	}
	return s.st.DictionaryFetch(ctx, cache, key)
}

// DictionaryIncrement adds amount to a base-10 integer field.
func (s *Service) DictionaryIncrement(ctx context.Context, cache string, key, field []byte, amount int64, ttl CollectionTTL) (int64, error) {
	if err := collWrite(ctx, "DictionaryIncrement", cond, cache, key, ttl); err != nil {
		return 0, err
	}
	return s.st.DictionaryIncrement(ctx, cache, key, field, amount, ttl)
}

// DictionaryDelete removes fields; missing ones are ignored.
func (s *Service) DictionaryDelete(ctx context.Context, cache string, key []byte, fields [][]byte) error {
	if err := one(ctx, "DictionaryDelete", write, cache, key); err != nil {
		return err
	}
	return s.st.DictionaryDelete(ctx, cache, key, fields)
}

// DictionaryDeleteAll removes the whole dictionary in one change.
func (s *Service) DictionaryDeleteAll(ctx context.Context, cache string, key []byte) error {
	if err := one(ctx, "DictionaryDelete", write, cache, key); err != nil {
		return err
	}
	_, err := s.st.DeleteKind(ctx, cache, key, KindDictionary)
	return err
}

// DictionaryLength is the number of fields of a dictionary.
func (s *Service) DictionaryLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	if err := one(ctx, "DictionaryLength", read, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.DictionaryLength(ctx, cache, key)
}

// ---- sets ----

// SetAdd adds elements to a set.
func (s *Service) SetAdd(ctx context.Context, cache string, key []byte, elements [][]byte, ttl CollectionTTL) error {
	if err := collWrite(ctx, "SetUnion", write, cache, key, ttl); err != nil {
		return err
	}
	return s.st.SetAdd(ctx, cache, key, elements, ttl)
}

// SetRemove removes elements; found reports whether the set existed.
func (s *Service) SetRemove(ctx context.Context, cache string, key []byte, elements [][]byte) (bool, error) {
	if err := one(ctx, "SetDifference", write, cache, key); err != nil {
		return false, err
	}
	return s.st.SetRemove(ctx, cache, key, elements)
}

// SetRemoveAll removes the whole set in one change (the set minus itself);
// found reports whether it existed.
func (s *Service) SetRemoveAll(ctx context.Context, cache string, key []byte) (bool, error) {
	if err := one(ctx, "SetDifference", write, cache, key); err != nil {
		return false, err
	}
	return s.st.DeleteKind(ctx, cache, key, KindSet)
}

// SetFetch returns every element of a set.
func (s *Service) SetFetch(ctx context.Context, cache string, key []byte) ([][]byte, bool, error) {
	if err := one(ctx, "SetFetch", read, cache, key); err != nil {
		return nil, false, err
	}
	return s.st.SetFetch(ctx, cache, key)
}

// SetContains reports, per element, whether the set holds it.
func (s *Service) SetContains(ctx context.Context, cache string, key []byte, elements [][]byte) ([]bool, bool, error) {
	if err := one(ctx, "SetContains", read, cache, key); err != nil {
		return nil, false, err
	}
	return s.st.SetContains(ctx, cache, key, elements)
}

// SetSample returns up to limit distinct random elements.
func (s *Service) SetSample(ctx context.Context, cache string, key []byte, limit int) ([][]byte, bool, error) {
	if err := one(ctx, "SetSample", read, cache, key); err != nil {
		return nil, false, err
	}
	if limit < 0 {
		return nil, false, errs.ErrInvalidArgument.Msgf("set sample: limit must not be negative")
	}
	return s.st.SetSample(ctx, cache, key, limit)
}

// SetPop removes and returns up to count random elements.
func (s *Service) SetPop(ctx context.Context, cache string, key []byte, count int) ([][]byte, bool, error) {
	if err := one(ctx, "SetPop", cond, cache, key); err != nil {
		return nil, false, err
	}
	if count < 0 {
		return nil, false, errs.ErrInvalidArgument.Msgf("set pop: count must not be negative")
	}
	return s.st.SetPop(ctx, cache, key, count)
}

// SetLength is the number of elements of a set.
func (s *Service) SetLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	if err := one(ctx, "SetLength", read, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.SetLength(ctx, cache, key)
}

// ---- lists ----

// ListPush adds values at the front or the back, then truncates the other
// end to truncateTo elements when it is positive.
func (s *Service) ListPush(ctx context.Context, cache string, key []byte, values [][]byte, front bool, truncateTo int, ttl CollectionTTL) (int, error) {
	name := "ListPushBack"
	if front {
		name = "ListPushFront"
	}
	if err := collWrite(ctx, name, write, cache, key, ttl); err != nil {
		return 0, err
	}
	if truncateTo < 0 {
		return 0, errs.ErrInvalidArgument.Msgf("list push: truncate size must not be negative")
	}
	return s.st.ListPush(ctx, cache, key, values, front, truncateTo, ttl)
}

// ListPop removes the first (front) or last element.
func (s *Service) ListPop(ctx context.Context, cache string, key []byte, front bool) (value []byte, length int, found bool, err error) {
	name := "ListPopBack"
	if front {
		name = "ListPopFront"
	}
	if err := one(ctx, name, cond, cache, key); err != nil {
		return nil, 0, false, err
	}
	return s.st.ListPop(ctx, cache, key, front)
}

// ListFetch returns the slice [start, end) (see Unbounded); found is false
// when the list is missing or the slice is empty.
func (s *Service) ListFetch(ctx context.Context, cache string, key []byte, start, end int) ([][]byte, bool, error) {
	if err := one(ctx, "ListFetch", read, cache, key); err != nil {
		return nil, false, err
	}
	values, found, err := s.st.ListFetch(ctx, cache, key, start, end)
	// A slice that selects nothing is a miss, as Momento answers: its
	// ListFetch never returns an empty list.
	return values, found && len(values) > 0, err
}

// ListRetain keeps only the slice [start, end).
func (s *Service) ListRetain(ctx context.Context, cache string, key []byte, start, end int, ttl CollectionTTL) (int, bool, error) {
	if err := collWrite(ctx, "ListRetain", cond, cache, key, ttl); err != nil {
		return 0, false, err
	}
	return s.st.ListRetain(ctx, cache, key, start, end, ttl)
}

// ListRemove removes every element equal to value.
func (s *Service) ListRemove(ctx context.Context, cache string, key []byte, value []byte) (int, bool, error) {
	if err := one(ctx, "ListRemove", write, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.ListRemove(ctx, cache, key, value)
}

// ListErase removes the positions of ranges (nil: every element).
func (s *Service) ListErase(ctx context.Context, cache string, key []byte, ranges []IndexRange) (int, bool, error) {
	if err := one(ctx, "ListErase", write, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.ListErase(ctx, cache, key, ranges)
}

// ListLength is the number of elements of a list.
func (s *Service) ListLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	if err := one(ctx, "ListLength", read, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.ListLength(ctx, cache, key)
}

// ---- sorted sets ----

// SortedSetPut sets the scores of elements (a later duplicate wins).
func (s *Service) SortedSetPut(ctx context.Context, cache string, key []byte, elements []ScoredElement, ttl CollectionTTL) error {
	if err := collWrite(ctx, "SortedSetPut", write, cache, key, ttl); err != nil {
		return err
	}
	return s.st.SortedSetPut(ctx, cache, key, elements, ttl)
}

// SortedSetFetchByRank returns the slice [start, end) in order.
func (s *Service) SortedSetFetchByRank(ctx context.Context, cache string, key []byte, start, end int, descending bool) ([]ScoredElement, bool, error) {
	if err := one(ctx, "SortedSetFetch", read, cache, key); err != nil {
		return nil, false, err
	}
	return s.st.SortedSetFetchByRank(ctx, cache, key, start, end, descending)
}

// SortedSetFetchByScore returns the elements with scores in [min, max], in
// order, skipping offset and returning at most count (count < 0: all).
func (s *Service) SortedSetFetchByScore(ctx context.Context, cache string, key []byte, min, max ScoreBound, descending bool, offset, count int) ([]ScoredElement, bool, error) {
	if err := one(ctx, "SortedSetFetch", read, cache, key); err != nil {
		return nil, false, err
	}
	if offset < 0 {
		return nil, false, errs.ErrInvalidArgument.Msgf("sorted set fetch: offset must not be negative")
	}
	return s.st.SortedSetFetchByScore(ctx, cache, key, min, max, descending, offset, count)
}

// SortedSetGetScores returns, per value, its score and whether it is present.
func (s *Service) SortedSetGetScores(ctx context.Context, cache string, key []byte, values [][]byte) ([]float64, []bool, bool, error) {
	if err := one(ctx, "SortedSetGetScore", read, cache, key); err != nil {
		return nil, nil, false, err
	}
	return s.st.SortedSetGetScores(ctx, cache, key, values)
}

// SortedSetGetRank returns the 0-based rank of value in the given order.
func (s *Service) SortedSetGetRank(ctx context.Context, cache string, key []byte, value []byte, descending bool) (rank int, present, found bool, err error) {
	if err := one(ctx, "SortedSetGetRank", read, cache, key); err != nil {
		return 0, false, false, err
	}
	return s.st.SortedSetGetRank(ctx, cache, key, value, descending)
}

// SortedSetIncrement adds amount to the score of value (created as amount).
func (s *Service) SortedSetIncrement(ctx context.Context, cache string, key []byte, value []byte, amount float64, ttl CollectionTTL) (float64, error) {
	if err := collWrite(ctx, "SortedSetIncrement", cond, cache, key, ttl); err != nil {
		return 0, err
	}
	if math.IsNaN(amount) {
		return 0, errs.ErrInvalidArgument.Msgf("sorted set increment: amount is NaN")
	}
	return s.st.SortedSetIncrement(ctx, cache, key, value, amount, ttl)
}

// SortedSetRemove removes values; missing ones are ignored.
func (s *Service) SortedSetRemove(ctx context.Context, cache string, key []byte, values [][]byte) error {
	if err := one(ctx, "SortedSetRemove", write, cache, key); err != nil {
		return err
	}
	return s.st.SortedSetRemove(ctx, cache, key, values)
}

// SortedSetRemoveAll removes the whole sorted set in one change.
func (s *Service) SortedSetRemoveAll(ctx context.Context, cache string, key []byte) error {
	if err := one(ctx, "SortedSetRemove", write, cache, key); err != nil {
		return err
	}
	_, err := s.st.DeleteKind(ctx, cache, key, KindSortedSet)
	return err
}

// SortedSetLength is the number of elements of a sorted set.
func (s *Service) SortedSetLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	if err := one(ctx, "SortedSetLength", read, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.SortedSetLength(ctx, cache, key)
}

// SortedSetLengthByScore counts the elements with scores in [min, max].
func (s *Service) SortedSetLengthByScore(ctx context.Context, cache string, key []byte, min, max ScoreBound) (int, bool, error) {
	if err := one(ctx, "SortedSetLengthByScore", read, cache, key); err != nil {
		return 0, false, err
	}
	return s.st.SortedSetLengthByScore(ctx, cache, key, min, max)
}

// SortedSetUnionStore replaces key with the weighted union of sources. It
// reads the sources and writes the destination: every key needs read and
// write access.
func (s *Service) SortedSetUnionStore(ctx context.Context, cache string, key []byte, sources []UnionSource, agg Aggregate, ttl time.Duration) (int, error) {
	keys := make([][]byte, 0, 1+len(sources))
	keys = append(keys, key)
	for _, src := range sources {
		keys = append(keys, src.Key)
	}
	if err := many(ctx, "SortedSetUnionStore", cond, cache, keys); err != nil {
		return 0, err
	}
	if len(sources) == 0 {
		return 0, errs.ErrInvalidArgument.Msgf("sorted set union store: give at least one source")
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	return s.st.SortedSetUnionStore(ctx, cache, key, sources, agg, ttl)
}
