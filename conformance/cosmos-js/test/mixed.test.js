// One Setsuna cache seen through two surfaces: a container is a cache, so items written through
// the Momento SDK appear in the Cosmos change feed of the container, and documents written
// through the Cosmos SDK are items of the cache (harness.cacheNameOf and harness.itemKeyOf hold
// the documented mapping).

import {test, after} from 'node:test';
import assert from 'node:assert/strict';

import {ChangeFeedStartFrom} from '@azure/cosmos';
import {CacheClient, CacheGet, CacheSet, Configurations, CredentialProvider} from '@gomomento/sdk';

import {useCosmos, drain, cacheNameOf, itemKeyOf} from './harness.js';

const ctx = useCosmos({prefix: 'mixed'});
let momento;
after(() => momento?.close());

function momentoClient() {
  momento ??= new CacheClient({
    configuration: Configurations.Laptop.v1(),
    credentialProvider: CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port: ctx.server.grpcPort}),
    defaultTtlSeconds: 600,
  });
  return momento;
}

test('items written through Momento appear in the Cosmos change feed of the container', async () => {
  const container = await ctx.container({partitionKey: {paths: ['/pk'], version: 2}});
  const cache = cacheNameOf(ctx.database.id, container.id);
  const feed = container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Now()});
  await feed.readNext();
  const m = momentoClient();
  assert.ok((await m.set(cache, 'mk', JSON.stringify({id: 'mk', pk: 'm', via: 'momento'}))) instanceof CacheSet.Success);
  assert.ok((await m.set(cache, 'plain', 'hello')) instanceof CacheSet.Success);
  const {items} = await drain(feed);
  const byId = Object.fromEntries(items.map(d => [d.id, d]));
  assert.equal(byId.mk?.via, 'momento', JSON.stringify(items));
  assert.equal(byId.plain?.value, 'hello', JSON.stringify(items));
  for (const d of items) assert.equal(typeof d._lsn, 'number');
});

test('documents written through Cosmos are items of the cache', async () => {
  const container = await ctx.container({partitionKey: {paths: ['/pk'], version: 2}});
  const cache = cacheNameOf(ctx.database.id, container.id);
  await container.items.create({id: 'cd', pk: 'c', n: 1});
  const got = await momentoClient().get(cache, itemKeyOf(['c'], 'cd'));
  assert.ok(got instanceof CacheGet.Hit, `get: ${got.toString()}`);
  const doc = JSON.parse(got.valueString());
  assert.equal(doc.id, 'cd');
  assert.equal(doc.n, 1);
});
