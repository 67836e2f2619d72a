package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// Defaults of TopicLogOptions (those of the memory engine, so that a
// deployment behaves alike on either).
const (
	DefaultTopicMessages        = 4096
	DefaultTopicBytes           = 8 << 20
	DefaultIdleTopicTTL         = 10 * time.Minute
	DefaultTopicIdempotencyKeys = 10_000
	// minIdleTopicTTL is the store.TopicLog promise: a topic used in the
	// last five minutes is never dropped as idle.
	minIdleTopicTTL = 5 * time.Minute
	// topicMessageOverhead is what a message costs besides its payload and
	// publisher, as the memory engine counts it.
	topicMessageOverhead = 128
	// topicCacheTTL: a cache's topic bookkeeping (epochs, dropped epoch,
	// last page) outlives its last use by this much; a caller whose epoch is
	// older than that is no longer recognised as stale.
	topicCacheTTL = 30 * 24 * time.Hour
	// topicIndexBatch bounds the topics one script hands back for dropping.
	topicIndexBatch = 128
	// topicPruneBatch bounds the index entries one registration re-checks.
	topicPruneBatch = 8
)

// TopicLogOptions configure the redis topic log. Zero fields take defaults.
type TopicLogOptions struct {
	// MaxMessages and MaxBytes bound each topic's retained window; the
	// newest message is always kept.
	MaxMessages int
	MaxBytes    int
	// IdleTTL: a topic without Append or Open for this long expires with
	// its window (at least five minutes).
	IdleTTL time.Duration
	// MaxIdempotencyKeys bounds the keys AppendOnce remembers per topic (the
	// newest are kept).
	MaxIdempotencyKeys int
	// Now is the clock of presence and idempotency deadlines and of pages
	// (default time.Now).
	Now func() time.Time
	// Logger reports lost wake-up connections (default slog.Default()).
	Logger *slog.Logger
	// Budget bounds the retries of one call (Runner.Budget).
	Budget time.Duration

	// for tests: how often unused wake-up subscriptions are dropped, how
	// long a quiet wake-up connection waits before it pings, and a hook
	// called at each pong.
	sweepEvery, pingEvery time.Duration
	onPong                func()
}

func (o *TopicLogOptions) setDefaults() {
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultTopicMessages
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultTopicBytes
	}
	if o.IdleTTL <= 0 {
		o.IdleTTL = DefaultIdleTopicTTL
	}
	o.IdleTTL = max(o.IdleTTL, minIdleTopicTTL)
	if o.MaxIdempotencyKeys <= 0 {
		o.MaxIdempotencyKeys = DefaultTopicIdempotencyKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.sweepEvery <= 0 {
		o.sweepEvery = 30 * time.Second
	}
	if o.pingEvery <= 0 {
		o.pingEvery = 15 * time.Second
	}
}

// TopicLog is the redis engine's store.TopicLog, shared by every node: one
// stream per topic, one Lua script per publish, sharded pub/sub as the
// wake-up (key layout in doc.go).
type TopicLog struct {
	c    redis.UniversalClient
	run  Runner
	o    TopicLogOptions
	args topicArgs // option values as script arguments

	closed  atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
	pruning atomic.Bool

	// wake-ups (topiclog_notify.go)
	mu      sync.Mutex
	waiters map[string]*topicWaiter // channel → its subscription
	shards  map[string]*topicShard  // primary address → its connection
}

var (
	_ store.TopicLog        = (*TopicLog)(nil)
	_ store.TopicPresence   = (*TopicLog)(nil)
	_ store.TopicAppendOnce = (*TopicLog)(nil)
)

type topicArgs struct {
	idleMs, maxMessages, maxBytes, maxKeys, tombMs, cacheMs string
}

