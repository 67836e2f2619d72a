// Topics through the official @gomomento/sdk TopicClient: the seed's JavaScript samples verbatim
// (samples/topics-api-reference.ts), fan-out with identical sequence numbers, resume across the
// SDK's 5-second first-stream deadline, cache deletion, value kinds and limits.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import path from 'node:path';

import {TopicPublish, TopicSubscribe} from '@gomomento/sdk';

import {
  useSetsuna,
  makeTopicClient,
  loadSamples,
  captureConsole,
  uniqueName,
  sleep,
  assertIs,
  assertError,
  MomentoErrorCode,
  SUITE_DIR,
} from './harness.js';

const samples = loadSamples('./samples/topics-api-reference.ts');
const ctx = useSetsuna({caches: 1, prefix: 'topics'});

let topicClient;
const topics = () => (topicClient ??= makeTopicClient(ctx.port));

/** Poll until pred() holds; fails with label after timeoutMs. */
async function waitFor(pred, label, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${label}`);
    await sleep(20);
  }
}

/** Subscribe with handlers that record everything. */
async function collect(cacheName, topicName) {
  const c = {items: [], errors: [], discontinuities: [], connectionLost: 0};
  const resp = await topics().subscribe(cacheName, topicName, {
    onItem: item => c.items.push(item),
    onError: err => c.errors.push(err),
    onDiscontinuity: d => c.discontinuities.push(d),
    onConnectionLost: () => {
      c.connectionLost += 1;
    },
  });
  c.sub = assertIs(resp, TopicSubscribe.Subscription, `subscribe(${cacheName}, ${topicName})`);
  return c;
}

function seedText() {
  // seeds/ holds a copy of shared/seeds/momento-topics-api.txt, so the check runs in any clone.
  return readFileSync(path.join(SUITE_DIR, 'seeds', 'momento-topics-api.txt'), 'utf8');
}

test('topic sample bodies are verbatim copies of the seed', () => {
  const seed = seedText();
  const src = readFileSync(new URL('./samples/topics-api-reference.ts', import.meta.url), 'utf8');
  const re = /export async function (\w+)\(topicClient: TopicClient\) \{\n([\s\S]*?)\n\}\n/g;
  const bodies = [...src.matchAll(re)];
  assert.deepEqual(
    bodies.map(b => b[1]),
    ['example_API_TopicSubscribe', 'example_API_TopicPublish']
  );
  for (const [, name, body] of bodies) {
    assert.ok(seed.includes(body), `${name} is not a verbatim excerpt of the seed`);
  }
});

test('seed samples Subscribe and Publish run unchanged', async () => {
  const created = await ctx.client.createCache('test-cache');
  assert.equal(created.type, 'Success', created.toString());
  ctx.track('test-cache');
  const observer = await collect('test-cache', 'test-topic');

  // The subscribe sample subscribes, publishes 'test-value', schedules a log line in 2 s and
  // unsubscribes; capture until its timer has fired.
  const sub = await captureConsole(async () => {
    await samples.example_API_TopicSubscribe(topics());
    await sleep(2200);
  });
  assert.equal(sub.error, undefined, `subscribe sample threw: ${sub.error}`);
  assert.equal(sub.lines[0], "Successfully subscribed to topic 'test-topic'");
  assert.equal(sub.lines.at(-1), 'Waiting for the published values');
  for (const l of sub.lines.slice(1, -1)) {
    assert.equal(l, "Publishing values to the topic 'test-topic': test-value");
  }

  const pub = await captureConsole(() => samples.example_API_TopicPublish(topics()));
  assert.equal(pub.error, undefined, `publish sample threw: ${pub.error}`);
  assert.deepEqual(pub.lines, ["Value published to topic 'test-topic'"]);

  await waitFor(() => observer.items.length >= 2, 'both sample messages');
  assert.deepEqual(
    observer.items.map(i => [i.sequenceNumber(), i.value()]),
    [
      [1, 'test-value'],
      [2, 'test-topic-value'],
    ]
  );
  observer.sub.unsubscribe();
});

test('two subscribers get the same messages with the same sequence numbers; kinds are kept', async () => {
  const topic = uniqueName('fan');
  const a = await collect(ctx.cacheName, topic);
  const b = await collect(ctx.cacheName, topic);
  const values = ['text one', new Uint8Array([0, 1, 2, 255]), 'text two', new TextEncoder().encode('bytes')];
  for (const v of values) {
    assertIs(await topics().publish(ctx.cacheName, topic, v), TopicPublish.Success, 'publish');
  }
  await waitFor(() => a.items.length >= values.length && b.items.length >= values.length, 'all items');
  for (const c of [a, b]) {
    assert.deepEqual(
      c.items.map(i => i.sequenceNumber()),
      [1, 2, 3, 4]
    );
    c.items.forEach((item, i) => {
      const want = values[i];
      if (typeof want === 'string') {
        assert.equal(typeof item.value(), 'string', `item ${i + 1} should be text`);
        assert.equal(item.value(), want);
      } else {
        assert.ok(item.value() instanceof Uint8Array, `item ${i + 1} should be binary`);
        assert.deepEqual([...item.value()], [...want]);
      }
      assert.equal(item.tokenId(), '', 'publisher id without auth');
    });
    assert.equal(c.errors.length, 0);
    assert.equal(c.discontinuities.length, 0);
    c.sub.unsubscribe();
  }
});

test('a publisher sending for 8 s, across the first stream deadline and the resubscribe, loses nothing', async () => {
  const topic = uniqueName('continuous');
  const s = await collect(ctx.cacheName, topic);
  let sent = 0;
  const until = Date.now() + 8000;
  while (Date.now() < until) {
    sent += 1;
    assertIs(await topics().publish(ctx.cacheName, topic, `m${sent}`), TopicPublish.Success, `publish m${sent}`);
    await sleep(15);
  }
  await waitFor(() => s.items.length >= sent, `all ${sent} messages (got ${s.items.length})`);
  await sleep(200); // nothing extra (no duplicates) arrives after them
  s.sub.unsubscribe();
  assert.ok(s.connectionLost >= 1, 'the SDK should have hit its 5 s first-stream deadline and resubscribed');
  assert.equal(s.items.length, sent, 'no duplicates');
  s.items.forEach((item, i) => {
    assert.equal(item.sequenceNumber(), i + 1);
    assert.equal(item.value(), `m${i + 1}`);
  });
  assert.equal(s.discontinuities.length, 0);
  assert.equal(s.errors.length, 0);
});

test('deleting the cache ends its subscriptions with NOT_FOUND_ERROR', async () => {
  const cache = ctx.track(uniqueName('doomed'));
  assert.equal((await ctx.client.createCache(cache)).type, 'Success');
  const s = await collect(cache, 't');
  assertIs(await topics().publish(cache, 't', 'before'), TopicPublish.Success);
  await waitFor(() => s.items.length === 1, 'the message before deletion');
  assert.equal((await ctx.client.deleteCache(cache)).type, 'Success');
  await waitFor(() => s.errors.length >= 1, 'the subscription error');
  assert.equal(s.errors[0].errorCode(), MomentoErrorCode.NOT_FOUND_ERROR, s.errors[0].toString());
  await sleep(700); // NOT_FOUND is final: no resubscribe, no further errors
  assert.equal(s.errors.length, 1);
});

test('unknown cache: subscribe and publish fail with NOT_FOUND_ERROR', async () => {
  const missing = uniqueName('missing');
  assertError(await topics().subscribe(missing, 't', {onItem: () => {}, onError: () => {}}), MomentoErrorCode.NOT_FOUND_ERROR);
  assertError(await topics().publish(missing, 't', 'x'), MomentoErrorCode.NOT_FOUND_ERROR);
});

test('limits: 4 KB payload, empty payload', async () => {
  const topic = uniqueName('limits');
  assertIs(await topics().publish(ctx.cacheName, topic, 'x'.repeat(4096)), TopicPublish.Success, '4096 bytes');
  const big = assertError(await topics().publish(ctx.cacheName, topic, 'x'.repeat(4097)), MomentoErrorCode.LIMIT_EXCEEDED_ERROR);
  assert.match(big.message(), /4096 bytes/);
  assertError(await topics().publish(ctx.cacheName, topic, new Uint8Array()), MomentoErrorCode.INVALID_ARGUMENT_ERROR);
});
