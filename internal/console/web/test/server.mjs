// Starts the real setsuna binary for the end-to-end tests: auth on, a fresh
// data directory, free loopback ports (read back from its JSON start-up
// log), and a super-user key minted offline with `setsuna token issue`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
export const bin = process.env.SETSUNA_BIN || resolve(here, '../../../../bin/setsuna');

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'setsuna-console-e2e-'));
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--cosmos-listen', 'off',
    '--auth', '--data-dir', dataDir, '--log-format', 'json', '--shutdown-timeout', '2s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  const addrs = await new Promise((res, rej) => {
    const rl = createInterface({ input: proc.stderr });
    rl.on('line', (line) => {
      log.push(line);
      let v;
      try {
        v = JSON.parse(line);
      } catch {
        return;
      }
      if (v.msg === 'setsuna listening') res({ grpc: v.grpc, http: v.http });
    });
    proc.on('exit', (code) => rej(new Error(`setsuna serve exited with ${code}:\n${log.join('\n')}`)));
  });
  const key = execFileSync(bin, ['token', 'issue', '--super-user', '--data-dir', dataDir, '--expires', '1h', '--endpoint', addrs.grpc], { encoding: 'utf8' }).trim();
  return {
    ...addrs,
    base: `http://${addrs.http}`,
    key,
    log,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// consoleAPI calls the console's JSON API as another client would.
export async function consoleAPI(srv, key, method, path, body) {
  const r = await fetch(srv.base + '/console/api' + path, {
    method,
    headers: { 'X-Setsuna-Console': '1', Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
