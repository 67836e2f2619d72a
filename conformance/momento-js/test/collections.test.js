// Collections through @gomomento/sdk: dictionaries, sets, lists and sorted sets (Scs/Dictionary*,
// Set*, List*, SortedSet*), with CollectionTtl refresh rules, missing collection vs missing
// element, wrong-type and size-limit errors.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  CollectionTtl,
  SortedSetOrder,
  SortedSetAggregate,
  ItemType,
  CacheDelete,
  CacheSet,
  CacheItemGetType,
  CacheItemGetTtl,
  CacheKeysExist,
  CacheDictionarySetField,
  CacheDictionarySetFields,
  CacheDictionaryGetField,
  CacheDictionaryGetFields,
  CacheDictionaryFetch,
  CacheDictionaryIncrement,
  CacheDictionaryRemoveField,
  CacheDictionaryRemoveFields,
  CacheDictionaryLength,
  CacheSetAddElement,
  CacheSetAddElements,
  CacheSetRemoveElement,
  CacheSetRemoveElements,
  CacheSetFetch,
  CacheSetContainsElement,
  CacheSetContainsElements,
  CacheSetSample,
  CacheListPushFront,
  CacheListPushBack,
  CacheListConcatenateFront,
  CacheListConcatenateBack,
  CacheListPopFront,
  CacheListPopBack,
  CacheListFetch,
  CacheListRetain,
  CacheListRemoveValue,
  CacheListLength,
  CacheSortedSetPutElement,
  CacheSortedSetPutElements,
  CacheSortedSetFetch,
  CacheSortedSetGetScore,
  CacheSortedSetGetScores,
  CacheSortedSetGetRank,
  CacheSortedSetIncrementScore,
  CacheSortedSetRemoveElement,
  CacheSortedSetRemoveElements,
  CacheSortedSetLength,
  CacheSortedSetLengthByScore,
  CacheSortedSetUnionStore,
} from '@gomomento/sdk';

import {useSetsuna, assertIs, assertError, MomentoErrorCode} from './harness.js';

// CacheSetLength and CacheSetPop are not exported by @gomomento/sdk 1.118.1: check their
// responses by their `type` tag (and the accessor the test then uses).
function assertType(resp, type, label) {
  assert.equal(resp?.type, type, `${label}: expected a ${type} response, got type=${resp?.type} ${resp}`);
  return resp;
}

const ctx = useSetsuna({caches: 1, prefix: 'coll'});
const c = () => ctx.cacheName;
let n = 0;
const k = (label = 'k') => `${label}-${++n}`;

async function remainingMs(key) {
  return assertIs(await ctx.client.itemGetTtl(c(), key), CacheItemGetTtl.Hit, `itemGetTtl(${key})`).remainingTtlMillis();
}

async function itemType(key) {
  const r = await ctx.client.itemGetType(c(), key);
  return r instanceof CacheItemGetType.Hit ? r.itemType() : undefined;
}

// ---------------------------------------------------------------------------------------------
// dictionaries

