// The Store decorator's pass-through methods, one per engine call (written
// from the store.Store interface; ReadFeed and FeedNotify are in engine.go).
// A method added to the interface passes through uncounted until it is added
// here.

package metrics

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/store"
)

const (
	opCreateCache storeOp = iota
	opDeleteCache
	opListCaches
	opCacheInfo
	opFlushCache
	opGet
	opGetBatch
	opSet
	opSetBatch
	opSetIf
	opDelete
	opDeleteIf
	opDeleteKind
	opGetWithMeta
	opKeysExist
	opIncrement
	opUpdateTTL
	opMeta
	opDictionarySet
	opDictionaryGet
	opDictionaryFetch
	opDictionaryIncrement
	opDictionaryDelete
	opDictionaryLength
	opSetAdd
	opSetRemove
	opSetFetch
	opSetContains
	opSetSample
	opSetPop
	opSetLength
	opListPush
	opListPop
	opListFetch
	opListRetain
	opListRemove
	opListErase
	opListLength
	opSortedSetPut
	opSortedSetFetchByRank
	opSortedSetFetchByScore
	opSortedSetGetScores
	opSortedSetGetRank
	opSortedSetIncrement
	opSortedSetRemove
	opSortedSetLength
	opSortedSetLengthByScore
	opSortedSetUnionStore
	opReadFeed
	opFeedNotify
	opPutRecord
	opGetRecord
	opDeleteRecord
	opListRecords
	numStoreOps
)

var storeOpNames = [numStoreOps]string{
	opCreateCache:            "create_cache",
	opDeleteCache:            "delete_cache",
	opListCaches:             "list_caches",
	opCacheInfo:              "cache_info",
	opFlushCache:             "flush_cache",
	opGet:                    "get",
	opGetBatch:               "get_batch",
	opSet:                    "set",
	opSetBatch:               "set_batch",
	opSetIf:                  "set_if",
	opDelete:                 "delete",
	opDeleteIf:               "delete_if",
	opDeleteKind:             "delete_kind",
	opGetWithMeta:            "get_with_meta",
	opKeysExist:              "keys_exist",
	opIncrement:              "increment",
	opUpdateTTL:              "update_t_t_l",
	opMeta:                   "meta",
	opDictionarySet:          "dictionary_set",
	opDictionaryGet:          "dictionary_get",
	opDictionaryFetch:        "dictionary_fetch",
	opDictionaryIncrement:    "dictionary_increment",
	opDictionaryDelete:       "dictionary_delete",
	opDictionaryLength:       "dictionary_length",
	opSetAdd:                 "set_add",
	opSetRemove:              "set_remove",
	opSetFetch:               "set_fetch",
	opSetContains:            "set_contains",
	opSetSample:              "set_sample",
	opSetPop:                 "set_pop",
	opSetLength:              "set_length",
	opListPush:               "list_push",
	opListPop:                "list_pop",
	opListFetch:              "list_fetch",
	opListRetain:             "list_retain",
	opListRemove:             "list_remove",
	opListErase:              "list_erase",
	opListLength:             "list_length",
	opSortedSetPut:           "sorted_set_put",
	opSortedSetFetchByRank:   "sorted_set_fetch_by_rank",
	opSortedSetFetchByScore:  "sorted_set_fetch_by_score",
	opSortedSetGetScores:     "sorted_set_get_scores",
	opSortedSetGetRank:       "sorted_set_get_rank",
	opSortedSetIncrement:     "sorted_set_increment",
	opSortedSetRemove:        "sorted_set_remove",
	opSortedSetLength:        "sorted_set_length",
	opSortedSetLengthByScore: "sorted_set_length_by_score",
	opSortedSetUnionStore:    "sorted_set_union_store",
	opReadFeed:               "read_feed",
	opFeedNotify:             "feed_notify",
	opPutRecord:              "put_record",
	opGetRecord:              "get_record",
	opDeleteRecord:           "delete_record",
	opListRecords:            "list_records",
}

func (s *instrumentedStore) CreateCache(ctx context.Context, name string, cfg store.CacheConfig) (r0 store.CacheInfo, err error) {
	r0, err = s.Store.CreateCache(ctx, name, cfg)
	s.done(opCreateCache, err)
	return
}

func (s *instrumentedStore) DeleteCache(ctx context.Context, name string) (err error) {
	err = s.Store.DeleteCache(ctx, name)
	s.done(opDeleteCache, err)
	return
}

