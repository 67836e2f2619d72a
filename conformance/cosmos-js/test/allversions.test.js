// All-versions-and-deletes mode through the SDK: creates, replaces with previous images,
// deletes and TTL expiries, and the service's refusal of Beginning and point-in-time starts.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {ChangeFeedStartFrom, ChangeFeedMode, ChangeFeedPolicy, ChangeFeedRetentionTimeSpan, StatusCodes} from '@azure/cosmos';

import {useCosmos, drain, eventually} from './harness.js';

const ctx = useCosmos({prefix: 'avad'});
const RETENTION = 'You must read the change feed from within the retention period.';

const avadContainer = () =>
  ctx.container({
    defaultTtl: -1,
    changeFeedPolicy: new ChangeFeedPolicy(ChangeFeedRetentionTimeSpan.fromMinutes(10)),
  });

test('the container echoes its change feed policy', async () => {
  const container = await avadContainer();
  const {resource} = await container.read();
  assert.equal(resource.changeFeedPolicy?.retentionDuration, 10);
  assert.equal(resource.defaultTtl, -1);
});

test('creates, replaces with previous images, deletes and TTL expiries, in order', async () => {
  const container = await avadContainer();
  const iterator = container.items.getChangeFeedIterator({
    changeFeedStartFrom: ChangeFeedStartFrom.Now(),
    changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
  });
  assert.equal((await iterator.readNext()).statusCode, StatusCodes.NotModified);

  await container.items.create({id: 'x', pk: 'p', v: 1});
  await container.item('x', 'p').replace({id: 'x', pk: 'p', v: 2});
  await container.item('x', 'p').delete();
  await container.items.create({id: 't', pk: 'q', ttl: 1});

  const seen = [];
  await eventually(
    async () => {
      seen.push(...(await drain(iterator)).items);
      return seen.some(c => c.metadata?.operationType === 'delete' && c.metadata.id === 't');
    },
    {what: 'the TTL expiry of t in the feed'}
  );
  const [create, replace, del, createT, expiry] = seen;
  assert.equal(seen.length, 5, JSON.stringify(seen));

  assert.equal(create.metadata.operationType, 'create');
  assert.equal(create.current.v, 1);
  assert.equal(typeof create.metadata.lsn, 'number');
  assert.equal(typeof create.metadata.crts, 'number');

  assert.equal(replace.metadata.operationType, 'replace');
  assert.equal(replace.current.v, 2);
  assert.equal(replace.previous?.v, 1, 'replace carries the previous image');
  assert.equal(replace.metadata.previousImageLSN, create.metadata.lsn);
  assert.ok(replace.metadata.lsn > create.metadata.lsn);

  assert.equal(del.metadata.operationType, 'delete');
  assert.equal(del.current, undefined);
  assert.equal(del.metadata.id, 'x');
  assert.deepEqual(del.metadata.partitionKey, {pk: 'p'});
  assert.equal(del.metadata.timeToLiveExpired, false);

  assert.equal(createT.metadata.operationType, 'create');
  assert.equal(expiry.metadata.operationType, 'delete');
  assert.equal(expiry.metadata.timeToLiveExpired, true);

  // The latest-version view of the same container shows none of the deleted documents.
  const latest = await drain(container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Beginning()}));
  assert.deepEqual(latest.items, []);
});

test('a continuation of all versions resumes after the last change read', async () => {
  const container = await avadContainer();
  const first = container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Now(), changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes});
  await first.readNext();
  await container.items.create({id: 'a', pk: 'p'});
  const {last} = await drain(first);
  await container.item('a', 'p').delete();
  const resumed = container.items.getChangeFeedIterator({
    changeFeedStartFrom: ChangeFeedStartFrom.Continuation(last.continuationToken),
    changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes,
  });
  const {items} = await drain(resumed);
  assert.deepEqual(items.map(c => [c.metadata.operationType, c.metadata.id]), [['delete', 'a']]);
});

test('Beginning and point-in-time starts are refused with the service message, in every scope', async () => {
  const container = await avadContainer();
  await container.items.create({id: 'a', pk: 'p'});
  const [range] = await container.getFeedRanges();
  const starts = [
    ChangeFeedStartFrom.Beginning(),
    ChangeFeedStartFrom.Beginning(range),
    ChangeFeedStartFrom.Beginning('p'),
    ChangeFeedStartFrom.Time(new Date(Date.now() - 60_000)),
    ChangeFeedStartFrom.Time(new Date(Date.now() - 60_000), 'p'),
  ];
  for (const changeFeedStartFrom of starts) {
    const it = container.items.getChangeFeedIterator({changeFeedStartFrom, changeFeedMode: ChangeFeedMode.AllVersionsAndDeletes});
    await assert.rejects(it.readNext(), err => err.code === 400 && err.message.includes(RETENTION), JSON.stringify(changeFeedStartFrom));
  }
});
