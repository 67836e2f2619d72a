// Control plane: ScsControl/CreateCache, DeleteCache, ListCaches, FlushCache.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {CacheFlush, CacheGet, CacheSet, CreateCache, DeleteCache, ListCaches} from '@gomomento/sdk';

import {useSetsuna, uniqueName, assertIs, assertError, MomentoErrorCode} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'control'});

async function listedNames() {
  const resp = assertIs(await ctx.client.listCaches(), ListCaches.Success, 'listCaches');
  return resp.getCaches().map(c => c.getName());
}

test('createCache: Success, then AlreadyExists for the same name', async () => {
  const name = ctx.track(uniqueName('control-dup'));
  assertIs(await ctx.client.createCache(name), CreateCache.Success, 'first createCache');
  const second = await ctx.client.createCache(name);
  assertIs(second, CreateCache.AlreadyExists, 'second createCache');
  assert.equal(second.type, 'AlreadyExists');
});

test('listCaches contains the created caches', async () => {
  const name = ctx.track(uniqueName('control-list'));
  assertIs(await ctx.client.createCache(name), CreateCache.Success);
  const names = await listedNames();
  assert.ok(names.includes(ctx.cacheName), `listCaches should include ${ctx.cacheName}; got ${JSON.stringify(names)}`);
  assert.ok(names.includes(name), `listCaches should include ${name}; got ${JSON.stringify(names)}`);
  assert.equal(new Set(names).size, names.length, 'no duplicate cache names in listCaches');
});

test('deleteCache of an unknown cache: Error NOT_FOUND_ERROR', async () => {
  const resp = await ctx.client.deleteCache(uniqueName('control-never-created'));
  assertIs(resp, DeleteCache.Error, 'deleteCache(unknown)');
  assertError(resp, MomentoErrorCode.NOT_FOUND_ERROR, 'deleteCache(unknown)');
});

test('deleteCache of a cache with data: Success; data calls then fail with NOT_FOUND_ERROR; name can be reused', async () => {
  const name = ctx.track(uniqueName('control-del'));
  assertIs(await ctx.client.createCache(name), CreateCache.Success);
  assertIs(await ctx.client.set(name, 'k', 'v'), CacheSet.Success);
  assertIs(await ctx.client.get(name, 'k'), CacheGet.Hit);

  assertIs(await ctx.client.deleteCache(name), DeleteCache.Success, 'deleteCache');
  assertError(await ctx.client.get(name, 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'get after deleteCache');
  assertError(await ctx.client.set(name, 'k', 'v2'), MomentoErrorCode.NOT_FOUND_ERROR, 'set after deleteCache');
  assert.ok(!(await listedNames()).includes(name), 'deleted cache must not be listed');
  assertError(await ctx.client.deleteCache(name), MomentoErrorCode.NOT_FOUND_ERROR, 'second deleteCache');

  // re-creating the same name gives a fresh, empty cache
  assertIs(await ctx.client.createCache(name), CreateCache.Success, 're-create');
  assertIs(await ctx.client.get(name, 'k'), CacheGet.Miss, 'get in re-created cache');
});

test('flushCache: data is gone, cache remains usable and listed', async () => {
  const name = ctx.cacheName;
  for (const k of ['a', 'b', 'c']) assertIs(await ctx.client.set(name, k, `v-${k}`), CacheSet.Success);
  assertIs(await ctx.client.flushCache(name), CacheFlush.Success, 'flushCache');
  for (const k of ['a', 'b', 'c']) assertIs(await ctx.client.get(name, k), CacheGet.Miss, `get(${k}) after flush`);
  assertIs(await ctx.client.set(name, 'a', 'again'), CacheSet.Success, 'set after flush');
  const hit = assertIs(await ctx.client.get(name, 'a'), CacheGet.Hit, 'get after set after flush');
  assert.equal(hit.valueString(), 'again');
  assert.ok((await listedNames()).includes(name), 'flushed cache is still listed');
});

test('flushCache only affects the named cache', async () => {
  const other = ctx.track(uniqueName('control-flush-other'));
  assertIs(await ctx.client.createCache(other), CreateCache.Success);
  assertIs(await ctx.client.set(ctx.cacheName, 'k', 'mine'), CacheSet.Success);
  assertIs(await ctx.client.set(other, 'k', 'theirs'), CacheSet.Success);
  assertIs(await ctx.client.flushCache(other), CacheFlush.Success);
  assertIs(await ctx.client.get(other, 'k'), CacheGet.Miss);
  const hit = assertIs(await ctx.client.get(ctx.cacheName, 'k'), CacheGet.Hit);
  assert.equal(hit.valueString(), 'mine');
});

test('flushCache of an unknown cache: Error NOT_FOUND_ERROR', async () => {
  const resp = await ctx.client.flushCache(uniqueName('control-never-created'));
  assertIs(resp, CacheFlush.Error, 'flushCache(unknown)');
  assertError(resp, MomentoErrorCode.NOT_FOUND_ERROR, 'flushCache(unknown)');
});

test('caches are isolated: same key in two caches holds different values', async () => {
  const other = ctx.track(uniqueName('control-iso'));
  assertIs(await ctx.client.createCache(other), CreateCache.Success);
  assertIs(await ctx.client.set(ctx.cacheName, 'shared-key', 'one'), CacheSet.Success);
  assertIs(await ctx.client.set(other, 'shared-key', 'two'), CacheSet.Success);
  assert.equal(assertIs(await ctx.client.get(ctx.cacheName, 'shared-key'), CacheGet.Hit).valueString(), 'one');
  assert.equal(assertIs(await ctx.client.get(other, 'shared-key'), CacheGet.Hit).valueString(), 'two');
});

test('createCache with a 300-character name: Error INVALID_ARGUMENT_ERROR, nothing created', async () => {
  const name = 'n'.repeat(300);
  ctx.track(name); // in case the server wrongly creates it
  const resp = await ctx.client.createCache(name);
  assertIs(resp, CreateCache.Error, 'createCache(300 chars)');
  assertError(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'createCache(300 chars)');
  assert.ok(!(await listedNames()).includes(name), 'invalid cache must not be listed');
});

test('createCache with an empty name is rejected client-side (no RPC)', async () => {
  const resp = await ctx.client.createCache('');
  assertError(resp, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'createCache("")');
});
