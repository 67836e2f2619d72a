package redisstore

import (
	"context"
	"fmt"

	"github.com/setsuna-io/setsuna/internal/store"
)

// O(1) ttl, O(2) refresh, O(3)... elements.
var setAddScript = newCollScript(`
local ik, m, err = copen(KEY, 2)
if err then return err end
local n = #ARGV - AO - 2
if n > 0 then many('SADD', ik, 3, n + 2, chunk) end
cclose(KEY, 2, ik, m, tonumber(O(1)), O(2) == '1', n > 0)
return 1
`)

// O(1..) elements → {found}.
var setRemoveScript = newCollScript(`
local ik, m, err = copen(KEY, 2)
if err then return err end
if not m then return {0} end
local n = #ARGV - AO
if n > 0 then n = many('SREM', ik, 1, n, chunk) end
cclose(KEY, 2, ik, m, 0, false, n > 0)
return {1}
`)

var setFetchScript = newCollScript(`
local ik, err = ropen(KEY, 2)
if err then return err end
if not ik then return {0} end
return {1, redis.call('SMEMBERS', ik)}
`)

// O(1..) elements → {found, 0/1...}.
var setContainsScript = newCollScript(`
local ik, err = ropen(KEY, 2)
if err then return err end
if not ik then return {0} end
return {1, gather('SMISMEMBER', ik, 1, #ARGV - AO)}
`)

// O(1) limit → {found, elements}. SRANDMEMBER with a positive count
// returns distinct elements.
var setSampleScript = newCollScript(`
local ik, err = ropen(KEY, 2)
if err then return err end
if not ik then return {0} end
return {1, redis.call('SRANDMEMBER', ik, O(1))}
`)

// O(1) count → {found, elements}.
var setPopScript = newCollScript(`
local ik, m, err = copen(KEY, 2)
if err then return err end
if not m then return {0} end
local r = redis.call('SPOP', ik, O(1))
cclose(KEY, 2, ik, m, 0, false, #r > 0)
return {1, r}
`)

var setLenScript = newCollScript(`
local ik, err = ropen(KEY, 2)
if err then return err end
if not ik then return {0} end
return {1, redis.call('SCARD', ik)}
`)

// SetAdd adds elements.
func (s *Store) SetAdd(ctx context.Context, cache string, key []byte, elements [][]byte, ttl store.CollectionTTL) error {
	if err := store.CheckElements(elements, "set element"); err != nil {
		return err
	}
	if err := checkTTL(ttl.TTL); err != nil {
		return err
	}
	_, err := s.collRun(ctx, cache, key, setAddScript, true, bytesArgs(ttlArgs(ttl), elements)...)
	return err
}

// SetRemove removes elements; found reports whether the set existed.
func (s *Store) SetRemove(ctx context.Context, cache string, key []byte, elements [][]byte) (bool, error) {
	v, err := s.collRun(ctx, cache, key, setRemoveScript, true, bytesArgs(nil, elements)...)
	if err != nil {
		return false, err
	}
	ok, _, err := splitFound(v)
	return ok, err
}

// SetFetch returns every element.
func (s *Store) SetFetch(ctx context.Context, cache string, key []byte) ([][]byte, bool, error) {
	return s.collList(ctx, cache, key, setFetchScript, false)
}

// SetContains reports membership of each element.
func (s *Store) SetContains(ctx context.Context, cache string, key []byte, elements [][]byte) ([]bool, bool, error) {
	if len(elements) == 0 {
		_, ok, err := s.SetLength(ctx, cache, key) // SMISMEMBER needs a member
		return []bool{}, ok, err
	}
	v, err := s.collRun(ctx, cache, key, setContainsScript, false, bytesArgs(nil, elements)...)
	if err != nil {
		return nil, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, false, err
	}
	a, err := replyArr(rest[0])
	if err != nil || len(a) != len(elements) {
		return nil, false, cmpErr(err, "SMISMEMBER reply of %d for %d elements", len(a), len(elements))
	}
	contains := make([]bool, len(a))
	for i, x := range a {
		n, err := replyInt(x)
		if err != nil {
			return nil, false, err
		}
		contains[i] = n == 1
	}
	return contains, true, nil
}

// SetSample returns up to limit distinct random elements.
func (s *Store) SetSample(ctx context.Context, cache string, key []byte, limit int) ([][]byte, bool, error) {
	return s.collList(ctx, cache, key, setSampleScript, false, fmt.Sprint(max(limit, 0)))
}

// SetPop removes and returns up to count random elements.
func (s *Store) SetPop(ctx context.Context, cache string, key []byte, count int) ([][]byte, bool, error) {
	return s.collList(ctx, cache, key, setPopScript, true, fmt.Sprint(max(count, 0)))
}

// SetLength returns the number of elements.
func (s *Store) SetLength(ctx context.Context, cache string, key []byte) (int, bool, error) {
	return s.collLen(ctx, cache, key, setLenScript)
}

// collList runs a script whose reply is {found, {strings...}}.
func (s *Store) collList(ctx context.Context, cache string, key []byte, sc *Script, write bool, args ...any) ([][]byte, bool, error) {
	v, err := s.collRun(ctx, cache, key, sc, write, args...)
	if err != nil {
		return nil, false, err
	}
	ok, rest, err := splitFound(v)
	if err != nil || !ok {
		return nil, false, err
	}
	out, err := replyBytesList(rest[0])
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
