package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/store"
)

// The optional capabilities of the redis topic log, which make presence and
// idempotent publication hold across every node: store.TopicPresence and
// store.TopicAppendOnce. Deadlines are the calling node's clock (Now), in
// Unix ms, passed to the scripts; an entry lives while its deadline is
// after now. Both instants are truncated to the millisecond, so an entry
// may end up to a millisecond early, never late.

// maxTopicPresenceNodeLen bounds node ids in the presence hash.
const maxTopicPresenceNodeLen = 128

// topicSetPresenceScript sets (or with n 0 removes) a node's count and
// forgets expired entries; the hash expires with its last entry.
//
// KEYS: presence. ARGV: node, n, deadline ms, now ms.
var topicSetPresenceScript = NewScript(`
local p, now = KEYS[1], tonumber(ARGV[4])
if ARGV[2] == '0' then
  redis.call('HDEL', p, ARGV[1])
else
  redis.call('HSET', p, ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
end
local all, last = redis.call('HGETALL', p), 0
for i = 1, #all, 2 do
  local x = tonumber(string.match(all[i + 1], ' (%d+)$')) or 0
  if x <= now then redis.call('HDEL', p, all[i]) elseif x > last then last = x end
end
if last > 0 then redis.call('PEXPIRE', p, last - now) end
return 1
`)

// topicPresenceScript sums the live entries. KEYS: presence. ARGV: now ms.
var topicPresenceScript = NewScript(`
local all, now, n = redis.call('HGETALL', KEYS[1]), tonumber(ARGV[1]), 0
for i = 1, #all, 2 do
  local c, x = string.match(all[i + 1], '^(%d+) (%d+)$')
  if x and tonumber(x) > now then n = n + tonumber(c) end
end
return n
`)

// topicAppendedScript looks a key up. KEYS: idem. ARGV: key, now ms.
var topicAppendedScript = NewScript(`
local e = redis.call('HGET', KEYS[1], ARGV[1])
if not e then return {} end
local q, p, x = string.match(e, '^(%d+) (%d+) (%d+)$')
if not x or tonumber(x) <= tonumber(ARGV[2]) then return {} end
return {q, p}
`)

// SetPresence implements store.TopicPresence.
func (l *TopicLog) SetPresence(ctx context.Context, node string, ref store.TopicRef, n int, ttl time.Duration) error {
	if n < 0 || ttl <= 0 {
		return errs.ErrInvalidArgument.Msgf("presence needs n >= 0 and a positive ttl")
	}
	if node == "" || len(node) > maxTopicPresenceNodeLen {
		return errs.ErrInvalidArgument.Msgf("presence needs a node id of 1-%d bytes", maxTopicPresenceNodeLen)
	}
	if err := l.check(ref); err != nil {
		return err
	}
	now := l.o.Now()
	// Setting a count is idempotent: a resend after a lost answer is safe.
	_, err := l.run.Eval(ctx, topicSetPresenceScript, false, []string{keysOfTopic(ref).presence},
		node, n, now.Add(ttl).UnixMilli(), now.UnixMilli())
	return l.fail(err)
}

// Presence implements store.TopicPresence.
func (l *TopicLog) Presence(ctx context.Context, ref store.TopicRef) (int, error) {
	if err := l.check(ref); err != nil {
		return 0, err
	}
	res, err := l.run.Eval(ctx, topicPresenceScript, false, []string{keysOfTopic(ref).presence}, l.o.Now().UnixMilli())
	if err != nil {
		return 0, l.fail(err)
	}
	n, ok := res.(int64)
	if !ok {
		return 0, fmt.Errorf("redis topic presence: unexpected answer %v", res)
	}
	return int(n), nil
}

func checkTopicIdempotencyKey(key string) error {
	if key == "" || len(key) > store.MaxIdempotencyKeyLen {
		return errs.ErrInvalidIdempotencyKey.Withf("it must be 1-%d bytes", store.MaxIdempotencyKeyLen)
	}
	return nil
}

// AppendOnce implements store.TopicAppendOnce: the key's check and the
// append are one script. A lost answer is errs.ErrOutcomeUnknown; the
// caller's retry with the same key then lands once.
func (l *TopicLog) AppendOnce(ctx context.Context, ref store.TopicRef, v store.TopicValue, publisherID, key string, window time.Duration) (seq, page uint64, dup bool, err error) {
	if err := checkTopicIdempotencyKey(key); err != nil {
		return 0, 0, false, err
	}
	if window <= 0 {
		return 0, 0, false, errs.ErrInvalidArgument.Msgf("the idempotency window must be positive")
	}
	r, err := l.write(ctx, ref, "u", v, publisherID, key, window)
	return r.a, r.b, r.dup, err
}

// Appended implements store.TopicAppendOnce.
func (l *TopicLog) Appended(ctx context.Context, ref store.TopicRef, key string) (seq, page uint64, found bool, err error) {
	if err := checkTopicIdempotencyKey(key); err != nil {
		return 0, 0, false, err
	}
	if err := l.check(ref); err != nil {
		return 0, 0, false, err
	}
	res, err := l.run.Eval(ctx, topicAppendedScript, false, []string{keysOfTopic(ref).idem}, key, l.o.Now().UnixMilli())
	if err != nil {
		return 0, 0, false, l.fail(err)
	}
	arr, _ := res.([]any)
	if len(arr) != 2 {
		return 0, 0, false, nil
	}
	return topicUint(arr[0]), topicUint(arr[1]), true, nil
}
