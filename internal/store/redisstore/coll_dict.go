package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/setsuna-io/setsuna/internal/store"
)

// O(1) ttl, O(2) refresh, O(3)... field, value pairs. An empty write
// changes nothing (and creates nothing).
var dictSetScript = newCollScript(`
local ik, m, err = copen(KEY, 1)
if err then return err end
local n = #ARGV - AO - 2
if n > 0 then many('HSET', ik, 3, n + 2, chunk) end
cclose(KEY, 1, ik, m, tonumber(O(1)), O(2) == '1', n > 0)
return 1
`)

// O(1..) fields → {found, values...} (false: absent field).
var dictGetScript = newCollScript(`
local ik, err = ropen(KEY, 1)
if err then return err end
if not ik then return {0} end
return {1, gather('HMGET', ik, 1, #ARGV - AO)}
`)

var dictFetchScript = newCollScript(`
local ik, err = ropen(KEY, 1)
if err then return err end
if not ik then return {0} end
return {1, redis.call('HGETALL', ik)}
`)

// O(1) ttl, O(2) refresh, O(3) field, O(4) amount → the new value as a
// string (Lua numbers are doubles: HINCRBY's integer reply would lose
// precision above 2^53). HINCRBY parses like memstore except for leading
// zeros and "-0", which it refuses: such a value is first rewritten to
// its canonical form and restored when HINCRBY refuses anyway.
var dictIncrScript = newCollScript(`
local ik, m, err = copen(KEY, 1)
if err then return err end
local f = O(3)
local old = redis.call('HGET', ik, f)
if old then
  if not string.match(old, '^%-?%d+$') then return refuse('not_an_integer') end
  local sign, digits = string.match(old, '^(%-?)0*(%d-)$')
  local canon = sign .. digits
  if digits == '' then canon = '0' end
  if canon ~= old then redis.call('HSET', ik, f, canon) end
  local r = redis.pcall('HINCRBY', ik, f, O(4))
  if type(r) == 'table' and r.err then
    if canon ~= old then redis.call('HSET', ik, f, old) end
    if string.find(r.err, 'overflow') then return refuse('increment_overflow') end
    return refuse('not_an_integer')
  end
else
  redis.call('HSET', ik, f, O(4))
end
cclose(KEY, 1, ik, m, tonumber(O(1)), O(2) == '1', true)
return redis.call('HGET', ik, f)
`)

// O(1..) fields → {found}.
var dictDeleteScript = newCollScript(`
local ik, m, err = copen(KEY, 1)
if err then return err end
if not m then return {0} end
local n = many('HDEL', ik, 1, #ARGV - AO, chunk)
cclose(KEY, 1, ik, m, 0, false, n > 0)
return {1}
`)

var dictLenScript = newCollScript(`
local ik, err = ropen(KEY, 1)
if err then return err end
if not ik then return {0} end
return {1, redis.call('HLEN', ik)}
`)

// DictionarySet writes fields; a later duplicate wins (HSET applies its
// pairs in order).
func (s *Store) DictionarySet(ctx context.Context, cache string, key []byte, items []store.FieldValue, ttl store.CollectionTTL) error {
	if err := checkTTL(ttl.TTL); err != nil {
		return err
	}
	args := ttlArgs(ttl)
	for _, fv := range items {
		if err := store.CheckElement(fv.Field, "dictionary field"); err != nil {
			return err
		}
		if err := store.CheckElement(fv.Value, "dictionary value"); err != nil {
			return err
		}
		args = append(args, fv.Field, fv.Value)
	}
	_, err := s.collRun(ctx, cache, key, dictSetScript, true, args...)
	return err
}

// DictionaryGet returns the values of fields, in request order.
func (s *Store) DictionaryGet(ctx context.Context, cache string, key []byte, fields [][]byte) (values [][]byte, present []bool, ok bool, err error) {
	if len(fields) == 0 {
		// HMGET needs a field; the read still checks kind and presence.
		_, ok, err = s.DictionaryLength(ctx, cache, key)
		return [][]byte{}, []bool{}, ok, err
	}
	v, err := s.collRun(ctx, cache, key, dictGetScript, false, bytesArgs(nil, fields)...)
	if err != nil {
		return nil, nil, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	a, err := replyArr(rest[0])
	if err != nil || len(a) != len(fields) {
		return nil, nil, false, cmpErr(err, "HMGET reply of %d for %d fields", len(a), len(fields))
	}
	values, present = make([][]byte, len(a)), make([]bool, len(a))
	for i, x := range a {
		if values[i], err = replyBytes(x); err != nil {
			return nil, nil, false, err
		}
		present[i] = x != nil
	}
	return values, present, true, nil
}

// DictionaryFetch returns every entry.
func (s *Store) DictionaryFetch(ctx context.Context, cache string, key []byte) (items []store.FieldValue, ok bool, err error) {
	v, err := s.collRun(ctx, cache, key, dictFetchScript, false)
	if err != nil {
		return nil, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, false, err
	}
	flat, err := replyBytesList(rest[0])
	if err != nil {
		return nil, false, err
	}
	items = make([]store.FieldValue, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		items = append(items, store.FieldValue{Field: flat[i], Value: flat[i+1]})
	}
	return items, true, nil
}

// DictionaryIncrement adds amount to a base-10 int64 field.
func (s *Store) DictionaryIncrement(ctx context.Context, cache string, key, field []byte, amount int64, ttl store.CollectionTTL) (int64, error) {
	if err := store.CheckElement(field, "dictionary field"); err != nil {
		return 0, err
	}
	if err := checkTTL(ttl.TTL); err != nil {
		return 0, err
	}
	args := append(ttlArgs(ttl), field, strconv.FormatInt(amount, 10))
	v, err := s.collRun(ctx, cache, key, dictIncrScript, true, args...)
	if err != nil {
		return 0, err
	}
	b, err := replyBytes(v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis: increment reply %q: %w", b, err)
	}
	return n, nil
}

// DictionaryDelete removes fields.
func (s *Store) DictionaryDelete(ctx context.Context, cache string, key []byte, fields [][]byte) error {
	if len(fields) == 0 {
		_, _, err := s.DictionaryLength(ctx, cache, key) // kind and cache checks only
		return err
	}
	_, err := s.collRun(ctx, cache, key, dictDeleteScript, true, bytesArgs(nil, fields)...)
	return err
}

// DictionaryLength returns the number of fields.
func (s *Store) DictionaryLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	return s.collLen(ctx, cache, key, dictLenScript)
}

// collLen runs a {found, n} read.
func (s *Store) collLen(ctx context.Context, cache string, key []byte, sc *Script, args ...any) (int, bool, error) {
	return s.collFoundInt(ctx, cache, key, sc, false, args)
}

// collFoundInt runs a script that answers {found, n}.
func (s *Store) collFoundInt(ctx context.Context, cache string, key []byte, sc *Script, write bool, args []any) (int, bool, error) {
	v, err := s.collRun(ctx, cache, key, sc, write, args...)
	if err != nil {
		return 0, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := replyInt(rest[0])
	return n, err == nil, err
}

// cmpErr is err, or a malformed-reply error when err is nil.
func cmpErr(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("redis: "+format, args...)
}
