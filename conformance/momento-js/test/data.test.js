// Data plane scalars: Get, Set, Delete, GetBatch, SetBatch, KeysExist, Increment.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  CacheDelete,
  CacheGet,
  CacheGetBatch,
  CacheIncrement,
  CacheKeyExists,
  CacheKeysExist,
  CacheSet,
  CacheSetBatch,
} from '@gomomento/sdk';

import {useSetsuna, uniqueName, assertIs, assertError, assertAnyError, MomentoErrorCode, sleep} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'data'});
const c = () => ctx.cacheName;

let keyCounter = 0;
const k = (label = 'k') => `${label}-${++keyCounter}`;

async function getHit(key) {
  return assertIs(await ctx.client.get(c(), key), CacheGet.Hit, `get(${String(key)})`);
}

// ---------------------------------------------------------------------------------------------
// set / get / delete

test('set then get a string value', async () => {
  const key = k();
  assertIs(await ctx.client.set(c(), key, 'hello world'), CacheSet.Success, 'set');
  const hit = await getHit(key);
  assert.equal(hit.valueString(), 'hello world');
  assert.equal(hit.value(), 'hello world');
  assert.deepEqual([...hit.valueUint8Array()], [...new TextEncoder().encode('hello world')]);
});

test('unicode keys and values round-trip as UTF-8', async () => {
  const key = `ключ-🔑-${k()}`;
  const value = '値-✓-😀';
  assertIs(await ctx.client.set(c(), key, value), CacheSet.Success);
  assert.equal((await getHit(key)).valueString(), value);
  // the same key given as its UTF-8 bytes addresses the same item
  assert.equal((await getHit(new TextEncoder().encode(key))).valueString(), value);
});

test('set overwrites an existing value', async () => {
  const key = k();
  assertIs(await ctx.client.set(c(), key, 'v1'), CacheSet.Success);
  assertIs(await ctx.client.set(c(), key, 'v2'), CacheSet.Success);
  assert.equal((await getHit(key)).valueString(), 'v2');
});

test('binary Uint8Array keys and values (incl. 0x00 and 0xff) round-trip exactly', async () => {
  const key = new Uint8Array([0x00, 0x01, 0xff, 0xfe, 0x00, 0x80, 0x7f]);
  const value = new Uint8Array(256);
  for (let i = 0; i < 256; i++) value[i] = 255 - i; // starts with 0xff, ends with 0x00
  assertIs(await ctx.client.set(c(), key, value), CacheSet.Success, 'set(binary)');
  const hit = await getHit(key);
  assert.deepEqual([...hit.valueUint8Array()], [...value]);
});

test('binary keys that are invalid UTF-8 are distinct keys (no lossy string conversion)', async () => {
  const k1 = new Uint8Array([0xff]);
  const k2 = new Uint8Array([0xfe]);
  const k3 = new Uint8Array([0xc3]); // truncated UTF-8 sequence
  assertIs(await ctx.client.set(c(), k1, 'ff'), CacheSet.Success);
  assertIs(await ctx.client.set(c(), k2, 'fe'), CacheSet.Success);
  assertIs(await ctx.client.set(c(), k3, 'c3'), CacheSet.Success);
  assert.equal((await getHit(k1)).valueString(), 'ff');
  assert.equal((await getHit(k2)).valueString(), 'fe');
  assert.equal((await getHit(k3)).valueString(), 'c3');
  // nor is a binary key confused with the U+FFFD replacement character
  assertIs(await ctx.client.get(c(), '\ufffd'), CacheGet.Miss, 'get(U+FFFD)');
});

test('key bytes are compared exactly: "a" and "a\\0" and "A" are different keys', async () => {
  const base = k('case');
  assertIs(await ctx.client.set(c(), base, 'lower'), CacheSet.Success);
  assertIs(await ctx.client.get(c(), base.toUpperCase()), CacheGet.Miss, 'upper-case key');
  assertIs(await ctx.client.get(c(), base + '\0'), CacheGet.Miss, 'key with trailing NUL');
  assertIs(await ctx.client.set(c(), base + '\0', 'nul'), CacheSet.Success);
  assert.equal((await getHit(base)).valueString(), 'lower');
  assert.equal((await getHit(base + '\0')).valueString(), 'nul');
});

