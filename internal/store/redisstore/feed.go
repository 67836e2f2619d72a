package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/setsuna-io/setsuna/internal/epk"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The change feed. Latest version: the index zset x (key by the LSN of its
// last change) with the meta of each item (op, commit time, batch end).
// All versions: the stream l, id <lsn>-0, one entry per change, bounded by
// MAXLEN; like memstore, a partition keeps it from its first all-versions
// read (state field av), so caches nobody reads that way do not pay for
// it. The retention floor of a partition is the highest of its state's
// floor (a flush), the LSN before the oldest entry MAXLEN kept, and, while
// it does not log, its current LSN.
//
// A read runs feedScript in chunks: each chunk is atomic and bounded in
// entries and bytes; filters Lua cannot evaluate (EPK ranges: the EPK is a
// MurmurHash3) are applied in Go, so a narrow range may take several
// chunks. The page rules are memstore's: the hint never splits a batch,
// MaxBytes ends a page before the change that would cross it (even inside
// a batch) but a page always holds one change.

// Defaults of feed reads.
const (
	DefaultFeedPageSize = 100
	MaxFeedPageSize     = 10000
	feedChunk           = 128     // entries per script
	feedChunkBytes      = 8 << 20 // bytes per script when the read has no MaxBytes
	notifyInterval      = 100 * time.Millisecond
)

// feedScript: A(1) "l" latest or "a" all versions, A(2) after, A(3) max
// entries (0: only the header), A(4) byte budget, A(5) "1" with A(6) the
// one key to read. Returns {lsn, floor, av, done, scannedTo, entries...}:
// latest entries are 7 fields (key lsn kind op mod bend value), all-versions
// entries 12 (lsn op key kind mod value bend hasPrev prevKind prevLSN prev ttl).
var feedScript = NewScript(prelude + `
local mode, after, max, budget = A(1), tonumber(A(2)), tonumber(A(3)), tonumber(A(4))
local onekey = nil
if A(5) == '1' then onekey = A(6) end
local floor = FLOOR
if not LOGON then floor = LSN else
  local first = redis.call('XRANGE', B .. 'l', '-', '+', 'COUNT', 1)
  if #first > 0 then
    local f = tonumber(string.match(first[1][1], '^(%d+)')) - 1
    if f > floor then floor = f end
  end
end
local out = {N(LSN), N(floor), LOGON and 1 or 0, 0, N(after)}
if max == 0 then return out end
local n, bytes, cursor = 0, 0, after
local function full() return n >= max or (budget > 0 and bytes > budget) end
if mode == 'l' then
  if onekey then
    local m = peek(onekey)
    if m and m.lsn > after then
      local v = ''
      if m.kind == 0 then v = redis.call('GET', ikey(onekey)) end
      if v then
        for _, x in ipairs({onekey, N(m.lsn), m.kind, m.op, N(m.mod), N(m.bend), v}) do out[#out + 1] = x end
      end
    end
    out[4] = 1
    return out
  end
  while true do
    local r = redis.call('ZRANGEBYSCORE', B .. 'x', '(' .. N(cursor), '+inf', 'WITHSCORES', 'LIMIT', 0, 64)
    if #r == 0 then out[4] = 1; break end
    for i = 1, #r, 2 do
      local key = r[i]
      cursor = tonumber(r[i + 1])
      local m = peek(key)
      if m then
        local v = ''
        if m.kind == 0 then v = redis.call('GET', ikey(key)) end
        if v then
          for _, x in ipairs({key, N(m.lsn), m.kind, m.op, N(m.mod), N(m.bend), v}) do out[#out + 1] = x end
          n = n + 1
          bytes = bytes + #key + #v
        end
      end
      if full() then break end
    end
    if full() then break end
  end
else
  while true do
    local r = redis.call('XRANGE', B .. 'l', '(' .. N(cursor) .. '-0', '+', 'COUNT', 64)
    if #r == 0 then out[4] = 1; break end
    for _, e in ipairs(r) do
      cursor = tonumber(string.match(e[1], '^(%d+)'))
      local f = {}
      local kv = e[2]
      for i = 1, #kv, 2 do f[kv[i]] = kv[i + 1] end
      if not onekey or f.k == onekey then
        local hp = '0'
        if f.p then hp = '1' end
        for _, x in ipairs({N(cursor), f.o, f.k, f.t, f.m, f.v or '', f.b or '0', hp, f.p or '0', f.pl or '0', f.pv or '', f.x or '0'}) do
          out[#out + 1] = x
        end
        n = n + 1
        bytes = bytes + #f.k + #(f.v or '') + #(f.pv or '')
      end
      if full() then break end
    end
    if full() then break end
  end
end
out[5] = N(cursor)
return out
`)

