// The Momento HTTP API (issue 12) with curl-equivalent requests (fetch), on the HTTP listener of a
// dev-mode server, and a message published over HTTP received by the official SDK's subscriber.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {freePort, useSetsuna, makeTopicClient, uniqueName, assertIs} from './harness.js';
import {TopicSubscribe} from '@gomomento/sdk';

const httpPort = await freePort();
const ctx = useSetsuna({caches: 1, prefix: 'http', extraArgs: ['--http-listen', `127.0.0.1:${httpPort}`]});
const base = `http://127.0.0.1:${httpPort}`;

async function call(method, path, {body, headers} = {}) {
  const resp = await fetch(base + path, {method, body, headers});
  return {status: resp.status, statusText: resp.statusText, body: await resp.text()};
}

test('PUT, GET and DELETE of an item: 204, 200 with the value, 404 Key Not Found', async () => {
  const c = encodeURIComponent(ctx.cacheName);
  assert.equal((await call('PUT', `/cache/${c}?key=greeting&ttl_seconds=60`, {body: 'hello'})).status, 204);
  const got = await call('GET', `/cache/${c}?key=greeting`);
  assert.deepEqual([got.status, got.body], [200, 'hello']);
  const key = Buffer.from([0xff, 0x00, 0x41]).toString('base64url');
  assert.equal((await call('PUT', `/cache/${c}?key_base64=${key}&ttl_seconds=60`, {body: 'bytes'})).status, 204);
  assert.equal((await call('GET', `/cache/${c}?key_base64=${key}`)).body, 'bytes');
  assert.equal((await call('DELETE', `/cache/${c}?key=greeting`)).status, 204);
  assert.equal((await call('DELETE', `/cache/${c}?key=greeting`)).status, 204, 'a missing key deletes fine');
  const miss = await call('GET', `/cache/${c}?key=greeting`);
  assert.deepEqual([miss.status, miss.statusText], [404, 'Not Found']);
  assert.match(miss.body, /Key Not Found/);
  // The SDK sees what HTTP wrote, and the other way round.
  await call('PUT', `/cache/${c}?key=shared&ttl_seconds=60`, {body: 'from http'});
  assert.equal((await ctx.client.get(ctx.cacheName, 'shared')).valueString(), 'from http');
});

test('errors: 404 Cache Not Found, 400 for a missing ttl_seconds, a missing key or a key given twice', async () => {
  const none = uniqueName('http-none');
  for (const [method, path] of [['GET', `/cache/${none}?key=k`], ['PUT', `/cache/${none}?key=k&ttl_seconds=5`], ['DELETE', `/cache/${none}?key=k`], ['POST', `/topics/${none}/t`]]) {
    const r = await call(method, path, {body: method === 'GET' || method === 'DELETE' ? undefined : 'x'});
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.match(r.body, /Cache Not Found/);
  }
  const c = encodeURIComponent(ctx.cacheName);
  assert.equal((await call('PUT', `/cache/${c}?key=k`, {body: 'v'})).status, 400);
  assert.equal((await call('GET', `/cache/${c}`)).status, 400);
  assert.equal((await call('GET', `/cache/${c}?key=a&key_base64=YQ`)).status, 400);
  assert.equal((await call('GET', `/cache/${c}?key=a&token=t`, {headers: {Authorization: 't'}})).status, 400, 'a key given twice');
});

test('POST /topics/{cache}/{topic}: 204, and subscribers get the message as text or bytes', async () => {
  const topicClient = makeTopicClient(ctx.port);
  const items = [];
  let wake;
  const sub = await topicClient.subscribe(ctx.cacheName, 'news', {
    onItem: item => {
      items.push(item.value());
      if (items.length === 2) wake();
    },
    onError: e => assert.fail(e.toString()),
  });
  assertIs(sub, TopicSubscribe.Subscription);
  const two = new Promise(resolve => (wake = resolve));
  const c = encodeURIComponent(ctx.cacheName);
  assert.equal((await call('POST', `/topics/${c}/news`, {body: 'hello', headers: {'Content-Type': 'text/plain'}})).status, 204);
  assert.equal((await call('POST', `/topics/${c}/news`, {body: new Uint8Array([1, 2, 3]), headers: {'Content-Type': 'application/octet-stream'}})).status, 204);
  await two;
  sub.unsubscribe();
  assert.equal(items[0], 'hello');
  assert.deepEqual([...items[1]], [1, 2, 3]);
});