test('dictionary: set, get, fetch, length, remove', async () => {
  const d = k('dict');
  assertIs(await ctx.client.dictionaryFetch(c(), d), CacheDictionaryFetch.Miss);
  assertIs(await ctx.client.dictionaryGetField(c(), d, 'a'), CacheDictionaryGetField.Miss);
  assertIs(await ctx.client.dictionaryGetFields(c(), d, ['a']), CacheDictionaryGetFields.Miss);
  assertIs(await ctx.client.dictionaryLength(c(), d), CacheDictionaryLength.Miss);

  assertIs(await ctx.client.dictionarySetField(c(), d, 'a', '1'), CacheDictionarySetField.Success);
  assertIs(await ctx.client.dictionarySetFields(c(), d, {b: '2', c: '3'}), CacheDictionarySetFields.Success);
  assertIs(await ctx.client.dictionarySetFields(c(), d, new Map([['c', 'three']])), CacheDictionarySetFields.Success);
  assert.equal(assertIs(await ctx.client.dictionaryGetField(c(), d, 'a'), CacheDictionaryGetField.Hit).valueString(), '1');
  // Present dictionary, absent field: a per-field miss.
  const miss = assertIs(await ctx.client.dictionaryGetField(c(), d, 'zz'), CacheDictionaryGetField.Miss);
  assert.equal(miss.fieldString(), 'zz');
  const gf = assertIs(await ctx.client.dictionaryGetFields(c(), d, ['a', 'zz', 'c']), CacheDictionaryGetFields.Hit);
  assert.deepEqual(gf.valueRecord(), {a: '1', c: 'three'});
  const fetched = assertIs(await ctx.client.dictionaryFetch(c(), d), CacheDictionaryFetch.Hit);
  assert.deepEqual(fetched.valueRecord(), {a: '1', b: '2', c: 'three'});
  assert.equal(assertIs(await ctx.client.dictionaryLength(c(), d), CacheDictionaryLength.Hit).length(), 3);
  assert.equal(await itemType(d), ItemType.DICTIONARY);

  assertIs(await ctx.client.dictionaryRemoveField(c(), d, 'a'), CacheDictionaryRemoveField.Success);
  assertIs(await ctx.client.dictionaryRemoveFields(c(), d, ['b', 'nope']), CacheDictionaryRemoveFields.Success);
  assert.deepEqual(assertIs(await ctx.client.dictionaryFetch(c(), d), CacheDictionaryFetch.Hit).valueRecord(), {c: 'three'});
  // Removing the last field removes the dictionary.
  assertIs(await ctx.client.dictionaryRemoveField(c(), d, 'c'), CacheDictionaryRemoveField.Success);
  assertIs(await ctx.client.dictionaryFetch(c(), d), CacheDictionaryFetch.Miss);
  assertIs(await ctx.client.dictionaryRemoveField(c(), d, 'c'), CacheDictionaryRemoveField.Success);
});

test('dictionary: increment', async () => {
  const d = k('dict');
  assert.equal(assertIs(await ctx.client.dictionaryIncrement(c(), d, 'n'), CacheDictionaryIncrement.Success).value(), 1);
  assert.equal(assertIs(await ctx.client.dictionaryIncrement(c(), d, 'n', 41), CacheDictionaryIncrement.Success).value(), 42);
  assert.equal(assertIs(await ctx.client.dictionaryIncrement(c(), d, 'n', -50), CacheDictionaryIncrement.Success).value(), -8);
  assert.equal(assertIs(await ctx.client.dictionaryGetField(c(), d, 'n'), CacheDictionaryGetField.Hit).valueString(), '-8');
  await ctx.client.dictionarySetField(c(), d, 's', 'not a number');
  assertError(await ctx.client.dictionaryIncrement(c(), d, 's', 1), MomentoErrorCode.FAILED_PRECONDITION_ERROR);
  assert.equal(assertIs(await ctx.client.dictionaryGetField(c(), d, 's'), CacheDictionaryGetField.Hit).valueString(), 'not a number');
});

// ---------------------------------------------------------------------------------------------
// sets

test('set: add, fetch, contains, length, remove', async () => {
  const s = k('set');
  assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Miss);
  assertIs(await ctx.client.setContainsElement(c(), s, 'a'), CacheSetContainsElement.Miss);
  assertIs(await ctx.client.setContainsElements(c(), s, ['a']), CacheSetContainsElements.Miss);
  assertType(await ctx.client.setLength(c(), s), 'Miss', 'setLength');
  assertIs(await ctx.client.setRemoveElement(c(), s, 'a'), CacheSetRemoveElement.Success);

  assertIs(await ctx.client.setAddElement(c(), s, 'a'), CacheSetAddElement.Success);
  assertIs(await ctx.client.setAddElements(c(), s, ['b', 'c', 'a']), CacheSetAddElements.Success);
  const f = assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Hit);
  assert.deepEqual(new Set(f.valueArray()), new Set(['a', 'b', 'c']));
  assertIs(await ctx.client.setContainsElement(c(), s, 'b'), CacheSetContainsElement.Hit);
  assert.equal(assertIs(await ctx.client.setContainsElement(c(), s, 'z'), CacheSetContainsElement.Hit).containsElement(), false);
  const ce = assertIs(await ctx.client.setContainsElements(c(), s, ['a', 'z']), CacheSetContainsElements.Hit);
  assert.deepEqual(ce.containsElements(), {a: true, z: false});
  assert.equal(assertType(await ctx.client.setLength(c(), s), 'Hit', 'setLength').length(), 3);
  assert.equal(await itemType(s), ItemType.SET);

  assertIs(await ctx.client.setRemoveElement(c(), s, 'a'), CacheSetRemoveElement.Success);
  assertIs(await ctx.client.setRemoveElements(c(), s, ['b', 'nope']), CacheSetRemoveElements.Success);
  assert.deepEqual(assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Hit).valueArray(), ['c']);
  await ctx.client.setRemoveElement(c(), s, 'c');
  assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Miss);
});

