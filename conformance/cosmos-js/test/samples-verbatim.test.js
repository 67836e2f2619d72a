// Checks that the sample bodies in samples/change-feed-pull-model.ts are verbatim excerpts of
// the change feed pull model seed. seeds/ holds a copy of
// shared/seeds/cosmosdb-change-feed-pull-model.txt so that the check runs in any clone. No server.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';

import {loadSnippets} from './harness.js';

const SAMPLES = ['now', 'container-beginning', 'partition-key', 'feed-ranges', 'machine-1', 'machine-2', 'continuation', 'async-iterator'];

test('the samples file holds every JavaScript sample of the seed', () => {
  assert.deepEqual(Object.keys(loadSnippets()), SAMPLES);
});

test('every sample is a verbatim excerpt of the seed', () => {
  const seed = readFileSync(new URL('../seeds/cosmosdb-change-feed-pull-model.txt', import.meta.url), 'utf8');
  for (const [name, body] of Object.entries(loadSnippets())) {
    assert.ok(body.length > 20, `${name} is empty`);
    assert.ok(seed.includes(body), `sample ${name} is not a verbatim excerpt of the seed`);
  }
});
