// Test harness for the Setsuna AppSync conformance suite.
//
// Starts a server for one schema on a free loopback port, with TLS and
// plaintext on that one port, and builds the two official clients against it:
// Apollo Client with aws-appsync-subscription-link, and Amplify JS v6's
// generateClient(). The clients are used as their docs show; the only test
// environment pieces are the WebSocket global (Node 20 has none; browsers do)
// and trusting the test certificate through NODE_EXTRA_CA_CERTS, set by the
// "test" script after scripts/make-certs.js.
//
// Node's test runner treats every .js file under test/ as a test file, so
// this module has no side effects at import time.

import {spawn, execFile} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import WS from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(SUITE_DIR, '..', '..');
export const FIXTURES = path.join(here, 'fixtures');
export const CERT = path.join(SUITE_DIR, '.certs', 'cert.pem');
export const KEY = path.join(SUITE_DIR, '.certs', 'key.pem');
export const API_KEY = 'da2-setsunaconformancekey0000000';

// What to build when $SETSUNA_BIN is not set. Until the AppSync surface is
// wired into `setsuna serve`, a test-only server with in-process fakes takes
// the same flags; afterwards this becomes './cmd/setsuna'.
const BUILD_PACKAGE = './cmd/setsuna';

const STARTUP_TIMEOUT_MS = 30_000;

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

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
  const dir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-appsync-'));
  const bin = path.join(dir, 'setsuna');
  await new Promise((resolve, reject) => {
    execFile('go', ['build', '-o', bin, BUILD_PACKAGE], {cwd: REPO_ROOT, maxBuffer: 16 << 20}, (err, stdout, stderr) => {
      if (err) reject(new Error(`go build ${BUILD_PACKAGE} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
  return {bin, cleanup: () => rm(dir, {recursive: true, force: true})};
}

/** The command line of the server; adjust here when flags change. */
export function serverArgs({port, schema, resolvers, apiKeys, extraArgs = []}) {
  const args = [
    'serve',
    '--log-level', 'warn',
    '--graphql-schema', schema,
    '--graphql-listen', `127.0.0.1:${port}`,
    '--listen', '127.0.0.1:0',
    '--http-listen', '127.0.0.1:0',
    '--cosmos-listen', 'off',
    '--tls-cert', CERT,
    '--tls-key', KEY,
  ];
  for (const k of apiKeys) args.push('--graphql-api-key', k);
  if (resolvers) args.push('--graphql-resolvers', resolvers);
  return [...args, ...extraArgs];
}

/**
 * Start a server for a schema file in fixtures/. Resolves once its port
 * accepts TCP connections. Returns {port, stop(), output()}.
 *
 * With SETSUNA_TEST_REDIS_ADDRS set (make conformance-cluster), it starts two
 * nodes on the redis engine at those addresses instead, and returns the first
 * one's port: the clients of clients.js open their WebSockets (subscriptions)
 * to the first node and send their HTTP requests (mutations) to the second
 * (httpPort), so every event a subscriber gets has crossed from one node to
 * the other through the engine, and the data source's items are the
 * engine's. A client that sends its mutations on the socket (graphql-ws)
 * stays on the first node.
 */
export async function startServer(opts) {
  const redis = process.env.SETSUNA_TEST_REDIS_ADDRS;
  if (!redis) return await startNode(opts);
  const engine = ['--engine', 'redis', '--redis-addrs', redis];
  const a = await startNode({...opts, extraArgs: [...engine, '--node-id', `appsync-a-${process.pid}`]});
  let b;
  try {
    b = await startNode({...opts, extraArgs: [...engine, '--node-id', `appsync-b-${process.pid}`]});
  } catch (err) {
    await a.stop();
    throw err;
  }
  peers.set(a.port, b.port);
  return {
    port: a.port,
    peerPort: b.port,
    output: () => `--- node a ---\n${a.output()}\n--- node b ---\n${b.output()}`,
    async stop() {
      peers.delete(a.port);
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

// In cluster mode: the second node of the pair whose first node listens on a port.
const peers = new Map();

/** The port a client sends its HTTP requests to for a server at port (see startServer). */
export const httpPort = port => peers.get(port) ?? port;

async function startNode({schema, resolvers, apiKeys = [API_KEY], extraArgs = []}) {
  if (!existsSync(CERT)) {
    throw new Error(`no test certificate at ${CERT}: run the suite with "npm test" (it runs scripts/make-certs.js first)`);
  }
  let bin = process.env.SETSUNA_BIN;
  let cleanup = async () => {};
  if (!bin) ({bin, cleanup} = await buildServer());
  const port = await freePort();
  const args = serverArgs({
    port,
    schema: path.join(FIXTURES, schema),
    resolvers: resolvers && path.join(FIXTURES, resolvers),
    apiKeys,
    extraArgs,
  });
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
    child.once('error', err => resolve((exitInfo = {error: err.message})));
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (exitInfo || Date.now() > deadline) {
      child.kill('SIGKILL');
      await cleanup();
      throw new Error(`server (${bin} ${args.join(' ')}) did not start: ${JSON.stringify(exitInfo)}\n${output}`);
    }
    await sleep(100);
  }
  return {
    port,
    output: () => output,
    async stop() {
      if (!exitInfo) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      await cleanup();
    },
  };
}

/**
 * Installs a WebSocket global for the clients (Node 20 has none) that counts
 * connection attempts. The clients construct it exactly as they would a
 * browser's WebSocket.
 */
export const sockets = {attempts: 0, urls: [], protocols: [], frames: [], waiters: []};
export function installWebSocket() {
  globalThis.WebSocket = class ObservedWebSocket extends WS {
    constructor(url, protocols) {
      super(url, protocols);
      sockets.attempts += 1;
      sockets.urls.push(String(url));
      sockets.protocols.push(protocols);
      // Our own listener, beside the client's onmessage: the tests wait on
      // wire events (start_ack) instead of sleeping.
      this.on('message', data => {
        try {
          sockets.frames.push(JSON.parse(String(data)));
        } catch {
          sockets.frames.push({unparsable: String(data)});
        }
        sockets.waiters = sockets.waiters.filter(w => !w());
      });
    }
  };
}

/** Forgets what earlier tests observed. */
export function resetSockets() {
  sockets.attempts = 0;
  sockets.urls.length = 0;
  sockets.protocols.length = 0;
  sockets.frames.length = 0;
}

/** Resolves once at least n frames received so far satisfy pred. */
export function waitForFrames(pred, n, what, guardMs = 20_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (sockets.frames.filter(pred).length < n) return false;
      clearTimeout(timer);
      resolve();
      return true;
    };
    const timer = setTimeout(() => {
      sockets.waiters = sockets.waiters.filter(w => w !== check);
      reject(new Error(`waited for ${n} × ${what}; frames: ${JSON.stringify(sockets.frames).slice(0, 2000)}`));
    }, guardMs);
    if (!check()) sockets.waiters.push(check);
  });
}

/** Waits until n start_ack frames in total have arrived. */
export const waitForStartAcks = n => waitForFrames(f => f.type === 'start_ack', n, 'start_ack');

/**
 * Collects the values of one client subscription. waitFor(n) resolves once n
 * values arrived (or rejects after a hang guard, which is not an assertion).
 */
export class Recorder {
  constructor(name) {
    this.name = name;
    this.values = [];
    this.errors = [];
    this.waiters = [];
  }
  next = value => {
    this.values.push(value);
    this.#wake();
  };
  error = err => {
    this.errors.push(err);
    this.#wake();
  };
  #wake() {
    this.waiters = this.waiters.filter(w => !w());
  }
  waitFor(n, guardMs = 20_000) {
    return this.#until(() => this.values.length >= n, `${n} values`, guardMs);
  }
  waitForError(guardMs = 20_000) {
    return this.#until(() => this.errors.length > 0, 'an error', guardMs);
  }
  #until(cond, what, guardMs) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter(w => w !== check);
        reject(new Error(`${this.name}: waited for ${what}; have ${JSON.stringify(this.values)} errors ${this.errors.map(String)}`));
      }, guardMs);
      if (!check()) this.waiters.push(check);
    });
  }
}

/** Resolves when cond() holds, polling (for states without events). */
export async function eventually(cond, what, guardMs = 20_000) {
  const deadline = Date.now() + guardMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waited for ${what}`);
    await sleep(20);
  }
}
