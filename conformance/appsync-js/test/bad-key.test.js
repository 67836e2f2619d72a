// A wrong API key: the server accepts the upgrade and answers connection_init
// with connection_error (UnauthorizedException, errorCode 401), so both
// clients surface an error and stop, instead of reconnecting in a storm as
// they do when an upgrade is refused.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';

import {installWebSocket, resetSockets, sleep, sockets, startServer} from './harness.js';
import {amplifyClient, apolloClient} from './clients.js';

const WINDOW_MS = 5_000;

async function badKey(makeClient, wantMessage) {
  installWebSocket();
  resetSockets();
  const server = await startServer({schema: 'blog.graphql'});
  const c = makeClient({port: server.port, apiKey: 'da2-not-a-key'});
  try {
    const started = Date.now();
    const rec = c.subscribe('bad key', 'subscription { addedPost { id } }');
    await rec.waitForError(WINDOW_MS);
    const err = rec.errors[0];
    assert.match(util.inspect(err, {depth: 8, showHidden: true}), wantMessage);
    const frames = sockets.frames.filter(f => f.type === 'connection_error');
    assert.ok(frames.length >= 1, 'the server sent connection_error');
    assert.deepEqual(frames[0].payload.errors[0], {
      errorType: 'UnauthorizedException',
      message: 'You are not authorized to make this call.',
      errorCode: 401,
    });
    // The requirement is a count over a window: watch the rest of it.
    await sleep(Math.max(0, WINDOW_MS - (Date.now() - started)));
    assert.ok(sockets.attempts >= 1 && sockets.attempts <= 2, `${sockets.attempts} connection attempts in ${WINDOW_MS} ms`);
    assert.equal(rec.values.length, 0);
  } finally {
    c.close();
    await server.stop();
  }
}

test('bad API key: aws-appsync-subscription-link reports UnauthorizedException', () =>
  badKey(apolloClient, /Connection failed: UnauthorizedException/));
test('bad API key: Amplify v6 reports Connection failed: UnauthorizedException', () =>
  badKey(amplifyClient, /Connection failed: UnauthorizedException/));
