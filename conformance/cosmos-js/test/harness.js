// Test harness for the Setsuna Cosmos-JS conformance suite.
//
// Starts a Setsuna server on free loopback ports (binary from $SETSUNA_BIN, or built with
// `go build ./cmd/setsuna` from the repo root), builds an official @azure/cosmos CosmosClient
// with the emulator's well-known master key, and tears everything down after the test file.
// It also runs the seed's samples verbatim (runSnippet) with a controllable back-off timer.
//
// node's test runner also loads this file on its own: no side effects at import time.

import {spawn, execFile} from 'node:child_process';
import {createHmac} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import {readFileSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';
import {before, after} from 'node:test';

import {CosmosClient} from '@azure/cosmos';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(SUITE_DIR, '..', '..');

/** The Cosmos DB emulator's well-known master key, Setsuna's default --cosmos-key. */
export const EMULATOR_KEY =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * The command line of the server: adjust here when the serve flags change. Extra flags can be
 * given per run with SETSUNA_EXTRA_ARGS (space separated).
 */
function serverArgs({cosmosPort, grpcPort, extraArgs = []}) {
  const extra = [...(process.env.SETSUNA_EXTRA_ARGS || '').split(' ').filter(Boolean), ...extraArgs];
  return [
    'serve',
    '--cosmos-listen',
    `127.0.0.1:${cosmosPort}`,
    '--listen',
    `127.0.0.1:${grpcPort}`,
    '--http-listen',
    '127.0.0.1:0',
    '--log-level',
    'warn',
    ...extra,
  ];
}

/**
 * The Setsuna cache that holds a container, for the tests that mix surfaces. This is the
 * mapping the Cosmos surface documents; adjust here if it changes.
 */
export function cacheNameOf(database, container) {
  return `${database}/${container}`;
}

/**
 * The Setsuna item key of a document written through the Cosmos surface: its partition key
 * values and id as one JSON array (README, "Cosmos DB").
 */
export function itemKeyOf(partitionKeyValues, id) {
  return JSON.stringify([...partitionKeyValues, id]);
}

/** Wait for a condition: calls fn until it returns a truthy value, at most timeoutMs. */
export async function eventually(fn, {timeoutMs = 20_000, everyMs = 100, what = 'condition'} = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, everyMs));
  }
}

/** Ask the kernel for a free TCP port on 127.0.0.1. */
export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise(resolve => {
    const sock = net.connect({host: '127.0.0.1', port});
    const done = ok => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1000, () => done(false));
  });
}

