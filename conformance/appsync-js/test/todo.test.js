// The Todo example of the AppSync guide's "argument null value has meaning":
// onUpdateTodo(owner: null) reaches the updates without an owner only, an
// omitted argument filters nothing, and a field the mutation did not select
// is null for the filter and for the subscriber (an error where non-null).
// NONE data source: updateTodo returns its input.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {API_KEY, installWebSocket, resetSockets, sockets, startServer, waitForStartAcks} from './harness.js';
import {amplifyClient, apolloClient} from './clients.js';

const full = 'mutation Full($in: UpdateTodoInput!) { updateTodo(input: $in) { id name when where description owner } }';
const partial = 'mutation Partial($in: UpdateTodoInput!) { updateTodo(input: $in) { id name } }';

function typed(client, obj) {
  return client.name === 'apollo' && obj ? {...obj, __typename: 'Todo'} : obj;
}

async function todo(makeClient) {
  installWebSocket();
  resetSockets();
  const server = await startServer({schema: 'todo.graphql'});
  const c = makeClient({port: server.port, apiKey: API_KEY});
  try {
    const all = c.subscribe('all', 'subscription MySubscription { onUpdateTodo { description id name when where } }');
    const noOwner = c.subscribe('owner:null', 'subscription NoOwner { onUpdateTodo(owner: null) { id name owner } }');
    const alice = c.subscribe('owner:alice', 'subscription Alice { onUpdateTodo(owner: "alice") { id owner } }');
    const t1 = c.subscribe('id:t1', 'subscription One($id: ID) { onUpdateTodo(id: $id) { id description } }', {id: 't1'});
    await waitForStartAcks(4);

    const base = {name: 'n', when: 'tomorrow', where: 'at home', description: 'd'};
    await c.mutate(full, {in: {id: 't1', ...base}}); // no owner
    await c.mutate(full, {in: {id: 't2', ...base, owner: 'alice'}});
    // Selects only id and name: owner is null for the filter, and the
    // non-null fields the subscribers ask for cannot be filled.
    await c.mutate(partial, {in: {id: 't1', ...base, description: 'd3', owner: 'alice'}});
    // A last event that reaches only `all` and `alice`. One socket, written in
    // publish order: once both have it, every frame of the earlier events has
    // arrived (within one event the order among subscribers is not fixed).
    await c.mutate(full, {in: {id: 't9', ...base, owner: 'alice'}});
    await all.waitFor(4);
    await alice.waitFor(2);

    assert.deepEqual(all.values.slice(0, 2), [
      {data: {onUpdateTodo: typed(c, {description: 'd', id: 't1', name: 'n', when: 'tomorrow', where: 'at home'})}},
      {data: {onUpdateTodo: typed(c, {description: 'd', id: 't2', name: 'n', when: 'tomorrow', where: 'at home'})}},
    ]);
    assert.deepEqual(noOwner.values, [
      {data: {onUpdateTodo: typed(c, {id: 't1', name: 'n', owner: null})}},
      {data: {onUpdateTodo: typed(c, {id: 't1', name: 'n', owner: null})}}, // owner not selected by Partial
    ]);
    assert.deepEqual(alice.values, [
      {data: {onUpdateTodo: typed(c, {id: 't2', owner: 'alice'})}},
      {data: {onUpdateTodo: typed(c, {id: 't9', owner: 'alice'})}},
    ]);
    assert.equal(all.values.length, 4);
    assert.equal(t1.values.length, 2, `id:t1 got ${JSON.stringify(t1.values)}`);
    assert.deepEqual(t1.values[0], {data: {onUpdateTodo: typed(c, {id: 't1', description: 'd'})}});

    // On the wire: the partial mutation reached all, owner:null and id:t1; the
    // two that select non-null fields it lacks get data with a null field and
    // an error, and they are the only frames with errors.
    const withErrors = sockets.frames.filter(f => f.type === 'data' && f.payload.errors);
    assert.equal(withErrors.length, 2, JSON.stringify(withErrors));
    for (const f of withErrors) {
      assert.deepEqual(f.payload.data, {onUpdateTodo: null});
      assert.match(f.payload.errors[0].message, /^Cannot return null for non-nullable type: 'String' within parent 'Todo' \(\/onUpdateTodo\/(when|description)\)$/);
      assert.equal(f.payload.errors[0].path[0], 'onUpdateTodo');
    }
    // What each client hands the application for it.
    for (const [rec, i] of [[all, 2], [t1, 1]]) {
      const v = rec.values[i];
      assert.deepEqual(v.data, {onUpdateTodo: null}, `${rec.name}: ${JSON.stringify(v)}`);
      // Amplify passes the payload's errors; Apollo 4 wraps them in CombinedGraphQLErrors.
      const errors = v.errors ?? v.error?.errors;
      assert.ok(errors?.length > 0, `${c.name} passes the error on: ${JSON.stringify(v)}`);
      assert.match(errors[0].message, /^Cannot return null for non-nullable type/);
    }
  } finally {
    c.close();
    await server.stop();
  }
}

test('todo: aws-appsync-subscription-link + Apollo Client over https/wss', () => todo(apolloClient));
test('todo: Amplify v6 generateClient (http endpoint, wss subscriptions)', () => todo(amplifyClient));
