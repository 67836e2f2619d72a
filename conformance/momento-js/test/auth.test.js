// Auth through @gomomento/sdk's AuthClient against a server started with --auth: the seed's
// generateApiKey and refreshApiKey samples, then the keys they mint used through
// CredentialProvider.fromString with endpoint overrides, to show that the scopes hold.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {
  AllCaches,
  AllDataReadWrite,
  AuthClient,
  CacheClient,
  CacheGet,
  CacheSet,
  Configurations,
  CreateCache,
  CredentialProvider,
  DisposableTokenScopes,
  ExpiresIn,
  GenerateApiKey,
  GenerateDisposableToken,
  RefreshApiKey,
  TokenScopes,
  TopicClient,
  TopicConfigurations,
} from '@gomomento/sdk';

import {startServer, loadSamples, runSample, uniqueName, assertIs, assertError, MomentoErrorCode, sleep} from './harness.js';

const samples = loadSamples('./samples/auth-api-reference.ts');
let server, dataDir, superKey, overrides, superClient;

function run(bin, args) {
  return new Promise((resolve, reject) =>
    execFile(bin, args, (err, stdout, stderr) => (err ? reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout.trim())))
  );
}

const provider = apiKey => CredentialProvider.fromString({apiKey, endpointOverrides: overrides});
const cacheClientFor = apiKey =>
  new CacheClient({configuration: Configurations.Laptop.v1(), credentialProvider: provider(apiKey), defaultTtlSeconds: 60});
const authClientFor = apiKey => new AuthClient({credentialProvider: provider(apiKey)});

// A key minted through the SDK comes back as base64 JSON {endpoint, api_key}, like Momento's v1 keys.
async function mint(scope, expiresIn = ExpiresIn.minutes(30)) {
  const resp = await authClientFor(superKey).generateApiKey(scope, expiresIn);
  assertIs(resp, GenerateApiKey.Success, 'generateApiKey');
  return resp;
}

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-auth-'));
  server = await startServer({extraArgs: ['--auth', '--data-dir', dataDir]});
  const endpoint = `127.0.0.1:${server.port}`;
  overrides = {cacheEndpoint: endpoint, controlEndpoint: endpoint, tokenEndpoint: endpoint, secureConnection: false};
  superKey = await run(server.bin, ['token', 'issue', '--super-user', '--data-dir', dataDir, '--endpoint', endpoint, '--expires', '1h']);
  superClient = cacheClientFor(superKey);
  for (const name of ['foo', 'bar', 'acorns']) {
    assertIs(await superClient.createCache(name), CreateCache.Success, `createCache(${name})`);
  }
});

after(async () => {
  superClient?.close();
  await server?.stop();
  await rm(dataDir, {recursive: true, force: true});
});

test('without a key every call is AUTHENTICATION_ERROR', async () => {
  const client = new CacheClient({
    configuration: Configurations.Laptop.v1(),
    credentialProvider: CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port: server.port}),
    defaultTtlSeconds: 60,
  });
  assertError(await client.get('foo', 'k'), MomentoErrorCode.AUTHENTICATION_ERROR, 'get without a key');
  assertError(await client.listCaches(), MomentoErrorCode.AUTHENTICATION_ERROR, 'listCaches without a key');
  client.close();
});

test('seed sample: the five generateApiKey calls succeed', async () => {
  const lines = await runSample(samples.example_API_GenerateApiKey, authClientFor(superKey));
  for (const what of ['AllDataReadWrite scope', 'read-only access to cache foo', 'read-write access to all caches', 'publish-subscribe access to all topics within cache bar', 'subscribe-only access to topic where_is_mo', 'multiple cache and topic permissions']) {
    assert.ok(lines.some(l => l.includes(what)), `no success line for ${what}:\n${lines.join('\n')}`);
  }
});

test('seed sample: refreshApiKey refreshes an AllDataReadWrite key', async () => {
  const lines = await runSample(samples.example_API_RefreshApiKey, authClientFor(superKey), overrides);
  assert.ok(lines.includes('API key refreshed!'), lines.join('\n'));
});

test('AllDataReadWrite reads and writes data but cannot manage caches', async () => {
  const key = await mint(AllDataReadWrite);
  const client = cacheClientFor(key.apiKey);
  assertIs(await client.set('foo', 'k', 'v'), CacheSet.Success, 'set');
  assertIs(await client.get('foo', 'k'), CacheGet.Hit, 'get');
  assertError(await client.createCache(uniqueName('nope')), MomentoErrorCode.PERMISSION_ERROR, 'createCache');
  assertError(await client.deleteCache('foo'), MomentoErrorCode.PERMISSION_ERROR, 'deleteCache');
  client.close();
});