async function buildServer() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-cosmos-conformance-'));
  const bin = path.join(dir, 'setsuna');
  await new Promise((resolve, reject) => {
    execFile('go', ['build', '-o', bin, './cmd/setsuna'], {cwd: REPO_ROOT, maxBuffer: 16 << 20}, (err, stdout, stderr) => {
      if (err) reject(new Error(`go build ./cmd/setsuna failed in ${REPO_ROOT}: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
  return {bin, cleanup: () => rm(dir, {recursive: true, force: true})};
}

/**
 * Start a Setsuna server; resolves once the Cosmos port accepts connections.
 * Returns {cosmosPort, grpcPort, endpoint, stop(), isRunning(), output()}.
 *
 * With SETSUNA_TEST_REDIS_ADDRS set (make conformance-cluster), it starts two nodes on the redis
 * engine at those addresses instead: endpoint is node A's, and the clients of makeClient send
 * every request there except change-feed reads, which go to node B (changeFeedToPeer); grpcPort
 * (the Momento surface of mixed.test.js) is node B's too. So every document a test creates
 * through one node is read back in the change feed through the other.
 */
export async function startServer() {
  const redis = process.env.SETSUNA_TEST_REDIS_ADDRS;
  if (!redis) return await startNode();
  const engine = ['--engine', 'redis', '--redis-addrs', redis];
  const a = await startNode({extraArgs: [...engine, '--node-id', `cosmos-a-${process.pid}`]});
  let b;
  try {
    b = await startNode({extraArgs: [...engine, '--node-id', `cosmos-b-${process.pid}`]});
  } catch (err) {
    await a.stop();
    throw err;
  }
  peers.set(a.endpoint, b.endpoint);
  return {
    ...a,
    grpcPort: b.grpcPort,
    peerEndpoint: b.endpoint,
    stop: async () => {
      peers.delete(a.endpoint);
      const [ia] = await Promise.all([a.stop(), b.stop()]);
      return ia;
    },
    isRunning: () => a.isRunning() && b.isRunning(),
    output: () => `--- node a ---\n${a.output()}\n--- node b ---\n${b.output()}`,
  };
}

// In cluster mode: the endpoint of the second node of the pair whose first node has an endpoint.
const peers = new Map();

async function startNode({extraArgs = []} = {}) {
  let bin = process.env.SETSUNA_BIN;
  let cleanup = async () => {};
  if (!bin) ({bin, cleanup} = await buildServer());
  const cosmosPort = await freePort();
  const grpcPort = await freePort();
  const args = serverArgs({cosmosPort, grpcPort, extraArgs});
  const child = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  const collect = chunk => {
    output += chunk.toString();
    if (output.length > 256 * 1024) output = output.slice(-128 * 1024);
    if (process.env.SETSUNA_SERVER_LOG) process.stderr.write(`[setsuna] ${chunk}`);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exitInfo = null;
  const exited = new Promise(resolve => {
    child.once('exit', (code, signal) => resolve((exitInfo = {code, signal})));
    child.once('error', error => resolve((exitInfo = {code: null, signal: null, error})));
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exitInfo) {
      await cleanup();
      throw new Error(`setsuna (${bin} ${args.join(' ')}) exited before accepting connections: ${JSON.stringify(exitInfo)} ${exitInfo.error?.message ?? ''}\n--- server output ---\n${output}`);
    }
    if (await canConnect(cosmosPort)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      await cleanup();
      throw new Error(`setsuna did not accept connections on 127.0.0.1:${cosmosPort} within ${STARTUP_TIMEOUT_MS} ms\n--- server output ---\n${output}`);
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  let stopped = false;
  async function stop() {
    if (stopped) return exitInfo;
    stopped = true;
    if (!exitInfo) {
      child.kill('SIGTERM');
      const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        process.stderr.write(`[harness] setsuna did not exit within ${SHUTDOWN_TIMEOUT_MS} ms of SIGTERM; sending SIGKILL\n`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    await cleanup();
    return exitInfo;
  }
  return {
    cosmosPort,
    grpcPort,
    endpoint: `http://127.0.0.1:${cosmosPort}`,
    stop,
    isRunning: () => exitInfo === null,
    output: () => output,
  };
}

/**
 * A CosmosClient for a local Setsuna (plain http: never pass a custom agent with http). In
 * cluster mode its change-feed reads go to the peer of endpoint's node (changeFeedToPeer).
 */
export function makeClient(endpoint, {key = EMULATOR_KEY, ...options} = {}) {
  const peer = peers.get(endpoint);
  if (peer) options = {...options, plugins: [...(options.plugins ?? []), changeFeedToPeer(endpoint, peer)]};
  return new CosmosClient({endpoint, key, ...options});
}

/**
 * An SDK request plugin (CosmosClientOptions.plugins, the SDK's hook on every network request)
 * that sends the change-feed reads, the requests with an A-IM header, to the node at peer
 * instead of the one at endpoint; everything else, the partition key ranges the iterator reads
 * first included, stays on endpoint. The SDK resolves the endpoint anew for each attempt, and
 * passes on the context it gave the plugin, so the plugin changes it in place.
 */
function changeFeedToPeer(endpoint, peer) {
  const from = new URL(endpoint).origin;
  const to = new URL(peer).origin;
  return {
    on: 'request',
    plugin: (context, _diagnostics, next) => {
      const aim = Object.keys(context.headers ?? {}).some(h => h.toLowerCase() === 'a-im');
      if (aim && context.endpoint?.startsWith(from)) context.endpoint = to + context.endpoint.slice(from.length);
      return next(context);
    },
  };
}

let nameCounter = 0;
/** A resource id unique per run and per call. */
export function uniqueName(prefix = 'conf') {
  nameCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}-${nameCounter}`;
}

/**
 * Registers before/after hooks for a test file: starts the server, builds a client and creates
 * a uniquely named database. Returns {server, client, database, endpoint}, filled in by the
 * time the tests run. The database (and so its containers) is deleted at the end.
 */
export function useCosmos({prefix = 'conf'} = {}) {
  const ctx = {server: null, client: null, database: null, endpoint: ''};
  before(async () => {
    ctx.server = await startServer();
    ctx.endpoint = ctx.server.endpoint;
    ctx.client = makeClient(ctx.endpoint);
    const {database} = await ctx.client.databases.createIfNotExists({id: uniqueName(prefix)});
    ctx.database = database;
  });
  after(async () => {
    try {
      if (ctx.database && ctx.server?.isRunning()) await ctx.database.delete().catch(() => {});
    } finally {
      ctx.client?.dispose();
      if (ctx.server) {
        const wasRunning = ctx.server.isRunning();
        const info = await ctx.server.stop();
        if (!wasRunning) {
          process.stderr.write(`[harness] setsuna exited during the tests: ${JSON.stringify(info)}\n--- server output ---\n${ctx.server.output()}\n`);
        }
      }
    }
  });
  ctx.container = async (definition = {}, options = {}) => {
    const {container} = await ctx.database.containers.createIfNotExists({id: uniqueName('c'), partitionKey: '/pk', ...definition}, options);
    return container;
  };
  return ctx;
}

/** Read a change feed iterator until a NotModified; returns {items, pages, last} (last: the 304). */
export async function drain(iterator, {maxPages = 1000} = {}) {
  const items = [];
  const pages = [];
  for (let i = 0; i < maxPages; i++) {
    const r = await iterator.readNext();
    if (r.statusCode === 304) return {items, pages, last: r};
    pages.push(r);
    items.push(...r.result);
  }
  throw new Error(`change feed gave no NotModified within ${maxPages} pages`);
}

// ---------------------------------------------------------------------------------------------
// Raw signed requests, for what the SDK cannot send (malformed JSON, a wrong partition key).

function resourceOf(segs) {
  const n = segs.length;
  if (n === 0) return ['', ''];
  if (n % 2 === 0) return [segs[n - 2], segs.join('/')];
  return [segs[n - 1], segs.slice(0, n - 1).join('/')];
}

/** A signed request as the SDK makes it; path is the un-encoded link, e.g. dbs/d/colls/c/docs. */
export async function rawRequest(endpoint, method, link, {headers = {}, body, key = EMULATOR_KEY, date = new Date()} = {}) {
  const segs = link.split('/').filter(Boolean);
  const [type, resLink] = resourceOf(segs);
  const xmsDate = date.toUTCString();
  const text = `${method.toLowerCase()}\n${type.toLowerCase()}\n${resLink}\n${xmsDate.toLowerCase()}\n\n`;
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(text).digest('base64');
  const res = await fetch(`${endpoint}/${encodeURI(segs.join('/'))}`, {
    method,
    headers: {
      authorization: encodeURIComponent(`type=master&ver=1.0&sig=${sig}`),
      'x-ms-date': xmsDate,
      'x-ms-version': '2020-07-15',
      'content-type': 'application/json',
      ...headers,
    },
    body,
  });
  const text2 = await res.text();
  let json;
  try {
    json = text2 ? JSON.parse(text2) : undefined;
  } catch {
    json = undefined;
  }
  return {status: res.status, headers: res.headers, text: text2, json};
}

// ---------------------------------------------------------------------------------------------
// The seed's samples, run verbatim.

const require = createRequire(import.meta.url);

/** The bodies of test/samples/change-feed-pull-model.ts by region name. */
export function loadSnippets(rel = './samples/change-feed-pull-model.ts') {
  const src = readFileSync(path.resolve(here, rel), 'utf8');
  const out = {};
  for (const m of src.matchAll(/^\/\/#region ([\w-]+)\n([\s\S]*?)\n\/\/#endregion$/gm)) out[m[1]] = m[2];
  return out;
}

/**
 * Run a sample body as an async function whose parameters are the keys of scope (container,
 * ranges, ChangeFeedStartFrom, StatusCodes, console, setTimeout...). TypeScript types are
 * stripped with the compiler; nothing else changes. Returns the sample's promise.
 */
export function runSnippet(body, scope) {
  const ts = require('typescript');
  const names = Object.keys(scope);
  const wrapped = `module.exports = async function sample(${names.join(', ')}) {\n${body}\n};\n`;
  const out = ts.transpileModule(wrapped, {
    reportDiagnostics: true,
    compilerOptions: {module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022},
  });
  if (out.diagnostics?.length) {
    throw new Error('sample does not compile: ' + out.diagnostics.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  }
  const module = {exports: {}};
  new Function('module', 'exports', 'require', out.outputText)(module, module.exports, require);
  return module.exports(...names.map(n => scope[n]));
}

/**
 * The samples' clock: a zero wait passes at once; a longer wait (their 5 s back-off after a
 * NotModified) parks the sample until resume(). parked(run) resolves when the sample parks
 * next, and rejects if it ends or fails first. A sample never resumed stays parked: its
 * endless loop ends with the test, no timer keeps the process alive.
 */
export function sampleClock() {
  let parkedCb = null;
  let notify = null;
  const setTimeoutForSample = (cb, ms) => {
    if (!ms) {
      setImmediate(cb);
    } else {
      parkedCb = cb;
      notify?.();
    }
    return 0;
  };
  return {
    setTimeout: setTimeoutForSample,
    parked(run) {
      if (parkedCb) return Promise.resolve();
      return new Promise((resolve, reject) => {
        notify = () => {
          notify = null;
          resolve();
        };
        run.then(
          () => reject(new Error('the sample ended instead of waiting for changes')),
          err => reject(err)
        );
      });
    },
    resume() {
      const cb = parkedCb;
      parkedCb = null;
      cb?.();
    },
  };
}

/** A console whose log calls are kept: log(...args) pushes args. */
export function captureConsole() {
  const calls = [];
  return {console: {log: (...args) => calls.push(args)}, calls};
}

/**
 * A view of container whose items.getChangeFeedIterator records the iterators it makes and the
 * responses of their readNext calls; everything else is the SDK's own object.
 */
export function recordingContainer(container) {
  const iterators = [];
  const items = new Proxy(container.items, {
    get(target, prop) {
      if (prop === 'getChangeFeedIterator') {
        return options => {
          const it = target.getChangeFeedIterator(options);
          const rec = {iterator: it, responses: []};
          const readNext = it.readNext.bind(it);
          it.readNext = async () => {
            const r = await readNext();
            rec.responses.push(r);
            return r;
          };
          iterators.push(rec);
          return it;
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const view = new Proxy(container, {
    get(target, prop) {
      if (prop === 'items') return items;
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {container: view, iterators};
}
