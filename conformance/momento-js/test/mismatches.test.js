// Issue 12's mismatches with what the official suites assert, each through the official SDK (and,
// for a malformed body the SDK cannot send, through the grpc-js it ships).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

import {
  AuthClient,
  CacheGetBatch,
  CacheListFetch,
  CredentialProvider,
  ExpiresIn,
  GenerateApiKey,
  TokenScopes,
} from '@gomomento/sdk';

import {useSetsuna, uniqueName, assertIs, assertError, MomentoErrorCode, setsunaBin, runCommand, startProcess, freePort, sleep} from './harness.js';

const grpc = createRequire(import.meta.url)('@grpc/grpc-js');
const ctx = useSetsuna({caches: 1, prefix: 'mismatch'});

test('sortedSetUnionStore with no sources: INVALID_ARGUMENT', async () => {
  assertError(await ctx.client.sortedSetUnionStore(ctx.cacheName, 'dest', []), MomentoErrorCode.INVALID_ARGUMENT_ERROR);
});

test('getBatch with no keys on a missing cache: NOT_FOUND', async () => {
  assertError(await ctx.client.getBatch(uniqueName('no-cache'), []), MomentoErrorCode.NOT_FOUND_ERROR);
  assertIs(await ctx.client.getBatch(ctx.cacheName, []), CacheGetBatch.Success, 'on an existing cache');
});

test('listFetch whose range selects nothing: Miss', async () => {
  await ctx.client.listConcatenateBack(ctx.cacheName, 'list', ['a', 'b']);
  assertIs(await ctx.client.listFetch(ctx.cacheName, 'list', {startIndex: 5, endIndex: 9}), CacheListFetch.Miss);
  assertIs(await ctx.client.listFetch(ctx.cacheName, 'list', {startIndex: 0, endIndex: 1}), CacheListFetch.Hit);
});

test('a malformed protobuf body: INVALID_ARGUMENT, and the server keeps serving', async () => {
  const client = new grpc.Client(`127.0.0.1:${ctx.port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('cache', ctx.cacheName);
  const call = body =>
    new Promise(resolve =>
      client.makeUnaryRequest('/cache_client.Scs/Get', b => b, b => b, body, md, (err, resp) => resolve(err ? err.code : 0))
    );
  assert.equal(await call(Buffer.from([0x0a, 0xff, 0xff, 0xff])), grpc.status.INVALID_ARGUMENT);
  assert.equal(await call(Buffer.from([0x0a, 0x01, 0x6b])), grpc.status.OK, 'a well-formed Get afterwards');
  client.close();
});

test('refreshApiKey of an expired key: INVALID_ARGUMENT', async () => {
  const bin = await setsunaBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-refresh-'));
  const port = await freePort();
  const server = await startProcess(bin, ['serve', '--auth', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--http-listen', 'off', '--cosmos-listen', 'off']);
  try {
    const endpoint = `127.0.0.1:${port}`;
    const overrides = {cacheEndpoint: endpoint, controlEndpoint: endpoint, tokenEndpoint: endpoint, secureConnection: false};
    const r = await runCommand(bin, ['token', 'issue', '--super-user', '--data-dir', dir, '--endpoint', endpoint]);
    const authFor = apiKey => new AuthClient({credentialProvider: CredentialProvider.fromString({apiKey, endpointOverrides: overrides})});
    const minted = assertIs(await authFor(r.stdout.trim()).generateApiKey(TokenScopes.cacheReadOnly('c'), ExpiresIn.seconds(1)), GenerateApiKey.Success);
    await sleep(2100); // the key and its refresh token expire after a second
    assertError(await authFor(minted.apiKey).refreshApiKey(minted.refreshToken), MomentoErrorCode.INVALID_ARGUMENT_ERROR);
  } finally {
    await server.stop();
    await rm(dir, {recursive: true, force: true});
  }
});