test('a read-only key for cache foo cannot set, and cannot touch cache bar', async () => {
  assertIs(await superClient.set('foo', 'seen', 'yes'), CacheSet.Success, 'seed value');
  const key = await mint(TokenScopes.cacheReadOnly('foo'));
  const client = cacheClientFor(key.apiKey);
  const hit = await client.get('foo', 'seen');
  assertIs(hit, CacheGet.Hit, 'get on foo');
  assert.equal(hit.valueString(), 'yes');
  const denied = await client.set('foo', 'seen', 'no');
  assertError(denied, MomentoErrorCode.PERMISSION_ERROR, 'set on foo');
  assert.match(denied.message(), /Set/, 'the denial names the operation');
  assertError(await client.get('bar', 'seen'), MomentoErrorCode.PERMISSION_ERROR, 'get on bar');
  const still = await superClient.get('foo', 'seen');
  assert.equal(still.valueString(), 'yes', 'the denied set changed nothing');
  client.close();
});

test('a subscribe-only topic key cannot publish', async () => {
  const key = await mint(TokenScopes.topicSubscribeOnly('mo_nuts', 'where_is_mo'));
  const topics = new TopicClient({configuration: TopicConfigurations.Default.latest(), credentialProvider: provider(key.apiKey)});
  const resp = await topics.publish('mo_nuts', 'where_is_mo', 'hello');
  assert.equal(resp.errorCode?.(), MomentoErrorCode.PERMISSION_ERROR, `publish: ${resp.toString()}`);
  topics.close?.();
});

test('an expired key is rejected', async () => {
  const key = await mint(AllDataReadWrite, ExpiresIn.seconds(1));
  const client = cacheClientFor(key.apiKey);
  assertIs(await client.set('foo', 'x', '1'), CacheSet.Success, 'set before expiry');
  await sleep(2100);
  assertError(await client.get('foo', 'x'), MomentoErrorCode.AUTHENTICATION_ERROR, 'get after expiry');
  client.close();
});

test('a refreshed key works and keeps its permissions', async () => {
  const key = await mint(TokenScopes.cacheReadOnly('foo'));
  const refreshed = await authClientFor(key.apiKey).refreshApiKey(key.refreshToken);
  assertIs(refreshed, RefreshApiKey.Success, 'refreshApiKey');
  assert.notEqual(refreshed.apiKey, key.apiKey);
  const client = cacheClientFor(refreshed.apiKey);
  assertIs(await client.get('foo', 'seen'), CacheGet.Hit, 'get with the refreshed key');
  assertError(await client.set('foo', 'seen', 'no'), MomentoErrorCode.PERMISSION_ERROR, 'set with the refreshed read-only key');
  client.close();
});

test('a refresh token refreshes once: a second use is INVALID_ARGUMENT_ERROR', async () => {
  const key = await mint(TokenScopes.cacheReadOnly('foo'));
  const auth = authClientFor(key.apiKey);
  assertIs(await auth.refreshApiKey(key.refreshToken), RefreshApiKey.Success, 'first refreshApiKey');
  // What the SDK reports for a refresh token that can no longer be used.
  const again = await auth.refreshApiKey(key.refreshToken);
  assertError(again, MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'second refreshApiKey with the same refresh token');
  assert.match(again.message(), /already been used/);
  // The key it came with keeps working until it expires.
  const client = cacheClientFor(key.apiKey);
  assertIs(await client.get('foo', 'seen'), CacheGet.Hit, 'get with the refreshed-from key');
  client.close();
});

test('AllDataReadWrite keys cannot mint keys', async () => {
  const key = await mint(AllDataReadWrite);
  const resp = await authClientFor(key.apiKey).generateApiKey(AllDataReadWrite, ExpiresIn.minutes(5));
  assertError(resp, MomentoErrorCode.PERMISSION_ERROR, 'generateApiKey with an AllDataReadWrite key');
});

test('a disposable token for one key may use that key only; revoking it ends it', async () => {
  const tokenId = uniqueName('disp');
  const resp = await authClientFor(superKey).generateDisposableToken(
    DisposableTokenScopes.cacheKeyReadWrite(AllCaches, 'k'),
    ExpiresIn.minutes(5),
    {tokenId}
  );
  assertIs(resp, GenerateDisposableToken.Success, 'generateDisposableToken');
  const client = cacheClientFor(resp.authToken);
  assertIs(await client.set('acorns', 'k', 'v'), CacheSet.Success, 'set on the granted key');
  assertError(await client.set('acorns', 'other', 'v'), MomentoErrorCode.PERMISSION_ERROR, 'set on another key');

  await run(server.bin, ['token', 'revoke', tokenId, '--data-dir', dataDir]);
  let last;
  for (let i = 0; i < 50; i++) {
    last = await client.get('acorns', 'k');
    if (last.errorCode?.() === MomentoErrorCode.AUTHENTICATION_ERROR) break;
    await sleep(100);
  }
  assertError(last, MomentoErrorCode.AUTHENTICATION_ERROR, 'get after revocation');
  client.close();
});
