// Leaderboards through the official SDK's PreviewLeaderboardClient (issue 12): upsert, fetch by
// score and by rank, ranks of ids, length, remove, delete; double scores; the limits and errors the
// SDK's own suite asserts.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  CredentialProvider,
  LeaderboardConfigurations,
  LeaderboardDelete,
  LeaderboardFetch,
  LeaderboardLength,
  LeaderboardOrder,
  LeaderboardRemoveElements,
  LeaderboardUpsert,
  PreviewLeaderboardClient,
} from '@gomomento/sdk';

import {useSetsuna, uniqueName, assertIs, assertError, MomentoErrorCode} from './harness.js';

const ctx = useSetsuna({caches: 1, prefix: 'lb'});
let client;
const board = name => {
  client ??= new PreviewLeaderboardClient({
    configuration: LeaderboardConfigurations.Laptop.v1(),
    credentialProvider: CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port: ctx.port}),
  });
  return client.leaderboard(ctx.cacheName, name);
};
const values = resp => assertIs(resp, LeaderboardFetch.Success).values();

test('upsert, fetch by score and by rank, ranks, length, remove, delete', async () => {
  const b = board(uniqueName('board'));
  assertIs(await b.upsert(new Map([[123, 100], [456, 200], [789, 300]])), LeaderboardUpsert.Success);
  assertIs(await b.upsert(new Map([[123, 400]])), LeaderboardUpsert.Success, 'update');
  assert.deepEqual(values(await b.fetchByScore()), [
    {id: 456, score: 200, rank: 0},
    {id: 789, score: 300, rank: 1},
    {id: 123, score: 400, rank: 2},
  ]);
  assert.deepEqual(values(await b.fetchByScore({minScore: 250, maxScore: 400})), [{id: 789, score: 300, rank: 1}], 'max is exclusive');
  assert.deepEqual(values(await b.fetchByScore({order: LeaderboardOrder.Descending, offset: 1, count: 1})), [{id: 789, score: 300, rank: 1}]);
  assert.deepEqual(values(await b.fetchByRank(0, 2, {order: LeaderboardOrder.Descending})), [
    {id: 123, score: 400, rank: 0},
    {id: 789, score: 300, rank: 1},
  ]);
  assert.deepEqual(values(await b.getRank([789, 999, 456])), [
    {id: 789, score: 300, rank: 1},
    {id: 456, score: 200, rank: 0},
  ]);
  assert.equal(assertIs(await b.length(), LeaderboardLength.Success).length(), 3);
  assertIs(await b.removeElements([456, 999]), LeaderboardRemoveElements.Success);
  assert.equal((await b.length()).length(), 2);
  assertIs(await b.delete(), LeaderboardDelete.Success);
  assert.equal((await b.length()).length(), 0);
  assert.deepEqual(values(await b.fetchByRank(0, 100)), [], 'a missing board reads empty');
});

test('double scores keep their precision', async () => {
  const b = board(uniqueName('doubles'));
  await b.upsert(new Map([[1, 27.004309862363737], [2, 16777217], [3, 300.5]]));
  assert.deepEqual(
    values(await b.fetchByScore()).map(e => e.score),
    [27.004309862363737, 300.5, 16777217]
  );
});

test('limits: rank ranges of 1 to 8192, at least one element; a missing cache is NOT_FOUND', async () => {
  const b = board(uniqueName('limits'));
  for (const [start, end] of [[0, 0], [0, 8193]]) {
    assertError(await b.fetchByRank(start, end), MomentoErrorCode.INVALID_ARGUMENT_ERROR, `fetchByRank(${start}, ${end})`);
  }
  assertIs(await b.fetchByRank(0, 8192), LeaderboardFetch.Success);
  assertError(await b.upsert(new Map()), MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'empty upsert');
  const tooMany = new Map(Array.from({length: 8193}, (_, i) => [i, i]));
  assertError(await b.upsert(tooMany), MomentoErrorCode.INVALID_ARGUMENT_ERROR, 'upsert of 8193 elements');
  const none = client.leaderboard(uniqueName('no-cache'), 'b');
  assertError(await none.length(), MomentoErrorCode.NOT_FOUND_ERROR, 'length on a missing cache');
});
