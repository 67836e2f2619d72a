// TTL API: Scs/ItemGetTtl, Scs/UpdateTtl (overwrite / increase / decrease), plus Scs/ItemGetType.
// The JS SDK's updateTtl/increaseTtl/decreaseTtl take milliseconds; set's {ttl} is seconds.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  CacheGet,
  CacheSet,
  CacheItemGetTtl,
  CacheItemGetType,
  CacheUpdateTtl,
  CacheIncreaseTtl,
  CacheDecreaseTtl,
  ItemType,
} from '@gomomento/sdk';

import {useSetsuna, assertIs, assertError, MomentoErrorCode, uniqueName, sleep} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'ttl'});
const c = () => ctx.cacheName;

let keyCounter = 0;
const k = (label = 'k') => `${label}-${++keyCounter}`;

async function setWithTtl(label, ttlSeconds) {
  const key = k(label);
  assertIs(await ctx.client.set(c(), key, 'v', ttlSeconds === undefined ? undefined : {ttl: ttlSeconds}), CacheSet.Success);
  return key;
}

async function remaining(key) {
  const r = assertIs(await ctx.client.itemGetTtl(c(), key), CacheItemGetTtl.Hit, `itemGetTtl(${key})`);
  const ms = r.remainingTtlMillis();
  assert.equal(typeof ms, 'number');
  return ms;
}

// ---------------------------------------------------------------------------------------------
// itemGetTtl

test('itemGetTtl on a present key: 0 < remaining <= set ttl', async () => {
  const key = await setWithTtl('igt', 30);
  const ms = await remaining(key);
  assert.ok(ms > 0 && ms <= 30000, `remaining=${ms}`);
  assert.ok(ms > 20000, `remaining should be close to 30000 right after set, got ${ms}`);
});

test('itemGetTtl reflects the per-call ttl, not the client default', async () => {
  const key = await setWithTtl('igt-long', 3600);
  const ms = await remaining(key);
  assert.ok(ms > 60000 && ms <= 3600000, `remaining=${ms} for ttl 3600 s`);
  const def = await setWithTtl('igt-default'); // client default 60 s
  const dms = await remaining(def);
  assert.ok(dms > 0 && dms <= 60000, `remaining=${dms} for default ttl 60 s`);
});

test('itemGetTtl on a missing key: Miss', async () => {
  assertIs(await ctx.client.itemGetTtl(c(), k('igt-missing')), CacheItemGetTtl.Miss);
});

test('itemGetTtl on an expired key: Miss', async () => {
  const key = await setWithTtl('igt-exp', 1);
  await sleep(1800);
  assertIs(await ctx.client.itemGetTtl(c(), key), CacheItemGetTtl.Miss);
});

// ---------------------------------------------------------------------------------------------
// updateTtl (overwrite)

test('updateTtl on a present key: Set; remaining follows the new value (shorter)', async () => {
  const key = await setWithTtl('upd-short', 60);
  assertIs(await ctx.client.updateTtl(c(), key, 5000), CacheUpdateTtl.Set, 'updateTtl(5000)');
  const ms = await remaining(key);
  assert.ok(ms > 0 && ms <= 5000, `remaining=${ms}`);
  assert.equal(assertIs(await ctx.client.get(c(), key), CacheGet.Hit).valueString(), 'v', 'value untouched');
});

test('updateTtl on a present key: Set; remaining follows the new value (longer)', async () => {
  const key = await setWithTtl('upd-long', 10);
  assertIs(await ctx.client.updateTtl(c(), key, 600000), CacheUpdateTtl.Set, 'updateTtl(600000)');
  const ms = await remaining(key);
  assert.ok(ms > 10000 && ms <= 600000, `remaining=${ms}`);
});

test('updateTtl actually changes expiry: shortened item expires', async () => {
  const key = await setWithTtl('upd-exp', 60);
  assertIs(await ctx.client.updateTtl(c(), key, 1000), CacheUpdateTtl.Set);
  await sleep(1800);
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, 'get after shortened ttl');
});

test('updateTtl on a missing key: Miss', async () => {
  assertIs(await ctx.client.updateTtl(c(), k('upd-missing'), 5000), CacheUpdateTtl.Miss);
});

test('updateTtl on an expired key: Miss', async () => {
  const key = await setWithTtl('upd-expired', 1);
  await sleep(1800);
  assertIs(await ctx.client.updateTtl(c(), key, 60000), CacheUpdateTtl.Miss);
});

