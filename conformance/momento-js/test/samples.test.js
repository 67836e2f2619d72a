// The Momento Cache API reference samples, run verbatim (see samples/cache-api-reference.ts)
// against Setsuna. Each test prepares state, runs a sample (which must not throw), checks what
// it printed, and then checks the resulting server state with further SDK calls.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {CacheGet, CacheItemGetTtl, ListCaches} from '@gomomento/sdk';

import {
  useSetsuna,
  loadSamples,
  runSample,
  uniqueName,
  assertIs,
  assertError,
  MomentoErrorCode,
} from './harness.js';

const samples = loadSamples('./samples/cache-api-reference.ts');
const ctx = useSetsuna({caches: 1, prefix: 'samples'});

async function expectValue(key, expected) {
  const resp = await ctx.client.get(ctx.cacheName, key);
  assertIs(resp, CacheGet.Hit, `get(${key})`);
  assert.equal(resp.valueString(), expected, `value of ${key}`);
}

async function expectMiss(key) {
  assertIs(await ctx.client.get(ctx.cacheName, key), CacheGet.Miss, `get(${key})`);
}

async function reset(key, value) {
  await ctx.client.delete(ctx.cacheName, key);
  if (value !== undefined) {
    const r = await ctx.client.set(ctx.cacheName, key, value);
    assert.equal(r.type, 'Success', `setup set(${key}) failed: ${r.toString()}`);
  }
}

const run = fn => runSample(fn, ctx.client, ctx.cacheName);

// ---------------------------------------------------------------------------------------------
// Control API samples

test('sample CreateCache: Success, then AlreadyExists on second run', async () => {
  const name = ctx.track(uniqueName('sample-create'));
  let lines = await runSample(samples.example_API_CreateCache, ctx.client, name);
  assert.deepEqual(lines, [`Cache '${name}' created`]);
  lines = await runSample(samples.example_API_CreateCache, ctx.client, name);
  assert.deepEqual(lines, [`Cache '${name}' already exists`]);
  const list = assertIs(await ctx.client.listCaches(), ListCaches.Success, 'listCaches');
  assert.ok(list.getCaches().some(c => c.getName() === name), 'created cache is listed');
});

test('sample ListCaches: prints the caches, including ours', async () => {
  const lines = await run(samples.example_API_ListCaches);
  assert.equal(lines.length, 1);
  assert.ok(lines[0].startsWith('Caches:\n'), lines[0]);
  assert.ok(lines[0].split('\n').includes(ctx.cacheName), `listing should contain ${ctx.cacheName}: ${lines[0]}`);
});

test('sample FlushCache: removes data, keeps the cache', async () => {
  await reset('test-key', 'before-flush');
  const lines = await run(samples.example_API_FlushCache);
  assert.deepEqual(lines, [`Cache '${ctx.cacheName}' flushed`]);
  await expectMiss('test-key');
  await reset('test-key', 'after-flush');
  await expectValue('test-key', 'after-flush');
});

test('sample DeleteCache: deletes the cache; data calls then get NOT_FOUND', async () => {
  const name = ctx.track(uniqueName('sample-delete'));
  assert.equal((await ctx.client.createCache(name)).type, 'Success');
  await ctx.client.set(name, 'test-key', 'x');
  const lines = await runSample(samples.example_API_DeleteCache, ctx.client, name);
  assert.deepEqual(lines, [`Cache '${name}' deleted`]);
  assertError(await ctx.client.get(name, 'test-key'), MomentoErrorCode.NOT_FOUND_ERROR, 'get after deleteCache');
});

// ---------------------------------------------------------------------------------------------
// Data API samples

test('sample Set: stores test-key', async () => {
  await reset('test-key');
  const lines = await run(samples.example_API_Set);
  assert.deepEqual(lines, ["Key 'test-key' stored successfully"]);
  await expectValue('test-key', 'test-value');
});

test('sample Get: hit and miss branches', async () => {
  await reset('test-key', 'test-value');
  let lines = await run(samples.example_API_Get);
  assert.deepEqual(lines, ['cache hit: test-value', "Retrieved value for key 'test-key': test-value"]);
  await reset('test-key');
  lines = await run(samples.example_API_Get);
  assert.deepEqual(lines, ['cache hit: undefined', `Key 'test-key' was not found in cache '${ctx.cacheName}'`]);
});

test('sample SetBatch: stores the four pairs', async () => {
  for (const k of ['abc', 'xyz', '123', '321']) await reset(k);
  const lines = await run(samples.example_API_SetBatch);
  assert.deepEqual(lines, ['Keys and values stored successfully']);
  await expectValue('abc', '123');
  await expectValue('xyz', '321');
  await expectValue('123', 'xyz');
  await expectValue('321', 'abc');
});