test('set: sample and pop', async () => {
  const s = k('set');
  assertIs(await ctx.client.setSample(c(), s, 2), CacheSetSample.Miss);
  assertType(await ctx.client.setPop(c(), s, 2), 'Miss', 'setPop');
  const all = ['a', 'b', 'c', 'd', 'e'];
  await ctx.client.setAddElements(c(), s, all);
  const two = assertIs(await ctx.client.setSample(c(), s, 2), CacheSetSample.Hit).valueArray();
  assert.equal(new Set(two).size, 2);
  for (const e of two) assert.ok(all.includes(e));
  assert.deepEqual(new Set(assertIs(await ctx.client.setSample(c(), s, 10), CacheSetSample.Hit).valueArray()), new Set(all));
  const popped = assertType(await ctx.client.setPop(c(), s, 3), 'Hit', 'setPop').valueArray();
  assert.equal(popped.length, 3);
  assert.equal(assertType(await ctx.client.setLength(c(), s), 'Hit', 'setLength').length(), 2);
  const rest = assertType(await ctx.client.setPop(c(), s, 5), 'Hit', 'setPop').valueArray();
  assert.deepEqual(new Set([...popped, ...rest]), new Set(all));
  assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Miss);
});

// ---------------------------------------------------------------------------------------------
// lists

test('list: push, concatenate, pop, length', async () => {
  const l = k('list');
  assertIs(await ctx.client.listPopFront(c(), l), CacheListPopFront.Miss);
  assertIs(await ctx.client.listPopBack(c(), l), CacheListPopBack.Miss);
  assertIs(await ctx.client.listLength(c(), l), CacheListLength.Miss);
  assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Miss);

  assert.equal(assertIs(await ctx.client.listPushBack(c(), l, 'b'), CacheListPushBack.Success).listLength(), 1);
  assert.equal(assertIs(await ctx.client.listPushFront(c(), l, 'a'), CacheListPushFront.Success).listLength(), 2);
  assert.equal(assertIs(await ctx.client.listConcatenateBack(c(), l, ['c', 'd']), CacheListConcatenateBack.Success).listLength(), 4);
  assert.equal(assertIs(await ctx.client.listConcatenateFront(c(), l, ['x', 'y']), CacheListConcatenateFront.Success).listLength(), 6);
  assert.deepEqual(assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Hit).valueList(), ['x', 'y', 'a', 'b', 'c', 'd']);
  assert.equal(assertIs(await ctx.client.listLength(c(), l), CacheListLength.Hit).length(), 6);
  assert.equal(await itemType(l), ItemType.LIST);

  assert.equal(assertIs(await ctx.client.listPopFront(c(), l), CacheListPopFront.Hit).valueString(), 'x');
  assert.equal(assertIs(await ctx.client.listPopBack(c(), l), CacheListPopBack.Hit).valueString(), 'd');

  // Truncation: push front drops from the back, push back drops from the front.
  assert.equal(assertIs(await ctx.client.listPushFront(c(), l, 'f', {truncateBackToSize: 3}), CacheListPushFront.Success).listLength(), 3);
  assert.deepEqual(assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Hit).valueList(), ['f', 'y', 'a']);
  assert.equal(assertIs(await ctx.client.listPushBack(c(), l, 'g', {truncateFrontToSize: 2}), CacheListPushBack.Success).listLength(), 2);
  assert.deepEqual(assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Hit).valueList(), ['a', 'g']);
  await ctx.client.listConcatenateBack(c(), l, ['1', '2', '3'], {truncateFrontToSize: 3});
  assert.deepEqual(assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Hit).valueList(), ['1', '2', '3']);
  await ctx.client.listConcatenateFront(c(), l, ['-1', '0'], {truncateBackToSize: 4});
  assert.deepEqual(assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Hit).valueList(), ['-1', '0', '1', '2']);

  for (let i = 0; i < 4; i++) assertIs(await ctx.client.listPopBack(c(), l), CacheListPopBack.Hit);
  assertIs(await ctx.client.listPopBack(c(), l), CacheListPopBack.Miss);
  assertIs(await ctx.client.listLength(c(), l), CacheListLength.Miss);
});

