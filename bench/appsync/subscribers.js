// Worker thread: opens `count` AppSync real-time WebSockets (graphql-ws
// subprotocol, header as the ?header= query parameter, which both servers
// read), one onPost subscription each, and records when each data frame
// arrives: process.hrtime.bigint(), the same monotonic clock the main thread
// stamps mutations with.
'use strict';
const {parentPort, workerData} = require('node:worker_threads');
const WebSocket = require('ws');

const {url, host, apiKey, count, query, connectTimeoutMs} = workerData;
const header = Buffer.from(JSON.stringify({host, 'x-api-key': apiKey})).toString('base64');
const wsURL = `${url}?header=${header}&payload=e30=`;
const startFrame = id => JSON.stringify({
  id,
  type: 'start',
  payload: {
    data: JSON.stringify({query, variables: {}}),
    extensions: {authorization: {host, 'x-api-key': apiKey}},
  },
});

let seqs = new Int32Array(1 << 16);
let times = new Float64Array(1 << 16);
let n = 0;
let badFrames = 0;
let closedEarly = 0;
const errors = [];
const sockets = [];
let finishing = false;

function record(seq, t) {
  if (n === seqs.length) {
    const s = new Int32Array(seqs.length * 2); s.set(seqs); seqs = s;
    const d = new Float64Array(times.length * 2); d.set(times); times = d;
  }
  seqs[n] = seq; times[n] = t; n++;
}

function open(i) {
  return new Promise(resolve => {
    const id = `sub-${workerData.index}-${i}`;
    const ws = new WebSocket(wsURL, 'graphql-ws', {perMessageDeflate: false});
    let acked = false;
    const timer = setTimeout(() => done(`subscriber ${id}: no start_ack within ${connectTimeoutMs} ms`), connectTimeoutMs);
    function done(err) {
      if (acked) return;
      acked = true;
      clearTimeout(timer);
      if (err) errors.push(err);
      resolve(!err);
    }
    ws.on('open', () => ws.send('{"type":"connection_init"}'));
    ws.on('error', err => done(`subscriber ${id}: ${err.message}`));
    ws.on('close', () => {
      if (!finishing && acked) closedEarly++;
      done(`subscriber ${id}: closed before start_ack`);
    });
    ws.on('message', raw => {
      const t = Number(process.hrtime.bigint());
      let msg;
      try { msg = JSON.parse(raw); } catch { badFrames++; return; }
      switch (msg.type) {
        case 'data': {
          const m = msg.payload && msg.payload.data && msg.payload.data.onPost;
          if (m && typeof m.seq === 'number') record(m.seq, t); else badFrames++;
          break;
        }
        case 'connection_ack': ws.send(startFrame(id)); break;
        case 'start_ack': done(null); break;
        case 'ka': case 'complete': break;
        default: done(`subscriber ${id}: ${raw.toString().slice(0, 200)}`);
      }
    });
    sockets.push(ws);
  });
}

parentPort.on('message', async msg => {
  if (msg === 'open') {
    let ok = 0;
    const batch = 50;
    for (let i = 0; i < count; i += batch) {
      const res = await Promise.all(Array.from({length: Math.min(batch, count - i)}, (_, j) => open(i + j)));
      ok += res.filter(Boolean).length;
    }
    parentPort.postMessage({type: 'ready', ok, errors: errors.slice(0, 5), failed: count - ok});
  } else if (msg === 'finish') {
    finishing = true;
    for (const ws of sockets) ws.terminate();
    const s = seqs.slice(0, n), t = times.slice(0, n);
    parentPort.postMessage({type: 'done', seqs: s, times: t, badFrames, closedEarly}, [s.buffer, t.buffer]);
  }
});
