// One SDK session against a Setsuna server, run in its own process so that its environment
// (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, NODE_EXTRA_CA_CERTS, MOMENTO_API_KEY, MOMENTO_ENDPOINT)
// is what the SDK reads at start, and, for the production setup, inside a network namespace
// with its own /etc/hosts. The official SDK is used as published: no overrides unless the
// config asks for them.
//
// Input: JSON in $SDK_FLOW: {provider: "v1"|"v2"|"overrides", apiKey?, endpoint?, cache,
// http?: bool}. Output: one JSON line with what each step saw.

import https from 'node:https';
import {
  CacheClient,
  CacheGet,
  Configurations,
  CreateCache,
  CredentialProvider,
  LeaderboardConfigurations,
  LeaderboardFetch,
  LeaderboardOrder,
  PreviewLeaderboardClient,
  TopicClient,
  TopicConfigurations,
  TopicPublish,
  TopicSubscribe,
} from '@gomomento/sdk';

const cfg = JSON.parse(process.env.SDK_FLOW);
const out = {};

function provider() {
  switch (cfg.provider) {
    case 'v1': // a v1 key whose endpoint names the server: cache.<endpoint>:443 over TLS
      return CredentialProvider.fromString({apiKey: cfg.apiKey});
    case 'v2': // MOMENTO_API_KEY + MOMENTO_ENDPOINT, always TLS on 443
      return CredentialProvider.fromEnvVarV2();
    case 'overrides': // the local setup: TLS to one host:port
      return CredentialProvider.fromString({
        apiKey: cfg.apiKey,
        endpointOverrides: {cacheEndpoint: cfg.endpoint, controlEndpoint: cfg.endpoint, tokenEndpoint: cfg.endpoint},
      });
  }
  throw new Error(`unknown provider ${cfg.provider}`);
}

const credentialProvider = provider();
out.cacheEndpoint = credentialProvider.getCacheEndpoint();
out.secure = credentialProvider.isCacheEndpointSecure();

const cacheClient = await CacheClient.create({
  configuration: Configurations.Laptop.v1(),
  credentialProvider,
  defaultTtlSeconds: 60,
});
const created = await cacheClient.createCache(cfg.cache);
out.createCache = created.type;
if (created instanceof CreateCache.Error) out.createCacheError = created.message();
out.set = (await cacheClient.set(cfg.cache, 'k', 'over tls')).type;
const got = await cacheClient.get(cfg.cache, 'k');
out.get = got instanceof CacheGet.Hit ? got.valueString() : got.toString();

const topicClient = new TopicClient({configuration: TopicConfigurations.Default.latest(), credentialProvider});
const received = new Promise((resolve, reject) => {
  topicClient
    .subscribe(cfg.cache, 'news', {
      onItem: item => resolve(item.valueString()),
      onError: e => reject(new Error(e.toString())),
    })
    .then(sub => {
      if (!(sub instanceof TopicSubscribe.Subscription)) return reject(new Error(`subscribe: ${sub}`));
      out.subscription = sub;
      return topicClient.publish(cfg.cache, 'news', 'hello over tls').then(pub => {
        if (pub instanceof TopicPublish.Error) reject(new Error(pub.toString()));
      });
    }, reject);
});
out.topicItem = await received;
out.subscription.unsubscribe();
delete out.subscription;

const leaderboardClient = new PreviewLeaderboardClient({
  configuration: LeaderboardConfigurations.Laptop.v1(),
  credentialProvider,
});
const board = leaderboardClient.leaderboard(cfg.cache, 'board');
out.upsert = (await board.upsert(new Map([[1, 10.5], [2, 20.25]]))).type;
const top = await board.fetchByRank(0, 10, {order: LeaderboardOrder.Descending});
out.top = top instanceof LeaderboardFetch.Success ? top.values() : top.toString();

if (cfg.http) {
  // The HTTP API at api.<cache endpoint>, as the SDK's own suite builds it.
  const host = `api.${credentialProvider.getCacheEndpoint()}`;
  const request = (method, path, body) =>
    new Promise((resolve, reject) => {
      const req = https.request({hostname: host, path, method, headers: {Authorization: credentialProvider.getAuthToken()}}, res => {
        let data = '';
        res.on('data', c => (data += c));
        res.on('end', () => resolve({status: res.statusCode, body: data}));
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  out.httpPut = (await request('PUT', `/cache/${cfg.cache}?key=h&ttl_seconds=60`, 'via http')).status;
  out.httpGet = await request('GET', `/cache/${cfg.cache}?key=h`);
  out.httpMiss = (await request('GET', `/cache/${cfg.cache}?key=nope`)).status;
}

cacheClient.close();

console.log(JSON.stringify(out));
process.exit(0);