test('list: fetch and retain slices, remove value', async () => {
  const l = k('list');
  const vals = ['0', '1', '2', '3', '4', '5'];
  await ctx.client.listConcatenateBack(c(), l, vals);
  const fetch = async opts => assertIs(await ctx.client.listFetch(c(), l, opts), CacheListFetch.Hit).valueList();
  assert.deepEqual(await fetch({startIndex: 1, endIndex: 3}), ['1', '2']);
  assert.deepEqual(await fetch({startIndex: -2}), ['4', '5']);
  assert.deepEqual(await fetch({endIndex: -4}), ['0', '1']);
  assert.deepEqual(await fetch({startIndex: -3, endIndex: -1}), ['3', '4']);
  assert.deepEqual(await fetch({startIndex: 4, endIndex: 100}), ['4', '5']);
  // A slice that selects nothing is a Miss, as the SDK's own suite asserts (issue 12).
  assertIs(await ctx.client.listFetch(c(), l, {startIndex: 10}), CacheListFetch.Miss);
  assertIs(await ctx.client.listFetch(c(), l, {startIndex: 4, endIndex: -3}), CacheListFetch.Miss);

  assertIs(await ctx.client.listRetain(c(), l, {startIndex: 1, endIndex: -1}), CacheListRetain.Success);
  assert.deepEqual(await fetch(), ['1', '2', '3', '4']);
  assertIs(await ctx.client.listRetain(c(), l, {startIndex: -3}), CacheListRetain.Success);
  assert.deepEqual(await fetch(), ['2', '3', '4']);
  assertIs(await ctx.client.listRetain(c(), k('none'), {startIndex: 1}), CacheListRetain.Success);

  await ctx.client.listConcatenateBack(c(), l, ['2', 'x', '2']);
  assertIs(await ctx.client.listRemoveValue(c(), l, '2'), CacheListRemoveValue.Success);
  assert.deepEqual(await fetch(), ['3', '4', 'x']);
  assertIs(await ctx.client.listRemoveValue(c(), k('none'), '2'), CacheListRemoveValue.Success);
});

// ---------------------------------------------------------------------------------------------
// sorted sets

