package redisstore

// prelude starts every script that runs on one partition (mutations and
// reads alike). Its API, for the scripts of this package:
//
// Calling convention (Store.runPart builds it):
//
//	KEYS[1] = base.."s"        the partition state; routes the script to the partition's slot
//	ARGV[1] = base             "sx:{E.P}:"
//	ARGV[2] = now              Unix ms of the calling node's clock (NOW)
//	ARGV[3] = config           "<logMax> <graceMs>": the all-versions stream bound (0: no log)
//	                           and the delay of native expiry after an item's expiry. Like
//	                           memstore, a partition logs all versions only from its first
//	                           all-versions read on (state field av); before, every
//	                           all-versions position but the current one is out of retention.
//	ARGV[4...] = the op's own arguments: A(1) is ARGV[4], A(i) = ARGV[3+i]
//
// On entry the prelude reads the partition state; a partition that does
// not exist (never created, or removed) or is marked dead (its cache was
// deleted) makes the script return SXERR cache_not_found before the body
// runs, so a node with a stale catalog can never write into a dead epoch.
//
// Globals and helpers:
//
//	B, NOW, GEN             base, now (ms), the item generation (string)
//	A(i)                    the i-th op argument (string)
//	N(x)                    a Lua number as a decimal integer string
//	ikey(key)               the item's Redis key: B.."i"..GEN..":"..key
//	meta(key)               nil or {kind=, lsn=, exp=, mod=, op=, bend=}: kind is store.Kind
//	                        (0 scalar, 1 dictionary, 2 set, 3 list, 4 sorted set), lsn the
//	                        item's last change, exp its expiry in Unix ms (0: never), mod the
//	                        commit time of that change (ms), op its store.FeedOp, bend its
//	                        BatchEnd (0: none). Expired items are returned too.
//	expired(m)              m has an expiry at or before NOW
//	peek(key)               meta of a live item or nil; never writes (for read scripts)
//	live(key)               meta of a live item or nil; an EXPIRED item is purged first: a
//	                        delete with TTLExpired and its previous image is committed (it
//	                        takes an LSN), as memstore does when a write meets an expired item.
//	                        Mutations call live, never peek, on the keys they change, and
//	                        before batch_begin.
//	commit(key, op, kind, exp, value, prev) -> lsn, ms
//	                        records one change: op 1 create, 2 replace, 3 delete
//	                        (store.FeedOp); kind the item's kind after the change (for a
//	                        delete: the deleted item's); exp its expiry (ms, 0 never); value
//	                        the scalar value (nil for collections); prev the meta of the live
//	                        item before the change (nil for a create; required for
//	                        replace/delete). commit
//	                          - for a scalar prev, reads its value with GET ikey(key) for the
//	                            previous image unless prev.val is set: call commit BEFORE
//	                            anything overwrites a scalar item;
//	                          - for kind 0 and op 1/2, writes the value itself (SET ikey value);
//	                            a collection script mutates the item key itself BEFORE commit
//	                            (commit sets its native expiry, which needs the key to exist);
//	                          - bumps the partition LSN, keeps commit times non-decreasing,
//	                            updates meta (B.."m"), the latest index (B.."x"), the expiry
//	                            schedule (B.."e") and the item key's native expiry
//	                            (PEXPIREAT exp+grace, PERSIST when exp is 0);
//	                          - appends to the all-versions stream (B.."l", id <lsn>-0, MAXLEN)
//	                            when the partition logs (LOGON);
//	                          - for a delete, removes meta, index and schedule entries and DELs
//	                            the item key.
//	                        It returns the change's LSN and commit time (ms).
//	batch_begin(n), batch_end()
//	                        the next n commits form one batch (one BatchEnd = the LSN of the
//	                        last of them); n <= 1 is no batch. Purge (live) first.
//	refuse(reason, detail)  redis.error_reply("SXERR reason detail"): return it to refuse (a row
//	                        of internal/errs/table.go: wrong_type, invalid_argument,
//	                        item_size_limit_exceeded, not_an_integer, ...). detail is the
//	                        whole client message (Go maps it with Msgf).
//	wrongtype(m)            refuse('wrong_type', ...) naming m's kind, as memstore words it
//	colexp(m, ttl, refresh) the expiry (ms) of a collection write with ttl in ms (0: never):
//	                        a create (m nil) or a refresh gets NOW+ttl (0 when ttl is 0),
//	                        otherwise the collection keeps m.exp (store.CollectionTTL).
//
// A script must refuse (return refuse(...)) before its first write: Redis
// does not roll back the writes of a script that fails halfway.
const prelude = `
local B = ARGV[1]
local NOW = tonumber(ARGV[2])
local LOGMAX, GRACE
do
  local a, b = string.match(ARGV[3], '^(%d+) (%d+)$')
  LOGMAX, GRACE = tonumber(a), tonumber(b)
end
local function A(i) return ARGV[3 + i] end
local function N(x) return string.format('%d', x) end
local function refuse(reason, detail)
  if detail and detail ~= '' then return redis.error_reply('SXERR ' .. reason .. ' ' .. detail) end
  return redis.error_reply('SXERR ' .. reason)
end
local S = B .. 's'
local _st = redis.call('HMGET', S, 'lsn', 'gen', 'floor', 'ms', 'dead', 'av')
if not _st[1] or _st[5] then return refuse('cache_not_found') end
local LSN, GEN, FLOOR, MS = tonumber(_st[1]), _st[2], tonumber(_st[3]), tonumber(_st[4])
local LOGON = LOGMAX > 0 and _st[6] == '1'
local BEND = 0
local KINDS = {[0] = 'scalar', 'dictionary', 'set', 'list', 'sorted_set'}
local function ikey(key) return B .. 'i' .. GEN .. ':' .. key end
local function meta(key)
  local s = redis.call('HGET', B .. 'm', key)
  if not s then return nil end
  local k, l, e, m, o, b = string.match(s, '^(%d+) (%d+) (%d+) (%d+) (%d+) (%d+)$')
  return {kind = tonumber(k), lsn = tonumber(l), exp = tonumber(e), mod = tonumber(m), op = tonumber(o), bend = tonumber(b)}
end
local function expired(m) return m.exp > 0 and m.exp <= NOW end
local function peek(key)
  local m = meta(key)
  if m and not expired(m) then return m end
  return nil
end
local function wrongtype(m)
  return refuse('wrong_type', 'operation against an item of another type: item is a ' .. KINDS[m.kind])
end
local function _commit(key, op, kind, exp, value, prev, ttlx)
  LSN = LSN + 1
  if NOW > MS then MS = NOW end
  local ik = ikey(key)
  local pv = nil
  if prev and prev.kind == 0 then
    pv = prev.val
    if pv == nil then pv = redis.call('GET', ik) or nil end
  end
  if op == 3 then
    redis.call('DEL', ik)
    redis.call('HDEL', B .. 'm', key)
    redis.call('ZREM', B .. 'x', key)
    redis.call('ZREM', B .. 'e', key)
  else
    if kind == 0 then redis.call('SET', ik, value) end
    redis.call('HSET', B .. 'm', key, kind .. ' ' .. N(LSN) .. ' ' .. N(exp) .. ' ' .. N(MS) .. ' ' .. op .. ' ' .. N(BEND))
    redis.call('ZADD', B .. 'x', N(LSN), key)
    if exp > 0 then
      redis.call('ZADD', B .. 'e', N(exp), key)
      redis.call('PEXPIREAT', ik, N(exp + GRACE))
    else
      redis.call('ZREM', B .. 'e', key)
      redis.call('PERSIST', ik)
    end
  end
  if LOGON then
    local f = {'XADD', B .. 'l', 'MAXLEN', N(LOGMAX), N(LSN) .. '-0', 'o', op, 'k', key, 't', kind, 'm', N(MS)}
    if value and op ~= 3 then f[#f + 1] = 'v'; f[#f + 1] = value end
    if BEND > 0 then f[#f + 1] = 'b'; f[#f + 1] = N(BEND) end
    if prev then
      f[#f + 1] = 'p'; f[#f + 1] = prev.kind
      f[#f + 1] = 'pl'; f[#f + 1] = N(prev.lsn)
      if pv then f[#f + 1] = 'pv'; f[#f + 1] = pv end
    end
    if ttlx then f[#f + 1] = 'x'; f[#f + 1] = '1' end
    redis.call(unpack(f))
  end
  redis.call('HSET', S, 'lsn', N(LSN), 'ms', N(MS))
  return LSN, MS
end
local function commit(key, op, kind, exp, value, prev) return _commit(key, op, kind, exp, value, prev, false) end
local function live(key)
  local m = meta(key)
  if not m then return nil end
  if expired(m) then
    _commit(key, 3, m.kind, 0, nil, m, true)
    return nil
  end
  return m
end
local function batch_begin(n) if n > 1 then BEND = LSN + n end end
local function batch_end() BEND = 0 end
local function colexp(m, ttl, refresh)
  if m == nil or refresh then
    if ttl > 0 then return NOW + ttl end
    return 0
  end
  return m.exp
end
`
