// The JavaScript samples of the change feed pull model seed (samples/change-feed-pull-model.ts),
// run verbatim against Setsuna. The samples loop for ever and back off 5 s after a NotModified;
// the harness's sampleClock parks them at that back-off instead, so that each test checks what
// a sample printed, writes more, lets it go on, and checks again, without sleeping.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {ChangeFeedStartFrom, StatusCodes} from '@azure/cosmos';

import {useCosmos, loadSnippets, runSnippet, sampleClock, captureConsole, recordingContainer, drain} from './harness.js';

const ctx = useCosmos({prefix: 'samples'});
const snippets = loadSnippets();

/** The documents a sample printed with console.log("Result found", items). */
function found(calls) {
  const out = [];
  for (const args of calls) {
    assert.equal(args[0], 'Result found');
    assert.ok(Array.isArray(args[1]) && args[1].length > 0, `a result page is a non-empty array: ${JSON.stringify(args[1])}`);
    out.push(...args[1]);
  }
  calls.length = 0;
  return out;
}

const ids = docs => docs.map(d => d.id).sort();

async function createAll(container, docs) {
  for (const d of docs) await container.items.create(d);
}

function runLooping(name, container, extra = {}) {
  const clock = sampleClock();
  const out = captureConsole();
  const run = runSnippet(snippets[name], {container, ChangeFeedStartFrom, StatusCodes, console: out.console, setTimeout: clock.setTimeout, ...extra});
  run.catch(() => {}); // failures surface through clock.parked(run)
  return {clock, out, run};
}

test('sample: an iterator for the whole container from Now', async () => {
  const container = await ctx.container();
  await createAll(container, [{id: 'before', pk: 'a'}]);
  const rec = recordingContainer(container);
  await runSnippet(snippets.now, {container: rec.container, ChangeFeedStartFrom});
  assert.equal(rec.iterators.length, 1);
  const iterator = rec.iterators[0].iterator;
  const first = await iterator.readNext();
  assert.equal(first.statusCode, StatusCodes.NotModified, 'Now: nothing yet');
  assert.ok(first.continuationToken, 'a NotModified still carries a continuation');
  await createAll(container, [{id: 'after1', pk: 'a'}, {id: 'after2', pk: 'b'}]);
  const {items} = await drain(iterator);
  assert.deepEqual(ids(items), ['after1', 'after2']);
});

test('sample: the whole container from Beginning, following new changes', async () => {
  const container = await ctx.container({}, {offerThroughput: 20000});
  const docs = Array.from({length: 12}, (_, i) => ({id: `d${i}`, pk: `p${i % 5}`}));
  await createAll(container, docs);
  const {clock, out, run} = runLooping('container-beginning', container);
  await clock.parked(run);
  assert.deepEqual(ids(found(out.calls)), ids(docs));
  await createAll(container, [{id: 'late', pk: 'p1'}]);
  await container.items.upsert({id: 'd3', pk: 'p3', changed: true});
  clock.resume();
  await clock.parked(run);
  const more = found(out.calls);
  assert.deepEqual(ids(more), ['d3', 'late']);
  assert.equal(more.find(d => d.id === 'd3').changed, true, 'latest version of d3');
});

test('sample: one partition key from Beginning', async () => {
  const container = await ctx.container();
  await createAll(container, [
    {id: '1', pk: 'partitionKeyValue'},
    {id: '2', pk: 'other'},
    {id: '3', pk: 'partitionKeyValue'},
  ]);
  const {clock, out, run} = runLooping('partition-key', container);
  await clock.parked(run);
  assert.deepEqual(ids(found(out.calls)), ['1', '3']);
  await createAll(container, [{id: '4', pk: 'other'}, {id: '5', pk: 'partitionKeyValue'}]);
  clock.resume();
  await clock.parked(run);
  assert.deepEqual(ids(found(out.calls)), ['5']);
});

test('sample: FeedRanges read in parallel by two machines see every change once', async () => {
  const container = await ctx.container({partitionKey: {paths: ['/pk'], version: 2}}, {offerThroughput: 20000});
  const docs = Array.from({length: 30}, (_, i) => ({id: `d${i}`, pk: `p${i}`}));
  await createAll(container, docs);
  const scope = {container};
  await runSnippet(snippets['feed-ranges'] + '\nreturn ranges;', scope).then(r => (scope.ranges = r));
  assert.equal(scope.ranges.length, 2, '20,000 RU/s: two physical partitions, one FeedRange each');

  const m1 = runLooping('machine-1', container, {ranges: scope.ranges});
  const m2 = runLooping('machine-2', container, {ranges: scope.ranges});
  const check = expected => {
    const a = ids(found(m1.out.calls));
    const b = ids(found(m2.out.calls));
    assert.deepEqual([...a, ...b].sort(), ids(expected), 'together every change');
    assert.equal(a.filter(x => b.includes(x)).length, 0, 'no change read twice');
    return [a, b];
  };
  await Promise.all([m1.clock.parked(m1.run), m2.clock.parked(m2.run)]);
  const [a, b] = check(docs);
  assert.ok(a.length > 0 && b.length > 0, `both ranges hold documents: ${a.length} and ${b.length}`);

  const more = Array.from({length: 10}, (_, i) => ({id: `e${i}`, pk: `q${i}`}));
  await createAll(container, more);
  m1.clock.resume();
  m2.clock.resume();
  await Promise.all([m1.clock.parked(m1.run), m2.clock.parked(m2.run)]);
  check(more);
});

test('sample: save the continuation on NotModified and resume from it', async () => {
  const container = await ctx.container();
  await createAll(container, [{id: 'a', pk: '1'}, {id: 'b', pk: '2'}]);
  const rec = recordingContainer(container);
  const out = captureConsole();
  // The published sample ends with ChangeFeedStartFrom(continuation), which JavaScript refuses
  // (a class called without new); everything before it runs against the server.
  await assert.rejects(
    runSnippet(snippets.continuation, {container: rec.container, ChangeFeedStartFrom, StatusCodes, console: out.console}),
    err => err instanceof TypeError && /Class constructor ChangeFeedStartFrom cannot be invoked without 'new'/.test(err.message)
  );
  assert.deepEqual(ids(found(out.calls)), ['a', 'b']);
  const responses = rec.iterators[0].responses;
  const last = responses.at(-1);
  assert.equal(last.statusCode, StatusCodes.NotModified);
  const continuation = last.continuationToken;
  assert.ok(continuation);

  // What the sample means: ChangeFeedStartFrom.Continuation(continuation).
  await createAll(container, [{id: 'c', pk: '1'}]);
  const newIterator = container.items.getChangeFeedIterator({changeFeedStartFrom: ChangeFeedStartFrom.Continuation(continuation)});
  const {items} = await drain(newIterator);
  assert.deepEqual(ids(items), ['c']);
});

test('sample: the async iterator follows new changes after a NotModified', async () => {
  const container = await ctx.container();
  await createAll(container, [{id: 'x', pk: '1'}]);
  const {clock, out, run} = runLooping('async-iterator', container);
  await clock.parked(run);
  assert.deepEqual(ids(found(out.calls)), ['x']);
  await createAll(container, [{id: 'y', pk: '2'}]);
  clock.resume();
  await clock.parked(run);
  assert.deepEqual(ids(found(out.calls)), ['y']);
  await container.item('x', '1').replace({id: 'x', pk: '1', v: 2});
  clock.resume();
  await clock.parked(run);
  const docs = found(out.calls);
  assert.deepEqual(ids(docs), ['x']);
  assert.equal(docs[0].v, 2);
});
