// Check-and-set family: Scs/SetIf (setIfAbsent, setIfPresent, setIfEqual, setIfNotEqual,
// setIfPresentAndNotEqual, setIfAbsentOrEqual, deprecated setIfNotExists) and Scs/SetIfHash +
// Scs/GetWithHash (setWithHash, getWithHash, setIf{PresentAndHash,AbsentOrHash}{Equal,NotEqual}).

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  CacheGet,
  CacheSet,
  CacheSetIfAbsent,
  CacheSetIfPresent,
  CacheSetIfEqual,
  CacheSetIfNotEqual,
  CacheSetIfPresentAndNotEqual,
  CacheSetIfAbsentOrEqual,
  CacheSetIfNotExists,
  CacheGetWithHash,
  CacheSetWithHash,
  CacheSetIfPresentAndHashEqual,
  CacheSetIfPresentAndHashNotEqual,
  CacheSetIfAbsentOrHashEqual,
  CacheSetIfAbsentOrHashNotEqual,
} from '@gomomento/sdk';

import {useSetsuna, assertIs, assertError, MomentoErrorCode, uniqueName, sleep} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'cas'});
const c = () => ctx.cacheName;

let keyCounter = 0;
const k = (label = 'k') => `${label}-${++keyCounter}`;

async function absentKey(label) {
  const key = k(label);
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, `precondition: ${key} absent`);
  return key;
}

async function presentKey(label, value) {
  const key = k(label);
  assertIs(await ctx.client.set(c(), key, value), CacheSet.Success, `precondition: set ${key}`);
  return key;
}

async function expectValue(key, expected) {
  const hit = assertIs(await ctx.client.get(c(), key), CacheGet.Hit, `get(${key})`);
  assert.equal(hit.valueString(), expected, `value of ${key}`);
}

async function expectMiss(key) {
  assertIs(await ctx.client.get(c(), key), CacheGet.Miss, `get(${key})`);
}

// ---------------------------------------------------------------------------------------------
// SetIf

test('setIfAbsent: absent -> Stored; present -> NotStored (value unchanged); twice in a row', async () => {
  const key = await absentKey('absent');
  assertIs(await ctx.client.setIfAbsent(c(), key, 'first'), CacheSetIfAbsent.Stored, 'first setIfAbsent');
  await expectValue(key, 'first');
  assertIs(await ctx.client.setIfAbsent(c(), key, 'second'), CacheSetIfAbsent.NotStored, 'second setIfAbsent');
  await expectValue(key, 'first');

  const existing = await presentKey('absent-present', 'orig');
  assertIs(await ctx.client.setIfAbsent(c(), existing, 'new'), CacheSetIfAbsent.NotStored);
  await expectValue(existing, 'orig');
});

test('setIfAbsent honours {ttl}: stored item expires', async () => {
  const key = await absentKey('absent-ttl');
  assertIs(await ctx.client.setIfAbsent(c(), key, 'v', {ttl: 1}), CacheSetIfAbsent.Stored);
  await sleep(1800);
  await expectMiss(key);
  // and once expired the key counts as absent again
  assertIs(await ctx.client.setIfAbsent(c(), key, 'again'), CacheSetIfAbsent.Stored, 'setIfAbsent after expiry');
  await expectValue(key, 'again');
});

test('setIfNotExists (deprecated alias): Stored then NotStored', async () => {
  const key = await absentKey('notexists');
  assertIs(await ctx.client.setIfNotExists(c(), key, 'one'), CacheSetIfNotExists.Stored);
  assertIs(await ctx.client.setIfNotExists(c(), key, 'two'), CacheSetIfNotExists.NotStored);
  await expectValue(key, 'one');
});

test('setIfPresent: absent -> NotStored (still absent); present -> Stored', async () => {
  const key = await absentKey('present');
  assertIs(await ctx.client.setIfPresent(c(), key, 'v'), CacheSetIfPresent.NotStored, 'setIfPresent(absent)');
  await expectMiss(key);
  const existing = await presentKey('present-yes', 'orig');
  assertIs(await ctx.client.setIfPresent(c(), existing, 'new'), CacheSetIfPresent.Stored, 'setIfPresent(present)');
  await expectValue(existing, 'new');
});