test('sorted set: put, fetch by rank, scores, ranks, remove', async () => {
  const z = k('zset');
  assertIs(await ctx.client.sortedSetFetchByRank(c(), z), CacheSortedSetFetch.Miss);
  assertIs(await ctx.client.sortedSetFetchByScore(c(), z), CacheSortedSetFetch.Miss);
  assertIs(await ctx.client.sortedSetGetScore(c(), z, 'a'), CacheSortedSetGetScore.Miss);
  assertIs(await ctx.client.sortedSetGetScores(c(), z, ['a']), CacheSortedSetGetScores.Miss);
  assertIs(await ctx.client.sortedSetGetRank(c(), z, 'a'), CacheSortedSetGetRank.Miss);
  assertIs(await ctx.client.sortedSetLength(c(), z), CacheSortedSetLength.Miss);
  assertIs(await ctx.client.sortedSetLengthByScore(c(), z), CacheSortedSetLengthByScore.Miss);

  assertIs(await ctx.client.sortedSetPutElement(c(), z, 'd', 4), CacheSortedSetPutElement.Success);
  assertIs(await ctx.client.sortedSetPutElements(c(), z, {a: 1, c: 3, b: 2}), CacheSortedSetPutElements.Success);
  assertIs(await ctx.client.sortedSetPutElements(c(), z, new Map([['e', 5], ['bb', 2]])), CacheSortedSetPutElements.Success);
  assert.equal(await itemType(z), ItemType.SORTED_SET);
  const byRank = async opts => assertIs(await ctx.client.sortedSetFetchByRank(c(), z, opts), CacheSortedSetFetch.Hit).valueArray();
  assert.deepEqual(await byRank(), [
    {value: 'a', score: 1},
    {value: 'b', score: 2},
    {value: 'bb', score: 2}, // ties order by element bytes
    {value: 'c', score: 3},
    {value: 'd', score: 4},
    {value: 'e', score: 5},
  ]);
  const names = list => list.map(e => e.value);
  assert.deepEqual(names(await byRank({order: SortedSetOrder.Descending})), ['e', 'd', 'c', 'bb', 'b', 'a']);
  assert.deepEqual(names(await byRank({startRank: 1, endRank: 3})), ['b', 'bb']);
  assert.deepEqual(names(await byRank({startRank: -2})), ['d', 'e']);
  assert.deepEqual(names(await byRank({startRank: 0, endRank: -4})), ['a', 'b']);
  assert.deepEqual(names(await byRank({startRank: 1, endRank: 3, order: SortedSetOrder.Descending})), ['d', 'c']);
  assert.deepEqual(names(await byRank({startRank: 10})), []);

  assert.equal(assertIs(await ctx.client.sortedSetGetScore(c(), z, 'c'), CacheSortedSetGetScore.Hit).score(), 3);
  assertIs(await ctx.client.sortedSetGetScore(c(), z, 'nope'), CacheSortedSetGetScore.Miss);
  const scores = assertIs(await ctx.client.sortedSetGetScores(c(), z, ['a', 'nope', 'e']), CacheSortedSetGetScores.Hit);
  assert.deepEqual(scores.valueRecord(), {a: 1, e: 5});
  assert.equal(assertIs(await ctx.client.sortedSetGetRank(c(), z, 'c'), CacheSortedSetGetRank.Hit).rank(), 3);
  assert.equal(assertIs(await ctx.client.sortedSetGetRank(c(), z, 'a'), CacheSortedSetGetRank.Hit).rank(), 0);
  assert.equal(
    assertIs(await ctx.client.sortedSetGetRank(c(), z, 'a', {order: SortedSetOrder.Descending}), CacheSortedSetGetRank.Hit).rank(),
    5
  );
  assertIs(await ctx.client.sortedSetGetRank(c(), z, 'nope'), CacheSortedSetGetRank.Miss);
  assert.equal(assertIs(await ctx.client.sortedSetLength(c(), z), CacheSortedSetLength.Hit).length(), 6);

  assertIs(await ctx.client.sortedSetRemoveElement(c(), z, 'a'), CacheSortedSetRemoveElement.Success);
  assertIs(await ctx.client.sortedSetRemoveElements(c(), z, ['b', 'bb', 'nope']), CacheSortedSetRemoveElements.Success);
  assert.deepEqual(names(await byRank()), ['c', 'd', 'e']);
  await ctx.client.sortedSetRemoveElements(c(), z, ['c', 'd', 'e']);
  assertIs(await ctx.client.sortedSetFetchByRank(c(), z), CacheSortedSetFetch.Miss);
});