// NewTopicLog returns a running log over c (which it does not own: Close
// leaves c open).
func NewTopicLog(c redis.UniversalClient, o TopicLogOptions) *TopicLog {
	o.setDefaults()
	l := &TopicLog{c: c, run: Runner{C: c, Budget: o.Budget}, o: o, stop: make(chan struct{}),
		waiters: map[string]*topicWaiter{}, shards: map[string]*topicShard{}}
	ms := func(d time.Duration) string { return strconv.FormatInt(max(d.Milliseconds(), 1), 10) }
	l.args = topicArgs{
		idleMs:      ms(o.IdleTTL),
		maxMessages: strconv.Itoa(o.MaxMessages),
		maxBytes:    strconv.Itoa(o.MaxBytes),
		maxKeys:     strconv.Itoa(o.MaxIdempotencyKeys),
		// A tombstone must outlast a registration racing the drop (see
		// doc.go); the cache's own state refuses the epoch after that.
		tombMs:  ms(o.IdleTTL),
		cacheMs: ms(topicCacheTTL),
	}
	l.wg.Add(1)
	go l.sweeper()
	return l
}

// Options returns the effective options.
func (l *TopicLog) Options() TopicLogOptions { return l.o }

// topicKeys are the keys of one topic, all in the slot of its tag.
type topicKeys struct {
	state, stream, wake, idem, idemOrder, presence string
}

// topicTag is "{t.E.C N}": C has no space (store.ValidCacheName), so the
// pair is unambiguous; with a brace in C or N the pair is hashed, since a
// brace would end the tag early.
func topicTag(ref store.TopicRef) string {
	e := strconv.FormatUint(ref.Epoch, 10)
	if strings.ContainsAny(ref.Cache, "{}") || strings.ContainsAny(ref.Name, "{}") {
		sum := sha1.Sum([]byte(ref.Cache + " " + ref.Name))
		return "{t." + e + ".#" + hex.EncodeToString(sum[:]) + "}"
	}
	return "{t." + e + "." + ref.Cache + " " + ref.Name + "}"
}

func keysOfTopic(ref store.TopicRef) topicKeys {
	p := "sx:" + topicTag(ref) + ":"
	return topicKeys{state: p + "s", stream: p + "l", wake: p + "w", idem: p + "i", idemOrder: p + "o", presence: p + "p"}
}

// topicCacheKeys are a cache's topic bookkeeping, in the slot of {tc.C}.
type topicCacheKeys struct{ state, byEpoch, checked string }

func keysOfTopicCache(cache string) topicCacheKeys {
	tag := cache
	if strings.ContainsAny(cache, "{}") {
		sum := sha1.Sum([]byte(cache))
		tag = "#" + hex.EncodeToString(sum[:])
	}
	p := "sx:{tc." + tag + "}:"
	return topicCacheKeys{state: p + "s", byEpoch: p + "t", checked: p + "x"}
}

func (k topicCacheKeys) list() []string { return []string{k.state, k.byEpoch, k.checked} }

// topicIndexMember names a topic in its cache's index: "E:N".
func topicIndexMember(epoch uint64, name string) string {
	return strconv.FormatUint(epoch, 10) + ":" + name
}

func parseTopicIndexMember(cache, m string) (store.TopicRef, bool) {
	e, name, ok := strings.Cut(m, ":")
	epoch, err := strconv.ParseUint(e, 10, 64)
	if !ok || err != nil {
		return store.TopicRef{}, false
	}
	return store.TopicRef{Cache: cache, Epoch: epoch, Name: name}, true
}

// check refuses what no script should see.
func (l *TopicLog) check(ref store.TopicRef) error {
	if l.closed.Load() {
		return errs.ErrShuttingDown
	}
	if !store.ValidTopicName(ref.Name) {
		return errs.ErrInvalidTopic.Msgf("invalid topic name")
	}
	if !store.ValidCacheName(ref.Cache) {
		return errs.ErrInvalidArgument.Msgf("invalid cache name")
	}
	return nil
}

// fail maps an error of a call: after Close, whatever went wrong is
// ErrShuttingDown. An unreachable or vanished server may mean that its
// slots moved: go-redis learns a new topology from MOVED answers, which a
// dead primary never gives, or only every minute, so ask it to reload.
func (l *TopicLog) fail(err error) error {
	if err == nil {
		return nil
	}
	if l.closed.Load() {
		return errs.ErrShuttingDown
	}
	if errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrOutcomeUnknown) {
		if cc, ok := l.c.(*redis.ClusterClient); ok {
			cc.ReloadState(context.Background())
		}
	}
	return err
}