// avonScript switches a partition's all-versions log on (memstore's
// startLog): every change so far is out of its retention. Returns the LSN.
var avonScript = NewScript(prelude + `
if LOGMAX > 0 and not LOGON then
  redis.call('HSET', S, 'av', '1', 'floor', N(LSN))
end
return N(LSN)
`)

// lsnatScript: A(1) mode, A(2) a Unix ms. Returns {0, position} of the
// first change committed at or after it, or {1, floor} when that is out of
// the all-versions retention.
var lsnatScript = NewScript(prelude + `
local t = tonumber(A(2))
if A(1) == 'l' then
  local n = redis.call('ZCARD', B .. 'x')
  local lo, hi = 0, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local r = redis.call('ZRANGE', B .. 'x', mid, mid)
    local m = meta(r[1])
    if m and m.mod >= t then hi = mid else lo = mid + 1 end
  end
  if lo < n then
    local r = redis.call('ZRANGE', B .. 'x', lo, lo, 'WITHSCORES')
    return {0, N(tonumber(r[2]) - 1)}
  end
  return {0, N(LSN)}
end
local floor = FLOOR
if not LOGON then floor = LSN end
local function at(x)
  local r = redis.call('XRANGE', B .. 'l', N(x) .. '-0', '+', 'COUNT', 1)
  if #r == 0 then return nil end
  local lsn = tonumber(string.match(r[1][1], '^(%d+)'))
  local m = 0
  for i = 1, #r[1][2], 2 do if r[1][2][i] == 'm' then m = tonumber(r[1][2][i + 1]) end end
  return lsn, m
end
local lsn0, m0 = at(0)
if lsn0 and lsn0 - 1 > floor then floor = lsn0 - 1 end
if floor > 0 and (not lsn0 or m0 >= t) then return {1, N(floor)} end
if not lsn0 then return {0, N(LSN)} end
local lo, hi = lsn0, LSN + 1
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  local l, m = at(mid)
  if not l or m >= t then hi = mid else lo = l + 1 end
end
local l = at(lo)
if l then return {0, N(l - 1)} end
return {0, N(LSN)}
`)

// logOn reports whether this node knows that partition base logs all versions.
func (s *Store) logOn(base string) bool {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.avOn[base]
}

func (s *Store) setLogOn(base string) {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if len(s.avOn) > 1<<16 {
		clear(s.avOn) // a bound: forgetting costs one idempotent script
	}
	s.avOn[base] = true
}

// feedFilter narrows a read to an EPK range.
type feedFilter struct {
	min, max string
	scheme   store.KeyScheme
}

func (f *feedFilter) match(key []byte) bool {
	if f.min == "" && f.max == "" {
		return true
	}
	var e string
	if f.scheme != store.KeyPlain {
		e = store.EPKOf(f.scheme, key)
	} else {
		e = epk.V2Bytes(key).String()
	}
	return e >= f.min && (f.max == "" || e < f.max)
}

// ReadFeed reads one page of one partition.
func (s *Store) ReadFeed(ctx context.Context, cache string, r store.FeedRead) (store.FeedPage, error) {
	info, err := s.cacheInfo(ctx, cache)
	if err != nil {
		return store.FeedPage{}, err
	}
	page, err := s.readFeed(ctx, info, r)
	if !errors.Is(err, errs.ErrCacheNotFound) {
		return page, err
	}
	// The node's catalog copy was stale.
	s.forget(cache, info.Epoch)
	ninfo, lerr := s.lookup(ctx, cache)
	if lerr != nil {
		return store.FeedPage{}, lerr
	}
	if ninfo.Epoch == info.Epoch {
		return store.FeedPage{}, errNoCache(cache)
	}
	page, err = s.readFeed(ctx, ninfo, r)
	if errors.Is(err, errs.ErrCacheNotFound) {
		return store.FeedPage{}, errNoCache(cache)
	}
	return page, err
}

