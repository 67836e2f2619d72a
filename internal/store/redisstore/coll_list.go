package redisstore

import (
	"context"
	"slices"
	"strconv"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// O(1) ttl, O(2) refresh, O(3) "1" front, O(4) truncateTo, O(5)...
// values (reversed by the caller for a front push, so that LPUSH leaves
// them in order at the head) → length.
var listPushScript = newCollScript(`
local ik, m, err = copen(KEY, 3)
if err then return err end
local n = #ARGV - AO - 4
local front, trunc = O(3) == '1', tonumber(O(4))
if n > 0 then
  if front then many('LPUSH', ik, 5, n + 4, chunk) else many('RPUSH', ik, 5, n + 4, chunk) end
end
local len, cut = redis.call('LLEN', ik), false
if trunc > 0 and len > trunc then
  cut = true
  if front then redis.call('LTRIM', ik, 0, trunc - 1) else redis.call('LTRIM', ik, -trunc, -1) end
  len = trunc
end
cclose(KEY, 3, ik, m, tonumber(O(1)), O(2) == '1', n > 0 or cut)
return len
`)

// O(1) "1" front → {found, value, length}.
var listPopScript = newCollScript(`
local ik, m, err = copen(KEY, 3)
if err then return err end
if not m then return {0} end
local v
if O(1) == '1' then v = redis.call('LPOP', ik) else v = redis.call('RPOP', ik) end
cclose(KEY, 3, ik, m, 0, false, true)
return {1, v, redis.call('LLEN', ik)}
`)

// O(1) start, O(2) end → {found, values}.
var listFetchScript = newCollScript(`
local ik, err = ropen(KEY, 3)
if err then return err end
if not ik then return {0} end
local s, e = slice(redis.call('LLEN', ik), tonumber(O(1)), tonumber(O(2)))
if s >= e then return {1, {}} end
return {1, redis.call('LRANGE', ik, s, e - 1)}
`)

// O(1) ttl, O(2) refresh, O(3) start, O(4) end → {found, length}.
var listRetainScript = newCollScript(`
local ik, m, err = copen(KEY, 3)
if err then return err end
if not m then return {0} end
local n = redis.call('LLEN', ik)
local s, e = slice(n, tonumber(O(3)), tonumber(O(4)))
if s >= e then
  redis.call('DEL', ik)
elseif s > 0 or e < n then
  redis.call('LTRIM', ik, s, e - 1)
end
cclose(KEY, 3, ik, m, tonumber(O(1)), O(2) == '1', s > 0 or e < n)
return {1, redis.call('LLEN', ik)}
`)

// O(1) value → {found, length}.
var listRemoveScript = newCollScript(`
local ik, m, err = copen(KEY, 3)
if err then return err end
if not m then return {0} end
local r = redis.call('LREM', ik, 0, O(1))
cclose(KEY, 3, ik, m, 0, false, r > 0)
return {1, redis.call('LLEN', ik)}
`)

// O(1) "1": erase everything; else O(2), O(3)... start, end pairs of
// disjoint, sorted ranges to erase → {found, length}. The kept segments
// are read and pushed back (Redis cannot cut the middle of a list); one
// kept segment is an LTRIM.
var listEraseScript = newCollScript(`
local ik, m, err = copen(KEY, 3)
if err then return err end
if not m then return {0} end
local n = redis.call('LLEN', ik)
local keep, at = {}, 0
if O(1) ~= '1' then
  for i = 2, #ARGV - AO, 2 do
    local s, e = math.min(tonumber(O(i)), n), math.min(tonumber(O(i + 1)), n)
    if s > at then keep[#keep + 1] = {at, s} end
    at = math.max(at, e)
  end
  if at < n then keep[#keep + 1] = {at, n} end
end
if #keep == 0 then
  redis.call('DEL', ik)
elseif #keep == 1 then
  redis.call('LTRIM', ik, keep[1][1], keep[1][2] - 1)
else
  local vals = {}
  for _, k in ipairs(keep) do
    for _, v in ipairs(redis.call('LRANGE', ik, k[1], k[2] - 1)) do vals[#vals + 1] = v end
  end
  redis.call('DEL', ik)
  for i = 1, #vals, chunk do
    redis.call('RPUSH', ik, unpack(vals, i, math.min(#vals, i + chunk - 1)))
  end
end
local left = redis.call('LLEN', ik)
cclose(KEY, 3, ik, m, 0, false, left < n)
return {1, left}
`)

var listLenScript = newCollScript(`
local ik, err = ropen(KEY, 3)
if err then return err end
if not ik then return {0} end
return {1, redis.call('LLEN', ik)}
`)

// ListPush adds values at one end and truncates the other end to truncateTo.
func (s *Store) ListPush(ctx context.Context, cache string, key []byte, values [][]byte, front bool, truncateTo int, ttl store.CollectionTTL) (int, error) {
	if err := store.CheckElements(values, "list value"); err != nil {
		return 0, err
	}
	if truncateTo < 0 {
		return 0, errs.ErrInvalidArgument.Msgf("truncate to %d", truncateTo)
	}
	if err := checkTTL(ttl.TTL); err != nil {
		return 0, err
	}
	if front {
		values = slices.Clone(values)
		slices.Reverse(values)
	}
	args := append(ttlArgs(ttl), boolArg(front), strconv.Itoa(truncateTo))
	v, err := s.collRun(ctx, cache, key, listPushScript, true, bytesArgs(args, values)...)
	if err != nil {
		return 0, err
	}
	return replyInt(v)
}

// ListPop removes the first or last element.
func (s *Store) ListPop(ctx context.Context, cache string, key []byte, front bool) (value []byte, length int, ok bool, err error) {
	v, err := s.collRun(ctx, cache, key, listPopScript, true, boolArg(front))
	if err != nil {
		return nil, 0, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, 0, false, err
	}
	if len(rest) != 2 {
		return nil, 0, false, cmpErr(nil, "ListPop reply of %d", len(rest))
	}
	if value, err = replyBytes(rest[0]); err != nil {
		return nil, 0, false, err
	}
	length, err = replyInt(rest[1])
	return value, length, err == nil, err
}

// ListFetch returns the slice [start, end).
func (s *Store) ListFetch(ctx context.Context, cache string, key []byte, start, end int) ([][]byte, bool, error) {
	return s.collList(ctx, cache, key, listFetchScript, false, strconv.Itoa(start), strconv.Itoa(end))
}

// ListRetain keeps only the slice [start, end).
func (s *Store) ListRetain(ctx context.Context, cache string, key []byte, start, end int, ttl store.CollectionTTL) (int, bool, error) {
	if err := checkTTL(ttl.TTL); err != nil {
		return 0, false, err
	}
	args := append(ttlArgs(ttl), strconv.Itoa(start), strconv.Itoa(end))
	return s.collWriteLen(ctx, cache, key, listRetainScript, args...)
}

// ListRemove removes every element equal to value.
func (s *Store) ListRemove(ctx context.Context, cache string, key []byte, value []byte) (int, bool, error) {
	return s.collWriteLen(ctx, cache, key, listRemoveScript, value)
}

// ListErase removes the positions covered by ranges (nil: all). The ranges
// are merged here, so that the script sees disjoint sorted ones.
func (s *Store) ListErase(ctx context.Context, cache string, key []byte, ranges []store.IndexRange) (int, bool, error) {
	for _, r := range ranges {
		if r.Start < 0 || r.Count < 0 {
			return 0, false, errs.ErrInvalidArgument.Msgf("erase range %+v", r)
		}
	}
	args := []any{boolArg(ranges == nil)}
	for _, r := range mergeRanges(ranges) {
		args = append(args, strconv.Itoa(r[0]), strconv.Itoa(r[1]))
	}
	return s.collWriteLen(ctx, cache, key, listEraseScript, args...)
}

// mergeRanges turns ranges into sorted, disjoint [start, end) pairs.
func mergeRanges(ranges []store.IndexRange) [][2]int {
	rs := make([][2]int, 0, len(ranges))
	for _, r := range ranges {
		if r.Count > 0 {
			end := r.Start + r.Count
			if end < r.Start { // overflow: to the end of any list
				end = store.Unbounded
			}
			rs = append(rs, [2]int{r.Start, end})
		}
	}
	slices.SortFunc(rs, func(a, b [2]int) int { return a[0] - b[0] })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// ListLength returns the number of elements.
func (s *Store) ListLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	return s.collLen(ctx, cache, key, listLenScript)
}

// collWriteLen runs a {found, length} write.
func (s *Store) collWriteLen(ctx context.Context, cache string, key []byte, sc *Script, args ...any) (int, bool, error) {
	return s.collFoundInt(ctx, cache, key, sc, true, args)
}