// The scripts of a topic. The state hash holds pg (page), sq (last
// sequence number), cm (bytes of every message appended so far, which each
// stream entry records as c, so the window's bytes are cm minus the c
// before its first entry), bs (a lower bound of that c: when cm-bs is
// within MaxBytes, so is the window, and nothing is read) and dead (a
// tombstone: the topic's epoch was dropped).
//
// A state without a stream that should hold messages (sq > 0), or a stream
// without state, is a lost topic (evicted, flushed): it is created again
// with a new page, never continued, so readers see a discontinuity.
const topicPrelude = `
local function seqOf(id) return tonumber(string.match(id, '%-(%d+)$')) end
local function firstSeq(l, sq)
  if sq == 0 then return 1 end
  local f = redis.call('XRANGE', l, '-', '+', 'COUNT', 1)
  if not f[1] then return sq + 1 end
  return seqOf(f[1][1])
end
`

// topicWriteScript appends (mode a), appends once per idempotency key
// (mode u) or opens (mode o). Without a page for a missing or lost topic
// it answers "need": the caller registers the topic with its cache (which
// gives the page) and runs it again.
//
// KEYS: state, stream, wake channel, idem, idem order.
// ARGV: mode, page for a new topic (0: none), idle ms, max messages, max
// bytes, data, binary, publisher, idem key, now ms, key deadline ms, max
// keys, idem keys' ttl ms.
var topicWriteScript = NewScript(topicPrelude + `
local s, l = KEYS[1], KEYS[2]
local mode = ARGV[1]
local st = redis.call('HMGET', s, 'pg', 'sq', 'cm', 'bs', 'dead')
if st[5] then return redis.error_reply('SXERR cache_not_found') end
local now = tonumber(ARGV[10])
if mode == 'u' then
  local e = redis.call('HGET', KEYS[4], ARGV[9])
  if e then
    local q, p, x = string.match(e, '^(%d+) (%d+) (%d+)$')
    if x and tonumber(x) > now then return {'dup', q, p} end
  end
end
local page, sq, cm, bs = st[1], tonumber(st[2] or '0'), tonumber(st[3] or '0'), tonumber(st[4] or '0')
if not page or (sq > 0 and redis.call('EXISTS', l) == 0) then
  if ARGV[2] == '0' then return {'need'} end
  redis.call('DEL', l)
  page, sq, cm, bs = ARGV[2], 0, 0, 0
  redis.call('HSET', s, 'pg', page, 'sq', 0, 'cm', 0, 'bs', 0)
end
local idle = ARGV[3]
redis.call('PEXPIRE', s, idle)
if mode == 'o' then
  if sq > 0 then redis.call('PEXPIRE', l, idle) end
  return {'ok', page, firstSeq(l, sq), sq}
end
local seq = sq + 1
local id = page .. '-' .. seq
local data, pub = ARGV[6], ARGV[8]
cm = cm + #data + #pub + ` + strconv.Itoa(topicMessageOverhead) + `
redis.call('XADD', l, 'MAXLEN', ARGV[4], id, 'd', data, 'b', ARGV[7], 'p', pub, 'c', cm)
local maxb = tonumber(ARGV[5])
if cm - bs > maxb then
  -- bs lags the window's start: walk the oldest entries, finding where a
  -- window within maxb begins (never after the new message).
  local from, cut = '-', nil
  while not cut do
    local batch = redis.call('XRANGE', l, from, '+', 'COUNT', 64)
    if #batch == 0 then break end
    for _, e in ipairs(batch) do
      local f, c, z = e[2], 0, ` + strconv.Itoa(topicMessageOverhead) + `
      for j = 1, #f, 2 do
        if f[j] == 'c' then c = tonumber(f[j + 1]) elseif f[j] == 'd' or f[j] == 'p' then z = z + #f[j + 1] end
      end
      bs = c - z
      if cm - bs <= maxb or e[1] == id then cut = e[1]; break end
    end
    from = '(' .. batch[#batch][1]
  end
  if cut then redis.call('XTRIM', l, 'MINID', cut) end
end
redis.call('HSET', s, 'sq', seq, 'cm', cm, 'bs', bs)
redis.call('PEXPIRE', l, idle)
if mode == 'u' then
  local i, o, k = KEYS[4], KEYS[5], ARGV[9]
  redis.call('HSET', i, k, seq .. ' ' .. page .. ' ' .. ARGV[11])
  redis.call('ZADD', o, now, k)
  -- Oldest first: forget keys past their window or beyond the bound.
  local maxk = tonumber(ARGV[12])
  for _ = 1, 64 do
    local old = redis.call('ZRANGE', o, 0, 0)[1]
    if not old then break end
    if redis.call('ZCARD', o) <= maxk then
      local e = redis.call('HGET', i, old)
      local x = e and tonumber(string.match(e, '(%d+)$'))
      if x and x > now then break end
    end
    redis.call('ZREM', o, old)
    redis.call('HDEL', i, old)
  end
  local ttl = tonumber(ARGV[13])
  if redis.call('PTTL', i) < ttl then
    redis.call('PEXPIRE', i, ttl)
    redis.call('PEXPIRE', o, ttl)
  end
end
redis.call('SPUBLISH', KEYS[3], seq)
return {'ok', seq, page}
`)

