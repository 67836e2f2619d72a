// The graphql-transport-ws protocol on the same port and paths, through the
// graphql-ws npm library's client (what Apollo's GraphQLWsLink uses): chosen by
// subprotocol, credentials in connectionParams, queries and mutations allowed
// over the socket.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createClient} from 'graphql-ws';
import WS from 'ws';

import {API_KEY, Recorder, startServer} from './harness.js';

function iterate(client, name, payload) {
  const rec = new Recorder(name);
  const dispose = client.subscribe(payload, {next: rec.next, error: rec.error, complete: () => rec.next('complete')});
  return {rec, dispose};
}

test('graphql-ws client over wss: subscribe, mutate on the socket, receive the event', async () => {
  const server = await startServer({schema: 'todo.graphql'});
  let acked;
  const ackedP = new Promise(r => (acked = r));
  const client = createClient({
    url: `wss://127.0.0.1:${server.port}/graphql/realtime`,
    webSocketImpl: WS,
    connectionParams: {'x-api-key': API_KEY},
    lazy: false,
    retryAttempts: 0,
    on: {connected: () => acked()},
  });
  try {
    await ackedP;
    const sub = iterate(client, 'sub', {query: 'subscription { onUpdateTodo(owner: "bob") { id owner } }'});
    // No start_ack in this protocol: subscribe, then send a mutation on the
    // same socket; the server handles one socket's messages in order.
    const mut = iterate(client, 'mutation', {
      query: 'mutation($in: UpdateTodoInput!) { updateTodo(input: $in) { id name when where description owner } }',
      variables: {in: {id: 't1', name: 'n', when: 'w', where: 'h', description: 'd', owner: 'bob'}},
    });
    await mut.rec.waitFor(2);
    assert.deepEqual(mut.rec.values, [
      {data: {updateTodo: {id: 't1', name: 'n', when: 'w', where: 'h', description: 'd', owner: 'bob'}}},
      'complete',
    ]);
    await sub.rec.waitFor(1);
    assert.deepEqual(sub.rec.values, [{data: {onUpdateTodo: {id: 't1', owner: 'bob'}}}]);
    sub.dispose();
  } finally {
    await client.dispose();
    await server.stop();
  }
});

test('graphql-ws client with a bad key: closed with 4403 Forbidden', async () => {
  const server = await startServer({schema: 'todo.graphql'});
  let closed;
  const closedP = new Promise(r => (closed = r));
  const client = createClient({
    url: `ws://127.0.0.1:${server.port}/graphql`,
    webSocketImpl: WS,
    connectionParams: {'x-api-key': 'da2-wrong'},
    lazy: false,
    retryAttempts: 0,
    on: {closed: e => closed(e)},
  });
  try {
    const ev = await closedP;
    assert.equal(ev.code, 4403);
  } finally {
    await client.dispose();
    await server.stop();
  }
});
