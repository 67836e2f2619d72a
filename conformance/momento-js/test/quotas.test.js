// Per-key publish quotas (--topic-publish-rate, --topic-publish-bytes-rate) through @gomomento/sdk:
// a key over its rate or bandwidth gets LIMIT_EXCEEDED_ERROR with the SDK's own message for each,
// another key is not affected, and listCaches advertises the per-key publish rate.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {CacheClient, Configurations, CreateCache, CredentialProvider, ListCaches, TopicClient, TopicConfigurations, TopicPublish} from '@gomomento/sdk';

import {startServer, assertIs, assertError, MomentoErrorCode} from './harness.js';

let server, dataDir, overrides;
const closers = [];

function run(bin, args) {
  return new Promise((resolve, reject) =>
    execFile(bin, args, (err, stdout, stderr) => (err ? reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout.trim())))
  );
}

// Each `token issue` mints a key of its own id, so each has its own quota.
async function newKey() {
  const endpoint = `127.0.0.1:${server.port}`;
  return run(server.bin, ['token', 'issue', '--super-user', '--data-dir', dataDir, '--endpoint', endpoint, '--expires', '1h']);
}

function topicClient(apiKey) {
  const c = new TopicClient({configuration: TopicConfigurations.Default.latest(), credentialProvider: CredentialProvider.fromString({apiKey, endpointOverrides: overrides})});
  closers.push(() => c.close?.());
  return c;
}

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-quotas-'));
  server = await startServer({extraArgs: ['--auth', '--data-dir', dataDir, '--topic-publish-rate', '1', '--topic-publish-bytes-rate', '3000']});
  const endpoint = `127.0.0.1:${server.port}`;
  overrides = {cacheEndpoint: endpoint, controlEndpoint: endpoint, tokenEndpoint: endpoint, secureConnection: false};
  const cache = new CacheClient({configuration: Configurations.Laptop.v1(), credentialProvider: CredentialProvider.fromString({apiKey: await newKey(), endpointOverrides: overrides}), defaultTtlSeconds: 60});
  closers.push(() => cache.close());
  assertIs(await cache.createCache('q'), CreateCache.Success, 'createCache');
  const list = assertIs(await cache.listCaches(), ListCaches.Success, 'listCaches');
  assert.equal(list.getCaches().find(c => c.getName() === 'q').getTopicLimits().maxPublishRate, 1, 'advertised publish rate');
});

after(async () => {
  for (const c of closers) c();
  await server?.stop();
  await rm(dataDir, {recursive: true, force: true});
});

test('a key over its publish rate: LIMIT_EXCEEDED_ERROR "Request rate limit", another key still publishes', async () => {
  const a = topicClient(await newKey());
  assertIs(await a.publish('q', 't', 'first'), TopicPublish.Success, 'first publish');
  // The bucket holds one message and refills once a second: back-to-back publishes run out
  // at once, unless the machine stalls for a second between two of them.
  let refused;
  for (let i = 0; i < 20 && !refused; i++) {
    const r = await a.publish('q', 't', 'again');
    if (!(r instanceof TopicPublish.Success)) refused = r;
  }
  assert.ok(refused, '20 back-to-back publishes at 1 message per second were all accepted');
  assertError(refused, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'over the rate');
  assert.match(refused.message(), /Request rate limit exceeded/);

  const b = topicClient(await newKey());
  assertIs(await b.publish('q', 't', 'mine'), TopicPublish.Success, 'another key');
});

test('a message over a key\'s bytes per second: LIMIT_EXCEEDED_ERROR "Bandwidth limit", and it costs no message', async () => {
  const c = topicClient(await newKey());
  const over = await c.publish('q', 't', 'x'.repeat(4000));
  assertError(over, MomentoErrorCode.LIMIT_EXCEEDED_ERROR, 'over the bandwidth');
  assert.match(over.message(), /Bandwidth limit exceeded/);
  assertIs(await c.publish('q', 't', 'small'), TopicPublish.Success, 'the message slot was given back');
});
