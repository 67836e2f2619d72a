package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// condGuard is a condition kind of the scripts only: the item is absent
// (LSN 0) or its last change has this LSN. The hash conditions, which Lua
// cannot evaluate (Redis has no SHA-256), and Increment read the item,
// decide in Go, and write under this guard, reading again when someone
// wrote in between: the write applies only to the version decided on.
const condGuard = 100

// condLua evaluates a condition (store.Condition.Holds) on the live item m
// of key: it returns true, false, or an error reply to return.
const condLua = `
local function holds(key, m, ck, cv, cl)
  local present = m ~= nil
  local cur = nil
  if present then
    if m.kind == 0 then
      if ck >= 3 and ck <= 6 then
        cur = redis.call('GET', ikey(key)) or ''
        m.val = cur
      end
    elseif ck >= 3 and ck <= 10 then
      return wrongtype(m)
    end
  end
  if ck == 0 then return true
  elseif ck == 1 then return not present
  elseif ck == 2 then return present
  elseif ck == 3 then return present and cur == cv
  elseif ck == 4 then return (not present) or cur ~= cv
  elseif ck == 5 then return present and cur ~= cv
  elseif ck == 6 then return (not present) or cur == cv
  elseif ck == 11 then return present and m.lsn == cl
  elseif ck == 100 then return (cl == 0 and not present) or (present and m.lsn == cl)
  end
  return refuse('invalid_argument', 'condition kind ' .. ck)
end
`

// setxScript: A(1) key, A(2) value, A(3) ttl ms, A(4..6) condition kind,
// value, LSN. Returns {0} or {1, created, lsn, ms}.
var setxScript = NewScript(prelude + condLua + `
local key = A(1)
local m = live(key)
local ok = holds(key, m, tonumber(A(4)), A(5), tonumber(A(6)))
if type(ok) == 'table' then return ok end
if not ok then return {0} end
local ttl = tonumber(A(3))
local exp = 0
if ttl > 0 then exp = NOW + ttl end
local op, created = 1, 1
if m then op, created = 2, 0 end
local lsn, ms = commit(key, op, 0, exp, A(2), m)
return {1, created, lsn, ms}
`)

// delxScript: A(1) key, A(2) mode: "d" delete, "k" delete if of kind A(3),
// "c" delete if the condition A(3..5) holds. Returns 1 when it deleted.
var delxScript = NewScript(prelude + condLua + `
local key, mode = A(1), A(2)
local m = live(key)
if mode == 'k' and m and m.kind ~= tonumber(A(3)) then return wrongtype(m) end
if mode == 'c' then
  local ok = holds(key, m, tonumber(A(3)), A(4), tonumber(A(5)))
  if type(ok) == 'table' then return ok end
  if not ok then return 0 end
end
if not m then return 0 end
commit(key, 3, m.kind, 0, nil, m)
return 1
`)

// getmScript: A(1) key, A(2) "1" to read a scalar's value. Returns {} or
// {kind, lsn, exp, mod, value}.
var getmScript = NewScript(prelude + `
local m = peek(A(1))
if not m then return {} end
local v = ''
if m.kind == 0 and A(2) == '1' then
  v = redis.call('GET', ikey(A(1)))
  if not v then return {} end
end
return {m.kind, N(m.lsn), N(m.exp), N(m.mod), v}
`)

// batchScript: A(1) "v" values or "e" existence, then the keys. Returns
// per key {found, value} ("v", a collection refuses) or found ("e").
var batchScript = NewScript(prelude + `
local out = {}
local values = A(1) == 'v'
for i = 2, #ARGV - 3 do
  local key = A(i)
  local m = peek(key)
  if values then
    if m and m.kind ~= 0 then return wrongtype(m) end
    local v = m and redis.call('GET', ikey(key))
    if v then
      out[#out + 1] = 1
      out[#out + 1] = v
    else
      out[#out + 1] = 0
      out[#out + 1] = ''
    end
  else
    out[#out + 1] = m and 1 or 0
  end
end
return out
`)

// setBatchScript: A(1) n, then n triples key, value, ttl ms: one batch.
var setBatchScript = NewScript(prelude + `
local n = tonumber(A(1))
for i = 0, n - 1 do live(A(2 + 3 * i)) end
batch_begin(n)
for i = 0, n - 1 do
  local key, ttl = A(2 + 3 * i), tonumber(A(4 + 3 * i))
  local m = meta(key)
  local exp = 0
  if ttl > 0 then exp = NOW + ttl end
  local op = 1
  if m then op = 2 end
  commit(key, op, 0, exp, A(3 + 3 * i), m)
end
batch_end()
return n
`)

