// Mutation-to-delivery latency of AppSync subscriptions: Setsuna's AppSync
// surface beside amplify-appsync-simulator, same schema, same machine.
//
// For each system and subscriber count it starts a fresh server (pinned to
// CPU 0 with taskset when the machine has more than one CPU; this process
// then runs on the others), opens N subscribers in worker threads, waits for
// every start_ack, sends warm-up mutations, then sends --mutations mutations
// over HTTP at --rate per second (open loop: each is sent on its schedule,
// not after the previous reply). A delivery's latency is the time from just
// before the mutation's HTTP request is written to the data frame's arrival
// at the subscriber. Deliveries still missing 3 s after the last mutation are
// lost and counted as errors.
//
//   node bench.js [--setsuna PATH] [--subscribers 1,100,1000] [--mutations 200]
//                 [--rate 20] [--systems setsuna,simulator] [--out FILE|-]
'use strict';
const {spawn, execFileSync} = require('node:child_process');
const {Worker} = require('node:worker_threads');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const API_KEY = 'da2-setsunabenchkey000000000000';
const SCHEMA = path.join(__dirname, 'schema.graphql');
const SUB_QUERY = 'subscription OnPost { onPost(room: "bench") { id room seq body } }';
const MUTATION = 'mutation Post($input: PostInput!) { post(input: $input) { id room seq body } }';
const WARMUP = 10;
const DRAIN_MS = 3000;

function parseArgs(argv) {
  const o = {
    setsuna: path.resolve(__dirname, '..', '..', 'bin', 'setsuna'),
    subscribers: [1, 100, 1000],
    mutations: 200,
    rate: 20,
    systems: ['setsuna', 'simulator'],
    out: '-',
    workers: 2,
  };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, ''), v = argv[++i];
    if (k === 'subscribers') o.subscribers = v.split(',').map(Number);
    else if (k === 'systems') o.systems = v.split(',');
    else if (['mutations', 'rate', 'workers'].includes(k)) o[k] = Number(v);
    else if (['setsuna', 'out'].includes(k)) o[k] = v;
    else throw new Error(`unknown flag --${k}`);
  }
  return o;
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint());

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise(resolve => {
    const s = net.connect({host: '127.0.0.1', port});
    const done = ok => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

const PIN = os.cpus().length > 1 && hasTaskset();
function hasTaskset() {
  try { execFileSync('taskset', ['-V'], {stdio: 'ignore'}); return true; } catch { return false; }
}

// Starts one server; resolves {port, pid, stop(), wsPath}.
async function startServer(system, opts) {
  const port = await freePort();
  let cmd, args, wsPath;
  if (system === 'setsuna') {
    cmd = opts.setsuna;
    args = ['serve', '--log-level', 'warn', '--graphql-schema', SCHEMA,
      '--graphql-listen', `127.0.0.1:${port}`, '--graphql-api-key', API_KEY,
      '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--cosmos-listen', 'off'];
    wsPath = '/graphql/realtime';
  } else {
    cmd = process.execPath;
    args = [path.join(__dirname, 'sim-server.js'), String(port), API_KEY];
    wsPath = '/graphql';
  }
  if (PIN) { args = ['-c', '0', cmd, ...args]; cmd = 'taskset'; }
  const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  child.stdout.on('data', c => { output = (output + c).slice(-64 * 1024); });
  child.stderr.on('data', c => { output = (output + c).slice(-64 * 1024); });
  let exited = null;
  const exit = new Promise(r => child.once('exit', (code, sig) => r((exited = {code, sig}))));
  const deadline = Date.now() + 30000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${system} did not start (${JSON.stringify(exited)}):\n${output}`);
    }
    await sleep(100);
  }
  return {
    port, wsPath, pid: child.pid, output: () => output,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
}

function cpuTicks(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks
  } catch { return NaN; }
}

const agent = new http.Agent({keepAlive: true, maxSockets: 8});
function postMutation(port, seq) {
  const body = JSON.stringify({query: MUTATION, variables: {input: {id: `m${seq}`, room: 'bench', seq, body: 'x'.repeat(64)}}});
  return new Promise(resolve => {
    const req = http.request({host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: {
      'content-type': 'application/json', 'x-api-key': API_KEY, 'content-length': Buffer.byteLength(body)}}, res => {
      let data = '';
      res.on('data', c => { data += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}: ${data.slice(0, 200)}`);
        try {
          const j = JSON.parse(data);
          if (j.errors) return resolve(`GraphQL errors: ${JSON.stringify(j.errors).slice(0, 200)}`);
          if (!j.data || !j.data.post || j.data.post.seq !== seq) return resolve(`unexpected reply: ${data.slice(0, 200)}`);
          resolve(null);
        } catch (e) { resolve(`bad reply: ${data.slice(0, 200)}`); }
      });
    });
    req.on('error', e => resolve(e.message));
    req.end(body);
  });
}

