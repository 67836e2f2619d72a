package redisstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
)

// The background work of every node, each SweepInterval:
//
//   - the expiry sweep: partitions whose next expiry is due (the schedule
//     sx:{sx}:sweep, partition base → the Unix ms of its earliest expiry,
//     or now when it has flushed items to remove) and the partitions this
//     node wrote since the last tick run sweepScript, which purges up to
//     reapBatch expired items (each a TTL-expiry delete in the feed, with
//     its previous image, through the prelude's live) and removes up to
//     reapBatch items of a flushed generation, then reports the partition's
//     next expiry for the schedule. Scripts are atomic, so nodes that sweep
//     the same partition at once purge each item once. A node that dies
//     between a write and its next tick leaves that write's expiry out of
//     the schedule until the partition is written again; the item is then
//     reclaimed by Redis's native expiry, ExpiryGrace later, without a feed
//     entry (the package documentation allows it).
//   - the removal of deleted caches listed in sx:{sx}:dead (reapScript).
//
// The schedule and the dead list are in the catalog's slot; they are
// hints, never part of a partition's state.
const keySweep = "sx:{sx}:sweep"

// sweepRounds bounds the scripts per partition and tick.
const sweepRounds = 8

// sweepScript: A(1) the batch bound. Returns {more, nextExpiryMs, flushPending}.
var sweepScript = NewScript(prelude + `
local n = tonumber(A(1))
local ks = redis.call('ZRANGEBYSCORE', B .. 'e', '-inf', N(NOW), 'LIMIT', 0, n)
for _, k in ipairs(ks) do
  if not meta(k) then redis.call('ZREM', B .. 'e', k) else live(k) end
end
local more = 0
if #ks == n then more = 1 end
local pending = 0
local fl = redis.call('HGET', S, 'fl')
if fl and fl ~= '' then
  local g = string.match(fl, '%d+')
  if g then
    local h = B .. 'f' .. g
    local fs = redis.call('HRANDFIELD', h, n)
    for _, f in ipairs(fs) do redis.call('UNLINK', B .. 'i' .. g .. ':' .. f) end
    if #fs > 0 then redis.call('HDEL', h, unpack(fs)) end
    if redis.call('EXISTS', h) == 0 then
      fl = string.gsub(fl, '^%s*%d+', '', 1)
      redis.call('HSET', S, 'fl', fl)
    end
    if string.match(fl, '%d') then pending = 1 end
  else
    redis.call('HSET', S, 'fl', '')
  end
end
local nxt = redis.call('ZRANGE', B .. 'e', 0, 0, 'WITHSCORES')
return {more, nxt[2] or '0', pending}
`)

// hintScript sets a partition's entry of the schedule after a sweep:
// ARGV[1] member, ARGV[2] the score the sweep was due at (empty when it was
// swept for a local write), ARGV[3] the next due time (0: none). An entry
// that changed meanwhile (another node scheduled an earlier expiry) is
// only lowered.
var hintScript = NewScript(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
local nxt = tonumber(ARGV[3])
if cur and ARGV[2] ~= '' and tonumber(cur) == tonumber(ARGV[2]) then
  if nxt == 0 then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], nxt, ARGV[1]) end
elseif nxt > 0 then
  redis.call('ZADD', KEYS[1], 'LT', nxt, ARGV[1])