// ttlScript: A(1) key, A(2) mode, A(3) ttl ms. Returns the store.TTLResult.
var ttlScript = NewScript(prelude + `
local key = A(1)
local m = live(key)
if not m then return 2 end
local exp = NOW + tonumber(A(3))
local mode = tonumber(A(2))
local apply = mode == 0 or (mode == 1 and m.exp ~= 0 and exp > m.exp) or (mode == 2 and (m.exp == 0 or exp < m.exp))
if not apply then return 1 end
local v = nil
if m.kind == 0 then
  v = redis.call('GET', ikey(key)) or ''
  m.val = v
end
commit(key, 2, m.kind, exp, v, m)
return 0
`)

func wrongType(kind store.Kind) error {
	return errs.ErrWrongType.Withf("item is a %v", kind)
}

func checkCond(c store.Condition) error {
	if c.Kind > store.CondLSNEqual {
		return errs.ErrInvalidArgument.Msgf("condition kind %d", c.Kind)
	}
	return nil
}

func hashCond(k store.CondKind) bool {
	return k >= store.CondPresentAndHashEqual && k <= store.CondAbsentOrHashNotEqual
}

// maxGuardRetries bounds the read-decide-write loops under contention.
const maxGuardRetries = 1000

// SetIf stores a scalar when cond holds for the current item.
func (s *Store) SetIf(ctx context.Context, cache string, key, value []byte, ttl time.Duration, cond store.Condition) (store.WriteResult, error) {
	if err := checkCond(cond); err != nil {
		return store.WriteResult{}, err
	}
	if err := checkItem(key, value, ttl); err != nil {
		return store.WriteResult{}, err
	}
	if !hashCond(cond.Kind) {
		return s.setx(ctx, cache, key, value, ttl, int(cond.Kind), cond.Value, cond.LSN)
	}
	for range maxGuardRetries {
		cur, m, found, err := s.getMeta(ctx, cache, key, true)
		if err != nil {
			return store.WriteResult{}, err
		}
		if found && m.Kind != store.KindScalar {
			return store.WriteResult{}, wrongType(m.Kind)
		}
		if !cond.Holds(cur, found, m.LSN) {
			return store.WriteResult{}, nil
		}
		res, err := s.setx(ctx, cache, key, value, ttl, condGuard, nil, m.LSN)
		if err != nil || res.Stored {
			return res, err
		}
	}
	return store.WriteResult{}, errs.ErrUnavailable.Msgf("too much contention on one key")
}

func (s *Store) setx(ctx context.Context, cache string, key, value []byte, ttl time.Duration, ck int, cv []byte, cl uint64) (store.WriteResult, error) {
	v, _, err := s.runKey(ctx, cache, key, setxScript, true, key, value, ttlMs(ttl), ck, cv, strconv.FormatUint(cl, 10))
	if err != nil {
		return store.WriteResult{}, err
	}
	a, _ := v.([]any)
	if len(a) < 4 || asInt(a[0]) == 0 {
		return store.WriteResult{}, nil
	}
	return store.WriteResult{Stored: true, Created: asInt(a[1]) == 1, LSN: uint64(asInt(a[2])), Modified: time.UnixMilli(asInt(a[3]))}, nil
}

// Delete removes an item of any kind.
func (s *Store) Delete(ctx context.Context, cache string, key []byte) error {
	_, _, err := s.runKey(ctx, cache, key, delxScript, true, key, "d")
	return err
}

// DeleteIf removes a scalar when cond holds for it.
func (s *Store) DeleteIf(ctx context.Context, cache string, key []byte, cond store.Condition) (bool, error) {
	if err := checkCond(cond); err != nil {
		return false, err
	}
	if len(key) == 0 {
		return false, errEmptyKey
	}
	if !hashCond(cond.Kind) {
		v, _, err := s.runKey(ctx, cache, key, delxScript, true, key, "c", int(cond.Kind), cond.Value, strconv.FormatUint(cond.LSN, 10))
		return asInt(v) == 1, err
	}
	for range maxGuardRetries {
		cur, m, found, err := s.getMeta(ctx, cache, key, true)
		if err != nil {
			return false, err
		}
		if found && m.Kind != store.KindScalar {
			return false, wrongType(m.Kind)
		}
		if !found || !cond.Holds(cur, found, m.LSN) {
			return false, nil
		}
		v, _, err := s.runKey(ctx, cache, key, delxScript, true, key, "c", condGuard, "", strconv.FormatUint(m.LSN, 10))
		if err != nil || asInt(v) == 1 {
			return err == nil, err
		}
	}
	return false, errs.ErrUnavailable.Msgf("too much contention on one key")
}