test('empty value round-trips as an empty Hit', async () => {
  const key = k();
  assertIs(await ctx.client.set(c(), key, ''), CacheSet.Success);
  const hit = await getHit(key);
  assert.equal(hit.valueString(), '');
  assert.equal(hit.valueUint8Array().length, 0);
});

test('get of a missing key: Miss', async () => {
  const resp = await ctx.client.get(c(), k('never-set'));
  assertIs(resp, CacheGet.Miss, 'get(missing)');
  assert.equal(resp.type, 'Miss');
  assert.equal(resp.value(), undefined);
});

test('delete then get: Miss', async () => {
  const key = k();
  assertIs(await ctx.client.set(c(), key, 'v'), CacheSet.Success);
  assertIs(await ctx.client.delete(c(), key), CacheDelete.Success, 'delete');
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, 'get after delete');
});

test('delete of a missing key: Success', async () => {
  assertIs(await ctx.client.delete(c(), k('never-set')), CacheDelete.Success, 'delete(missing)');
});

test('data calls on an unknown cache: Error NOT_FOUND_ERROR', async () => {
  const unknown = uniqueName('data-no-such-cache');
  const get = await ctx.client.get(unknown, 'k');
  assertIs(get, CacheGet.Error, 'get');
  assertError(get, MomentoErrorCode.NOT_FOUND_ERROR, 'get(unknown cache)');
  assertError(await ctx.client.set(unknown, 'k', 'v'), MomentoErrorCode.NOT_FOUND_ERROR, 'set(unknown cache)');
  assertError(await ctx.client.delete(unknown, 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'delete(unknown cache)');
  assertError(await ctx.client.increment(unknown, 'k', 1), MomentoErrorCode.NOT_FOUND_ERROR, 'increment(unknown cache)');
  assertError(await ctx.client.keysExist(unknown, ['k']), MomentoErrorCode.NOT_FOUND_ERROR, 'keysExist(unknown cache)');
  assertError(await ctx.client.getBatch(unknown, ['k']), MomentoErrorCode.NOT_FOUND_ERROR, 'getBatch(unknown cache)');
  assertError(
    await ctx.client.setBatch(unknown, [{key: 'k', value: 'v'}]),
    MomentoErrorCode.NOT_FOUND_ERROR,
    'setBatch(unknown cache)'
  );
});

test('item expires after its TTL (set {ttl: 1})', async () => {
  const key = k('ttl');
  const keep = k('keep');
  assertIs(await ctx.client.set(c(), key, 'short-lived', {ttl: 1}), CacheSet.Success);
  assertIs(await ctx.client.set(c(), keep, 'long-lived', {ttl: 60}), CacheSet.Success);
  assert.equal((await getHit(key)).valueString(), 'short-lived');
  await sleep(1800);
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, 'get after TTL');
  const exists = assertIs(await ctx.client.keyExists(c(), key), CacheKeyExists.Success);
  assert.equal(exists.exists(), false, 'keyExists after TTL');
  assert.equal((await getHit(keep)).valueString(), 'long-lived');
});

test('set on an expired key starts a fresh item', async () => {
  const key = k('reuse');
  assertIs(await ctx.client.set(c(), key, 'old', {ttl: 1}), CacheSet.Success);
  await sleep(1800);
  assertIs(await ctx.client.set(c(), key, 'new', {ttl: 60}), CacheSet.Success);
  assert.equal((await getHit(key)).valueString(), 'new');
});

// ---------------------------------------------------------------------------------------------
// setBatch / getBatch

