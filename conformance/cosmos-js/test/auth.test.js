// Master-key authentication: a wrong key and a stale date are refused with the service's 401.

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {useCosmos, makeClient, rawRequest} from './harness.js';

const ctx = useCosmos({prefix: 'auth'});

test('a client with another key is refused', async () => {
  const other = makeClient(ctx.endpoint, {key: Buffer.from('not the account key').toString('base64')});
  try {
    await assert.rejects(other.databases.readAll().fetchAll(), err => err.code === 401);
  } finally {
    other.dispose();
  }
});

test('a signature over a date outside the clock window is refused', async () => {
  const r = await rawRequest(ctx.endpoint, 'GET', 'dbs', {date: new Date(Date.now() - 60 * 60 * 1000)});
  assert.equal(r.status, 401);
  assert.equal(r.json?.code, 'Unauthorized');
  assert.match(r.json.message, /not valid at the current time/);
});

test('a request without authorization gets a JSON 401', async () => {
  const res = await fetch(`${ctx.endpoint}/dbs`, {headers: {'x-ms-date': new Date().toUTCString()}});
  assert.equal(res.status, 401);
  const body = await res.json();
  assert.equal(body.code, 'Unauthorized');
  assert.ok(res.headers.get('x-ms-activity-id'));
});

test('a signed request is accepted, with the service headers', async () => {
  const r = await rawRequest(ctx.endpoint, 'GET', 'dbs');
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json.Databases));
  assert.ok(r.headers.get('x-ms-activity-id'));
  assert.ok(r.headers.get('x-ms-request-charge'));
});