func (s *instrumentedStore) ListCaches(ctx context.Context) (r0 []store.CacheInfo, err error) {
	r0, err = s.Store.ListCaches(ctx)
	s.done(opListCaches, err)
	return
}

func (s *instrumentedStore) CacheInfo(ctx context.Context, name string) (r0 store.CacheInfo, err error) {
	r0, err = s.Store.CacheInfo(ctx, name)
	s.done(opCacheInfo, err)
	return
}

func (s *instrumentedStore) FlushCache(ctx context.Context, name string) (err error) {
	err = s.Store.FlushCache(ctx, name)
	s.done(opFlushCache, err)
	return
}

func (s *instrumentedStore) Get(ctx context.Context, cache string, key []byte) (value []byte, found bool, err error) {
	value, found, err = s.Store.Get(ctx, cache, key)
	s.done(opGet, err)
	return
}

func (s *instrumentedStore) GetBatch(ctx context.Context, cache string, keys [][]byte) (values [][]byte, found []bool, err error) {
	values, found, err = s.Store.GetBatch(ctx, cache, keys)
	s.done(opGetBatch, err)
	return
}

func (s *instrumentedStore) Set(ctx context.Context, cache string, key []byte, value []byte, ttl time.Duration) (err error) {
	err = s.Store.Set(ctx, cache, key, value, ttl)
	s.done(opSet, err)
	return
}

func (s *instrumentedStore) SetBatch(ctx context.Context, cache string, items []store.Item) (err error) {
	err = s.Store.SetBatch(ctx, cache, items)
	s.done(opSetBatch, err)
	return
}

func (s *instrumentedStore) SetIf(ctx context.Context, cache string, key []byte, value []byte, ttl time.Duration, cond store.Condition) (r0 store.WriteResult, err error) {
	r0, err = s.Store.SetIf(ctx, cache, key, value, ttl, cond)
	s.done(opSetIf, err)
	return
}

func (s *instrumentedStore) Delete(ctx context.Context, cache string, key []byte) (err error) {
	err = s.Store.Delete(ctx, cache, key)
	s.done(opDelete, err)
	return
}

func (s *instrumentedStore) DeleteIf(ctx context.Context, cache string, key []byte, cond store.Condition) (deleted bool, err error) {
	deleted, err = s.Store.DeleteIf(ctx, cache, key, cond)
	s.done(opDeleteIf, err)
	return
}

func (s *instrumentedStore) DeleteKind(ctx context.Context, cache string, key []byte, kind store.Kind) (found bool, err error) {
	found, err = s.Store.DeleteKind(ctx, cache, key, kind)
	s.done(opDeleteKind, err)
	return
}

func (s *instrumentedStore) GetWithMeta(ctx context.Context, cache string, key []byte) (value []byte, meta store.Meta, found bool, err error) {
	value, meta, found, err = s.Store.GetWithMeta(ctx, cache, key)
	s.done(opGetWithMeta, err)
	return
}

func (s *instrumentedStore) KeysExist(ctx context.Context, cache string, keys [][]byte) (r0 []bool, err error) {
	r0, err = s.Store.KeysExist(ctx, cache, keys)
	s.done(opKeysExist, err)
	return
}

func (s *instrumentedStore) Increment(ctx context.Context, cache string, key []byte, amount int64, ttl time.Duration) (r0 int64, err error) {
	r0, err = s.Store.Increment(ctx, cache, key, amount, ttl)
	s.done(opIncrement, err)
	return
}

func (s *instrumentedStore) UpdateTTL(ctx context.Context, cache string, key []byte, mode store.TTLMode, ttl time.Duration) (r0 store.TTLResult, err error) {
	r0, err = s.Store.UpdateTTL(ctx, cache, key, mode, ttl)
	s.done(opUpdateTTL, err)
	return
}

func (s *instrumentedStore) Meta(ctx context.Context, cache string, key []byte) (meta store.Meta, found bool, err error) {
	meta, found, err = s.Store.Meta(ctx, cache, key)
	s.done(opMeta, err)
	return
}

func (s *instrumentedStore) DictionarySet(ctx context.Context, cache string, key []byte, items []store.FieldValue, ttl store.CollectionTTL) (err error) {
	err = s.Store.DictionarySet(ctx, cache, key, items, ttl)
	s.done(opDictionarySet, err)
	return
}

func (s *instrumentedStore) DictionaryGet(ctx context.Context, cache string, key []byte, fields [][]byte) (values [][]byte, present []bool, found bool, err error) {
	values, present, found, err = s.Store.DictionaryGet(ctx, cache, key, fields)
	s.done(opDictionaryGet, err)
	return
}