// DeleteKind removes the item under key when it is of kind.
func (s *Store) DeleteKind(ctx context.Context, cache string, key []byte, kind store.Kind) (bool, error) {
	if len(key) == 0 {
		return false, errEmptyKey
	}
	if kind > store.KindSortedSet {
		return false, errs.ErrInvalidArgument.Msgf("unknown item kind %d", kind)
	}
	v, _, err := s.runKey(ctx, cache, key, delxScript, true, key, "k", int(kind))
	return asInt(v) == 1, err
}

// getMeta reads a live item's meta, and a scalar's value with value set.
func (s *Store) getMeta(ctx context.Context, cache string, key []byte, value bool) ([]byte, store.Meta, bool, error) {
	flag := "0"
	if value {
		flag = "1"
	}
	v, p, err := s.runKey(ctx, cache, key, getmScript, false, key, flag)
	if err != nil {
		return nil, store.Meta{}, false, err
	}
	a, _ := v.([]any)
	if len(a) < 5 {
		return nil, store.Meta{}, false, nil
	}
	m := store.Meta{Kind: store.Kind(asInt(a[0])), Partition: p.idx, LSN: uint64(asInt(a[1])), Modified: time.UnixMilli(asInt(a[3]))}
	if exp := asInt(a[2]); exp != 0 {
		m.ExpiresAt = time.UnixMilli(exp)
	}
	str, _ := a[4].(string)
	return []byte(str), m, true, nil
}

// GetWithMeta returns a live scalar's value with its Meta, in one script.
func (s *Store) GetWithMeta(ctx context.Context, cache string, key []byte) ([]byte, store.Meta, bool, error) {
	v, m, found, err := s.getMeta(ctx, cache, key, true)
	if err != nil || !found {
		return nil, store.Meta{}, false, err
	}
	if m.Kind != store.KindScalar {
		return nil, store.Meta{}, false, wrongType(m.Kind)
	}
	return v, m, true, nil
}

// Meta returns the kind, expiry, partition, LSN and commit time of a live item.
func (s *Store) Meta(ctx context.Context, cache string, key []byte) (store.Meta, bool, error) {
	_, m, found, err := s.getMeta(ctx, cache, key, false)
	return m, found, err
}

// byPartition groups key indexes by partition, in request order.
func byPartition(v cacheView, keys [][]byte) (order []int, groups map[int][]int) {
	groups = map[int][]int{}
	for i, k := range keys {
		p := v.info.PartitionOf(k)
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], i)
	}
	return order, groups
}

// readBatch runs batchScript on every partition of keys, one pipeline.
func (s *Store) readBatch(ctx context.Context, cache string, keys [][]byte, mode string) ([]*call, [][]int, error) {
	for _, k := range keys {
		if len(k) == 0 {
			return nil, nil, errEmptyKey
		}
	}
	var idx [][]int
	calls, err := s.runCalls(ctx, cache, false, func(v cacheView) []*call {
		order, groups := byPartition(v, keys)
		idx = idx[:0]
		out := make([]*call, 0, len(order))
		for _, p := range order {
			op := make([]any, 0, 1+len(groups[p]))
			op = append(op, mode)
			for _, i := range groups[p] {
				op = append(op, keys[i])
			}
			out = append(out, &call{p: v.partAt(p), sc: batchScript, op: op})
			idx = append(idx, groups[p])
		}
		return out
	})
	return calls, idx, err
}