// topicReadScript reads the state and up to max messages from seq from on.
// A missing or lost topic answers "none".
//
// KEYS: state, stream. ARGV: from, max.
var topicReadScript = NewScript(topicPrelude + `
local st = redis.call('HMGET', KEYS[1], 'pg', 'sq', 'dead')
if st[3] then return redis.error_reply('SXERR cache_not_found') end
if not st[1] then return {'none'} end
local sq = tonumber(st[2])
if sq > 0 and redis.call('EXISTS', KEYS[2]) == 0 then return {'none'} end
local first = firstSeq(KEYS[2], sq)
local from = math.max(tonumber(ARGV[1]), first)
local msgs = {}
if from <= sq and tonumber(ARGV[2]) > 0 then
  msgs = redis.call('XRANGE', KEYS[2], st[1] .. '-' .. from, '+', 'COUNT', ARGV[2])
end
return {'ok', st[1], first, sq, msgs}
`)

// topicDropScript drops a topic, leaving a tombstone that refuses its
// epoch, and wakes its waiters.
//
// KEYS: state, stream, wake channel, idem, idem order, presence.
// ARGV: tombstone ms.
var topicDropScript = NewScript(`
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6])
redis.call('HSET', KEYS[1], 'dead', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SPUBLISH', KEYS[3], 'drop')
return 1
`)

// The scripts of a cache's bookkeeping. State: epoch (the newest epoch
// used), dead (the newest epoch dropped), page (the last page given out).
// Index: byEpoch (member "E:N", score E) lists the topics to drop with an
// epoch; checked (same members, score: when the entry was last known to
// name a live topic, or minus the time a re-check of it began) lets
// registrations find entries of topics that expired and remove them.

// topicRegisterScript admits a topic that is missing or lost: it refuses a
// dropped or replaced epoch, gives the topic its page, indexes it, and
// returns the older epochs' topics still to drop and index entries to
// re-check.
//
// KEYS: cache state, byEpoch, checked. ARGV: epoch, member, now ms, re-check
// cutoff ms, cache ttl ms.
var topicRegisterScript = NewScript(`
local st = redis.call('HMGET', KEYS[1], 'epoch', 'dead', 'page')
local e = tonumber(ARGV[1])
if e <= tonumber(st[2] or '0') or e < tonumber(st[1] or '0') then
  return redis.error_reply('SXERR cache_not_found')
end
local now = tonumber(ARGV[3])
local page = math.max(now, tonumber(st[3] or '0') + 1)
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'page', string.format('%d', page))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ` + strconv.Itoa(topicIndexBatch) + `)
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[4], 'LIMIT', 0, ` + strconv.Itoa(topicPruneBatch) + `)
for _, m in ipairs(stale) do redis.call('ZADD', KEYS[3], -now, m) end
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[5]) end
return {string.format('%d', page), old, stale}
`)

