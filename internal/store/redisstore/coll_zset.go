package redisstore

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Scores travel as strings both ways (fmtScore, parseScore) and are never
// turned into Lua numbers, whose tostring keeps only 14 digits. One value
// does not round-trip bit for bit: a small zset (listpack encoding) reads
// a score of -0 back as 0, which compares and orders the same.

// O(1) ttl, O(2) refresh, O(3)... score, member pairs. ZADD applies its
// pairs in order, so a later duplicate wins.
var zsetPutScript = newCollScript(`
local ik, m, err = copen(KEY, 4)
if err then return err end
local n = #ARGV - AO - 2
if n > 0 then many('ZADD', ik, 3, n + 2, chunk) end
cclose(KEY, 4, ik, m, tonumber(O(1)), O(2) == '1', n > 0)
return 1
`)

// O(1) start, O(2) end, O(3) "1" descending → {found, {member, score...}}.
var zsetByRankScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
local s, e = slice(redis.call('ZCARD', ik), tonumber(O(1)), tonumber(O(2)))
if s >= e then return {1, {}} end
if O(3) == '1' then return {1, redis.call('ZRANGE', ik, s, e - 1, 'REV', 'WITHSCORES')} end
return {1, redis.call('ZRANGE', ik, s, e - 1, 'WITHSCORES')}
`)

// O(1) min, O(2) max, O(3) "1" descending, O(4) offset, O(5) count (-1:
// all) → {found, {member, score...}}.
var zsetByScoreScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
if O(3) == '1' then
  return {1, redis.call('ZRANGE', ik, O(2), O(1), 'BYSCORE', 'REV', 'LIMIT', O(4), O(5), 'WITHSCORES')}
end
return {1, redis.call('ZRANGE', ik, O(1), O(2), 'BYSCORE', 'LIMIT', O(4), O(5), 'WITHSCORES')}
`)