test('setBatch then getBatch: results in key order, misses in the middle', async () => {
  const a = k('ba');
  const b = k('bb');
  const d = k('bd');
  const missing = k('bmissing');
  const set = await ctx.client.setBatch(c(), [
    {key: a, value: 'A'},
    {key: b, value: 'B'},
    {key: d, value: 'D'},
  ]);
  assertIs(set, CacheSetBatch.Success, 'setBatch');
  assert.equal(set.results().length, 3);
  set.results().forEach((r, i) => assertIs(r, CacheSet.Success, `setBatch result ${i}`));

  const keys = [a, missing, b, missing, d];
  const got = assertIs(await ctx.client.getBatch(c(), keys), CacheGetBatch.Success, 'getBatch');
  const results = got.results();
  assert.equal(results.length, keys.length, 'one result per requested key');
  assert.equal(assertIs(results[0], CacheGet.Hit, 'result 0').valueString(), 'A');
  assertIs(results[1], CacheGet.Miss, 'result 1');
  assert.equal(assertIs(results[2], CacheGet.Hit, 'result 2').valueString(), 'B');
  assertIs(results[3], CacheGet.Miss, 'result 3');
  assert.equal(assertIs(results[4], CacheGet.Hit, 'result 4').valueString(), 'D');
  assert.deepEqual(got.values(), {[a]: 'A', [b]: 'B', [d]: 'D'});
});

test('getBatch preserves request order for many keys', async () => {
  const keys = [];
  const items = [];
  for (let i = 0; i < 50; i++) {
    const key = k(`order${i}`);
    keys.push(key);
    if (i % 3 !== 1) items.push({key, value: `value-${i}`});
  }
  assertIs(await ctx.client.setBatch(c(), items), CacheSetBatch.Success);
  const reversed = [...keys].reverse();
  const got = assertIs(await ctx.client.getBatch(c(), reversed), CacheGetBatch.Success);
  const results = got.results();
  assert.equal(results.length, reversed.length);
  reversed.forEach((key, j) => {
    const i = keys.indexOf(key);
    if (i % 3 === 1) {
      assertIs(results[j], CacheGet.Miss, `result for ${key}`);
    } else {
      assert.equal(assertIs(results[j], CacheGet.Hit, `result for ${key}`).valueString(), `value-${i}`);
    }
  });
});

test('setBatch with a Map and binary values; getBatch with binary keys', async () => {
  const k1 = new Uint8Array([0x00, 0xff, 0x10]);
  const k2 = new Uint8Array([0xff, 0x00]);
  const v1 = new Uint8Array([0xff, 0x00, 0xff]);
  const v2 = new Uint8Array([0x00]);
  assertIs(
    await ctx.client.setBatch(
      c(),
      new Map([
        [k1, v1],
        [k2, v2],
      ])
    ),
    CacheSetBatch.Success
  );
  const got = assertIs(await ctx.client.getBatch(c(), [k2, k1]), CacheGetBatch.Success);
  const [r2, r1] = got.results();
  assert.deepEqual([...assertIs(r2, CacheGet.Hit).valueUint8Array()], [...v2]);
  assert.deepEqual([...assertIs(r1, CacheGet.Hit).valueUint8Array()], [...v1]);
});

test('setBatch per-item ttl: the short-lived item expires, the other stays', async () => {
  const short = k('bshort');
  const long = k('blong');
  assertIs(
    await ctx.client.setBatch(c(), [
      {key: short, value: 's', ttl: 1},
      {key: long, value: 'l', ttl: 60},
    ]),
    CacheSetBatch.Success
  );
  await sleep(1800);
  const got = assertIs(await ctx.client.getBatch(c(), [short, long]), CacheGetBatch.Success);
  assertIs(got.results()[0], CacheGet.Miss, 'short-lived item');
  assert.equal(assertIs(got.results()[1], CacheGet.Hit, 'long-lived item').valueString(), 'l');
});

test('getBatch with no keys: Success with no results', async () => {
  const got = assertIs(await ctx.client.getBatch(c(), []), CacheGetBatch.Success, 'getBatch([])');
  assert.deepEqual(got.results(), []);
});

// ---------------------------------------------------------------------------------------------
// keyExists / keysExist

test('keysExist: booleans in request order; empty request gives []', async () => {
  const a = k('ea');
  const b = k('eb');
  assertIs(await ctx.client.set(c(), a, '1'), CacheSet.Success);
  assertIs(await ctx.client.set(c(), b, '2'), CacheSet.Success);
  const resp = assertIs(
    await ctx.client.keysExist(c(), [k('enope'), a, k('enope'), b, a]),
    CacheKeysExist.Success,
    'keysExist'
  );
  assert.deepEqual(resp.exists(), [false, true, false, true, true]);

  const empty = assertIs(await ctx.client.keysExist(c(), []), CacheKeysExist.Success, 'keysExist([])');
  assert.deepEqual(empty.exists(), []);
});

