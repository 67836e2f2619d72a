// Size limits: Momento's item size limit is 5 MB (key + value). The upstream SDK test
// (large-messages.test.ts) requires a 5,000,000-byte value to round-trip and a 5,300,000-byte set
// to fail with RESOURCE_EXHAUSTED (LIMIT_EXCEEDED_ERROR).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';

import {CacheGet, CacheSet} from '@gomomento/sdk';

import {useSetsuna, assertIs, assertError, MomentoErrorCode} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'limits'});
const c = () => ctx.cacheName;

function pattern(size) {
  const buf = new Uint8Array(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + (i >> 8)) & 0xff;
  return buf;
}

test('a 5,000,000-byte value (47-byte key, as in the upstream SDK test) round-trips byte-exactly', async () => {
  const key = `js-5mb-key-${randomUUID()}`; // same shape as upstream large-messages.test.ts
  const value = pattern(5_000_000);
  assertIs(await ctx.client.set(c(), key, value), CacheSet.Success, `set 5,000,000 bytes under a ${key.length}-byte key`);
  const hit = assertIs(await ctx.client.get(c(), key), CacheGet.Hit, 'get 5,000,000 bytes');
  const got = hit.valueUint8Array();
  assert.equal(got.length, value.length, 'length');
  assert.ok(Buffer.from(got).equals(Buffer.from(value)), 'contents differ');
});

let oversizedResp;

test('a 5,300,000-byte set: Error LIMIT_EXCEEDED_ERROR, nothing stored, server keeps serving', async () => {
  const value = pattern(5_300_000);
  oversizedResp = await ctx.client.set(c(), 'big-5300000', value);
  assertIs(oversizedResp, CacheSet.Error, 'set 5,300,000 bytes');
  assertError(oversizedResp, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'set 5,300,000 bytes');
  assert.match(oversizedResp.message(), /limit/i, 'SDK error message mentions a limit');

  assertIs(await ctx.client.get(c(), 'big-5300000'), CacheGet.Miss, 'oversized item must not be stored');
  assertIs(await ctx.client.set(c(), 'after-oversize', 'ok'), CacheSet.Success, 'small set afterwards');
  const hit = assertIs(await ctx.client.get(c(), 'after-oversize'), CacheGet.Hit, 'small get afterwards');
  assert.equal(hit.valueString(), 'ok');
});

test('oversized set message matches the upstream SDK test ("Request size limit exceeded"; status details contain "request limit")', async () => {
  assert.ok(oversizedResp && typeof oversizedResp.errorCode === 'function', 'the previous test produced no error response');
  const text = oversizedResp.toString();
  assert.match(text, /RESOURCE_EXHAUSTED/, `got: ${text}`);
  assert.match(text, /Request size limit exceeded for this account/, `got: ${text}`);
});

test('an oversized set does not clobber an existing value under the same key', async () => {
  assertIs(await ctx.client.set(c(), 'keep-me', 'original'), CacheSet.Success);
  const resp = await ctx.client.set(c(), 'keep-me', pattern(5_300_000));
  assertError(resp, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'oversized overwrite');
  const hit = assertIs(await ctx.client.get(c(), 'keep-me'), CacheGet.Hit);
  assert.equal(hit.valueString(), 'original');
});
