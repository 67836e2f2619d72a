// Test harness for the Setsuna Momento-JS conformance suite.
//
// Starts a Setsuna server on a free loopback port (binary from $SETSUNA_BIN, or built with
// `go build ./cmd/setsuna` from the repo root), builds an official @gomomento/sdk CacheClient
// pointed at it, and tears everything down after the test file.
//
// Note: node's test runner treats every .js file under test/ as a test file, so this module is
// also loaded once on its own; it must therefore have no side effects at import time.

import {spawn, execFile} from 'node:child_process';
import {mkdtemp, rm} from 'node:fs/promises';
import {readFileSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';
import assert from 'node:assert/strict';
import {before, after} from 'node:test';

import {
  CacheClient,
  Configurations,
  CredentialProvider,
  MomentoErrorCode,
  TopicClient,
  TopicConfigurations,
} from '@gomomento/sdk';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(SUITE_DIR, '..', '..');

const STARTUP_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

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
  const dir = await mkdtemp(path.join(os.tmpdir(), 'setsuna-conformance-'));
  const bin = path.join(dir, 'setsuna');
  await new Promise((resolve, reject) => {
    execFile(
      'go',
      ['build', '-o', bin, './cmd/setsuna'],
      {cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024},
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`go build ./cmd/setsuna failed in ${REPO_ROOT}: ${err.message}\n${stdout}${stderr}`));
        } else {
          resolve();
        }
      }
    );
  });
  return {bin, cleanup: () => rm(dir, {recursive: true, force: true})};
}

/**
 * Start a Setsuna server. Resolves once its port accepts TCP connections.
 * Returns {port, bin, stop(), stderr(), exited}.
 *
 * With SETSUNA_TEST_REDIS_ADDRS set (make conformance-cluster), it starts two nodes on the redis engine
 * at those addresses instead, and returns the first one's port: cache clients talk to the first
 * node, topic clients (makeTopicClient) to the second, so that every test also checks that the
 * nodes share caches, items and topics.
 */
export async function startServer({extraArgs = []} = {}) {
  const redis = process.env.SETSUNA_TEST_REDIS_ADDRS;
  if (!redis) return await startNode({extraArgs});
  const engine = ['--engine', 'redis', '--redis-addrs', redis];
  const a = await startNode({extraArgs: [...engine, '--node-id', `conf-a-${process.pid}`, ...extraArgs]});
  let b;
  try {
    b = await startNode({extraArgs: [...engine, '--node-id', `conf-b-${process.pid}`, ...extraArgs]});
  } catch (err) {
    await a.stop();
    throw err;
  }
  peers.set(a.port, b.port);
  return {
    ...a,
    peerPort: b.port,
    stop: async () => {
      const [ia] = await Promise.all([a.stop(), b.stop()]);
      return ia;
    },
    isRunning: () => a.isRunning() && b.isRunning(),
    output: () => `--- node a ---\n${a.output()}\n--- node b ---\n${b.output()}`,
  };
}

// In cluster mode: the second node of the pair whose first node listens on a port.
const peers = new Map();

async function startNode({extraArgs = []} = {}) {
  let bin = process.env.SETSUNA_BIN;
  let cleanup = async () => {};
  if (!bin) {
    ({bin, cleanup} = await buildServer());
  }
  const port = await freePort();
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--http-listen', '127.0.0.1:0', '--cosmos-listen', 'off', '--log-level', 'warn', ...extraArgs];
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
    child.once('exit', (code, signal) => {
      exitInfo = {code, signal};
      resolve(exitInfo);
    });
    child.once('error', err => {
      exitInfo = {code: null, signal: null, error: err};
      resolve(exitInfo);
    });
  });

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exitInfo) {
      await cleanup();
      throw new Error(
        `setsuna server (${bin} ${args.join(' ')}) exited before accepting connections: ` +
          `${JSON.stringify(exitInfo)}${exitInfo.error ? ' ' + exitInfo.error.message : ''}\n--- server output ---\n${output}`
      );
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      await cleanup();
      throw new Error(
        `setsuna server did not accept connections on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms\n--- server output ---\n${output}`
      );
    }
    await sleep(100);
  }

  let stopped = false;
  async function stop() {
    if (stopped) return exitInfo;
    stopped = true;
    if (!exitInfo) {
      child.kill('SIGTERM');
      const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS));
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
    port,
    bin,
    stop,
    exited,
    isRunning: () => exitInfo === null,
    output: () => output,
  };
}