func (s *instrumentedStore) DictionaryFetch(ctx context.Context, cache string, key []byte) (items []store.FieldValue, found bool, err error) {
	items, found, err = s.Store.DictionaryFetch(ctx, cache, key)
	s.done(opDictionaryFetch, err)
	return
}

func (s *instrumentedStore) DictionaryIncrement(ctx context.Context, cache string, key []byte, field []byte, amount int64, ttl store.CollectionTTL) (r0 int64, err error) {
	r0, err = s.Store.DictionaryIncrement(ctx, cache, key, field, amount, ttl)
	s.done(opDictionaryIncrement, err)
	return
}

func (s *instrumentedStore) DictionaryDelete(ctx context.Context, cache string, key []byte, fields [][]byte) (err error) {
	err = s.Store.DictionaryDelete(ctx, cache, key, fields)
	s.done(opDictionaryDelete, err)
	return
}

func (s *instrumentedStore) DictionaryLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error) {
	n, found, err = s.Store.DictionaryLength(ctx, cache, key)
	s.done(opDictionaryLength, err)
	return
}

func (s *instrumentedStore) SetAdd(ctx context.Context, cache string, key []byte, elements [][]byte, ttl store.CollectionTTL) (err error) {
	err = s.Store.SetAdd(ctx, cache, key, elements, ttl)
	s.done(opSetAdd, err)
	return
}

func (s *instrumentedStore) SetRemove(ctx context.Context, cache string, key []byte, elements [][]byte) (found bool, err error) {
	found, err = s.Store.SetRemove(ctx, cache, key, elements)
	s.done(opSetRemove, err)
	return
}

func (s *instrumentedStore) SetFetch(ctx context.Context, cache string, key []byte) (elements [][]byte, found bool, err error) {
	elements, found, err = s.Store.SetFetch(ctx, cache, key)
	s.done(opSetFetch, err)
	return
}

func (s *instrumentedStore) SetContains(ctx context.Context, cache string, key []byte, elements [][]byte) (contains []bool, found bool, err error) {
	contains, found, err = s.Store.SetContains(ctx, cache, key, elements)
	s.done(opSetContains, err)
	return
}

func (s *instrumentedStore) SetSample(ctx context.Context, cache string, key []byte, limit int) (elements [][]byte, found bool, err error) {
	elements, found, err = s.Store.SetSample(ctx, cache, key, limit)
	s.done(opSetSample, err)
	return
}

func (s *instrumentedStore) SetPop(ctx context.Context, cache string, key []byte, count int) (elements [][]byte, found bool, err error) {
	elements, found, err = s.Store.SetPop(ctx, cache, key, count)
	s.done(opSetPop, err)
	return
}

func (s *instrumentedStore) SetLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error) {
	n, found, err = s.Store.SetLength(ctx, cache, key)
	s.done(opSetLength, err)
	return
}

func (s *instrumentedStore) ListPush(ctx context.Context, cache string, key []byte, values [][]byte, front bool, truncateTo int, ttl store.CollectionTTL) (length int, err error) {
	length, err = s.Store.ListPush(ctx, cache, key, values, front, truncateTo, ttl)
	s.done(opListPush, err)
	return
}

func (s *instrumentedStore) ListPop(ctx context.Context, cache string, key []byte, front bool) (value []byte, length int, found bool, err error) {
	value, length, found, err = s.Store.ListPop(ctx, cache, key, front)
	s.done(opListPop, err)
	return
}

func (s *instrumentedStore) ListFetch(ctx context.Context, cache string, key []byte, start int, end int) (values [][]byte, found bool, err error) {
	values, found, err = s.Store.ListFetch(ctx, cache, key, start, end)
	s.done(opListFetch, err)
	return
}

func (s *instrumentedStore) ListRetain(ctx context.Context, cache string, key []byte, start int, end int, ttl store.CollectionTTL) (length int, found bool, err error) {
	length, found, err = s.Store.ListRetain(ctx, cache, key, start, end, ttl)
	s.done(opListRetain, err)
	return
}

func (s *instrumentedStore) ListRemove(ctx context.Context, cache string, key []byte, value []byte) (length int, found bool, err error) {
	length, found, err = s.Store.ListRemove(ctx, cache, key, value)
	s.done(opListRemove, err)
	return
}

func (s *instrumentedStore) ListErase(ctx context.Context, cache string, key []byte, ranges []store.IndexRange) (length int, found bool, err error) {
	length, found, err = s.Store.ListErase(ctx, cache, key, ranges)
	s.done(opListErase, err)
	return
}

