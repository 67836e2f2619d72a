package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// dropScript removes a cache from the catalog and lists its incarnation
// for removal, in one step: a deleted cache is never forgotten half-way.
var dropScript = NewScript(`
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return redis.error_reply('SXERR cache_not_found') end
redis.call('HDEL', KEYS[1], ARGV[1])
local r = cjson.decode(rec)
redis.call('ZADD', KEYS[2], ARGV[2], string.format('%d', r.epoch) .. '/' .. string.format('%d', r.partitions))
return rec
`)

// killScript marks a partition dead (if it still exists): from then on
// every script refuses it.
var killScript = NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'dead', '1') end
return 1
`)

// reapScript removes up to ARGV[2] items of a dead partition (base
// ARGV[1]); once none are left, its other keys and last its state. It
// returns 1 when the partition is gone. Idempotent, so several nodes may
// reap at once.
var reapScript = NewScript(`
local B, S, n = ARGV[1], KEYS[1], tonumber(ARGV[2])
local st = redis.call('HMGET', S, 'gen', 'fl')
local function drain(h, gen)
  local fs = redis.call('HRANDFIELD', h, n)
  for _, f in ipairs(fs) do redis.call('UNLINK', B .. 'i' .. gen .. ':' .. f) end
  if #fs > 0 then redis.call('HDEL', h, unpack(fs)) end
  return #fs
end
if st[1] then
  if drain(B .. 'm', st[1]) > 0 then return 0 end
  if st[2] then
    for g in string.gmatch(st[2], '%d+') do
      if drain(B .. 'f' .. g, g) > 0 then return 0 end
    end
  end
end
redis.call('UNLINK', B .. 'm', B .. 'x', B .. 'e', B .. 'l')
redis.call('DEL', S)
return 1
`)

// reapBatch bounds the items one reap or sweep script removes.
const reapBatch = 256

// DeleteCache removes the cache from the catalog (then it is gone for
// every node: CacheInfo, ListCaches, and every script of its partitions,
// which are marked dead) and removes its keys in the background, in
// bounded batches, resumably: any node's background loop finishes the
// removal of an incarnation listed in sx:{sx}:dead.
func (s *Store) DeleteCache(ctx context.Context, name string) error {
	v, err := s.run.Eval(ctx, dropScript, true, []string{keyCaches, keyDead}, name, s.nowMs())
	if err != nil {
		if errors.Is(err, errs.ErrCacheNotFound) {
			s.forget(name, 0)
		}
		return s.catalogErr(err, name)
	}
	s.forget(name, 0)
	defer s.wake(name)
	str, _ := v.(string)
	rec, err := decodeRecord(str)
	if err != nil {
		return err
	}
	calls := make([]*call, rec.Partitions)
	for i := range calls {
		base := partBase(rec.Epoch, i)
		calls[i] = &call{p: partRef{base: base, keys: []string{base + "s"}}, sc: killScript, raw: true}
	}
	if err := s.execCalls(ctx, true, calls); err != nil {
		// The cache is deleted; the reaper marks nothing but removes
		// everything, so a partition left unmarked only stays writable
		// by stale nodes until it is reaped.
		s.log.Warn("redisstore: deleted cache: cannot mark every partition dead", "cache", name, "epoch", rec.Epoch, "err", err)
	}
	s.kickReaper()
	s.log.Debug("redisstore: cache deleted", "cache", name, "epoch", rec.Epoch)
	return nil
}

// flushScript starts a new item generation: the items, the latest-version
// index, the expiry schedule and the all-versions log of the partition are
// dropped at once (the old generation's meta is renamed to f<gen> and its
// items removed in the background); the flush takes one LSN, which becomes
// the all-versions retention floor.
var flushScript = NewScript(prelude + `
LSN = LSN + 1
local fl = redis.call('HGET', S, 'fl') or ''
if redis.call('EXISTS', B .. 'm') == 1 then
  redis.call('RENAME', B .. 'm', B .. 'f' .. GEN)
  fl = fl .. ' ' .. GEN
end
redis.call('UNLINK', B .. 'x', B .. 'e', B .. 'l')
redis.call('HSET', S, 'lsn', N(LSN), 'gen', N(tonumber(GEN) + 1), 'floor', N(LSN), 'fl', fl)
return LSN
`)

// FlushCache drops every item of every partition (one script each, in one
// pipeline); LSNs keep counting.
func (s *Store) FlushCache(ctx context.Context, name string) error {
	_, err := s.runCalls(ctx, name, true, func(v cacheView) []*call {
		out := make([]*call, v.info.Partitions)
		for i := range out {
			out[i] = &call{p: v.partAt(i), sc: flushScript}
		}
		return out
	})
	return err
}

func decodeRecord(js string) (cacheRecord, error) {
	var rec cacheRecord
	if err := jsonUnmarshal(js, &rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// parseDead reads an "epoch/partitions" member of sx:{sx}:dead.
func parseDead(m string) (epoch uint64, parts int, ok bool) {
	e, p, found := strings.Cut(m, "/")
	if !found {
		return 0, 0, false
	}
	epoch, err1 := strconv.ParseUint(e, 10, 64)
	parts, err2 := strconv.Atoi(p)
	return epoch, parts, err1 == nil && err2 == nil && parts > 0
}
