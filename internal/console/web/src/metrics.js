// Charts of the main metrics, sampled from /v1/status every two seconds
// while the page is open (the same numbers /metrics exports).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { status } from './api.js';

const every = 2000;
const keep = 150; // samples kept: five minutes

function Chart({ title, series, data, id }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const opts = {
      title,
      width: Math.min(560, el.current.clientWidth || 560),
      height: 220,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      axes: [{}, { size: 70 }],
      // A fixed five-minute window ending at the newest sample.
      scales: { x: { time: true, range: (u, min, max) => [max - (keep * every) / 1000, max] } },
    };
    plot.current = new uPlot(opts, data, el.current);
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);
  return html`<figure class="chart" aria-labelledby="${id}-caption">
    <div ref=${el} role="img" aria-label=${title}></div>
    <figcaption id="${id}-caption">${title}: ${series.map((s, i) => `${s.label} ${fmt(last(data[i + 1]))}`).join(', ')}</figcaption>
  </figure>`;
}

function last(a) {
  return a && a.length ? a[a.length - 1] : null;
}

function fmt(v) {
  if (v == null) return '–';
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function sum(o, f) {
  return Object.values(o || {}).reduce((a, v) => a + f(v), 0);
}

export function MetricsPage() {
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState('');
  const [snap, setSnap] = useState(null);
  const prev = useRef(null);

  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const s = await status();
        if (!live) return;
        const t = Date.parse(s.time) / 1000;
        const total = sum(s.requests, (r) => r.total);
        const errors = sum(s.requests, (r) => r.errors);
        const p = prev.current;
        const dt = p ? t - p.t : 0;
        const sample = {
          t,
          rps: p && dt > 0 ? (total - p.total) / dt : 0,
          eps: p && dt > 0 ? (errors - p.errors) / dt : 0,
          used: s.engine.used_bytes,
          max: s.engine.max_bytes || null,
          items: s.engine.caches.reduce((a, c) => a + c.items, 0),
          subs: s.topics.subscriptions,
          lag: s.feed_lag.reduce((a, l) => Math.max(a, l.lag), 0),
        };
        prev.current = { t, total, errors };
        setSnap(s);
        setSamples((ss) => [...ss, sample].slice(-keep));
        setError('');
      } catch (e) {
        if (live) setError(e.message);
      }
    };
    poll();
    const id = setInterval(poll, every);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, []);

  const col = (k) => samples.map((s) => s[k]);
  const xs = col('t');
  return html`
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${snap &&
    html`<p data-testid="status-line">${snap.ready ? 'Ready' : 'Not ready'} · engine ${snap.engine.name} · ${snap.engine.caches.length} caches ·
      up ${Math.round(snap.uptime_seconds)} s · evictions ${snap.engine.evictions} · expirations ${snap.engine.expirations} ·
      discontinuities ${snap.topics.discontinuities}</p>`}
    ${samples.length > 0 &&
    html`<div class="charts">
      <${Chart} id="c-rps" title="Requests per second" data=${[xs, col('rps'), col('eps')]}
        series=${[{ label: 'requests', color: '#1f5fbf' }, { label: 'errors', color: '#b3261e' }]} />
      <${Chart} id="c-mem" title="Memory (bytes)" data=${[xs, col('used'), col('max')]}
        series=${[{ label: 'used', color: '#1f5fbf' }, { label: '--max-memory', color: '#6b4c00' }]} />
      <${Chart} id="c-items" title="Items" data=${[xs, col('items')]} series=${[{ label: 'items', color: '#1f5fbf' }]} />
      <${Chart} id="c-subs" title="Topic subscriptions and feed lag" data=${[xs, col('subs'), col('lag')]}
        series=${[{ label: 'subscriptions', color: '#1f5fbf' }, { label: 'max feed lag', color: '#6b4c00' }]} />
    </div>`}
    <p class="hint">Prometheus can scrape the same numbers at <code>/metrics</code>; scripts can read <code>/v1/status</code>.</p>`;
}
