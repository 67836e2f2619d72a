// Every code block of the repository's README, run as a new user would run it (issue 12).
//
// Each fenced block is preceded by a marker comment, <!-- test: KIND [options] -->, that says
// how to run it; a block without one fails this test. Kinds:
//   serve      start the command line as the server for the blocks that follow (stopping the
//              previous one); `setsuna` is the built binary
//   sh         bash -eo pipefail in a scratch directory, `setsuna` on PATH, SETSUNA_ADDR set
//   sh-repo    the same in the repository root, with GOBIN in a scratch directory on PATH
//   dry-run    `make X` as `make -n X`, `bash F` as `bash -n F`, in the repository root
//   go-module  sh in a scratch directory; the module it makes runs the go blocks after it
//   go         saved as main.go of that module and run with `go run .`
//   node       saved beside this suite's node_modules (suite=NAME: conformance/NAME's, installed
//              with npm ci when missing) and run with node
//   promtool-config  a Prometheus config, checked by promtool check config (files it names are
//              created empty in a scratch directory)
//   promql     PromQL expressions separated by blank lines, each parsed by promtool check rules
// Options: expect="text" (stdout must contain it; \t is a tab), env="K=V" (more environment),
// export=NAME (stdout becomes $NAME for later blocks), dead-server (also run against a port
// where nothing listens: it must fail, with a message), cwd=repo (serve: in the repository root).
// The blocks name the default ports and paths; the test maps them to free ports and scratch
// directories: 8080, 8081, 8082, 9090, 8443, 9443, 9091, /var/lib/setsuna, /path/to/setsuna.

import {test, after} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtemp, rm, writeFile, readFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import {REPO_ROOT, SUITE_DIR, freePort, runCommand, setsunaBin, startProcess} from './harness.js';

const README = path.join(REPO_ROOT, 'README.md');

/** The README's fenced blocks with their markers. */
export function readmeBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i].match(/^```(\S*)\s*$/);
    if (!fence || fence[1] === '') continue;
    const marker = i > 0 ? lines[i - 1].match(/^<!-- test: (.*) -->$/) : null;
    let j = i + 1;
    while (j < lines.length && lines[j] !== '```') j++;
    blocks.push({line: i + 1, lang: fence[1], code: lines.slice(i + 1, j).join('\n'), marker: marker ? marker[1] : null});
    i = j;
  }
  return blocks;
}

function parseMarker(m) {
  const kind = m.split(/\s+/)[0];
  const opts = {kind, flags: new Set()};
  for (const [, k, quoted, bare] of m.slice(kind.length).matchAll(/([a-z-]+)(?:=(?:"([^"]*)"|(\S+)))?/g)) {
    const v = quoted ?? bare;
    if (v === undefined) opts.flags.add(k);
    else opts[k] = v.replaceAll('\\t', '\t');
  }
  return opts;
}

const scratch = [];
after(async () => {
  for (const d of scratch) await rm(d, {recursive: true, force: true});
});
async function tempDir(prefix) {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix));
  scratch.push(d);
  return d;
}

test('README: every code block has a test marker', async () => {
  const blocks = readmeBlocks(await readFile(README, 'utf8'));
  assert.ok(blocks.length >= 20, `only ${blocks.length} blocks found`);
  const unmarked = blocks.filter(b => !b.marker).map(b => `line ${b.line} (${b.lang})`);
  assert.deepEqual(unmarked, [], 'code blocks without a <!-- test: ... --> marker');
});