/** A CacheClient for a local (plaintext, no auth) Setsuna on 127.0.0.1:port. */
export function makeCacheClient(port, {defaultTtlSeconds = 60} = {}) {
  return new CacheClient({
    configuration: Configurations.Laptop.v1(),
    credentialProvider: CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port}),
    defaultTtlSeconds,
  });
}

/**
 * A TopicClient for a local Setsuna on 127.0.0.1:port, with the SDK's default topics configuration
 * (whose 5 s request timeout is also the deadline of every subscription's first stream).
 */
export function makeTopicClient(port) {
  return new TopicClient({
    configuration: TopicConfigurations.Default.latest(),
    credentialProvider: CredentialProvider.forMomentoLocal({hostname: '127.0.0.1', port: peers.get(port) ?? port}),
  });
}

let nameCounter = 0;
/** A cache name that is unique per test run and per call. */
export function uniqueName(prefix = 'conf') {
  nameCounter += 1;
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${rand}-${nameCounter}`;
}

/**
 * Registers before/after hooks for a test file: starts the server, builds a client, and
 * creates `caches` uniquely-named caches. Returns a context object whose fields are filled in
 * by the time the tests run: {server, port, client, cacheName, cacheNames, track(name)}.
 * Every cache in cacheNames (plus anything passed to track()) is deleted at the end.
 */
export function useSetsuna({caches = 1, prefix = 'conf', extraArgs = []} = {}) {
  const ctx = {server: null, port: 0, client: null, cacheName: '', cacheNames: [], extraCaches: new Set()};
  ctx.track = name => {
    ctx.extraCaches.add(name);
    return name;
  };
  before(async () => {
    ctx.server = await startServer({extraArgs});
    ctx.port = ctx.server.port;
    ctx.client = makeCacheClient(ctx.port);
    for (let i = 0; i < caches; i++) {
      const name = uniqueName(prefix);
      const resp = await ctx.client.createCache(name);
      assert.equal(
        resp.type,
        'Success',
        `harness: createCache(${name}) failed: ${resp.toString()}\n--- server output ---\n${ctx.server.output()}`
      );
      ctx.cacheNames.push(name);
    }
    ctx.cacheName = ctx.cacheNames[0] ?? '';
  });
  after(async () => {
    try {
      if (ctx.client && ctx.server?.isRunning()) {
        for (const name of [...ctx.cacheNames, ...ctx.extraCaches]) {
          await ctx.client.deleteCache(name); // best effort: may already be gone
        }
      }
    } finally {
      ctx.client?.close();
      if (ctx.server) {
        const wasRunning = ctx.server.isRunning();
        const info = await ctx.server.stop();
        if (!wasRunning) {
          process.stderr.write(
            `[harness] setsuna exited during the tests: ${JSON.stringify(info)}\n--- server output ---\n${ctx.server.output()}\n`
          );
        }
      }
    }
  });
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Assertion helpers

function describeResp(resp) {
  if (resp === undefined || resp === null) return String(resp);
  const type = resp.type !== undefined ? `type=${resp.type}` : `class=${resp?.constructor?.name}`;
  let extra = '';
  if (typeof resp.errorCode === 'function') {
    extra = ` errorCode=${resp.errorCode()} message=${JSON.stringify(resp.message())}`;
  } else if (typeof resp.toString === 'function') {
    extra = ` ${resp.toString().slice(0, 300)}`;
  }
  return `${type}${extra}`;
}

/** Assert resp is an instance of the SDK response class `cls` (e.g. CacheGet.Hit). */
export function assertIs(resp, cls, label = '') {
  assert.ok(
    resp instanceof cls,
    `${label ? label + ': ' : ''}expected ${cls.name} response (type ${cls.prototype?.type ?? '?'}), got ${describeResp(resp)}`
  );
  return resp;
}

/** Assert resp is an SDK error response with the given MomentoErrorCode. */
export function assertError(resp, code, label = '') {
  const prefix = label ? label + ': ' : '';
  assert.ok(
    resp && typeof resp.errorCode === 'function',
    `${prefix}expected an Error response with ${code}, got ${describeResp(resp)}`
  );
  assert.equal(resp.errorCode(), code, `${prefix}wrong error code; got ${describeResp(resp)}`);
  return resp;
}

/** Assert resp is some SDK error response (any code). */
export function assertAnyError(resp, label = '') {
  assert.ok(
    resp && typeof resp.errorCode === 'function' && resp.type === 'Error',
    `${label ? label + ': ' : ''}expected an Error response, got ${describeResp(resp)}`
  );
  return resp;
}

export {MomentoErrorCode};

// ---------------------------------------------------------------------------------------------
// Verbatim documentation samples

const require = createRequire(import.meta.url);

/**
 * Load a TypeScript samples module (kept verbatim from the Momento docs, which use a few TS-only
 * constructs such as `new Map<string, string>()` and the `!` non-null assertion). It is transpiled
 * with the TypeScript compiler (types are stripped, nothing else changes) and evaluated as a
 * CommonJS module so that `import ... from '@gomomento/sdk'` resolves from this suite.
 */
export function loadSamples(relPath) {
  const ts = require('typescript');
  const file = path.resolve(here, relPath);
  const source = readFileSync(file, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  if (out.diagnostics && out.diagnostics.length > 0) {
    const msgs = out.diagnostics.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    throw new Error(`TypeScript syntax errors in ${file}:\n${msgs.join('\n')}`);
  }
  const module = {exports: {}};
  const fn = new Function('exports', 'require', 'module', '__filename', '__dirname', out.outputText);
  fn(module.exports, require, module, file, path.dirname(file));
  return module.exports;
}

/**
 * Run `fn` while capturing console.log output. Returns {lines, error}; never throws.
 * `lines` are the console.log calls formatted like console.log would print them.
 */
export async function captureConsole(fn) {
  const {format} = await import('node:util');
  const lines = [];
  const orig = console.log;
  console.log = (...args) => {
    lines.push(format(...args));
  };
  let error;
  try {
    await fn();
  } catch (e) {
    error = e;
  } finally {
    console.log = orig;
  }
  return {lines, error};
}

/** Run a sample and assert it did not throw; returns the captured console.log lines. */
export async function runSample(sampleFn, client, cacheName) {
  const {lines, error} = await captureConsole(() => sampleFn(client, cacheName));
  if (error) {
    assert.fail(
      `sample ${sampleFn.name} threw: ${error && error.stack ? error.stack : error}\n--- sample output ---\n${lines.join('\n')}`
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Issue 12 (Momento complete): the server binary on its own, and processes whose output the
// tests wait on (no polling).

/** The setsuna binary ($SETSUNA_BIN, or built once per test file). */
let builtBin;
export async function setsunaBin() {
  if (process.env.SETSUNA_BIN) return process.env.SETSUNA_BIN;
  if (!builtBin) {
    const {bin, cleanup} = await buildServer();
    after(cleanup);
    builtBin = bin;
  }
  return builtBin;
}

/** Run a command to completion; resolves {code, stdout, stderr}. */
export function runCommand(cmd, args, {env, input} = {}) {
  return new Promise(resolve => {
    const child = execFile(cmd, args, {env: env ?? process.env, maxBuffer: 16 * 1024 * 1024}, (err, stdout, stderr) =>
      resolve({code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr})
    );
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * Start a long-running process and resolve once a line of its output matches ready (the server
 * logs "setsuna listening" when every listener accepts connections). Returns {child, output(),
 * stop()}; stop sends SIGTERM and waits for the exit.
 */
export async function startProcess(cmd, args, {env, cwd, ready = /setsuna listening/, timeoutMs = STARTUP_TIMEOUT_MS} = {}) {
  const child = spawn(cmd, args, {env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({code, signal})));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: not ready within ${timeoutMs} ms\n${output}`)), timeoutMs);
    const onData = chunk => {
      output += chunk.toString();
      if (process.env.SETSUNA_SERVER_LOG) process.stderr.write(`[setsuna] ${chunk}`);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(info => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited before it was ready: ${JSON.stringify(info)}\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