function startWorkers(srv, n, opts) {
  const per = Math.ceil(n / opts.workers);
  const workers = [];
  for (let i = 0, left = n; left > 0; i++, left -= per) {
    workers.push(new Worker(path.join(__dirname, 'subscribers.js'), {workerData: {
      index: i, url: `ws://127.0.0.1:${srv.port}${srv.wsPath}`, host: `127.0.0.1:${srv.port}`,
      apiKey: API_KEY, count: Math.min(per, left), query: SUB_QUERY, connectTimeoutMs: 30000}}));
  }
  const ask = (w, m, type) => new Promise((resolve, reject) => {
    const h = msg => { if (msg.type === type) { w.off('message', h); resolve(msg); } };
    w.on('message', h);
    w.once('error', reject);
    w.postMessage(m);
  });
  return {
    open: () => Promise.all(workers.map(w => ask(w, 'open', 'ready'))),
    finish: async () => {
      const r = await Promise.all(workers.map(w => ask(w, 'finish', 'done')));
      await Promise.all(workers.map(w => w.terminate()));
      return r;
    },
  };
}

async function runCase(system, subs, opts) {
  const srv = await startServer(system, opts);
  const errs = new Map();
  const err = m => errs.set(m, (errs.get(m) || 0) + 1);
  let res;
  try {
    const w = startWorkers(srv, subs, opts);
    const tOpen = Date.now();
    const ready = await w.open();
    const openMs = Date.now() - tOpen;
    const failedSubs = ready.reduce((a, r) => a + r.failed, 0);
    for (const r of ready) for (const e of r.errors) err(e);
    const total = WARMUP + opts.mutations;
    const sent = new Float64Array(total).fill(NaN);
    let mutErrors = 0;
    const pending = [];
    const fire = seq => {
      sent[seq] = now();
      pending.push(postMutation(srv.port, seq).then(e => { if (e) { mutErrors += seq >= WARMUP; err(e); } }));
    };
    for (let s = 0; s < WARMUP; s++) { fire(s); await sleep(20); }
    await Promise.all(pending.splice(0));
    await sleep(500);
    const cpu0 = cpuTicks(srv.pid), wall0 = Date.now(), gen0 = process.cpuUsage();
    const interval = 1000 / opts.rate, t0 = Date.now();
    for (let i = 0; i < opts.mutations; i++) {
      const due = t0 + i * interval;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      fire(WARMUP + i);
    }
    await Promise.all(pending);
    await sleep(DRAIN_MS);
    const cpu1 = cpuTicks(srv.pid), wall1 = Date.now(), gen1 = process.cpuUsage(gen0);
    const done = await w.finish();
    const lat = [];
    let badFrames = 0, closedEarly = 0, dup = 0;
    for (const d of done) {
      badFrames += d.badFrames; closedEarly += d.closedEarly;
      for (let i = 0; i < d.seqs.length; i++) {
        const seq = d.seqs[i];
        if (seq < WARMUP || seq >= total) continue;
        lat.push((d.times[i] - sent[seq]) / 1e6);
      }
    }
    const okSubs = subs - failedSubs;
    const expected = okSubs * opts.mutations;
    const lost = Math.max(0, expected - lat.length);
    if (lat.length > expected) dup = lat.length - expected;
    if (lost) err(`${lost} deliveries missing ${DRAIN_MS / 1000} s after the last mutation`);
    if (dup) err(`${dup} deliveries more than expected`);
    if (badFrames) err(`${badFrames} unreadable data frames`);
    if (closedEarly) err(`${closedEarly} subscriber sockets closed by the server`);
    lat.sort((a, b) => a - b);
    const q = p => lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : NaN;
    const hz = 100; // USER_HZ
    res = {system, subs, okSubs, deliveries: lat.length, expected, p50: q(0.5), p99: q(0.99), max: lat.length ? lat[lat.length - 1] : NaN,
      errors: failedSubs + mutErrors + lost + badFrames + closedEarly, openMs,
      serverCPU: (cpu1 - cpu0) / hz / ((wall1 - wall0) / 1000),
      genCPU: (gen1.user + gen1.system) / 1e3 / (wall1 - wall0), errs};
  } catch (e) {
    err(e.message.split('\n')[0]);
    res = {system, subs, okSubs: 0, deliveries: 0, expected: subs * opts.mutations, p50: NaN, p99: NaN, max: NaN, errors: NaN, errs, serverCPU: NaN, genCPU: NaN};
  } finally {
    await srv.stop();
  }
  return res;
}

const fmt = ms => Number.isNaN(ms) ? '—' : ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) || b === 0) ? '—' : `${(a / b).toFixed(2)}×`;

function versions(opts) {
  let sv = '?';
  try { sv = execFileSync(opts.setsuna, ['version'], {encoding: 'utf8'}).trim().split('\n')[0]; } catch {}
  let simv = '?';
  try { simv = require('amplify-appsync-simulator/package.json').version; } catch {}
  return {setsuna: sv, simulator: simv, ws: require('ws/package.json').version};
}

