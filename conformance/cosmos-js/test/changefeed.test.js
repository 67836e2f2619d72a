// The change feed through the SDK beyond the seed's samples: the default start, a point in
// time, page sizes, continuation tokens taken mid-stream for each scope, hierarchical prefixes
// and a token of a deleted and re-created container.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {ChangeFeedStartFrom, StatusCodes, PartitionKeyKind, PartitionKeyDefinitionVersion} from '@azure/cosmos';

import {useCosmos, drain, eventually} from './harness.js';

const ctx = useCosmos({prefix: 'feed'});
const ids = docs => docs.map(d => d.id).sort();

async function createAll(container, docs) {
  for (const d of docs) await container.items.create(d);
}

test('no start given: the whole container from Now', async () => {
  const container = await ctx.container({}, {offerThroughput: 30000});
  await createAll(container, [{id: 'old', pk: 'a'}]);
  const iterator = container.items.getChangeFeedIterator();
  assert.equal((await iterator.readNext()).statusCode, StatusCodes.NotModified);
  await createAll(container, [{id: 'new', pk: 'b'}]);
  assert.deepEqual(ids((await drain(iterator)).items), ['new']);
});

test('feed items are the documents as created, plus _lsn', async () => {
  const container = await ctx.container();
  const {resource: created} = await container.items.create({id: 'a', pk: 'p', nested: {x: [1, 2]}, s: 'é'});
  const {items} = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}));
  assert.equal(items.length, 1);
  const {_lsn, ...rest} = items[0];
  assert.equal(typeof _lsn, 'number');
  assert.deepEqual(rest, created);
  for (const k of ['_rid', '_self', '_etag', '_ts']) assert.ok(created[k] !== undefined, `${k} on the document`);
});

test('from a point in time', async () => {
  const container = await ctx.container();
  const {resource: old} = await container.items.create({id: 'old', pk: 'a'});
  // The start time is in whole seconds: wait (by condition) for a write in a later second.
  const probe = await eventually(
    async () => {
      const {resource} = await container.items.upsert({id: 'probe', pk: 'b'});
      return resource._ts > old._ts && resource;
    },
    {what: 'a write in a later second'}
  );
  const since = new Date(probe._ts * 1000);
  await createAll(container, [{id: 'new', pk: 'c'}]);
  const iterator = container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Time(since)});
  const {items, last} = await drain(iterator);
  assert.deepEqual(ids(items), ['new', 'probe']);
  // After the first pages the SDK sends the etag too; it must carry on, not start over.
  await createAll(container, [{id: 'newer', pk: 'a'}]);
  assert.deepEqual(ids((await drain(iterator)).items), ['newer']);
  assert.ok(last.continuationToken);
});

test('a point in time with nothing after it answers NotModified and then follows', async () => {
  const container = await ctx.container();
  await createAll(container, [{id: 'old', pk: 'a'}]);
  const iterator = container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Time(new Date(Date.now() + 3_600_000))});
  assert.equal((await iterator.readNext()).statusCode, StatusCodes.NotModified);
  await createAll(container, [{id: 'next', pk: 'a'}]);
  assert.deepEqual(ids((await drain(iterator)).items), ['next'], 'pages after a 304 continue from its etag');
});

test('page sizes are honoured', async () => {
  const container = await ctx.container({}, {offerThroughput: 20000});
  await createAll(container, Array.from({length: 17}, (_, i) => ({id: `d${i}`, pk: `p${i % 3}`})));
  for (const maxItemCount of [1, 3, 10]) {
    const {items, pages} = await drain(container.items.getChangeFeedIterator({maxItemCount, changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}));
    assert.equal(items.length, 17);
    for (const p of pages) assert.ok(p.result.length >= 1 && p.result.length <= maxItemCount, `page of ${p.result.length} with maxItemCount ${maxItemCount}`);
  }
  await assert.rejects(async () => container.items.getChangeFeedIterator({maxItemCount: 0}).readNext(), /maxItemCount must be a positive number/);
});

test('continuation tokens taken mid-stream resume exactly, for the container, a partition key and a range', async () => {
  const container = await ctx.container({}, {offerThroughput: 20000});
  const docs = Array.from({length: 24}, (_, i) => ({id: `d${i}`, pk: `p${i % 8}`}));
  await createAll(container, docs);
  const [range0] = await container.getFeedRanges();
  const scopes = [
    ['container', ChangeFeedStartFrom.Beginning(), docs],
    ['partition key', ChangeFeedStartFrom.Beginning('p1'), docs.filter(d => d.pk === 'p1')],
    ['range', ChangeFeedStartFrom.Beginning(range0), null],
  ];
  for (const [what, start, expected] of scopes) {
    const all = (await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: start}))).items;
    if (expected) assert.deepEqual(ids(all), ids(expected), what);
    assert.ok(all.length >= 2, `${what}: ${all.length} documents in scope`);
    const it = container.items.getChangeFeedIterator({maxItemCount: 1, changeFeedStartFrom: start});
    const head = [];
    let token;
    while (head.length < Math.floor(all.length / 2)) {
      const r = await it.readNext();
      head.push(...r.result);
      token = r.continuationToken;
    }
    const rest = (await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Continuation(token)}))).items;
    assert.deepEqual(ids([...head, ...rest]), ids(all), `${what}: the head and the resumed tail are every change once`);
  }
});

test('a hierarchical partition key prefix reads its documents, including undefined levels', async () => {
  const container = await ctx.container({
    partitionKey: {paths: ['/tenant', '/user'], kind: PartitionKeyKind.MultiHash, version: PartitionKeyDefinitionVersion.V2},
  });
  const {resource: def} = await container.read();
  assert.equal(def.partitionKey.kind, 'MultiHash');
  assert.equal(def.partitionKey.version, 2);
  await createAll(container, [
    {id: '1', tenant: 'A', user: 'u1'},
    {id: '2', tenant: 'A', user: 'u2'},
    {id: '3', tenant: 'B', user: 'u1'},
    {id: '4', tenant: 'A'},
  ]);
  let {items} = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning(['A'])}));
  assert.deepEqual(ids(items), ['1', '2', '4']);
  ({items} = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning(['A', 'u1'])})));
  assert.deepEqual(ids(items), ['1']);
  const {resource} = await container.item('4', ['A', undefined]).read();
  assert.equal(resource?.id, '4');
});

test('a token of a deleted and re-created container is refused', async () => {
  const container = await ctx.container();
  await createAll(container, [{id: 'a', pk: 'p'}]);
  const whole = (await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}))).last.continuationToken;
  const byKey = (await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning('p')}))).last.continuationToken;
  const id = container.id;
  await container.delete();
  const {container: again} = await ctx.database.containers.createIfNotExists({id, partitionKey: '/pk'});
  await createAll(again, [{id: 'b', pk: 'p'}]);
  for (const token of [whole, byKey]) {
    await assert.rejects(
      again.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Continuation(token)}).readNext(),
      /continuation( token)? is not for the current container definition/,
      token
    );
  }
});