func (s *Store) readFeed(ctx context.Context, info store.CacheInfo, r store.FeedRead) (store.FeedPage, error) {
	if r.Epoch != 0 && r.Epoch != info.Epoch {
		return store.FeedPage{}, errs.ErrFeedEpoch.Withf("cache %q is at epoch %d, not %d", info.Name, info.Epoch, r.Epoch)
	}
	if r.Partition < 0 || r.Partition >= info.Partitions {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("partition %d outside [0, %d)", r.Partition, info.Partitions)
	}
	if r.Mode > store.FeedAllVersions || r.Start > store.FeedFromTime {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("feed mode %d / start %d", r.Mode, r.Start)
	}
	if r.PartitionKey != nil && info.PartitionOf(r.PartitionKey) != r.Partition {
		return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("partition key is not in partition %d", r.Partition)
	}
	size := r.PageSizeHint
	if size <= 0 {
		size = DefaultFeedPageSize
	}
	size = min(size, MaxFeedPageSize)
	p := s.partAt(info, r.Partition)
	page := store.FeedPage{Epoch: info.Epoch}
	mode := "l"
	if r.Mode == store.FeedAllVersions {
		mode = "a"
	}
	if r.Start == store.FeedFromNow {
		var v any
		var err error
		if r.Mode == store.FeedAllVersions {
			v, err = s.evalPart(ctx, p, avonScript, true)
			if err == nil {
				s.setLogOn(p.base)
			}
		} else {
			var hdr []any
			hdr, err = s.feedChunk(ctx, p, mode, 0, 0, 0, nil)
			if len(hdr) > 0 {
				v = hdr[0]
			}
		}
		if err != nil {
			return store.FeedPage{}, err
		}
		page.LastLSN, page.NotModified = uint64(asInt(v)), true
		return page, nil
	}
	after := r.AfterLSN
	if r.Mode == store.FeedAllVersions && !s.logOn(p.base) && s.logMax > 0 {
		// The first all-versions read of a partition switches its log on
		// (idempotent; the node remembers it has seen it on).
		if _, err := s.evalPart(ctx, p, avonScript, true); err != nil {
			return store.FeedPage{}, err
		}
		s.setLogOn(p.base)
	}
	if r.Start == store.FeedFromTime {
		v, err := s.evalPart(ctx, p, lsnatScript, false, mode, r.StartTime.UnixMilli())
		if err != nil {
			return store.FeedPage{}, err
		}
		a, _ := v.([]any)
		if len(a) < 2 {
			return store.FeedPage{}, errors.New("redisstore: short lsnat reply")
		}
		if asInt(a[0]) == 1 {
			return store.FeedPage{}, errs.ErrFeedRetention.Withf("changes up to LSN %d are no longer retained", asInt(a[1]))
		}
		after = uint64(asInt(a[1]))
	}
	budget := feedChunkBytes
	if r.MaxBytes > 0 {
		budget = r.MaxBytes
	}
	f := feedFilter{min: r.MinEPK, max: r.MaxEPK, scheme: info.KeyScheme}
	var end uint64
	bytes := 0
	cursor := after
	for first := true; ; first = false {
		a, err := s.feedChunk(ctx, p, mode, cursor, feedChunk, budget, r.PartitionKey)
		if err != nil {
			return store.FeedPage{}, err
		}
		lsn, floor := uint64(asInt(a[0])), uint64(asInt(a[1]))
		if first {
			if after > lsn {
				return store.FeedPage{}, errs.ErrInvalidArgument.Msgf("feed position %d is after the current LSN %d of partition %d", after, lsn, r.Partition)
			}
			if r.Mode == store.FeedAllVersions && after < floor {
				return store.FeedPage{}, errs.ErrFeedRetention.Withf("all-versions changes up to LSN %d are not retained (position %d)", floor, after)
			}
		}
		done := asInt(a[3]) == 1
		scanned := uint64(asInt(a[4]))
		ents := a[5:]
		width := 7
		if mode == "a" {
			width = 12
		}
		for i := 0; i+width <= len(ents); i += width {
			c, next := parseChange(mode, ents[i:i+width])
			if len(page.Changes) >= size && c.LSN > end {
				page.LastLSN = c.LSN - 1
				return finish(page), nil
			}
			if !f.match(c.Key) {
				continue
			}
			if len(page.Changes) > 0 && r.MaxBytes > 0 && bytes+next > r.MaxBytes {
				page.LastLSN = c.LSN - 1
				return finish(page), nil
			}
			bytes += next
			page.Changes = append(page.Changes, c)
			end = c.BatchEnd
		}
		if done {
			page.LastLSN = lsn
			return finish(page), nil
		}
		if scanned <= cursor {
			return store.FeedPage{}, errors.New("redisstore: feed read made no progress")
		}
		cursor = scanned
	}
}