test('setIfEqual: absent -> NotStored; equal -> Stored; not equal -> NotStored', async () => {
  const key = await absentKey('eq');
  assertIs(await ctx.client.setIfEqual(c(), key, 'new', 'expected'), CacheSetIfEqual.NotStored, 'absent');
  await expectMiss(key);

  const eq = await presentKey('eq-same', 'expected');
  assertIs(await ctx.client.setIfEqual(c(), eq, 'new', 'expected'), CacheSetIfEqual.Stored, 'equal');
  await expectValue(eq, 'new');

  const ne = await presentKey('eq-diff', 'other');
  assertIs(await ctx.client.setIfEqual(c(), ne, 'new', 'expected'), CacheSetIfEqual.NotStored, 'not equal');
  await expectValue(ne, 'other');

  // prefix / superstring are not equal
  const pre = await presentKey('eq-prefix', 'expected-and-more');
  assertIs(await ctx.client.setIfEqual(c(), pre, 'new', 'expected'), CacheSetIfEqual.NotStored, 'superstring');
  await expectValue(pre, 'expected-and-more');
});

test('setIfNotEqual: absent -> Stored; equal -> NotStored; not equal -> Stored', async () => {
  const key = await absentKey('ne');
  assertIs(await ctx.client.setIfNotEqual(c(), key, 'new', 'forbidden'), CacheSetIfNotEqual.Stored, 'absent');
  await expectValue(key, 'new');

  const eq = await presentKey('ne-same', 'forbidden');
  assertIs(await ctx.client.setIfNotEqual(c(), eq, 'new', 'forbidden'), CacheSetIfNotEqual.NotStored, 'equal');
  await expectValue(eq, 'forbidden');

  const ne = await presentKey('ne-diff', 'other');
  assertIs(await ctx.client.setIfNotEqual(c(), ne, 'new', 'forbidden'), CacheSetIfNotEqual.Stored, 'not equal');
  await expectValue(ne, 'new');
});

test('setIfPresentAndNotEqual: absent -> NotStored; equal -> NotStored; not equal -> Stored', async () => {
  const key = await absentKey('pne');
  assertIs(
    await ctx.client.setIfPresentAndNotEqual(c(), key, 'new', 'forbidden'),
    CacheSetIfPresentAndNotEqual.NotStored,
    'absent'
  );
  await expectMiss(key);

  const eq = await presentKey('pne-same', 'forbidden');
  assertIs(
    await ctx.client.setIfPresentAndNotEqual(c(), eq, 'new', 'forbidden'),
    CacheSetIfPresentAndNotEqual.NotStored,
    'equal'
  );
  await expectValue(eq, 'forbidden');

  const ne = await presentKey('pne-diff', 'other');
  assertIs(
    await ctx.client.setIfPresentAndNotEqual(c(), ne, 'new', 'forbidden'),
    CacheSetIfPresentAndNotEqual.Stored,
    'not equal'
  );
  await expectValue(ne, 'new');
});

test('setIfAbsentOrEqual: absent -> Stored; equal -> Stored; not equal -> NotStored', async () => {
  const key = await absentKey('aoe');
  assertIs(await ctx.client.setIfAbsentOrEqual(c(), key, 'new', 'expected'), CacheSetIfAbsentOrEqual.Stored, 'absent');
  await expectValue(key, 'new');

  const eq = await presentKey('aoe-same', 'expected');
  assertIs(await ctx.client.setIfAbsentOrEqual(c(), eq, 'new', 'expected'), CacheSetIfAbsentOrEqual.Stored, 'equal');
  await expectValue(eq, 'new');

  const ne = await presentKey('aoe-diff', 'other');
  assertIs(
    await ctx.client.setIfAbsentOrEqual(c(), ne, 'new', 'expected'),
    CacheSetIfAbsentOrEqual.NotStored,
    'not equal'
  );
  await expectValue(ne, 'other');
});