test('sample GetBatch: retrieves the four pairs in order', async () => {
  const expected = {abc: '123', xyz: '321', 123: 'xyz', 321: 'abc'};
  for (const [k, v] of Object.entries(expected)) await reset(k, v);
  const lines = await run(samples.example_API_GetBatch);
  const once = ['abc', 'xyz', '123', '321'].map(k => `Retrieved value for key '${k}': ${expected[k]}`);
  assert.deepEqual(lines, [...once, ...once]);
});

test('sample Delete: removes test-key', async () => {
  await reset('test-key', 'doomed');
  const lines = await run(samples.example_API_Delete);
  assert.deepEqual(lines, ["Key 'test-key' deleted successfully"]);
  await expectMiss('test-key');
  // deleting again (missing key) is still a success
  const again = await run(samples.example_API_Delete);
  assert.deepEqual(again, ["Key 'test-key' deleted successfully"]);
});

test('sample Increment: 10 + 1 = 11', async () => {
  await reset('test-key');
  const lines = await run(samples.example_API_Increment);
  assert.deepEqual(lines, ["Key 'test-key' incremented successfully. New value in key test-key: 11"]);
  await expectValue('test-key', '11');
});

test('sample ItemGetType: SCALAR for a string item, miss branch otherwise', async () => {
  await reset('test-key', 'scalar');
  let lines = await run(samples.example_API_ItemGetType);
  assert.deepEqual(lines, ['Item type retrieved successfully: SCALAR']);
  await reset('test-key');
  lines = await run(samples.example_API_ItemGetType);
  // the sample uses a plain (non-template) string, so ${cacheName} is printed literally
  assert.deepEqual(lines, ["Key 'test-key' was not found in cache '${cacheName}'"]);
});

test('sample KeyExists: true when present, false when absent', async () => {
  await reset('test-key', 'here');
  let lines = await run(samples.example_API_KeyExists);
  assert.deepEqual(lines, ["Does 'test-key' exist in the cache? true"]);
  await reset('test-key');
  lines = await run(samples.example_API_KeyExists);
  assert.deepEqual(lines, ["Does 'test-key' exist in the cache? false"]);
});

test('sample KeysExist: per-key booleans in request order', async () => {
  await reset('test-key1', 'one');
  await reset('test-key2');
  let lines = await run(samples.example_API_KeysExist);
  assert.deepEqual(lines, ["Do 'test-key1' and 'test-key2' exist in the cache? [ true, false ]"]);
  await reset('test-key1');
  await reset('test-key2', 'two');
  lines = await run(samples.example_API_KeysExist);
  assert.deepEqual(lines, ["Do 'test-key1' and 'test-key2' exist in the cache? [ false, true ]"]);
});

// ---------------------------------------------------------------------------------------------
// CAS samples

const STORED = "Field 'test-field' set in key 'test-key'";

test('sample SetIfAbsent: stores when absent, not when present', async () => {
  await reset('test-key');
  let lines = await run(samples.example_API_SetIfAbsent);
  assert.deepEqual(lines, [STORED]);
  await expectValue('test-key', 'test-field');
  await reset('test-key', 'existing');
  lines = await run(samples.example_API_SetIfAbsent);
  assert.deepEqual(lines, [
    `Key 'test-key' already exists in cache ${ctx.cacheName}, so we did not overwrite it`,
  ]);
  await expectValue('test-key', 'existing');
});

test('sample SetIfPresent: not stored when absent, stored when present', async () => {
  await reset('test-key');
  let lines = await run(samples.example_API_SetIfPresent);
  assert.deepEqual(lines, [`Key 'test-key' does not exist in cache ${ctx.cacheName}, so we did not set the field`]);
  await expectMiss('test-key');
  await reset('test-key', 'existing');
  lines = await run(samples.example_API_SetIfPresent);
  assert.deepEqual(lines, [STORED]);
  await expectValue('test-key', 'test-field');
});

test('sample SetIfEqual: stored only when the current value equals value-to-check', async () => {
  const notStored = "Value of key 'test-key' does not equal 'value-to-check', so we did not set the field";
  await reset('test-key');
  assert.deepEqual(await run(samples.example_API_SetIfEqual), [notStored]);
  await expectMiss('test-key');
  await reset('test-key', 'something-else');
  assert.deepEqual(await run(samples.example_API_SetIfEqual), [notStored]);
  await expectValue('test-key', 'something-else');
  await reset('test-key', 'value-to-check');
  assert.deepEqual(await run(samples.example_API_SetIfEqual), [STORED]);
  await expectValue('test-key', 'test-field');
});

