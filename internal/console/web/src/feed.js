// A change-feed tail per cache and range, with pause/resume and the
// continuation token to copy (or to paste, to resume elsewhere).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, stream, text } from './api.js';
import { useAsync, CachePicker, Copy } from './ui.js';

const maxShown = 500;

export function FeedPage() {
  const [cache, setCache] = useState('');
  const [range, setRange] = useState('');
  const [start, setStart] = useState('now');
  const [mode, setMode] = useState('latest');
  const [token, setToken] = useState('');
  const [state, setState] = useState('stopped'); // stopped, connecting, live, paused
  const [changes, setChanges] = useState([]);
  const stop = useRef(null);
  const ranges = useAsync(() => (cache ? api('GET', `/caches/${encodeURIComponent(cache)}/feed/ranges`) : Promise.resolve([])), [cache]);

  useEffect(() => () => stop.current && stop.current(), []);

  const tail = (from) => {
    if (stop.current) stop.current();
    setState('connecting');
    const q = new URLSearchParams({ start, mode });
    if (range) q.set('range', range);
    if (from) q.set('continuation', from);
    stop.current = stream(
      `/caches/${encodeURIComponent(cache)}/feed/events?${q}`,
      (ev) => {
        if (ev.type === 'error') return setState('ended: ' + ev.message);
        setToken(ev.continuation);
        if (ev.not_modified) setState('live');
        if (ev.changes && ev.changes.length) setChanges((cs) => [...ev.changes.slice().reverse(), ...cs].slice(0, maxShown));
      },
      (err) => setState(err ? 'ended: ' + err.message : 'stopped'),
    );
  };
  const pause = () => {
    if (stop.current) stop.current();
    stop.current = null;
    setState('paused');
  };

  return html`
    <form class="row" onSubmit=${(e) => {
      e.preventDefault();
      setChanges([]);
      tail('');
    }}>
      <${CachePicker} id="feed-cache" value=${cache} onChange=${(c) => {
        setCache(c);
        setRange('');
      }} />
      <label for="feed-range">Range</label>
      <select id="feed-range" value=${range} onChange=${(e) => setRange(e.target.value)}>
        <option value="">Whole cache</option>
        ${(ranges.data || []).map((r) => html`<option value=${r.range}>Partition ${r.partition} [${r.min || '""'}, ${r.max})</option>`)}
      </select>
      <label for="feed-start">Start</label>
      <select id="feed-start" value=${start} onChange=${(e) => setStart(e.target.value)}>
        <option value="now">Now</option>
        <option value="beginning">Beginning</option>
      </select>
      <label for="feed-mode">Mode</label>
      <select id="feed-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
        <option value="latest">Latest version</option>
        <option value="all">All versions and deletes</option>
      </select>
      <button type="submit">Start</button>
      <button type="button" class="secondary" onClick=${pause} disabled=${state !== 'live' && state !== 'connecting'}>Pause</button>
      <button type="button" class="secondary" onClick=${() => tail(token)} disabled=${state !== 'paused' || !token}>Resume</button>
    </form>
    <p>Tail: <span data-testid="feed-state" class="state">${state}</span></p>
    <div class="row">
      <label for="feed-token">Continuation token</label>
      <input id="feed-token" class="token" value=${token} onInput=${(e) => setToken(e.target.value)} spellcheck="false" />
      <${Copy} text=${token} label="Copy token" />
      <button type="button" class="secondary" onClick=${() => tail(token)} disabled=${!token}>Resume from token</button>
    </div>
    <table aria-label="Changes" data-testid="feed-changes">
      <thead><tr><th scope="col">LSN</th><th scope="col">Partition</th><th scope="col">Operation</th><th scope="col">Key</th><th scope="col">Kind</th><th scope="col">Value</th></tr></thead>
      <tbody>
        ${changes.map(
          (c) => html`<tr>
            <td>${c.lsn}</td><td>${c.partition}</td><td>${c.op}${c.ttl_expired ? ' (expired)' : ''}</td>
            <td>${text(c.key)}</td><td>${c.kind}</td><td>${text(c.value)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
}