test('setIf* compare binary values byte-exactly', async () => {
  const key = new Uint8Array([0x00, 0xff, 0x01]);
  const v = new Uint8Array([0xff, 0x00, 0x80]);
  const almost = new Uint8Array([0xff, 0x00, 0x81]);
  assertIs(await ctx.client.set(c(), key, v), CacheSet.Success);
  assertIs(await ctx.client.setIfEqual(c(), key, 'x', almost), CacheSetIfEqual.NotStored, 'setIfEqual(almost)');
  assertIs(await ctx.client.setIfEqual(c(), key, 'x', v), CacheSetIfEqual.Stored, 'setIfEqual(exact)');
  const hit = assertIs(await ctx.client.get(c(), key), CacheGet.Hit);
  assert.equal(hit.valueString(), 'x');
});

test('setIf* on an unknown cache: Error NOT_FOUND_ERROR', async () => {
  const unknown = uniqueName('cas-no-such-cache');
  assertError(await ctx.client.setIfAbsent(unknown, 'k', 'v'), MomentoErrorCode.NOT_FOUND_ERROR, 'setIfAbsent');
  assertError(await ctx.client.setIfEqual(unknown, 'k', 'v', 'x'), MomentoErrorCode.NOT_FOUND_ERROR, 'setIfEqual');
  assertError(await ctx.client.setWithHash(unknown, 'k', 'v'), MomentoErrorCode.NOT_FOUND_ERROR, 'setWithHash');
  assertError(await ctx.client.getWithHash(unknown, 'k'), MomentoErrorCode.NOT_FOUND_ERROR, 'getWithHash');
});

// ---------------------------------------------------------------------------------------------
// Hash family

const bytes = u8 => [...u8];
const WRONG_HASH = new TextEncoder().encode('definitely-not-the-hash');

async function setWithHash(key, value) {
  const r = assertIs(await ctx.client.setWithHash(c(), key, value), CacheSetWithHash.Stored, `setWithHash(${key})`);
  const h = r.hashUint8Array();
  assert.ok(h instanceof Uint8Array && h.length > 0, 'setWithHash returns a non-empty hash');
  return h;
}

async function getHash(key) {
  return assertIs(await ctx.client.getWithHash(c(), key), CacheGetWithHash.Hit, `getWithHash(${key})`).hashUint8Array();
}

test('setWithHash / getWithHash: value and hash round-trip; hash deterministic per value', async () => {
  const key = k('hash');
  const h1 = await setWithHash(key, 'value-1');
  const hit = assertIs(await ctx.client.getWithHash(c(), key), CacheGetWithHash.Hit, 'getWithHash');
  assert.equal(hit.valueString(), 'value-1');
  assert.deepEqual(bytes(hit.hashUint8Array()), bytes(h1), 'getWithHash hash == setWithHash hash');
  // plain get sees the value too
  assert.equal(assertIs(await ctx.client.get(c(), key), CacheGet.Hit).valueString(), 'value-1');

  const h1again = await setWithHash(key, 'value-1');
  assert.deepEqual(bytes(h1again), bytes(h1), 'same value gives the same hash');
  const h2 = await setWithHash(key, 'value-2');
  assert.notDeepEqual(bytes(h2), bytes(h1), 'different value gives a different hash');
  assert.deepEqual(bytes(await getHash(key)), bytes(h2));
});

test('getWithHash of a missing key: Miss', async () => {
  const resp = await ctx.client.getWithHash(c(), k('hash-missing'));
  assertIs(resp, CacheGetWithHash.Miss, 'getWithHash(missing)');
});

test('getWithHash of a value written with plain set: Hit with a hash', async () => {
  const key = await presentKey('hash-plain', 'plain');
  const hit = assertIs(await ctx.client.getWithHash(c(), key), CacheGetWithHash.Hit);
  assert.equal(hit.valueString(), 'plain');
  assert.ok(hit.hashUint8Array().length > 0, 'non-empty hash');
});

test('setWithHash honours {ttl}', async () => {
  const key = k('hash-ttl');
  assertIs(await ctx.client.setWithHash(c(), key, 'v', {ttl: 1}), CacheSetWithHash.Stored);
  await sleep(1800);
  assertIs(await ctx.client.getWithHash(c(), key), CacheGetWithHash.Miss, 'after ttl');
});