test('sample SetIfNotEqual: stored when absent or different, not when equal', async () => {
  const notStored = "Value of key 'test-key' equals 'value-to-check', so we did not set the field";
  await reset('test-key');
  assert.deepEqual(await run(samples.example_API_SetIfNotEqual), [STORED]);
  await expectValue('test-key', 'test-field');
  await reset('test-key', 'value-to-check');
  assert.deepEqual(await run(samples.example_API_SetIfNotEqual), [notStored]);
  await expectValue('test-key', 'value-to-check');
  await reset('test-key', 'something-else');
  assert.deepEqual(await run(samples.example_API_SetIfNotEqual), [STORED]);
  await expectValue('test-key', 'test-field');
});

test('sample SetIfPresentAndNotEqual: stored only when present and different', async () => {
  const notStored = `Key 'test-key' does not exist in cache ${ctx.cacheName} or equals 'value-to-check', so we did not set the field`;
  await reset('test-key');
  assert.deepEqual(await run(samples.example_API_SetIfPresentAndNotEqual), [notStored]);
  await expectMiss('test-key');
  await reset('test-key', 'value-to-check');
  assert.deepEqual(await run(samples.example_API_SetIfPresentAndNotEqual), [notStored]);
  await expectValue('test-key', 'value-to-check');
  await reset('test-key', 'something-else');
  assert.deepEqual(await run(samples.example_API_SetIfPresentAndNotEqual), [STORED]);
  await expectValue('test-key', 'test-field');
});

test('sample SetIfAbsentOrEqual: stored when absent or equal, not when different', async () => {
  const notStored = `Key 'test-key' exists in cache ${ctx.cacheName} and is not equal to 'value-to-check', so we did not set the field`;
  await reset('test-key');
  assert.deepEqual(await run(samples.example_API_SetIfAbsentOrEqual), [STORED]);
  await expectValue('test-key', 'test-field');
  await reset('test-key', 'something-else');
  assert.deepEqual(await run(samples.example_API_SetIfAbsentOrEqual), [notStored]);
  await expectValue('test-key', 'something-else');
  await reset('test-key', 'value-to-check');
  assert.deepEqual(await run(samples.example_API_SetIfAbsentOrEqual), [STORED]);
  await expectValue('test-key', 'test-field');
});

// ---------------------------------------------------------------------------------------------
// TTL samples (JS equivalents of the Go samples)

async function remainingTtl(key) {
  const r = assertIs(await ctx.client.itemGetTtl(ctx.cacheName, key), CacheItemGetTtl.Hit, `itemGetTtl(${key})`);
  return r.remainingTtlMillis();
}

test('TTL samples (JS equivalents): updateTtl, increaseTtl, decreaseTtl, itemGetTtl on a present key', async () => {
  await reset('key', 'v'); // default TTL 60 s

  assert.deepEqual(await run(samples.example_API_UpdateTtl), ['Successfully updated TTL for key']);
  let ttl = await remainingTtl('key');
  assert.ok(ttl > 0 && ttl <= 30000, `after updateTtl(30000) remaining=${ttl}`);

  assert.deepEqual(await run(samples.example_API_IncreaseTtl), ['Successfully increased TTL for key']);
  ttl = await remainingTtl('key');
  assert.ok(ttl > 30000 && ttl <= 120000, `after increaseTtl(120000) remaining=${ttl}`);

  assert.deepEqual(await run(samples.example_API_DecreaseTtl), ['Successfully decreased TTL for key']);
  ttl = await remainingTtl('key');
  assert.ok(ttl > 0 && ttl <= 10000, `after decreaseTtl(10000) remaining=${ttl}`);

  const lines = await run(samples.example_API_ItemGetTtl);
  assert.equal(lines.length, 1);
  const m = /^TTL for key is (\d+)$/.exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.ok(Number(m[1]) > 0 && Number(m[1]) <= 10000, lines[0]);
  await expectValue('key', 'v');
});

test('TTL samples (JS equivalents): miss branches on an absent key', async () => {
  await reset('key');
  assert.deepEqual(await run(samples.example_API_UpdateTtl), ['Key does not exist in cache']);
  assert.deepEqual(await run(samples.example_API_IncreaseTtl), ['Key does not exist in cache']);
  assert.deepEqual(await run(samples.example_API_DecreaseTtl), ['Key does not exist in cache']);
  assert.deepEqual(await run(samples.example_API_ItemGetTtl), ['Key does not exist in cache']);
  await expectMiss('key');
});