// GetBatch returns, in request order, the values of live scalars: one
// script per partition, all in one pipeline.
func (s *Store) GetBatch(ctx context.Context, cache string, keys [][]byte) ([][]byte, []bool, error) {
	calls, idx, err := s.readBatch(ctx, cache, keys, "v")
	if err != nil {
		return nil, nil, err
	}
	values, found := make([][]byte, len(keys)), make([]bool, len(keys))
	for j, c := range calls {
		a, _ := c.res.([]any)
		for n, i := range idx[j] {
			if 2*n+1 < len(a) && asInt(a[2*n]) == 1 {
				str, _ := a[2*n+1].(string)
				values[i], found[i] = []byte(str), true
			}
		}
	}
	return values, found, nil
}

// KeysExist reports, in request order, which keys hold a live item.
func (s *Store) KeysExist(ctx context.Context, cache string, keys [][]byte) ([]bool, error) {
	calls, idx, err := s.readBatch(ctx, cache, keys, "e")
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(keys))
	for j, c := range calls {
		a, _ := c.res.([]any)
		for n, i := range idx[j] {
			out[i] = n < len(a) && asInt(a[n]) == 1
		}
	}
	return out, nil
}

// SetBatch writes items, one batch script per partition, all in one
// pipeline: atomic per partition, with consecutive LSNs and one BatchEnd.
func (s *Store) SetBatch(ctx context.Context, cache string, items []store.Item) error {
	for i, it := range items {
		if err := checkItem(it.Key, it.Value, it.TTL); err != nil {
			return errs.Prefixf(err, "batch item %d", i)
		}
	}
	if len(items) == 0 {
		_, err := s.cacheInfo(ctx, cache)
		return err
	}
	keys := make([][]byte, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	_, err := s.runCalls(ctx, cache, true, func(v cacheView) []*call {
		order, groups := byPartition(v, keys)
		out := make([]*call, 0, len(order))
		for _, p := range order {
			g := groups[p]
			op := make([]any, 0, 1+3*len(g))
			op = append(op, len(g))
			for _, i := range g {
				op = append(op, items[i].Key, items[i].Value, ttlMs(items[i].TTL))
			}
			out = append(out, &call{p: v.partAt(p), sc: setBatchScript, op: op})
		}
		return out
	})
	return err
}

// Increment adds amount to a base-10 int64 scalar, creating it when
// missing. The arithmetic is Go's (exact int64, memstore's strict parser);
// the write is guarded by the LSN read.
func (s *Store) Increment(ctx context.Context, cache string, key []byte, amount int64, ttl time.Duration) (int64, error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	for range maxGuardRetries {
		cur, m, found, err := s.getMeta(ctx, cache, key, true)
		if err != nil {
			return 0, err
		}
		result := amount
		if found {
			if m.Kind != store.KindScalar {
				return 0, wrongType(m.Kind)
			}
			n, ok := store.ParseInt64(cur)
			if !ok {
				return 0, errs.ErrNotInteger.Withf("increment %q", truncate(cur))
			}
			result = n + amount
			if amount > 0 && result < n || amount < 0 && result > n {
				return 0, errs.ErrOverflow.Withf("increment %d by %d", n, amount)
			}
		}
		value := strconv.AppendInt(nil, result, 10)
		if len(key)+len(value) > store.MaxItemSize {
			return 0, errs.ErrItemTooLarge.Withf("item of %d bytes exceeds %d", len(key)+len(value), store.MaxItemSize)
		}
		res, err := s.setx(ctx, cache, key, value, ttl, condGuard, nil, m.LSN)
		if err != nil {
			return 0, err
		}
		if res.Stored {
			return result, nil
		}
	}
	return 0, errs.ErrUnavailable.Msgf("too much contention on one key")
}

// UpdateTTL changes the expiry of a live item of any kind.
func (s *Store) UpdateTTL(ctx context.Context, cache string, key []byte, mode store.TTLMode, ttl time.Duration) (store.TTLResult, error) {
	if len(key) == 0 {
		return 0, errEmptyKey
	}
	if ttl <= 0 || !store.ValidTTL(ttl) {
		return 0, errs.ErrInvalidArgument.Msgf("ttl %v outside (0, %v]", ttl, store.MaxTTL)
	}
	if mode > store.TTLDecrease {
		return 0, errs.ErrInvalidArgument.Msgf("ttl mode %d", mode)
	}
	v, _, err := s.runKey(ctx, cache, key, ttlScript, true, key, int(mode), ttlMs(ttl))
	if err != nil {
		return 0, err
	}
	return store.TTLResult(asInt(v)), nil
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// asInt reads an integer of a script reply (integer or decimal string).
func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
