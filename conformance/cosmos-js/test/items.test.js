// Databases, containers and items through the SDK, and bad input through raw signed requests:
// every refusal is a Cosmos error body and stores nothing.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {ChangeFeedStartFrom, PartitionKeyKind} from '@azure/cosmos';

import {useCosmos, uniqueName, rawRequest, drain, eventually} from './harness.js';

const ctx = useCosmos({prefix: 'items'});

test('the account, databases and containers', async () => {
  const {resource: account} = await ctx.client.getDatabaseAccount();
  assert.notEqual(account.id, 'localhost');
  const id = uniqueName('db');
  const first = await ctx.client.databases.createIfNotExists({id});
  assert.equal(first.statusCode, 201);
  const again = await ctx.client.databases.createIfNotExists({id});
  assert.equal(again.statusCode, 200);
  assert.equal(again.resource._rid, first.resource._rid);
  await assert.rejects(ctx.client.databases.create({id}), err => err.code === 409);
  const {resources: dbs} = await ctx.client.databases.readAll().fetchAll();
  assert.ok(dbs.some(d => d.id === id));

  const db = first.database;
  const {container, resource} = await db.containers.createIfNotExists({id: 'c', partitionKey: '/pk', defaultTtl: 3600}, {offerThroughput: 30000});
  assert.deepEqual({paths: resource.partitionKey.paths, kind: resource.partitionKey.kind, version: resource.partitionKey.version}, {paths: ['/pk'], kind: 'Hash', version: 1});
  assert.equal(resource.defaultTtl, 3600);
  assert.equal(Buffer.from(resource._rid.replaceAll('-', '/'), 'base64').length, 8);
  const ranges = await container.getFeedRanges();
  assert.equal(ranges.length, 3, '30,000 RU/s: three partitions');
  const {resources: colls} = await db.containers.readAll().fetchAll();
  assert.deepEqual(colls.map(c => c.id), ['c']);
  await assert.rejects(db.containers.create({id: 'c', partitionKey: '/pk'}), err => err.code === 409);
  await db.delete();
  const gone = await ctx.client.database(id).read().catch(err => err);
  assert.equal(gone.code, 404);
});

test('create, read, upsert, replace with If-Match, delete', async () => {
  const container = await ctx.container();
  const {resource: doc, statusCode} = await container.items.create({id: 'a', pk: 'p', n: 1});
  assert.equal(statusCode, 201);
  for (const k of ['_rid', '_self', '_etag', '_ts', '_attachments']) assert.ok(doc[k] !== undefined, k);
  assert.equal(Buffer.from(doc._rid.replaceAll('-', '/'), 'base64').length, 16);
  await assert.rejects(container.items.create({id: 'a', pk: 'p'}), err => err.code === 409);
  // ids are unique per partition key value
  assert.equal((await container.items.create({id: 'a', pk: 'q'})).statusCode, 201);

  const read = await container.item('a', 'p').read();
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.resource, doc);
  const missing = await container.item('nope', 'p').read();
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.resource, undefined);

  const replaced = await container.item('a', 'p').replace({id: 'a', pk: 'p', n: 2}, {accessCondition: {type: 'IfMatch', condition: doc._etag}});
  assert.equal(replaced.statusCode, 200);
  assert.notEqual(replaced.resource._etag, doc._etag);
  await assert.rejects(
    container.item('a', 'p').replace({id: 'a', pk: 'p', n: 3}, {accessCondition: {type: 'IfMatch', condition: doc._etag}}),
    err => err.code === 412
  );
  assert.equal((await container.item('a', 'p').read()).resource.n, 2);
  await assert.rejects(container.item('zz', 'p').replace({id: 'zz', pk: 'p'}), err => err.code === 404);

  assert.equal((await container.items.upsert({id: 'u', pk: 'p'})).statusCode, 201);
  assert.equal((await container.items.upsert({id: 'u', pk: 'p', v: 2})).statusCode, 200);

  await assert.rejects(container.item('a', 'p').delete({accessCondition: {type: 'IfMatch', condition: doc._etag}}), err => err.code === 412);
  const del = await container.item('a', 'p').delete();
  assert.equal(del.statusCode, 204);
  assert.equal((await container.item('a', 'p').read()).statusCode, 404);
  assert.equal((await container.item('a', 'q').read()).statusCode, 200);
});