// ---------------------------------------------------------------------------------------------
// increaseTtl / decreaseTtl

test('increaseTtl to a larger value: Set, remaining grows', async () => {
  const key = await setWithTtl('inc-larger', 10);
  assertIs(await ctx.client.increaseTtl(c(), key, 120000), CacheIncreaseTtl.Set, 'increaseTtl(120000)');
  const ms = await remaining(key);
  assert.ok(ms > 10000 && ms <= 120000, `remaining=${ms}`);
});

test('increaseTtl to a smaller value: NotSet, remaining unchanged', async () => {
  const key = await setWithTtl('inc-smaller', 60);
  assertIs(await ctx.client.increaseTtl(c(), key, 5000), CacheIncreaseTtl.NotSet, 'increaseTtl(5000)');
  const ms = await remaining(key);
  assert.ok(ms > 5000 && ms <= 60000, `remaining=${ms} should still be ~60000`);
});

test('increaseTtl on a missing key: Miss', async () => {
  assertIs(await ctx.client.increaseTtl(c(), k('inc-missing'), 5000), CacheIncreaseTtl.Miss);
});

test('decreaseTtl to a smaller value: Set, remaining shrinks', async () => {
  const key = await setWithTtl('dec-smaller', 60);
  assertIs(await ctx.client.decreaseTtl(c(), key, 5000), CacheDecreaseTtl.Set, 'decreaseTtl(5000)');
  const ms = await remaining(key);
  assert.ok(ms > 0 && ms <= 5000, `remaining=${ms}`);
});

test('decreaseTtl to a larger value: NotSet, remaining unchanged', async () => {
  const key = await setWithTtl('dec-larger', 10);
  assertIs(await ctx.client.decreaseTtl(c(), key, 120000), CacheDecreaseTtl.NotSet, 'decreaseTtl(120000)');
  const ms = await remaining(key);
  assert.ok(ms > 0 && ms <= 10000, `remaining=${ms} should still be <= 10000`);
});

test('decreaseTtl on a missing key: Miss', async () => {
  assertIs(await ctx.client.decreaseTtl(c(), k('dec-missing'), 5000), CacheDecreaseTtl.Miss);
});

test('TTL calls on an unknown cache: Error NOT_FOUND_ERROR', async () => {
  const unknown = uniqueName('ttl-no-such-cache');
  assertError(await ctx.client.itemGetTtl(unknown, 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'itemGetTtl');
  assertError(await ctx.client.updateTtl(unknown, 'k', 1000), MomentoErrorCode.NOT_FOUND_ERROR, 'updateTtl');
  assertError(await ctx.client.increaseTtl(unknown, 'k', 1000), MomentoErrorCode.NOT_FOUND_ERROR, 'increaseTtl');
  assertError(await ctx.client.decreaseTtl(unknown, 'k', 1000), MomentoErrorCode.NOT_FOUND_ERROR, 'decreaseTtl');
  assertError(await ctx.client.itemGetType(unknown, 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'itemGetType');
});

// ---------------------------------------------------------------------------------------------
// itemGetType

test('itemGetType on a scalar: Hit with ItemType.SCALAR', async () => {
  const key = await setWithTtl('type', 60);
  const hit = assertIs(await ctx.client.itemGetType(c(), key), CacheItemGetType.Hit, 'itemGetType(scalar)');
  assert.equal(hit.itemType(), ItemType.SCALAR);
});

test('itemGetType on scalars created by increment and setIfAbsent: SCALAR', async () => {
  const inc = k('type-inc');
  assert.equal((await ctx.client.increment(c(), inc, 1)).type, 'Success');
  assert.equal(assertIs(await ctx.client.itemGetType(c(), inc), CacheItemGetType.Hit).itemType(), ItemType.SCALAR);
  const sia = k('type-sia');
  assert.equal((await ctx.client.setIfAbsent(c(), sia, 'x')).type, 'Stored');
  assert.equal(assertIs(await ctx.client.itemGetType(c(), sia), CacheItemGetType.Hit).itemType(), ItemType.SCALAR);
});

test('itemGetType on a missing key: Miss', async () => {
  assertIs(await ctx.client.itemGetType(c(), k('type-missing')), CacheItemGetType.Miss);
});