test('keyExists: true for present, false for missing and deleted keys', async () => {
  const key = k('ke');
  let r = assertIs(await ctx.client.keyExists(c(), key), CacheKeyExists.Success);
  assert.equal(r.exists(), false);
  assertIs(await ctx.client.set(c(), key, 'x'), CacheSet.Success);
  r = assertIs(await ctx.client.keyExists(c(), key), CacheKeyExists.Success);
  assert.equal(r.exists(), true);
  assertIs(await ctx.client.delete(c(), key), CacheDelete.Success);
  r = assertIs(await ctx.client.keyExists(c(), key), CacheKeyExists.Success);
  assert.equal(r.exists(), false);
});

// ---------------------------------------------------------------------------------------------
// increment

async function incr(key, amount, options) {
  return assertIs(await ctx.client.increment(c(), key, amount, options), CacheIncrement.Success, `increment(${key}, ${amount})`);
}

test('increment of a missing key creates it with value = amount', async () => {
  const key = k('inc-new');
  assert.equal((await incr(key, 5)).valueNumber(), 5);
  assert.equal((await getHit(key)).valueString(), '5');
});

test('increment with the default amount adds 1', async () => {
  const key = k('inc-default');
  assert.equal((await incr(key)).valueNumber(), 1);
  assert.equal((await incr(key)).valueNumber(), 2);
  assert.equal((await getHit(key)).valueString(), '2');
});

test("increment of '10' by 5 gives 15 (stored as a base-10 string)", async () => {
  const key = k('inc-10');
  assertIs(await ctx.client.set(c(), key, '10'), CacheSet.Success);
  assert.equal((await incr(key, 5)).valueNumber(), 15);
  assert.equal((await getHit(key)).valueString(), '15');
});

test('increment by a negative amount, crossing zero', async () => {
  const key = k('inc-neg');
  assertIs(await ctx.client.set(c(), key, '10'), CacheSet.Success);
  assert.equal((await incr(key, -25)).valueNumber(), -15);
  assert.equal((await getHit(key)).valueString(), '-15');
  assert.equal((await incr(key, 0)).valueNumber(), -15);
});

test("increment of a non-integer value ('abc', '1.5'): FAILED_PRECONDITION_ERROR, value unchanged", async () => {
  for (const bad of ['abc', '1.5']) {
    const key = k('inc-bad');
    assertIs(await ctx.client.set(c(), key, bad), CacheSet.Success);
    const resp = await ctx.client.increment(c(), key, 1);
    assertIs(resp, CacheIncrement.Error, `increment of '${bad}'`);
    assertError(resp, MomentoErrorCode.FAILED_PRECONDITION_ERROR, `increment of '${bad}'`);
    assert.equal((await getHit(key)).valueString(), bad);
  }
});

test('increment past int64 max: Error, stored value unchanged', async () => {
  const key = k('inc-overflow');
  const max = '9223372036854775807';
  assertIs(await ctx.client.set(c(), key, max), CacheSet.Success);
  const resp = await ctx.client.increment(c(), key, 1);
  assertAnyError(resp, 'increment overflow');
  assert.ok(
    [MomentoErrorCode.FAILED_PRECONDITION_ERROR, MomentoErrorCode.INVALID_ARGUMENT_ERROR].includes(resp.errorCode()),
    `overflow error code should be FAILED_PRECONDITION or INVALID_ARGUMENT, got ${resp.errorCode()}: ${resp.message()}`
  );
  assert.equal((await getHit(key)).valueString(), max);
});

test('increment with {ttl: 1} on a new key: the created item expires', async () => {
  const key = k('inc-ttl');
  assert.equal((await incr(key, 3, {ttl: 1})).valueNumber(), 3);
  await sleep(1800);
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, 'get after ttl');
});