test('ids are generated when missing; other partition key types', async () => {
  const container = await ctx.container();
  const {resource} = await container.items.create({pk: 'p'});
  assert.match(resource.id, /^[0-9a-f-]{36}$/);
  for (const pk of [5, 5.5, true, false, null]) {
    const id = `k-${String(pk)}`;
    await container.items.create({id, pk});
    assert.equal((await container.item(id, pk).read()).resource?.id, id, `pk ${pk}`);
  }
  await container.items.create({id: 'none'});
  assert.equal((await container.item('none', undefined).read()).statusCode, 200);
  const unicode = '日本語 😀';
  await container.items.create({id: 'u', pk: unicode});
  assert.equal((await container.item('u', unicode).read()).statusCode, 200);
});

test('container defaultTtl and item ttl', async () => {
  const container = await ctx.container({defaultTtl: 1});
  await container.items.create({id: 'short', pk: 'p'});
  await container.items.create({id: 'kept', pk: 'p', ttl: -1});
  await eventually(async () => (await container.item('short', 'p').read()).statusCode === 404, {what: 'the expiry of short'});
  assert.equal((await container.item('kept', 'p').read()).statusCode, 200);
  const {items} = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}));
  assert.deepEqual(items.map(d => d.id), ['kept'], 'expired documents leave the latest-version feed at once');
  await assert.rejects(container.items.create({id: 'bad', pk: 'p', ttl: 0}), err => err.code === 400);
});

test('hierarchical partition keys on point operations', async () => {
  const container = await ctx.container({partitionKey: {paths: ['/a', '/b/c', '/d'], kind: PartitionKeyKind.MultiHash, version: 2}});
  await container.items.create({id: '1', a: 'x', b: {c: 2}, d: true});
  await container.items.create({id: '1', a: 'x', b: {c: 3}});
  assert.equal((await container.item('1', ['x', 2, true]).read()).resource?.b.c, 2);
  assert.equal((await container.item('1', ['x', 3, undefined]).read()).resource?.b.c, 3);
  assert.equal((await container.item('1', ['x', 4, true]).read()).statusCode, 404);
});

test('bad input gets a Cosmos error body and stores nothing', async () => {
  const container = await ctx.container();
  const link = `dbs/${ctx.database.id}/colls/${container.id}/docs`;
  const check = (r, status, what) => {
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.ok(r.json && typeof r.json.code === 'string' && typeof r.json.message === 'string', `${what}: error body ${r.text}`);
  };
  check(await rawRequest(ctx.endpoint, 'POST', link, {body: '{"id":"m","pk":"p"', headers: {'x-ms-documentdb-partitionkey': '["p"]'}}), 400, 'malformed JSON');
  const wrong = await rawRequest(ctx.endpoint, 'POST', link, {body: '{"id":"w","pk":"p"}', headers: {'x-ms-documentdb-partitionkey': '["other"]'}});
  check(wrong, 400, 'wrong partition key');
  assert.equal(wrong.headers.get('x-ms-substatus'), '1001');
  check(await rawRequest(ctx.endpoint, 'POST', link, {body: '{"id":"h","pk":"p"}', headers: {'x-ms-documentdb-partitionkey': 'p'}}), 400, 'partition key header not JSON');
  await assert.rejects(container.items.create({id: 'big', pk: 'p', blob: 'x'.repeat(2 * 1024 * 1024 + 1)}), err => err.code === 413);
  check(await rawRequest(ctx.endpoint, 'POST', `dbs/${ctx.database.id}/colls`, {body: '{"id":"c2","partitionKey":{"paths":["/a","/b"]}}'}), 400, 'two paths without MultiHash');
  check(await rawRequest(ctx.endpoint, 'GET', `${link}/m`, {headers: {'x-ms-documentdb-partitionkey': '[1e999]'}}), 400, 'partition key out of range');
  for (const [id, pk] of [['m', 'p'], ['w', 'p'], ['w', 'other'], ['h', 'p'], ['big', 'p']]) {
    assert.equal((await container.item(id, pk).read()).statusCode, 404, `${id} was stored`);
  }
  const {items} = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}));
  assert.deepEqual(items, []);
});