test('sorted set: fetch by score, length by score, increment', async () => {
  const z = k('zset');
  await ctx.client.sortedSetPutElements(c(), z, {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6});
  const byScore = async opts =>
    assertIs(await ctx.client.sortedSetFetchByScore(c(), z, opts), CacheSortedSetFetch.Hit).valueArray().map(e => e.value);
  assert.deepEqual(await byScore(), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(await byScore({minScore: 2, maxScore: 4}), ['b', 'c', 'd']);
  assert.deepEqual(await byScore({minScore: 2, maxScore: 4, order: SortedSetOrder.Descending}), ['d', 'c', 'b']);
  assert.deepEqual(await byScore({minScore: 2, offset: 1, count: 2}), ['c', 'd']);
  assert.deepEqual(await byScore({maxScore: 5, order: SortedSetOrder.Descending, offset: 1, count: 3}), ['d', 'c', 'b']);
  assert.deepEqual(await byScore({minScore: 10}), []);
  assert.deepEqual(await byScore({offset: 100}), []);

  const len = async opts => assertIs(await ctx.client.sortedSetLengthByScore(c(), z, opts), CacheSortedSetLengthByScore.Hit).length();
  assert.equal(await len(), 6);
  assert.equal(await len({minScore: 2, maxScore: 4}), 3);
  assert.equal(await len({minScore: 5}), 2);
  // The SDK itself turns a found length of 0 into a Miss.
  assertIs(await ctx.client.sortedSetLengthByScore(c(), z, {maxScore: 0}), CacheSortedSetLengthByScore.Miss);

  assert.equal(assertIs(await ctx.client.sortedSetIncrementScore(c(), z, 'a', 10), CacheSortedSetIncrementScore.Success).score(), 11);
  assert.equal(assertIs(await ctx.client.sortedSetIncrementScore(c(), z, 'new'), CacheSortedSetIncrementScore.Success).score(), 1);
  assert.equal(assertIs(await ctx.client.sortedSetIncrementScore(c(), z, 'new', -2.5), CacheSortedSetIncrementScore.Success).score(), -1.5);
  assert.equal(assertIs(await ctx.client.sortedSetGetRank(c(), z, 'a'), CacheSortedSetGetRank.Hit).rank(), 6);
  assert.equal(assertIs(await ctx.client.sortedSetGetRank(c(), z, 'new'), CacheSortedSetGetRank.Hit).rank(), 0);
});

test('sorted set: union store', async () => {
  const s1 = k('zs'), s2 = k('zs'), dst = k('zdst');
  await ctx.client.sortedSetPutElements(c(), s1, {a: 1, b: 2});
  await ctx.client.sortedSetPutElements(c(), s2, {b: 3, c: 4});
  const sources = [
    {sortedSetName: s1, weight: 1},
    {sortedSetName: s2, weight: 2},
    {sortedSetName: k('none'), weight: 1},
  ];
  const fetch = async () => assertIs(await ctx.client.sortedSetFetchByRank(c(), dst), CacheSortedSetFetch.Hit).valueArray();
  let r = assertIs(await ctx.client.sortedSetUnionStore(c(), dst, sources), CacheSortedSetUnionStore.Success);
  assert.equal(r.length(), 3);
  assert.deepEqual(await fetch(), [
    {value: 'a', score: 1},
    {value: 'b', score: 8},
    {value: 'c', score: 8},
  ]);
  r = assertIs(await ctx.client.sortedSetUnionStore(c(), dst, sources, {aggregate: SortedSetAggregate.MIN}), CacheSortedSetUnionStore.Success);
  assert.deepEqual((await fetch()).map(e => e.score), [1, 2, 8]);
  r = assertIs(await ctx.client.sortedSetUnionStore(c(), dst, sources, {aggregate: SortedSetAggregate.MAX}), CacheSortedSetUnionStore.Success);
  assert.deepEqual(await fetch(), [
    {value: 'a', score: 1},
    {value: 'b', score: 6},
    {value: 'c', score: 8},
  ]);
  // An empty union deletes the destination.
  r = assertIs(
    await ctx.client.sortedSetUnionStore(c(), dst, [{sortedSetName: k('none'), weight: 1}]),
    CacheSortedSetUnionStore.Success
  );
  assert.equal(r.length(), 0);
  assertIs(await ctx.client.sortedSetFetchByRank(c(), dst), CacheSortedSetFetch.Miss);
});

// ---------------------------------------------------------------------------------------------
// shared behaviour

// One creating write and one update per collection type; the update is called with a TTL.
const writers = {
  dictionary: (key, ttl) => ctx.client.dictionarySetField(c(), key, 'f', 'v', {ttl}),
  dictionaryIncrement: (key, ttl) => ctx.client.dictionaryIncrement(c(), key, 'n', 1, {ttl}),
  set: (key, ttl) => ctx.client.setAddElement(c(), key, 'e', {ttl}),
  list: (key, ttl) => ctx.client.listPushBack(c(), key, 'v', {ttl}),
  listConcat: (key, ttl) => ctx.client.listConcatenateFront(c(), key, ['v'], {ttl}),
  sortedSet: (key, ttl) => ctx.client.sortedSetPutElement(c(), key, 'e', 1, {ttl}),
  sortedSetIncrement: (key, ttl) => ctx.client.sortedSetIncrementScore(c(), key, 'e', 1, {ttl}),
};

test('CollectionTtl: set on creation, refreshed only with refreshTtl', async () => {
  for (const [name, write] of Object.entries(writers)) {
    const key = k(name);
    const created = await write(key, CollectionTtl.of(100));
    assert.ok(!(typeof created.errorCode === 'function'), `${name}: ${created}`);
    let ms = await remainingMs(key);
    assert.ok(ms > 90_000 && ms <= 100_000, `${name}: created with ${ms} ms`);

    // No refresh: the old expiry stays.
    await write(key, CollectionTtl.of(1000).withNoRefreshTtlOnUpdates());
    ms = await remainingMs(key);
    assert.ok(ms <= 100_000, `${name}: without refresh ${ms} ms`);

    // refreshTtlIfProvided without a TTL: no refresh either.
    await write(key, CollectionTtl.refreshTtlIfProvided());
    ms = await remainingMs(key);
    assert.ok(ms <= 100_000, `${name}: refreshTtlIfProvided() ${ms} ms`);

    // Refresh (the default of CollectionTtl.of): replaced.
    await write(key, CollectionTtl.of(1000));
    ms = await remainingMs(key);
    assert.ok(ms > 990_000 && ms <= 1_000_000, `${name}: refreshed ${ms} ms`);

    // fromCacheTtl: the client's default (60 s) with refresh.
    await write(key, CollectionTtl.fromCacheTtl());
    ms = await remainingMs(key);
    assert.ok(ms > 50_000 && ms <= 60_000, `${name}: fromCacheTtl ${ms} ms`);

    // After delete, a no-refresh write creates the collection with its TTL.
    assertIs(await ctx.client.delete(c(), key), CacheDelete.Success);
    await write(key, CollectionTtl.of(200).withNoRefreshTtlOnUpdates());
    ms = await remainingMs(key);
    assert.ok(ms > 190_000 && ms <= 200_000, `${name}: re-created ${ms} ms`);
  }
});

test('collections share the key space: delete, keysExist, type mismatch', async () => {
  const d = k('dict'), s = k('set'), l = k('list'), z = k('zset'), sc = k('scalar');
  await ctx.client.dictionarySetField(c(), d, 'f', 'v');
  await ctx.client.setAddElement(c(), s, 'e');
  await ctx.client.listPushBack(c(), l, 'v');
  await ctx.client.sortedSetPutElement(c(), z, 'e', 1);
  assertIs(await ctx.client.set(c(), sc, 'v'), CacheSet.Success);
  assert.deepEqual(assertIs(await ctx.client.keysExist(c(), [d, s, l, z, 'nope']), CacheKeysExist.Success).exists(), [
    true,
    true,
    true,
    true,
    false,
  ]);

  const fp = MomentoErrorCode.FAILED_PRECONDITION_ERROR;
  assertError(await ctx.client.dictionaryFetch(c(), s), fp, 'dictionaryFetch(set)');
  assertError(await ctx.client.dictionarySetField(c(), l, 'f', 'v'), fp, 'dictionarySetField(list)');
  assertError(await ctx.client.setAddElement(c(), d, 'e'), fp, 'setAddElement(dictionary)');
  assertError(await ctx.client.setFetch(c(), sc), fp, 'setFetch(scalar)');
  assertError(await ctx.client.listPushFront(c(), z, 'v'), fp, 'listPushFront(sorted set)');
  assertError(await ctx.client.listFetch(c(), d), fp, 'listFetch(dictionary)');
  assertError(await ctx.client.sortedSetPutElement(c(), l, 'e', 1), fp, 'sortedSetPutElement(list)');
  assertError(await ctx.client.sortedSetFetchByRank(c(), s), fp, 'sortedSetFetchByRank(set)');
  assertError(await ctx.client.get(c(), z), fp, 'get(sorted set)');

  for (const key of [d, s, l, z]) {
    assertIs(await ctx.client.delete(c(), key), CacheDelete.Success);
    assertIs(await ctx.client.itemGetType(c(), key), CacheItemGetType.Miss);
  }
  assertIs(await ctx.client.setFetch(c(), s), CacheSetFetch.Miss);
  assertIs(await ctx.client.listFetch(c(), l), CacheListFetch.Miss);
});

test('an element over 128 KB is refused with LIMIT_EXCEEDED', async () => {
  const big = 'x'.repeat(128 * 1024 + 1);
  const le = MomentoErrorCode.LIMIT_EXCEEDED_ERROR;
  assertError(await ctx.client.dictionarySetField(c(), k('dict'), 'f', big), le, 'dictionary value');
  assertError(await ctx.client.setAddElement(c(), k('set'), big), le, 'set element');
  assertError(await ctx.client.listPushBack(c(), k('list'), big), le, 'list value');
  assertError(await ctx.client.sortedSetPutElement(c(), k('zset'), big, 1), le, 'sorted set element');
  const l = k('list');
  assertIs(await ctx.client.listPushBack(c(), l, 'x'.repeat(128 * 1024)), CacheListPushBack.Success);
});
