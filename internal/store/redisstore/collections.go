package redisstore

// Collections (store.Collections) as native Redis types: a dictionary is a
// hash, a set a set, a list a list, a sorted set a zset, under the item key
// of doc.go. Redis orders a zset by (score, member bytes), which is the
// contract's order, so ranks and ranges are Redis's own.
//
// Every mutating call is one script (prelude + collLua + the op): the
// change, the item's meta, the LSN bump and the feed record commit
// together. Reads are scripts too, so that the kind and expiry check and
// the read see one state; they never purge (an expired item is only
// treated as absent), so they write nothing and stay retryable.
//
// Redis deletes a hash, set, list or zset whose last element goes, which
// is the contract's "a collection that becomes empty is deleted": a write
// checks EXISTS after its op and records the delete.

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/setsuna-io/setsuna/internal/store"
)

// collLua follows the prelude in every collection script. ARGV[4] is the
// item's key (KEY); the op's own arguments follow it: O(1) is ARGV[5],
// O(i) = ARGV[AO+i].
//
//	copen(key, kind) → item key, meta (nil: no live item), refusal: for
//	    writes; purges an expired item (live records it) and refuses
//	    another kind. A script returns the refusal before any write.
//	cclose(key, kind, ik, m, ttl, refresh, changed): records the write as
//	    a create, a replace or (the collection became empty) a delete, or
//	    nothing when it changed nothing and refreshes nothing.
//	ropen(key, kind) → item key (nil: no live item), refusal: for reads;
//	    an expired item is absent, not purged.
//	many(cmd, ik, i, j, step): cmd ik O(i..j) in chunks of step arguments
//	    (unpack is bounded by Lua's C stack); the sum of integer replies.
//	gather(cmd, ik, i, j): the same for a read whose array replies are
//	    concatenated (a false, an absent name, does not end ipairs).
//	slice(n, s, e): Python slice bounds, as 0-based [s, e).
//
// chunk is even, so that field/value and score/member pairs never split.
const collLua = `
local KEY, AO = ARGV[4], 4
local function O(i) return ARGV[AO + i] end
local chunk = 1000
local function copen(key, kind)
  local m = live(key)
  if m and m.kind ~= kind then return nil, nil, wrongtype(m) end
  local ik = ikey(key)
  -- Defensive: nothing may linger under the key of an absent item.
  if not m then redis.call('DEL', ik) end
  return ik, m, nil
end
local function cclose(key, kind, ik, m, ttl, refresh, changed)
  if redis.call('EXISTS', ik) == 0 then
    if m then commit(key, 3, kind, 0, nil, m) end
    return
  end
  if not m then
    commit(key, 1, kind, colexp(nil, ttl, true), nil, nil)
  elseif changed or refresh then
    commit(key, 2, kind, colexp(m, ttl, refresh), nil, m)
  end
end
local function ropen(key, kind)
  local m = peek(key)
  if not m then return nil, nil end
  if m.kind ~= kind then return nil, wrongtype(m) end
  return ikey(key), nil
end
local function many(cmd, ik, i, j, step)
  local sum = 0
  while i <= j do
    local e = math.min(j, i + step - 1)
    local r = redis.call(cmd, ik, unpack(ARGV, AO + i, AO + e))
    if type(r) == 'number' then sum = sum + r end
    i = e + 1
  end
  return sum
end
local function gather(cmd, ik, i, j)
  local out = {}
  while i <= j do
    local e = math.min(j, i + chunk - 1)
    for _, v in ipairs(redis.call(cmd, ik, unpack(ARGV, AO + i, AO + e))) do out[#out + 1] = v end
    i = e + 1
  end
  return out
end
local function slice(n, s, e)
  local function clamp(i)
    if i < 0 then
      i = i + n
      if i < 0 then return 0 end
    end
    if i > n then return n end
    return i
  end
  s, e = clamp(s), clamp(e)
  if e < s then e = s end
  return s, e
end
`

// ttlArgs are the TTL arguments every creating script takes first: ttl in
// ms and the refresh flag.
func ttlArgs(ttl store.CollectionTTL) []any {
	return []any{strconv.FormatInt(ttlMs(ttl.TTL), 10), boolArg(ttl.Refresh)}
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func bytesArgs(args []any, bs [][]byte) []any {
	for _, b := range bs {
		args = append(args, b)
	}
	return args
}

// fmtScore writes a score so that Redis parses the same float64: the
// shortest representation that round-trips, and Redis's spelling of the
// infinities.
func fmtScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// fmtBound is a ZRANGE BYSCORE / ZCOUNT bound.
func fmtBound(b store.ScoreBound) string {
	if b.Exclusive {
		return "(" + fmtScore(b.Score)
	}
	return fmtScore(b.Score)
}

// parseScore reads a score Redis wrote (%.17g, "inf", "-inf").
func parseScore(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("redis: score reply %T", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("redis: score reply %q: %w", s, err)
	}
	return f, nil
}

// Script replies. A malformed reply is a bug of the script, reported as an
// internal error rather than a panic.

func replyArr(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("redis: script reply %T, want an array", v)
	}
	return a, nil
}

func replyInt(v any) (int, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("redis: script reply %T, want an integer", v)
	}
	return int(n), nil
}

// replyBytes is a bulk string; nil (a Lua false) is nil.
func replyBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("redis: script reply %T, want a string", v)
}

func replyBytesList(v any) ([][]byte, error) {
	a, err := replyArr(v)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(a))
	for i, x := range a {
		if out[i], err = replyBytes(x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splitFound splits the reply {found, ...} of a read or of a write that does
// not create.
func splitFound(v any) (bool, []any, error) {
	a, err := replyArr(v)
	if err != nil {
		return false, nil, err
	}
	if len(a) == 0 {
		return false, nil, fmt.Errorf("redis: empty script reply")
	}
	f, err := replyInt(a[0])
	return f == 1, a[1:], err
}

// collRun runs a collection script on key's partition; the key is ARGV[4].
func (s *Store) collRun(ctx context.Context, cache string, key []byte, sc *Script, write bool, args ...any) (any, error) {
	v, _, err := s.runKey(ctx, cache, key, sc, write, append([]any{key}, args...)...)
	return v, err
}

func newCollScript(body string) *Script { return NewScript(prelude + collLua + body) }