// topicUnindexScript removes dropped topics from the index and returns the
// next ones up to the bound.
//
// KEYS: cache state, byEpoch, checked. ARGV: bound (a ZRANGEBYSCORE max),
// members...
var topicUnindexScript = NewScript(`
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ` + strconv.Itoa(topicIndexBatch) + `)
`)

// topicDropCacheScript records a dropped epoch and returns the first
// topics to drop.
//
// KEYS: cache state, byEpoch, checked. ARGV: epoch, cache ttl ms.
var topicDropCacheScript = NewScript(`
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'dead') or '0') then
  redis.call('HSET', KEYS[1], 'dead', ARGV[1])
end
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[2]) end
return redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ` + strconv.Itoa(topicIndexBatch) + `)
`)

// topicPruneScript ends re-checks: an entry whose re-check mark is still
// there (no registration renewed it meanwhile) is removed when its topic
// is gone, renewed when it lives.
//
// KEYS: cache state, byEpoch, checked. ARGV: mark, now ms, then pairs of
// member and "1" (alive) or "0".
var topicPruneScript = NewScript(`
local mark = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local m = ARGV[i]
  if tonumber(redis.call('ZSCORE', KEYS[3], m)) == mark then
    if ARGV[i + 1] == '1' then
      redis.call('ZADD', KEYS[3], ARGV[2], m)
    else
      redis.call('ZREM', KEYS[2], m)
      redis.call('ZREM', KEYS[3], m)
    end
  end
end
return 1
`)

// Append implements store.TopicLog.
func (l *TopicLog) Append(ctx context.Context, ref store.TopicRef, v store.TopicValue, publisherID string) (uint64, uint64, error) {
	r, err := l.write(ctx, ref, "a", v, publisherID, "", 0)
	return r.a, r.b, err
}

// Open implements store.TopicLog.
func (l *TopicLog) Open(ctx context.Context, ref store.TopicRef) (store.TopicState, error) {
	r, err := l.write(ctx, ref, "o", store.TopicValue{}, "", "", 0)
	if err != nil {
		return store.TopicState{}, err
	}
	return store.TopicState{Page: r.a, First: r.b, Last: r.c}, nil
}

// topicWriteResult: mode a/u: seq, page, dup; mode o: page, first, last.
type topicWriteResult struct {
	a, b, c uint64
	dup     bool
}

func (l *TopicLog) write(ctx context.Context, ref store.TopicRef, mode string, v store.TopicValue, pub, key string, window time.Duration) (topicWriteResult, error) {
	if err := l.check(ref); err != nil {
		return topicWriteResult{}, err
	}
	k := keysOfTopic(ref)
	now := l.o.Now()
	bin := "0"
	if v.Binary {
		bin = "1"
	}
	keyTTL := max(l.o.IdleTTL, window)
	args := []any{mode, "0", l.args.idleMs, l.args.maxMessages, l.args.maxBytes, v.Data, bin, pub, key,
		now.UnixMilli(), now.Add(window).UnixMilli(), l.args.maxKeys, keyTTL.Milliseconds()}
	// Appends must not be resent after a lost answer; opening is
	// idempotent (a resend finds the topic the first one made).
	noResend := mode != "o"
	for attempt := 0; ; attempt++ {
		res, err := l.run.Eval(ctx, topicWriteScript, noResend, []string{k.state, k.stream, k.wake, k.idem, k.idemOrder}, args...)
		if err != nil {
			return topicWriteResult{}, l.fail(err)
		}
		arr, _ := res.([]any)
		if len(arr) == 0 {
			return topicWriteResult{}, fmt.Errorf("redis topic script: unexpected answer %v", res)
		}
		switch arr[0] {
		case "need":
			if attempt > 0 {
				return topicWriteResult{}, errors.New("BUG: redis topic script asks for a page it was given")
			}
			page, err := l.register(ctx, ref)
			if err != nil {
				return topicWriteResult{}, l.fail(err)
			}
			args[1] = page
			continue
		case "ok", "dup":
			if len(arr) < 3 {
				break
			}
			r := topicWriteResult{a: topicUint(arr[1]), b: topicUint(arr[2]), dup: arr[0] == "dup"}
			if len(arr) > 3 {
				r.c = topicUint(arr[3])
			}
			return r, nil
		}
		return topicWriteResult{}, fmt.Errorf("redis topic script: unexpected answer %v", res)
	}
}