test('README: every code block runs as documented', {timeout: 600_000}, async t => {
  const bin = await setsunaBin();
  const binDir = await tempDir('setsuna-readme-bin-');
  await runCommand('ln', ['-s', bin, path.join(binDir, 'setsuna')]);
  const work = await tempDir('setsuna-readme-work-');
  const dataDir = await tempDir('setsuna-readme-data-');
  const gobin = await tempDir('setsuna-readme-gobin-');
  const ports = {};
  for (const p of ['8080', '8081', '8082', '9090', '8443', '9443', '9091']) ports[p] = String(await freePort());
  const deadPort = String(await freePort());
  const subst = (code, portMap = ports) => {
    let out = code.replaceAll('/var/lib/setsuna', dataDir).replaceAll('/path/to/setsuna', REPO_ROOT);
    for (const [from, to] of Object.entries(portMap)) out = out.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
    return out;
  };
  const env = {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH}`,
    SETSUNA_ADDR: `127.0.0.1:${ports['8080']}`,
    SETSUNA_LISTEN: `127.0.0.1:${ports['8080']}`,
    SETSUNA_HTTP_LISTEN: `127.0.0.1:${ports['9090']}`,
    SETSUNA_COSMOS_LISTEN: `127.0.0.1:${ports['8081']}`,
    SETSUNA_GRAPHQL_LISTEN: `127.0.0.1:${ports['8082']}`,
    // The Go blocks build offline against this checkout and the module cache.
    GOFLAGS: '-mod=mod',
    GOPROXY: 'off',
    GOSUMDB: 'off',
  };
  let server = null;
  let moduleDir = null;
  t.after(() => server?.stop());

  const blocks = readmeBlocks(await readFile(README, 'utf8'));
  for (const [n, b] of blocks.entries()) {
    const o = parseMarker(b.marker ?? 'missing');
    const label = `README line ${b.line} (${o.kind})`;
    const extraEnv = {...env};
    if (o.env) {
      const [k, ...v] = subst(o.env).split('=');
      extraEnv[k] = v.join('=');
    }
    const check = (r, what = label) => {
      assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      if (o.expect !== undefined && what === label) assert.ok(r.stdout.includes(o.expect), `${what}: output lacks ${JSON.stringify(o.expect)}:\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    const mustFailOnDeadServer = async (cmd, args, opts) => {
      const r = await runCommand(cmd, args, opts);
      assert.notEqual(r.code, 0, `${label} against a dead server exited 0:\n${r.stdout}`);
      assert.ok((r.stdout + r.stderr).trim() !== '', `${label} against a dead server failed without a message`);
    };
    switch (o.kind) {
      case 'serve': {
        await server?.stop();
        const words = subst(b.code).split('\n').filter(l => !l.trim().startsWith('#')).join(' ').trim().split(/\s+/);
        assert.equal(words[0], 'setsuna', `${label}: a serve block runs setsuna`);
        server = await startProcess(bin, words.slice(1), {env, cwd: o.cwd === 'repo' ? REPO_ROOT : work});
        break;
      }
      case 'sh':
      case 'sh-repo':
      case 'go-module': {
        const cwd = o.kind === 'sh-repo' ? REPO_ROOT : work;
        const shEnv = o.kind === 'sh-repo' ? {...extraEnv, GOBIN: gobin, PATH: `${gobin}:${extraEnv.PATH}`} : extraEnv;
        const script = `cd ${JSON.stringify(cwd)}\n${subst(b.code)}`;
        const r = check(await runCommand('bash', ['-eo', 'pipefail', '-c', script], {env: shEnv}));
        if (o.export) env[o.export] = r.stdout.trim().split('\n').pop();
        if (o.kind === 'go-module') moduleDir = path.join(work, subst(b.code).match(/mkdir (\S+)/)[1]);
        break;
      }
      case 'dry-run': {
        for (const line of b.code.split('\n').filter(l => l.trim())) {
          const [cmd, ...args] = line.trim().split(/\s+/);
          const dry = cmd === 'make' ? ['make', ['-n', ...args]] : cmd === 'bash' ? ['bash', ['-n', ...args]] : null;
          assert.ok(dry, `${label}: cannot dry-run ${line}`);
          check(await runCommand('bash', ['-c', `cd ${JSON.stringify(REPO_ROOT)} && ${dry[0]} ${dry[1].join(' ')}`], {env}), `${label}: ${line}`);
        }
        break;
      }
      case 'go': {
        assert.ok(moduleDir, `${label}: a go block needs a go-module block before it`);
        await writeFile(path.join(moduleDir, 'main.go'), subst(b.code));
        const run = () => runCommand('bash', ['-c', `cd ${JSON.stringify(moduleDir)} && go run .`], {env: extraEnv});
        check(await run());
        if (o.flags.has('dead-server')) {
          await writeFile(path.join(moduleDir, 'main.go'), subst(b.code, {...ports, 8080: deadPort}));
          await mustFailOnDeadServer('bash', ['-c', `cd ${JSON.stringify(moduleDir)} && go run .`], {env: extraEnv});
        }
        break;
      }
      case 'node': {
        const dir = o.suite ? path.join(REPO_ROOT, 'conformance', o.suite) : SUITE_DIR;
        if (o.suite) {
          const have = await runCommand('test', ['-d', path.join(dir, 'node_modules')]);
          if (have.code !== 0) check(await runCommand('bash', ['-c', `cd ${JSON.stringify(dir)} && npm ci --no-audit --no-fund --loglevel=error`]), `${label}: npm ci in ${o.suite}`);
        }
        const file = path.join(dir, `.readme-${process.pid}-${n}.mjs`);
        try {
          await writeFile(file, subst(b.code));
          check(await runCommand(process.execPath, [file], {env: extraEnv}));
          if (o.flags.has('dead-server')) {
            await writeFile(file, subst(b.code, {...ports, 8080: deadPort}));
            await mustFailOnDeadServer(process.execPath, [file], {env: extraEnv});
          }
        } finally {
          await rm(file, {force: true});
        }
        break;
      }
      case 'promtool-config': {
        const dir = await tempDir('setsuna-readme-prom-');
        let cfg = subst(b.code);
        for (const [, file] of cfg.matchAll(/_file:\s*(\S+)/g)) {
          const local = path.join(dir, path.basename(file));
          await writeFile(local, 'placeholder\n');
          cfg = cfg.replaceAll(file, local);
        }
        await writeFile(path.join(dir, 'prometheus.yml'), cfg);
        check(await runCommand('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]));
        break;
      }
      case 'promql': {
        const dir = await tempDir('setsuna-readme-promql-');
        const exprs = b.code.split(/\n\s*\n/).map(e => e.trim()).filter(Boolean);
        const rules = exprs.map((e, i) => `      - record: readme:expr${i}\n        expr: ${JSON.stringify(e.replace(/\s*\n\s*/g, ' '))}`);
        await writeFile(path.join(dir, 'rules.yml'), `groups:\n  - name: readme\n    rules:\n${rules.join('\n')}\n`);
        check(await runCommand('promtool', ['check', 'rules', path.join(dir, 'rules.yml')]));
        break;
      }
      default:
        assert.fail(`${label}: unknown test kind ${JSON.stringify(o.kind)}`);
    }
  }
});