test('setIfPresentAndHashEqual: absent -> NotStored; matching hash -> Stored (new hash); wrong hash -> NotStored', async () => {
  const absent = await absentKey('phe');
  assertIs(
    await ctx.client.setIfPresentAndHashEqual(c(), absent, 'v', WRONG_HASH),
    CacheSetIfPresentAndHashEqual.NotStored,
    'absent'
  );
  await expectMiss(absent);

  const key = k('phe-present');
  const h = await setWithHash(key, 'old');
  const stored = assertIs(
    await ctx.client.setIfPresentAndHashEqual(c(), key, 'new', h),
    CacheSetIfPresentAndHashEqual.Stored,
    'matching hash'
  );
  await expectValue(key, 'new');
  const newHash = stored.hashUint8Array();
  assert.deepEqual(bytes(await getHash(key)), bytes(newHash), 'returned new hash == getWithHash hash');

  assertIs(
    await ctx.client.setIfPresentAndHashEqual(c(), key, 'newer', h),
    CacheSetIfPresentAndHashEqual.NotStored,
    'stale hash'
  );
  await expectValue(key, 'new');
});

test('setIfPresentAndHashNotEqual: absent -> NotStored; matching hash -> NotStored; other hash -> Stored', async () => {
  const absent = await absentKey('phne');
  assertIs(
    await ctx.client.setIfPresentAndHashNotEqual(c(), absent, 'v', WRONG_HASH),
    CacheSetIfPresentAndHashNotEqual.NotStored,
    'absent'
  );
  await expectMiss(absent);

  const key = k('phne-present');
  const h = await setWithHash(key, 'old');
  assertIs(
    await ctx.client.setIfPresentAndHashNotEqual(c(), key, 'new', h),
    CacheSetIfPresentAndHashNotEqual.NotStored,
    'matching hash'
  );
  await expectValue(key, 'old');
  const stored = assertIs(
    await ctx.client.setIfPresentAndHashNotEqual(c(), key, 'new', WRONG_HASH),
    CacheSetIfPresentAndHashNotEqual.Stored,
    'other hash'
  );
  await expectValue(key, 'new');
  assert.deepEqual(bytes(await getHash(key)), bytes(stored.hashUint8Array()));
});

test('setIfAbsentOrHashEqual: absent -> Stored; matching hash -> Stored; other hash -> NotStored', async () => {
  const absent = await absentKey('ahe');
  const s1 = assertIs(
    await ctx.client.setIfAbsentOrHashEqual(c(), absent, 'first', WRONG_HASH),
    CacheSetIfAbsentOrHashEqual.Stored,
    'absent'
  );
  await expectValue(absent, 'first');
  assert.deepEqual(bytes(await getHash(absent)), bytes(s1.hashUint8Array()));

  const h = await getHash(absent);
  assertIs(
    await ctx.client.setIfAbsentOrHashEqual(c(), absent, 'second', h),
    CacheSetIfAbsentOrHashEqual.Stored,
    'matching hash'
  );
  await expectValue(absent, 'second');
  assertIs(
    await ctx.client.setIfAbsentOrHashEqual(c(), absent, 'third', WRONG_HASH),
    CacheSetIfAbsentOrHashEqual.NotStored,
    'other hash'
  );
  await expectValue(absent, 'second');
});

test('setIfAbsentOrHashNotEqual: absent -> Stored; matching hash -> NotStored; other hash -> Stored', async () => {
  const absent = await absentKey('ahne');
  assertIs(
    await ctx.client.setIfAbsentOrHashNotEqual(c(), absent, 'first', WRONG_HASH),
    CacheSetIfAbsentOrHashNotEqual.Stored,
    'absent'
  );
  await expectValue(absent, 'first');

  const h = await getHash(absent);
  assertIs(
    await ctx.client.setIfAbsentOrHashNotEqual(c(), absent, 'second', h),
    CacheSetIfAbsentOrHashNotEqual.NotStored,
    'matching hash'
  );
  await expectValue(absent, 'first');
  assertIs(
    await ctx.client.setIfAbsentOrHashNotEqual(c(), absent, 'third', WRONG_HASH),
    CacheSetIfAbsentOrHashNotEqual.Stored,
    'other hash'
  );
  await expectValue(absent, 'third');
});