// O(1..) members → {found, {score or false...}}.
var zsetScoresScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
return {1, gather('ZMSCORE', ik, 1, #ARGV - AO)}
`)

// O(1) member, O(2) "1" descending → {found, rank or false}.
var zsetRankScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
if O(2) == '1' then return {1, redis.call('ZREVRANK', ik, O(1))} end
return {1, redis.call('ZRANK', ik, O(1))}
`)

// O(1) ttl, O(2) refresh, O(3) member, O(4) amount → the new score.
// ZINCRBY refuses a NaN result and leaves the score as it was.
var zsetIncrScript = newCollScript(`
local ik, m, err = copen(KEY, 4)
if err then return err end
local r = redis.pcall('ZINCRBY', ik, O(4), O(3))
if type(r) == 'table' and r.err then return refuse('invalid_argument', 'increment gives NaN') end
cclose(KEY, 4, ik, m, tonumber(O(1)), O(2) == '1', true)
return r
`)

// O(1..) members → {found}.
var zsetRemoveScript = newCollScript(`
local ik, m, err = copen(KEY, 4)
if err then return err end
if not m then return {0} end
local n = #ARGV - AO
if n > 0 then n = many('ZREM', ik, 1, n, chunk) end
cclose(KEY, 4, ik, m, 0, false, n > 0)
return {1}
`)

var zsetLenScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
return {1, redis.call('ZCARD', ik)}
`)

// O(1) min, O(2) max → {found, n}.
var zsetCountScript = newCollScript(`
local ik, err = ropen(KEY, 4)
if err then return err end
if not ik then return {0} end
return {1, redis.call('ZCOUNT', ik, O(1), O(2))}
`)

// ARGV[4...] keys of one partition → per key false (absent) or {member,
// score...}.
var zsetReadManyScript = newCollScript(`
local out = {}
for i = AO, #ARGV do
  local ik, err = ropen(ARGV[i], 4)
  if err then return err end
  if ik then out[#out + 1] = redis.call('ZRANGE', ik, 0, -1, 'WITHSCORES') else out[#out + 1] = false end
end
return out
`)

// O(1) ttl ms, O(2)... score, member pairs → length. The destination is
// replaced (its previous elements go) in one change; an empty union
// deletes it.
var zsetStoreScript = newCollScript(`
local ik, m, err = copen(KEY, 4)
if err then return err end
redis.call('DEL', ik)
local n = #ARGV - AO - 1
if n > 0 then many('ZADD', ik, 2, n + 1, chunk) end
if redis.call('EXISTS', ik) == 0 then
  if m then commit(KEY, 3, 4, 0, nil, m) end
  return 0
end
local op = 1
if m then op = 2 end
commit(KEY, op, 4, colexp(nil, tonumber(O(1)), true), nil, m)
return redis.call('ZCARD', ik)
`)

func checkScore(f float64) error {
	if math.IsNaN(f) {
		return errs.ErrInvalidArgument.Msgf("score is NaN")
	}
	return nil
}

func checkBounds(min, max store.ScoreBound) error {
	if math.IsNaN(min.Score) || math.IsNaN(max.Score) {
		return errs.ErrInvalidArgument.Msgf("score bound is NaN")
	}
	return nil
}

// SortedSetPut sets the scores of elements; a later duplicate wins.
func (s *Store) SortedSetPut(ctx context.Context, cache string, key []byte, elements []store.ScoredElement, ttl store.CollectionTTL) error {
	if err := checkTTL(ttl.TTL); err != nil {
		return err
	}
	args := ttlArgs(ttl)
	for _, e := range elements {
		if err := store.CheckElement(e.Value, "sorted set element"); err != nil {
			return err
		}
		if err := checkScore(e.Score); err != nil {
			return err
		}
		args = append(args, fmtScore(e.Score), e.Value)
	}
	_, err := s.collRun(ctx, cache, key, zsetPutScript, true, args...)
	return err
}

// SortedSetFetchByRank returns the slice [start, end) in the given order.
func (s *Store) SortedSetFetchByRank(ctx context.Context, cache string, key []byte, start, end int, descending bool) ([]store.ScoredElement, bool, error) {
	return s.zsetRange(ctx, cache, key, zsetByRankScript, strconv.Itoa(start), strconv.Itoa(end), boolArg(descending))
}

// SortedSetFetchByScore returns elements with scores in [min, max].
func (s *Store) SortedSetFetchByScore(ctx context.Context, cache string, key []byte, min, max store.ScoreBound, descending bool, offset, count int) ([]store.ScoredElement, bool, error) {
	if err := checkBounds(min, max); err != nil {
		return nil, false, err
	}
	if offset < 0 {
		return nil, false, errs.ErrInvalidArgument.Msgf("offset %d", offset)
	}
	count = countArg(count)
	return s.zsetRange(ctx, cache, key, zsetByScoreScript, fmtBound(min), fmtBound(max), boolArg(descending),
		strconv.Itoa(offset), strconv.Itoa(count))
}

// max0 maps every negative count to Redis's "all" (-1).
func countArg(count int) int {
	if count < 0 {
		return -1
	}
	return count
}

func (s *Store) zsetRange(ctx context.Context, cache string, key []byte, sc *Script, args ...any) ([]store.ScoredElement, bool, error) {
	flat, ok, err := s.collList(ctx, cache, key, sc, false, args...)
	if err != nil || !ok {
		return nil, ok, err
	}
	out, err := scoredPairs(flat)
	return out, err == nil, err
}

// scoredPairs reads a WITHSCORES reply.
func scoredPairs(flat [][]byte) ([]store.ScoredElement, error) {
	out := make([]store.ScoredElement, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		f, err := parseScore(string(flat[i+1]))
		if err != nil {
			return nil, err
		}
		out = append(out, store.ScoredElement{Value: flat[i], Score: f})
	}
	return out, nil
}

// SortedSetGetScores returns the score of each value.
func (s *Store) SortedSetGetScores(ctx context.Context, cache string, key []byte, values [][]byte) ([]float64, []bool, bool, error) {
	if len(values) == 0 {
		_, ok, err := s.SortedSetLength(ctx, cache, key) // ZMSCORE needs a member
		return []float64{}, []bool{}, ok, err
	}
	v, err := s.collRun(ctx, cache, key, zsetScoresScript, false, bytesArgs(nil, values)...)
	if err != nil {
		return nil, nil, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	a, err := replyArr(rest[0])
	if err != nil || len(a) != len(values) {
		return nil, nil, false, cmpErr(err, "ZMSCORE reply of %d for %d members", len(a), len(values))
	}
	scores, present := make([]float64, len(a)), make([]bool, len(a))
	for i, x := range a {
		if x == nil {
			continue
		}
		if scores[i], err = parseScore(x); err != nil {
			return nil, nil, false, err
		}
		present[i] = true
	}
	return scores, present, true, nil
}

// SortedSetGetRank returns the 0-based rank of value.
func (s *Store) SortedSetGetRank(ctx context.Context, cache string, key []byte, value []byte, descending bool) (rank int, present, ok bool, err error) {
	v, err := s.collRun(ctx, cache, key, zsetRankScript, false, value, boolArg(descending))
	if err != nil {
		return 0, false, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return 0, false, false, err
	}
	if len(rest) == 0 || rest[0] == nil {
		return 0, false, true, nil
	}
	rank, err = replyInt(rest[0])
	return rank, err == nil, err == nil, err
}

// SortedSetIncrement adds amount to the score of value.
func (s *Store) SortedSetIncrement(ctx context.Context, cache string, key []byte, value []byte, amount float64, ttl store.CollectionTTL) (float64, error) {
	if err := store.CheckElement(value, "sorted set element"); err != nil {
		return 0, err
	}
	if err := checkScore(amount); err != nil {
		return 0, err
	}
	if err := checkTTL(ttl.TTL); err != nil {
		return 0, err
	}
	v, err := s.collRun(ctx, cache, key, zsetIncrScript, true, append(ttlArgs(ttl), value, fmtScore(amount))...)
	if err != nil {
		return 0, err
	}
	return parseScore(v)
}

// SortedSetRemove removes values.
func (s *Store) SortedSetRemove(ctx context.Context, cache string, key []byte, values [][]byte) error {
	_, err := s.collRun(ctx, cache, key, zsetRemoveScript, true, bytesArgs(nil, values)...)
	return err
}

// SortedSetLength returns the number of elements.
func (s *Store) SortedSetLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	return s.collLen(ctx, cache, key, zsetLenScript)
}

// SortedSetLengthByScore counts the elements with scores in [min, max].
func (s *Store) SortedSetLengthByScore(ctx context.Context, cache string, key []byte, min, max store.ScoreBound) (int, bool, error) {
	if err := checkBounds(min, max); err != nil {
		return 0, false, err
	}
	return s.collLen(ctx, cache, key, zsetCountScript, fmtBound(min), fmtBound(max))
}

// SortedSetUnionStore replaces key with the weighted union of sources.
//
// The sources may live in other partitions, hence other slots and servers,
// which no script can span. They are read first, one script per partition
// (each a snapshot of its partition), then one script replaces the
// destination. So the union is not a snapshot across partitions, and a
// source written between the reads and the store is read as it was, as
// in memstore; the replacement itself is one atomic change.
func (s *Store) SortedSetUnionStore(ctx context.Context, cache string, key []byte, sources []store.UnionSource, agg store.Aggregate, ttl time.Duration) (int, error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if !store.ValidTTL(ttl) {
		return 0, errs.ErrInvalidArgument.Msgf("ttl %v is out of range", ttl)
	}
	if agg > store.AggregateMax {
		return 0, errs.ErrInvalidArgument.Msgf("aggregate %d", agg)
	}
	for _, src := range sources {
		if len(src.Key) == 0 {
			return 0, errEmptyKey
		}
	}
	read, err := s.readSources(ctx, cache, sources)
	if err != nil {
		return 0, err
	}
	acc := map[string]float64{}
	for i, src := range sources {
		flat := read[i]
		for j := 0; j+1 < len(flat); j += 2 {
			f, err := parseScore(string(flat[j+1]))
			if err != nil {
				return 0, err
			}
			// Combined like memstore: inf*0 and inf-inf give 0, not NaN.
			v := f * src.Weight
			if math.IsNaN(v) {
				v = 0
			}
			m := string(flat[j])
			old, ok := acc[m]
			switch {
			case !ok:
			case agg == store.AggregateSum:
				if v += old; math.IsNaN(v) {
					v = 0
				}
			case agg == store.AggregateMin:
				v = math.Min(v, old)
			case agg == store.AggregateMax:
				v = math.Max(v, old)
			}
			acc[m] = v
		}
	}
	args := make([]any, 0, 1+2*len(acc))
	args = append(args, strconv.FormatInt(ttl.Milliseconds(), 10))
	for m, v := range acc {
		args = append(args, fmtScore(v), m)
	}
	v, err := s.collRun(ctx, cache, key, zsetStoreScript, true, args...)
	if err != nil {
		return 0, err
	}
	return replyInt(v)
}

// readSources reads the sources' elements (nil: absent), one script per
// partition. A partition found gone (the node's catalog copy is stale)
// makes it read the catalog again and start over once.
func (s *Store) readSources(ctx context.Context, cache string, sources []store.UnionSource) ([][][]byte, error) {
	info, err := s.cacheInfo(ctx, cache)
	if err != nil {
		return nil, err
	}
	out, err := s.readSourcesIn(ctx, info, sources)
	if !errors.Is(err, errs.ErrCacheNotFound) {
		return out, err
	}
	s.forget(cache, info.Epoch)
	fresh, err := s.lookup(ctx, cache)
	if err != nil {
		return nil, err
	}
	if fresh.Epoch == info.Epoch {
		return nil, errNoCache(cache)
	}
	out, err = s.readSourcesIn(ctx, fresh, sources)
	if errors.Is(err, errs.ErrCacheNotFound) {
		return nil, errNoCache(cache)
	}
	return out, err
}

func (s *Store) readSourcesIn(ctx context.Context, info store.CacheInfo, sources []store.UnionSource) ([][][]byte, error) {
	out := make([][][]byte, len(sources))
	byPart := map[int][]int{} // partition → indexes of its sources
	var order []int
	for i, src := range sources {
		p := info.PartitionOf(src.Key)
		if _, ok := byPart[p]; !ok {
			order = append(order, p)
		}
		byPart[p] = append(byPart[p], i)
	}
	for _, p := range order {
		idx := byPart[p]
		args := make([]any, len(idx))
		for j, i := range idx {
			args[j] = sources[i].Key
		}
		v, err := s.evalPart(ctx, s.partAt(info, p), zsetReadManyScript, false, args...)
		if err != nil {
			return nil, err
		}
		a, err := replyArr(v)
		if err != nil || len(a) != len(idx) {
			return nil, cmpErr(err, "union read of %d for %d sources", len(a), len(idx))
		}
		for j, i := range idx {
			if a[j] == nil {
				continue
			}
			if out[i], err = replyBytesList(a[j]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
