// momento-local's fault injection (issue 12), used the way the SDKs' retry suites use it: request
// metadata set by a client middleware (request-id, return-error, error-rpcs, error-count, delay-ms,
// delay-rpcs, stream-error, stream-error-rpcs, stream-error-message-limit) and the test admin's
// /block and /unblock, on a server started with --test-admin-listen.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';

import {
  CacheClient,
  CacheGet,
  CacheIncrement,
  Configurations,
  CredentialProvider,
  TopicClient,
  TopicConfigurations,
  TopicPublish,
  TopicSubscribe,
} from '@gomomento/sdk';

import {freePort, useSetsuna, assertIs, assertError, MomentoErrorCode} from './harness.js';

const adminPort = await freePort();
const ctx = useSetsuna({caches: 1, prefix: 'retry', extraArgs: ['--test-admin-listen', `127.0.0.1:${adminPort}`]});
const admin = path => fetch(`http://127.0.0.1:${adminPort}${path}`).then(r => assert.equal(r.status, 200));

/** A middleware that adds momento-local's metadata to every attempt and counts the attempts. */
function faults(metadata) {
  const m = {attempts: 0};
  m.middleware = {
    shouldLoadLate: true, // after the SDK's retry interceptor: it sees every attempt
    onNewRequest: () => ({
      onRequestBody: r => Promise.resolve(r),
      onRequestMetadata: md => {
        m.attempts++;
        md._grpcMetadata.set('request-id', m.id);
        for (const [k, v] of Object.entries(metadata)) md._grpcMetadata.set(k, String(v));
        return Promise.resolve(md);
      },
      onResponseMetadata: md => Promise.resolve(md),
      onResponseBody: r => Promise.resolve(r),
      onResponseStatus: s => Promise.resolve(s),
    }),
  };
  m.id = randomUUID();
  return m;
}

const provider = () => CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port: ctx.port});
const cacheClient = (mw, timeoutMs = 5000) =>
  new CacheClient({
    configuration: Configurations.Laptop.v1().withClientTimeoutMillis(timeoutMs).addMiddleware(mw.middleware),
    credentialProvider: provider(),
    defaultTtlSeconds: 60,
  });

test('an injected UNAVAILABLE is retried for an idempotent call, not for increment', async () => {
  const f = faults({'return-error': 'unavailable', 'error-rpcs': 'get increment', 'error-count': 2});
  const c = cacheClient(f);
  assertIs(await c.get(ctx.cacheName, 'k'), CacheGet.Miss, 'get after two injected errors');
  assert.equal(f.attempts, 3, 'two failed attempts, then the one that succeeded');
  const g = faults({'return-error': 'unavailable', 'error-rpcs': 'increment'});
  const c2 = cacheClient(g);
  assertError(await c2.increment(ctx.cacheName, 'n', 1), MomentoErrorCode.SERVER_UNAVAILABLE, 'increment');
  assert.equal(g.attempts, 1, 'increment is not retried');
  c.close();
  c2.close();
});

test('a delay longer than the client timeout trips the deadline', async () => {
  const f = faults({'delay-rpcs': 'get', 'delay-ms': 30000});
  const c = cacheClient(f, 1000);
  assertError(await c.get(ctx.cacheName, 'k'), MomentoErrorCode.TIMEOUT_ERROR, 'delayed get');
  c.close();
});

test('a stream error makes the subscriber resubscribe and resume without a gap', async () => {
  const f = faults({'stream-error': 'unavailable', 'stream-error-rpcs': 'topic-subscribe', 'stream-error-message-limit': 4});
  const topics = new TopicClient({configuration: TopicConfigurations.Default.latest().addMiddleware(f.middleware), credentialProvider: provider()});
  const publisher = new TopicClient({configuration: TopicConfigurations.Default.latest(), credentialProvider: provider()});
  const items = [];
  let lost = 0;
  let done;
  const all = new Promise(resolve => (done = resolve));
  const sub = await topics.subscribe(ctx.cacheName, 'resume', {
    onItem: item => {
      items.push(item.valueString());
      if (items.length === 8) done();
    },
    onConnectionLost: () => lost++,
    onError: e => assert.fail(e.toString()),
  });
  assertIs(sub, TopicSubscribe.Subscription);
  for (let i = 1; i <= 8; i++) assertIs(await publisher.publish(ctx.cacheName, 'resume', `m${i}`), TopicPublish.Success);
  await all;
  sub.unsubscribe();
  assert.deepEqual(items, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8'], 'every message once, in order');
  assert.equal(lost, 1, 'the injected stream error ended the stream once');
});

test('/block ends streams and holds calls; /unblock serves again and the subscriber comes back', async () => {
  const topics = new TopicClient({configuration: TopicConfigurations.Default.latest(), credentialProvider: provider()});
  const c = cacheClient(faults({}));
  const impatient = cacheClient(faults({}), 1000);
  let onLost, onBack, onItem;
  const lost = new Promise(resolve => (onLost = resolve));
  const back = new Promise(resolve => (onBack = resolve));
  const item = new Promise(resolve => (onItem = resolve));
  let wasLost = false;
  const sub = await topics.subscribe(ctx.cacheName, 'outage', {
    onConnectionLost: () => {
      wasLost = true;
      onLost();
    },
    onHeartbeat: () => {
      if (wasLost) onBack(); // the first heartbeat of a resubscribed stream
    },
    onItem: i => onItem(i.valueString()),
  });
  assertIs(sub, TopicSubscribe.Subscription);
  await admin('/block');
  await lost;
  // Like momento-local's dropped packets: a call gets no answer while blocked.
  assertError(await impatient.get(ctx.cacheName, 'k'), MomentoErrorCode.TIMEOUT_ERROR, 'get while blocked');
  await admin('/unblock');
  await back; // the resubscribed stream's first heartbeat
  assertIs(await c.get(ctx.cacheName, 'k'), CacheGet.Miss, 'get after unblock');
  assertIs(await topics.publish(ctx.cacheName, 'outage', 'after'), TopicPublish.Success);
  assert.equal(await item, 'after');
  sub.unsubscribe();
  c.close();
  impatient.close();
});
