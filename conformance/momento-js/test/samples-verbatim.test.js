// Checks that the sample bodies in samples/cache-api-reference.ts are verbatim excerpts of the
// Momento Cache API reference seed. seeds/ holds a copy of shared/seeds/momento-cache-api-reference.txt
// so that the check runs in any clone. Needs no server.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';

import {loadSamples} from './harness.js';

test('samples module transpiles and exports all 23 sample functions', () => {
  const samples = loadSamples('./samples/cache-api-reference.ts');
  const names = Object.keys(samples).filter(n => n.startsWith('example_API_'));
  assert.equal(names.length, 23, names.join(' '));
  for (const n of names) assert.equal(typeof samples[n], 'function', n);
});

test('sample bodies are verbatim copies of the API reference', () => {
  const seed = readFileSync(new URL('../seeds/momento-cache-api-reference.txt', import.meta.url), 'utf8');
  const src = readFileSync(new URL('./samples/cache-api-reference.ts', import.meta.url), 'utf8');
  const re = /export async function (\w+)\(cacheClient: CacheClient, cacheName: string\) \{\n([\s\S]*?)\n\}\n/g;
  const nonVerbatim = new Set([
    'example_API_UpdateTtl',
    'example_API_IncreaseTtl',
    'example_API_DecreaseTtl',
    'example_API_ItemGetTtl',
  ]);
  let count = 0;
  for (const m of src.matchAll(re)) {
    if (nonVerbatim.has(m[1])) continue;
    count += 1;
    assert.ok(seed.includes(m[2]), `${m[1]} body is not a verbatim excerpt of the reference`);
  }
  assert.equal(count, 19, 'expected 19 verbatim JS samples');
});

test('auth sample bodies are verbatim copies of the API reference, but for the marked credential provider', () => {
  const seed = readFileSync(new URL('../seeds/momento-cache-api-reference.txt', import.meta.url), 'utf8');
  const src = readFileSync(new URL('./samples/auth-api-reference.ts', import.meta.url), 'utf8');
  const re = /export async function (\w+)\(authClient: AuthClient[^)]*\) \{\n([\s\S]*?)\n\}\n/g;
  const bodies = [...src.matchAll(re)];
  assert.equal(bodies.length, 2);
  for (const [, name, body] of bodies) {
    const original = body.replace(
      'CredentialProvider.fromString({apiKey: successResponse.apiKey, endpointOverrides})',
      'CredentialProvider.fromString({apiKey: successResponse.apiKey})'
    );
    assert.ok(seed.includes(original), `${name} is not a verbatim excerpt of the seed`);
  }
});
