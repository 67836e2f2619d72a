// TLS through the official SDK, unchanged (issue 12): a dev certificate from `setsuna cert dev`,
// keys minted by `setsuna token issue` (v1, and v2 with MOMENTO_ENDPOINT), and no endpoint
// overrides. The production setup (DNS names, port 443) runs server and SDK in a network
// namespace of their own whose /etc/hosts maps cache./control./token.setsuna.test to 127.0.0.1
// and api.cache.setsuna.test to 127.0.0.2, as the SDKs' CI does with DNS; the local setup runs
// on a free port with the endpoints given as host:port. grpc-js trusts exactly the file in
// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, Node's https the extra CA in NODE_EXTRA_CA_CERTS.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {setsunaBin, runCommand, startProcess, freePort, SUITE_DIR} from './harness.js';

const FLOW = path.join(SUITE_DIR, 'clients', 'sdk-flow.mjs');
const NS = `setsuna-tls-${process.pid}`;
let bin, dir, caFile;
const cleanups = [];

async function must(cmd, args, opts) {
  const r = await runCommand(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** Run the SDK flow in its own process (in the namespace when ns is set); returns its report. */
async function flow(config, env, ns) {
  const cmd = ns ? 'ip' : process.execPath;
  const args = ns ? ['netns', 'exec', ns, process.execPath, FLOW] : [FLOW];
  const out = await must(cmd, args, {
    env: {...process.env, ...env, SDK_FLOW: JSON.stringify(config), GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: caFile, NODE_EXTRA_CA_CERTS: caFile},
  });
  return JSON.parse(out.split('\n').pop());
}

before(async () => {
  bin = await setsunaBin();
  dir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-tls-'));
  cleanups.push(() => rm(dir, {recursive: true, force: true}));
  await must(bin, ['cert', 'dev', '--data-dir', dir, '--host', 'setsuna.test']);
  caFile = path.join(dir, 'tls', 'ca.pem');
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('production setup: DNS names, port 443, v1 and v2 keys, the HTTP API, no overrides', async () => {
  // A namespace with loopback up and its own hosts file (ip netns exec mounts /etc/netns/NS/hosts).
  await must('ip', ['netns', 'add', NS]);
  cleanups.push(() => runCommand('ip', ['netns', 'del', NS]));
  await must('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
  const etc = path.join('/etc/netns', NS);
  await mkdir(etc, {recursive: true});
  cleanups.push(() => rm(etc, {recursive: true, force: true}));
  await writeFile(
    path.join(etc, 'hosts'),
    '127.0.0.1 localhost setsuna.test cache.setsuna.test control.setsuna.test token.setsuna.test\n127.0.0.2 api.cache.setsuna.test\n'
  );

  const data = path.join(dir, 'prod');
  const server = await startProcess('ip', [
    'netns', 'exec', NS, bin, 'serve', '--auth', '--data-dir', data,
    '--tls-cert', path.join(dir, 'tls', 'server.pem'), '--tls-key', path.join(dir, 'tls', 'server-key.pem'),
    '--listen', '127.0.0.1:443', '--http-listen', '127.0.0.2:443', '--endpoint', 'setsuna.test',
  ]);
  cleanups.push(() => server.stop());

  const v1 = await must(bin, ['token', 'issue', '--super-user', '--data-dir', data, '--endpoint', 'setsuna.test', '--expires', '1h']);
  const r1 = await flow({provider: 'v1', apiKey: v1, cache: 'tls-v1', http: true}, {}, NS);
  assert.equal(r1.cacheEndpoint, 'cache.setsuna.test');
  assert.equal(r1.secure, true);
  assert.equal(r1.createCache, 'Success', JSON.stringify(r1));
  assert.equal(r1.set, 'Success');
  assert.equal(r1.get, 'over tls');
  assert.equal(r1.topicItem, 'hello over tls');
  assert.equal(r1.upsert, 'Success');
  assert.deepEqual(r1.top, [{id: 2, score: 20.25, rank: 0}, {id: 1, score: 10.5, rank: 1}]);
  assert.equal(r1.httpPut, 204);
  assert.deepEqual(r1.httpGet, {status: 200, body: 'via http'});
  assert.equal(r1.httpMiss, 404);

  // A v2 key carries no endpoint: the SDK takes MOMENTO_ENDPOINT and dials it over TLS.
  const v2 = await must(bin, ['token', 'issue', '--super-user', '--v2', '--data-dir', data, '--expires', '1h']);
  assert.equal(v2.split('.').length, 3, 'a v2 key is a bare JWT');
  const r2 = await flow({provider: 'v2', cache: 'tls-v2', http: true}, {MOMENTO_API_KEY: v2, MOMENTO_ENDPOINT: 'setsuna.test'}, NS);
  assert.equal(r2.cacheEndpoint, 'cache.setsuna.test');
  assert.equal(r2.createCache, 'Success', JSON.stringify(r2));
  assert.equal(r2.get, 'over tls');
  assert.equal(r2.topicItem, 'hello over tls');
  assert.equal(r2.top.length, 2);
  assert.deepEqual(r2.httpGet, {status: 200, body: 'via http'});
});

test('local setup: TLS on a free port, endpoints as host:port', async () => {
  const port = await freePort();
  const data = path.join(dir, 'local');
  const server = await startProcess(bin, [
    'serve', '--auth', '--data-dir', data, '--tls-cert', path.join(dir, 'tls', 'server.pem'),
    '--tls-key', path.join(dir, 'tls', 'server-key.pem'), '--listen', `127.0.0.1:${port}`, '--http-listen', 'off', '--cosmos-listen', 'off',
  ]);
  cleanups.push(() => server.stop());
  const key = await must(bin, ['token', 'issue', '--super-user', '--data-dir', data, '--endpoint', `localhost:${port}`, '--expires', '1h']);
  const r = await flow({provider: 'overrides', apiKey: key, endpoint: `localhost:${port}`, cache: 'tls-local'}, {});
  assert.equal(r.secure, true);
  assert.equal(r.createCache, 'Success', JSON.stringify(r));
  assert.equal(r.get, 'over tls');
  assert.equal(r.topicItem, 'hello over tls');
  assert.equal(r.top.length, 2);
});
