// The two official clients, built as their documentation shows, behind one
// small interface for the scenarios: subscribe(name, query, variables) →
// Recorder, mutate(query, variables) → {data, errors}, close().
// No side effects at import time (node --test loads this file too).

import {ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql} from '@apollo/client';
import {createAuthLink} from 'aws-appsync-auth-link';
import {createSubscriptionHandshakeLink} from 'aws-appsync-subscription-link';
import {Amplify} from 'aws-amplify';
import {generateClient} from 'aws-amplify/api';

import {Recorder, httpPort} from './harness.js';

const region = 'us-east-1';

/**
 * Apollo Client + aws-appsync-subscription-link (README setup), against the
 * https:// endpoint: HTTP and the WebSocket both over TLS. The subscription
 * link takes the WebSocket's endpoint and the link for everything else; they
 * are the same server but on a cluster (harness.startServer), where HTTP goes
 * to the other node.
 */
export function apolloClient({port, apiKey}) {
  const url = `https://127.0.0.1:${port}/graphql`;
  const httpUrl = `https://127.0.0.1:${httpPort(port)}/graphql`;
  const auth = {type: 'API_KEY', apiKey};
  const httpLink = new HttpLink({uri: httpUrl});
  const link = ApolloLink.from([createAuthLink({url: httpUrl, region, auth}), createSubscriptionHandshakeLink({url, region, auth}, httpLink)]);
  const client = new ApolloClient({link, cache: new InMemoryCache()});
  const subs = [];
  return {
    name: 'apollo',
    subscribe(name, query, variables) {
      const rec = new Recorder(`apollo ${name}`);
      const obs = client.subscribe({query: gql(query), variables, fetchPolicy: 'no-cache', errorPolicy: 'all'});
      // With errorPolicy 'all', Apollo 4 delivers a failure as a value with an
      // error and no data.
      subs.push(obs.subscribe({next: v => (v.data == null && v.error ? rec.error(v.error) : rec.next(plain(v))), error: rec.error}));
      return rec;
    },
    async mutate(query, variables) {
      const r = await client.mutate({mutation: gql(query), variables, fetchPolicy: 'no-cache', errorPolicy: 'all'});
      return {data: plain(r.data), errors: r.error ? [r.error] : undefined};
    },
    close() {
      for (const s of subs) s.unsubscribe();
      client.stop();
    },
  };
}

/**
 * Amplify JS v6 generateClient(), configured with the plain http:// endpoint
 * as a local setup would be: mutations go over HTTP, and Amplify turns the
 * endpoint into wss://…/graphql/realtime for subscriptions (TLS on the same port).
 * On a cluster (harness.startServer) mutations go to the other node, through
 * a second client made as Amplify documents for another endpoint:
 * generateClient({endpoint, authMode, apiKey}).
 */
export function amplifyClient({port, apiKey}) {
  Amplify.configure({
    API: {GraphQL: {endpoint: `http://127.0.0.1:${port}/graphql`, region, defaultAuthMode: 'apiKey', apiKey}},
  });
  const client = generateClient();
  const mutator =
    httpPort(port) === port ? client : generateClient({endpoint: `http://127.0.0.1:${httpPort(port)}/graphql`, authMode: 'apiKey', apiKey});
  const subs = [];
  return {
    name: 'amplify',
    subscribe(name, query, variables) {
      const rec = new Recorder(`amplify ${name}`);
      subs.push(client.graphql({query, variables}).subscribe({next: v => rec.next(plain(v)), error: rec.error}));
      return rec;
    },
    async mutate(query, variables) {
      try {
        const r = await mutator.graphql({query, variables});
        return {data: plain(r.data), errors: r.errors};
      } catch (e) {
        // Amplify rejects a result that has errors; it carries data and errors.
        if (e && e.errors) return {data: plain(e.data), errors: e.errors};
        throw e;
      }
    },
    close() {
      for (const s of subs) s.unsubscribe();
    },
  };
}

/** A deep copy without prototypes or undefined members, for deepEqual. */
export function plain(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
