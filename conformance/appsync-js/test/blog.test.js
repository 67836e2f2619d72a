// The blog example of the AppSync real-time guide (seed
// appsync-realtime-subscriptions.txt): addPost / updatePost / deletePost with
// addedPost, updatedPost(id, author) and deletedPost, and the rule that
// subscribers receive the mutation's selection set: a field the mutation did
// not select arrives as null.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {API_KEY, installWebSocket, resetSockets, sockets, startServer, waitForStartAcks} from './harness.js';
import {amplifyClient, apolloClient} from './clients.js';

// Apollo's cache adds __typename to every selection set, mutations and
// subscriptions alike; the expectations say where it appears.
function typed(client, obj) {
  return client.name === 'apollo' ? {...obj, __typename: 'Post'} : obj;
}

async function blog(makeClient) {
  installWebSocket();
  resetSockets();
  const server = await startServer({schema: 'blog.graphql', resolvers: 'blog-resolvers.json'});
  const c = makeClient({port: server.port, apiKey: API_KEY});
  try {
    const A = c.subscribe('A', 'subscription AuthorTitle { addedPost { author title } }');
    const B = c.subscribe('B', 'subscription NewPostSub { addedPost { __typename version title content author url } }');
    const C = c.subscribe('C', 'subscription UpdatedPostSub { updatedPost(id: "p1", author: "ABC") { title content } }');
    const D = c.subscribe('D', 'subscription ById($id: ID!) { updatedPost(id: $id) { id author ups } }', {id: 'p1'});
    const E = c.subscribe('E', 'subscription Deleted { deletedPost { id title } }');
    await waitForStartAcks(5);

    // addPost selects no content: B gets content null.
    let r = await c.mutate(
      'mutation Add { addPost(id: "p1", author: "ABC", title: "first", content: "c1", url: "https://example.com/p1") { id author title url version } }'
    );
    assert.deepEqual(r.data, {addPost: typed(c, {id: 'p1', author: 'ABC', title: 'first', url: 'https://example.com/p1', version: 1})});

    // updatePost selects no ups: D gets ups null.
    r = await c.mutate(
      'mutation Up($v: Int!) { updatePost(id: "p1", author: "ABC", title: "second", content: "c2", ups: 1, downs: 0, expectedVersion: $v) { id author title content version } }',
      {v: 1}
    );
    assert.deepEqual(r.data, {updatePost: typed(c, {id: 'p1', author: 'ABC', title: 'second', content: 'c2', version: 2})});

    // A stale expectedVersion fails and publishes nothing.
    r = await c.mutate(
      'mutation Stale { updatePost(id: "p1", author: "ABC", title: "lost", ups: 1, downs: 0, expectedVersion: 1) { id title } }'
    );
    assert.equal(r.data?.updatePost ?? null, null);
    assert.ok(r.errors && r.errors.length > 0, 'a stale expectedVersion is an error');

    // Another author: C's author filter drops it, D (id only) gets it.
    await c.mutate('mutation Other { updatePost(id: "p1", author: "XYZ", title: "third", ups: 2, downs: 0, expectedVersion: 2) { id author title } }');

    // deletePost selects only id: E gets title null.
    await c.mutate('mutation Del { deletePost(id: "p1") { id } }');

    // All five subscriptions share one socket and the server writes in
    // publish order, so once E has its event every earlier one has arrived.
    await E.waitFor(1);
    assert.equal(sockets.attempts, 1, 'one WebSocket for all subscriptions');
    assert.equal(sockets.urls[0], `wss://127.0.0.1:${server.port}/graphql/realtime`);
    assert.equal(sockets.protocols[0][0], 'graphql-ws');
    assert.match(sockets.protocols[0][1], /^header-[A-Za-z0-9_-]+$/);
    assert.deepEqual(A.values, [{data: {addedPost: typed(c, {author: 'ABC', title: 'first'})}}]);
    assert.deepEqual(B.values, [
      {data: {addedPost: {__typename: 'Post', version: 1, title: 'first', content: null, author: 'ABC', url: 'https://example.com/p1'}}},
    ]);
    assert.deepEqual(C.values, [{data: {updatedPost: typed(c, {title: 'second', content: 'c2'})}}]);
    assert.deepEqual(D.values, [
      {data: {updatedPost: typed(c, {id: 'p1', author: 'ABC', ups: null})}},
      {data: {updatedPost: typed(c, {id: 'p1', author: 'XYZ', ups: null})}},
    ]);
    assert.deepEqual(E.values, [{data: {deletedPost: typed(c, {id: 'p1', title: null})}}]);
    for (const rec of [A, B, C, D, E]) assert.deepEqual(rec.errors, [], `${rec.name} errors`);
  } finally {
    c.close();
    await server.stop();
  }
}

test('blog: aws-appsync-subscription-link + Apollo Client over https/wss', () => blog(apolloClient));
test('blog: Amplify v6 generateClient (http endpoint, wss subscriptions)', () => blog(amplifyClient));