// register admits a missing or lost topic with its cache and returns its
// page. Registration is idempotent but for the page (a resend takes
// another, which only the topic's creation uses), so it may be resent.
func (l *TopicLog) register(ctx context.Context, ref store.TopicRef) (string, error) {
	ck := keysOfTopicCache(ref.Cache)
	now := l.o.Now().UnixMilli()
	cutoff := now - l.o.IdleTTL.Milliseconds()
	res, err := l.run.Eval(ctx, topicRegisterScript, false, ck.list(),
		ref.Epoch, topicIndexMember(ref.Epoch, ref.Name), now, cutoff, l.args.cacheMs)
	if err != nil {
		return "", err
	}
	arr, _ := res.([]any)
	if len(arr) != 3 {
		return "", fmt.Errorf("redis topic registration: unexpected answer %v", res)
	}
	page, _ := arr[0].(string)
	old := topicStrings(arr[1])
	if len(old) > 0 {
		// The contract: a newer epoch drops the older ones first.
		bound := "(" + strconv.FormatUint(ref.Epoch, 10)
		if err := l.dropIndexed(ctx, ref.Cache, ck, old, bound); err != nil {
			return "", err
		}
	}
	if stale := topicStrings(arr[2]); len(stale) > 0 {
		l.prune(ref.Cache, ck, stale, -now)
	}
	return page, nil
}

// dropIndexed drops the topics named by members, removes them from the
// index and goes on with what the index still lists under bound.
func (l *TopicLog) dropIndexed(ctx context.Context, cache string, ck topicCacheKeys, members []string, bound string) error {
	for len(members) > 0 {
		for _, m := range members {
			ref, ok := parseTopicIndexMember(cache, m)
			if !ok {
				continue // not ours: unindexed below
			}
			k := keysOfTopic(ref)
			if _, err := l.run.Eval(ctx, topicDropScript, false,
				[]string{k.state, k.stream, k.wake, k.idem, k.idemOrder, k.presence}, l.args.tombMs); err != nil {
				return err
			}
		}
		args := make([]any, 0, 1+len(members))
		args = append(args, bound)
		for _, m := range members {
			args = append(args, m)
		}
		res, err := l.run.Eval(ctx, topicUnindexScript, false, ck.list(), args...)
		if err != nil {
			return err
		}
		members = topicStrings(res)
	}
	return nil
}

// prune re-checks index entries in the background (one batch at a time:
// entries a skipped batch left marked are picked again later).
func (l *TopicLog) prune(cache string, ck topicCacheKeys, members []string, mark int64) {
	if l.closed.Load() || !l.pruning.CompareAndSwap(false, true) {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.pruning.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		args := []any{mark, l.o.Now().UnixMilli()}
		for _, m := range members {
			ref, ok := parseTopicIndexMember(cache, m)
			alive := "0"
			if ok {
				n, err := l.run.Do(ctx, true, "EXISTS", keysOfTopic(ref).state)
				if err != nil {
					return
				}
				if n, _ := n.(int64); n > 0 {
					alive = "1"
				}
			}
			args = append(args, m, alive)
		}
		_, _ = l.run.Eval(ctx, topicPruneScript, false, ck.list(), args...)
	}()
}