async function main() {
  const opts = parseArgs(process.argv);
  if (PIN) {
    // This process (and its worker threads) on the CPUs the servers are not on.
    const cpus = os.cpus().length;
    try { execFileSync('taskset', ['-a', '-p', '-c', cpus > 2 ? `1-${cpus - 1}` : '1', String(process.pid)], {stdio: 'ignore'}); } catch {}
  }
  const load0 = os.loadavg();
  const rows = [];
  for (const subs of opts.subscribers) {
    for (const system of opts.systems) {
      process.stderr.write(`bench-appsync: ${system}, ${subs} subscribers… `);
      const r = await runCase(system, subs, opts);
      process.stderr.write(`p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} deliveries ${r.deliveries}/${r.expected} errors ${r.errors}\n`);
      rows.push(r);
    }
  }
  const load1 = os.loadavg();
  const v = versions(opts);
  const L = [];
  L.push(`# AppSync subscriptions: mutation-to-delivery latency — ${new Date().toISOString().slice(0, 10)}`, '');
  L.push(`Setsuna (\`${v.setsuna}\`) beside amplify-appsync-simulator ${v.simulator} (npm), same schema (\`bench/appsync/schema.graphql\`), ` +
    `same machine, one run of \`make bench-appsync\` (\`bench/appsync/bench.js\`).`, '');
  L.push(`**The machine is shared and was loaded**: ${os.cpus().length} CPUs (${os.cpus()[0].model}), load average ` +
    `${load0.map(x => x.toFixed(2)).join(' ')} at the start and ${load1.map(x => x.toFixed(2)).join(' ')} at the end, from other work. ` +
    `Read the absolute numbers with that in mind; both systems ran under the same conditions, interleaved case by case.`, '');
  L.push(`Per case: a fresh server${PIN ? ' pinned to CPU 0 (`taskset -c 0`; Setsuna\'s Go runtime sees one CPU, the simulator is one Node.js process), the load generator on the other CPU(s)' : ''}; ` +
    `N subscribers (AppSync real-time protocol over \`ws\` ${v.ws}: \`connection_init\`, \`start\` with the API key in \`extensions.authorization\`, wait for every \`start_ack\`) ` +
    `on \`onPost(room: "bench")\`; ${WARMUP} warm-up mutations not counted; then ${opts.mutations} mutations \`post(input:)\` over HTTP/1.1 (keep-alive) at ${opts.rate}/s, open loop. ` +
    `Latency = a data frame's arrival at a subscriber − the moment just before its mutation's request was written (one monotonic clock). ` +
    `Both servers resolve \`post\` with a NONE data source (returns its input). Percentiles are exact (sorted samples).`, '');
  L.push('| system | subscribers | deliveries | p50 | p99 | max | errors | server CPU | gen CPU |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const pct = x => Number.isNaN(x) ? '—' : `${(x * 100).toFixed(0)} %`;
  for (const subs of opts.subscribers) {
    const here = rows.filter(r => r.subs === subs);
    for (const r of here) {
      L.push(`| ${r.system === 'setsuna' ? 'setsuna' : 'appsync-simulator'} | ${subs} | ${r.deliveries} / ${r.expected} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${Number.isNaN(r.errors) ? 'failed' : r.errors} | ${pct(r.serverCPU)} | ${pct(r.genCPU)}${r.genCPU >= 0.9 ? ' ⚠SAT' : ''} |`);
    }
    const a = here.find(r => r.system === 'setsuna'), b = here.find(r => r.system === 'simulator');
    if (a && b) L.push(`| **setsuna/simulator** | ${subs} | | **${ratio(a.p50, b.p50)}** | **${ratio(a.p99, b.p99)}** | ${ratio(a.max, b.max)} | | ${ratio(a.serverCPU, b.serverCPU)} | |`);
  }
  L.push('', 'Below 1× is better for Setsuna. deliveries = received / (mutations × subscribers that got `start_ack`). ' +
    'errors = failed subscribers + failed mutations + deliveries missing after a 3 s drain. ' +
    'server CPU = the server process\'s CPU time ÷ wall time over the measured mutations and the drain; gen CPU = this process\'s (all its threads\') CPU time ÷ wall time over the same window, **⚠SAT** at ≥ 90 % of a CPU (then latency includes the generator\'s own queueing).', '');
  const notes = [];
  for (const r of rows) for (const [m, c] of r.errs) notes.push(`* ${r.system}, ${r.subs} subscribers: ${c}× ${m}`);
  if (notes.length) L.push('Errors:', '', ...notes, '');
  L.push(`Subscriber set-up time (all \`start_ack\`s): ${rows.map(r => `${r.system} ${r.subs}: ${r.openMs ?? '—'} ms`).join('; ')}.`, '');
  const md = L.join('\n');
  if (opts.out === '-') process.stdout.write(md);
  else { fs.mkdirSync(path.dirname(opts.out), {recursive: true}); fs.writeFileSync(opts.out, md); process.stdout.write(md); process.stderr.write(`bench-appsync: wrote ${opts.out}\n`); }
}

main().then(() => process.exit(0), e => { console.error(e); process.exit(1); });