end
return 1
`)

// bg is the state of the background loop.
type bg struct {
	mu      sync.Mutex
	dirty   map[string]struct{} // partition bases written since the last tick
	reaping map[string]bool     // dead members being removed by this node
	kick    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// markDirty schedules partition base for this node's next sweep.
func (s *Store) markDirty(base string) {
	if s.sweepIv < 0 {
		return // no sweep on this node: nothing would drain the set
	}
	s.bg.mu.Lock()
	s.bg.dirty[base] = struct{}{}
	s.bg.mu.Unlock()
}

// kickReaper starts the removal of deleted caches without waiting for
// the next tick.
func (s *Store) kickReaper() {
	select {
	case s.bg.kick <- struct{}{}:
	default:
	}
}

// startBackground starts the background loop.
func (s *Store) startBackground() {
	s.bg.dirty = map[string]struct{}{}
	s.bg.reaping = map[string]bool{}
	s.bg.kick = make(chan struct{}, 1)
	s.bg.ctx, s.bg.cancel = context.WithCancel(context.Background())
	if s.sweepIv < 0 {
		close(s.done)
		return
	}
	go func() {
		defer close(s.done)
		defer s.bg.wg.Wait()
		defer s.bg.cancel()
		t := time.NewTicker(s.sweepIv)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-s.bg.kick:
				s.reapDead()
			case <-t.C:
				s.sweep()
				s.reapDead()
			}
		}
	}()
}

// sweep runs one pass of the expiry sweep.
func (s *Store) sweep() {
	ctx, cancel := context.WithTimeout(s.bg.ctx, 10*time.Second)
	defer cancel()
	now := s.nowMs()
	seen := map[string]string{}
	v, err := s.run.Do(ctx, true, "zrangebyscore", keySweep, "-inf", now, "withscores", "limit", 0, 1024)
	if err != nil {
		s.log.Debug("redisstore: sweep schedule", "err", err)
	}
	for m, score := range scheduled(v) {
		seen[m] = score
	}
	s.bg.mu.Lock()
	dirty := s.bg.dirty
	s.bg.dirty = map[string]struct{}{}
	s.bg.mu.Unlock()
	todo := make([]string, 0, len(seen)+len(dirty))
	for m := range seen {
		todo = append(todo, m)
	}
	for m := range dirty {
		if _, ok := seen[m]; !ok {
			todo = append(todo, m)
		}
	}
	for round := 0; round < sweepRounds && len(todo) > 0; round++ {
		calls := make([]*call, len(todo))
		for i, base := range todo {
			calls[i] = &call{p: partRef{base: base, keys: []string{base + "s"}}, sc: sweepScript, op: []any{reapBatch}}
		}
		_ = s.execCalls(ctx, true, calls)
		var hints []*call
		var again []string
		for _, c := range calls {
			base := c.p.base
			if c.err != nil {
				if errors.Is(c.err, errs.ErrCacheNotFound) {
					hints = append(hints, s.hintCall(base, seen[base], 0))
				} else {
					s.log.Debug("redisstore: sweep", "partition", base, "err", c.err)
				}
				continue
			}
			a, _ := c.res.([]any)
			if len(a) < 3 {
				continue
			}
			more, pending := asInt(a[0]) == 1, asInt(a[2]) == 1
			next := asInt(a[1])
			if more || pending {
				again = append(again, base)
				next = now
			}
			if _, ok := seen[base]; ok || next != 0 {
				hints = append(hints, s.hintCall(base, seen[base], next))
			}
			seen[base] = strconv.FormatInt(next, 10)
		}
		if len(hints) > 0 {
			_ = s.execCalls(ctx, true, hints)
		}
		todo = again
	}
}

func (s *Store) hintCall(base, seen string, next int64) *call {
	return &call{p: partRef{keys: []string{keySweep}}, sc: hintScript, raw: true, op: []any{base, seen, next}}
}

// scheduled reads the ZRANGEBYSCORE ... WITHSCORES reply of the schedule:
// member → score. RESP2 answers a flat array (member, score, member,
// score...); RESP3, which go-redis speaks by default, an array of [member,
// score] pairs with the score a double.
func scheduled(v any) map[string]string {
	out := map[string]string{}
	a, _ := v.([]any)
	for i := 0; i < len(a); i++ {
		if pair, ok := a[i].([]any); ok {
			if len(pair) == 2 {
				if m, ok := pair[0].(string); ok {
					out[m] = scoreString(pair[1])
				}
			}
			continue
		}
		if i+1 < len(a) {
			if m, ok := a[i].(string); ok {
				out[m] = scoreString(a[i+1])
			}
			i++
		}
	}
	return out
}

func scoreString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// reapDead starts the removal of the deleted incarnations that this node
// is not removing yet.
func (s *Store) reapDead() {
	ctx, cancel := context.WithTimeout(s.bg.ctx, 5*time.Second)
	members, err := s.c.ZRange(ctx, keyDead, 0, 15).Result()
	cancel()
	if err != nil && !errors.Is(err, redis.Nil) {
		s.log.Debug("redisstore: dead list", "err", err)
		return
	}
	for _, m := range members {
		s.bg.mu.Lock()
		busy := s.bg.reaping[m]
		s.bg.reaping[m] = true
		s.bg.mu.Unlock()
		if busy {
			continue
		}
		s.bg.wg.Add(1)
		go func() {
			defer s.bg.wg.Done()
			defer func() {
				s.bg.mu.Lock()
				delete(s.bg.reaping, m)
				s.bg.mu.Unlock()
			}()
			s.reap(m)
		}()
	}
}

// reap removes one deleted incarnation, partition by partition, in
// bounded scripts, then takes it off the dead list.
func (s *Store) reap(member string) {
	epoch, parts, ok := parseDead(member)
	if ok {
		for i := range parts {
			base := partBase(epoch, i)
			for {
				if s.bg.ctx.Err() != nil {
					return
				}
				ctx, cancel := context.WithTimeout(s.bg.ctx, 10*time.Second)
				v, err := s.run.Eval(ctx, reapScript, true, []string{base + "s"}, base, reapBatch)
				cancel()
				if err != nil {
					s.log.Debug("redisstore: reap", "partition", base, "err", err)
					return // the next tick resumes
				}
				if asInt(v) == 1 {
					break
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(s.bg.ctx, 5*time.Second)
	defer cancel()
	if err := s.c.ZRem(ctx, keyDead, member).Err(); err != nil {
		s.log.Debug("redisstore: dead list", "err", err)
	}
}