// Read implements store.TopicLog.
func (l *TopicLog) Read(ctx context.Context, ref store.TopicRef, from uint64, maxN int) (store.TopicState, []*store.TopicMessage, error) {
	if err := l.check(ref); err != nil {
		return store.TopicState{}, nil, err
	}
	k := keysOfTopic(ref)
	from = min(from, 1<<53) // Lua numbers are doubles
	maxN = min(max(maxN, 0), l.o.MaxMessages)
	res, err := l.run.Eval(ctx, topicReadScript, false, []string{k.state, k.stream}, from, maxN)
	if err != nil {
		return store.TopicState{}, nil, l.fail(err)
	}
	arr, _ := res.([]any)
	if len(arr) == 1 && arr[0] == "none" {
		return store.TopicState{}, nil, l.cacheLive(ctx, ref)
	}
	if len(arr) != 5 || arr[0] != "ok" {
		return store.TopicState{}, nil, fmt.Errorf("redis topic read: unexpected answer %v", res)
	}
	st := store.TopicState{Page: topicUint(arr[1]), First: topicUint(arr[2]), Last: topicUint(arr[3])}
	entries, _ := arr[4].([]any)
	msgs := make([]*store.TopicMessage, 0, len(entries))
	for _, e := range entries {
		m, ok := topicMessage(e, st.Page)
		if !ok {
			return store.TopicState{}, nil, fmt.Errorf("redis topic read: malformed stream entry %v", e)
		}
		msgs = append(msgs, m)
	}
	return st, msgs, nil
}

// cacheLive tells a topic that is missing from one that is refused: nil
// when the epoch may still be used, else ErrCacheNotFound.
func (l *TopicLog) cacheLive(ctx context.Context, ref store.TopicRef) error {
	res, err := l.run.Do(ctx, true, "HMGET", keysOfTopicCache(ref.Cache).state, "epoch", "dead")
	if err != nil {
		return l.fail(err)
	}
	arr, _ := res.([]any)
	if len(arr) != 2 {
		return fmt.Errorf("redis topic cache state: unexpected answer %v", res)
	}
	if ref.Epoch < topicUint(arr[0]) || (arr[1] != nil && ref.Epoch <= topicUint(arr[1])) {
		return errs.ErrCacheNotFound.Withf("%q", ref.Cache)
	}
	return nil
}

func topicMessage(e any, page uint64) (*store.TopicMessage, bool) {
	pair, _ := e.([]any)
	if len(pair) != 2 {
		return nil, false
	}
	id, _ := pair[0].(string)
	_, seqs, _ := strings.Cut(id, "-")
	seq, err := strconv.ParseUint(seqs, 10, 64)
	if err != nil {
		return nil, false
	}
	fields, _ := pair[1].([]any)
	m := &store.TopicMessage{Seq: seq, Page: page}
	for i := 0; i+1 < len(fields); i += 2 {
		f, _ := fields[i].(string)
		v, _ := fields[i+1].(string)
		switch f {
		case "d":
			m.Value.Data = []byte(v)
		case "b":
			m.Value.Binary = v == "1"
		case "p":
			m.PublisherID = v
		}
	}
	return m, true
}

// DropCache implements store.TopicLog.
func (l *TopicLog) DropCache(ctx context.Context, cache string, epoch uint64) error {
	if l.closed.Load() {
		return errs.ErrShuttingDown
	}
	if !store.ValidCacheName(cache) {
		return errs.ErrInvalidArgument.Msgf("invalid cache name")
	}
	ck := keysOfTopicCache(cache)
	res, err := l.run.Eval(ctx, topicDropCacheScript, false, ck.list(), epoch, l.args.cacheMs)
	if err != nil {
		return l.fail(err)
	}
	return l.fail(l.dropIndexed(ctx, cache, ck, topicStrings(res), strconv.FormatUint(epoch, 10)))
}

// Close implements store.TopicLog: waiters wake, later calls are
// errs.ErrShuttingDown. The client stays open (it is not the log's).
func (l *TopicLog) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.stop)
	l.closeWaiters()
	l.wg.Wait()
	return nil
}

// topicUint reads a script's number, which arrives as an integer or as the
// string it was stored as.
func topicUint(v any) uint64 {
	switch v := v.(type) {
	case int64:
		if v > 0 {
			return uint64(v)
		}
	case string:
		n, _ := strconv.ParseUint(v, 10, 64)
		return n
	}
	return 0
}

func topicStrings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