func (s *instrumentedStore) ListLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error) {
	n, found, err = s.Store.ListLength(ctx, cache, key)
	s.done(opListLength, err)
	return
}

func (s *instrumentedStore) SortedSetPut(ctx context.Context, cache string, key []byte, elements []store.ScoredElement, ttl store.CollectionTTL) (err error) {
	err = s.Store.SortedSetPut(ctx, cache, key, elements, ttl)
	s.done(opSortedSetPut, err)
	return
}

func (s *instrumentedStore) SortedSetFetchByRank(ctx context.Context, cache string, key []byte, start int, end int, descending bool) (elements []store.ScoredElement, found bool, err error) {
	elements, found, err = s.Store.SortedSetFetchByRank(ctx, cache, key, start, end, descending)
	s.done(opSortedSetFetchByRank, err)
	return
}

func (s *instrumentedStore) SortedSetFetchByScore(ctx context.Context, cache string, key []byte, min store.ScoreBound, max store.ScoreBound, descending bool, offset int, count int) (elements []store.ScoredElement, found bool, err error) {
	elements, found, err = s.Store.SortedSetFetchByScore(ctx, cache, key, min, max, descending, offset, count)
	s.done(opSortedSetFetchByScore, err)
	return
}

func (s *instrumentedStore) SortedSetGetScores(ctx context.Context, cache string, key []byte, values [][]byte) (scores []float64, present []bool, found bool, err error) {
	scores, present, found, err = s.Store.SortedSetGetScores(ctx, cache, key, values)
	s.done(opSortedSetGetScores, err)
	return
}

func (s *instrumentedStore) SortedSetGetRank(ctx context.Context, cache string, key []byte, value []byte, descending bool) (rank int, present bool, found bool, err error) {
	rank, present, found, err = s.Store.SortedSetGetRank(ctx, cache, key, value, descending)
	s.done(opSortedSetGetRank, err)
	return
}

func (s *instrumentedStore) SortedSetIncrement(ctx context.Context, cache string, key []byte, value []byte, amount float64, ttl store.CollectionTTL) (r0 float64, err error) {
	r0, err = s.Store.SortedSetIncrement(ctx, cache, key, value, amount, ttl)
	s.done(opSortedSetIncrement, err)
	return
}

func (s *instrumentedStore) SortedSetRemove(ctx context.Context, cache string, key []byte, values [][]byte) (err error) {
	err = s.Store.SortedSetRemove(ctx, cache, key, values)
	s.done(opSortedSetRemove, err)
	return
}

func (s *instrumentedStore) SortedSetLength(ctx context.Context, cache string, key []byte) (n int, found bool, err error) {
	n, found, err = s.Store.SortedSetLength(ctx, cache, key)
	s.done(opSortedSetLength, err)
	return
}

func (s *instrumentedStore) SortedSetLengthByScore(ctx context.Context, cache string, key []byte, min store.ScoreBound, max store.ScoreBound) (n int, found bool, err error) {
	n, found, err = s.Store.SortedSetLengthByScore(ctx, cache, key, min, max)
	s.done(opSortedSetLengthByScore, err)
	return
}

func (s *instrumentedStore) SortedSetUnionStore(ctx context.Context, cache string, key []byte, sources []store.UnionSource, agg store.Aggregate, ttl time.Duration) (length int, err error) {
	length, err = s.Store.SortedSetUnionStore(ctx, cache, key, sources, agg, ttl)
	s.done(opSortedSetUnionStore, err)
	return
}

func (s *instrumentedStore) PutRecord(ctx context.Context, ns string, key string, value []byte) (err error) {
	err = s.Store.PutRecord(ctx, ns, key, value)
	s.done(opPutRecord, err)
	return
}

func (s *instrumentedStore) GetRecord(ctx context.Context, ns string, key string) (value []byte, found bool, err error) {
	value, found, err = s.Store.GetRecord(ctx, ns, key)
	s.done(opGetRecord, err)
	return
}

func (s *instrumentedStore) DeleteRecord(ctx context.Context, ns string, key string) (err error) {
	err = s.Store.DeleteRecord(ctx, ns, key)
	s.done(opDeleteRecord, err)
	return
}

func (s *instrumentedStore) ListRecords(ctx context.Context, ns string) (r0 []store.Record, err error) {
	r0, err = s.Store.ListRecords(ctx, ns)
	s.done(opListRecords, err)
	return
}