func finish(p store.FeedPage) store.FeedPage {
	p.NotModified = len(p.Changes) == 0
	return p
}

// feedChunk runs one feedScript call.
func (s *Store) feedChunk(ctx context.Context, p partRef, mode string, after uint64, max, budget int, key []byte) ([]any, error) {
	one, k := "0", []byte{}
	if key != nil {
		one, k = "1", key
	}
	v, err := s.evalPart(ctx, p, feedScript, false, mode, strconv.FormatUint(after, 10), max, budget, one, k)
	if err != nil {
		return nil, err
	}
	a, _ := v.([]any)
	if len(a) < 5 {
		return nil, errors.New("redisstore: short feed reply")
	}
	return a, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func bytesOf(v any) []byte {
	s, _ := v.(string)
	return []byte(s)
}

// parseChange decodes one entry of feedScript and returns it with its
// bytes for MaxBytes.
func parseChange(mode string, e []any) (store.Change, int) {
	if mode == "l" {
		c := store.Change{
			Key: bytesOf(e[0]), LSN: uint64(asInt(e[1])), Kind: store.Kind(asInt(e[2])), Op: store.FeedOp(asInt(e[3])),
			CommitTime: time.UnixMilli(asInt(e[4])), BatchEnd: uint64(asInt(e[5])),
		}
		if c.Kind == store.KindScalar {
			c.Value = bytesOf(e[6])
		}
		return c, len(c.Key) + len(c.Value)
	}
	c := store.Change{
		LSN: uint64(asInt(e[0])), Op: store.FeedOp(asInt(e[1])), Key: bytesOf(e[2]), Kind: store.Kind(asInt(e[3])),
		CommitTime: time.UnixMilli(asInt(e[4])), BatchEnd: uint64(asInt(e[6])),
		HasPrevious: str(e[7]) == "1", TTLExpired: str(e[11]) == "1",
	}
	if c.Op != store.FeedDelete && c.Kind == store.KindScalar {
		c.Value = bytesOf(e[5])
	}
	if c.HasPrevious {
		c.PreviousKind = store.Kind(asInt(e[8]))
		c.PreviousLSN = uint64(asInt(e[9]))
		if c.PreviousKind == store.KindScalar {
			c.Previous = bytesOf(e[10])
		}
	}
	return c, len(c.Key) + len(c.Value) + len(c.Previous)
}

// FeedNotify returns a channel closed at the next change of the cache made
// through this node, or after notifyInterval: changes made by other nodes
// are not signalled, so a waiter polls at that interval.
func (s *Store) FeedNotify(ctx context.Context, cache string) (<-chan struct{}, error) {
	if _, err := s.cacheInfo(ctx, cache); err != nil {
		return nil, err
	}
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if ch := s.notify[cache]; ch != nil {
		return ch, nil
	}
	ch := make(chan struct{})
	s.notify[cache] = ch
	time.AfterFunc(notifyInterval, func() {
		s.notifyMu.Lock()
		if s.notify[cache] == ch {
			delete(s.notify, cache)
			close(ch)
		}
		s.notifyMu.Unlock()
	})
	return ch, nil
}
