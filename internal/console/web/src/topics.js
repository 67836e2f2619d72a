// A live view of a topic: subscribe, publish, sequence numbers and
// discontinuities.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, stream, text } from './api.js';
import { useAction, Notice, CachePicker } from './ui.js';

const maxShown = 500;

export function TopicsPage() {
  const [cache, setCache] = useState('');
  const [topic, setTopic] = useState('');
  const [state, setState] = useState('idle'); // idle, connecting, live, ended
  const [events, setEvents] = useState([]);
  const [message, setMessage] = useState('');
  const [notice, run] = useAction();
  const stop = useRef(null);
  const last = useRef({ seq: 0, page: 0 });

  useEffect(() => () => stop.current && stop.current(), []);

  const subscribe = (resume) => {
    if (stop.current) stop.current();
    setState('connecting');
    if (!resume) setEvents([]);
    const q = new URLSearchParams();
    if (resume && last.current.seq) {
      q.set('resume_at', String(last.current.seq));
      q.set('page', String(last.current.page));
    }
    stop.current = stream(
      `/caches/${encodeURIComponent(cache)}/topics/${encodeURIComponent(topic)}/events?${q}`,
      (ev) => {
        if (ev.type === 'subscribed') return setState('live');
        if (ev.type === 'message') last.current = { seq: ev.sequence, page: ev.page };
        if (ev.type === 'discontinuity') last.current = { seq: ev.new, page: ev.page };
        if (ev.type === 'error') return setState('ended: ' + ev.message);
        setEvents((es) => [ev, ...es].slice(0, maxShown));
      },
      (err) => setState(err ? 'ended: ' + err.message : 'ended'),
    );
  };
  const unsubscribe = () => {
    if (stop.current) stop.current();
    stop.current = null;
    setState('idle');
  };

  return html`
    <form class="row" onSubmit=${(e) => {
      e.preventDefault();
      subscribe(false);
    }}>
      <${CachePicker} id="topic-cache" value=${cache} onChange=${setCache} />
      <label for="topic-name">Topic</label>
      <input id="topic-name" value=${topic} onInput=${(e) => setTopic(e.target.value)} required />
      <button type="submit">Subscribe</button>
      <button type="button" class="secondary" onClick=${unsubscribe} disabled=${state === 'idle'}>Unsubscribe</button>
      <button type="button" class="secondary" onClick=${() => subscribe(true)} disabled=${!last.current.seq || state === 'live'}>Resume</button>
    </form>
    <p>Subscription: <span data-testid="topic-state" class="state">${state}</span></p>
    <form class="row" onSubmit=${async (e) => {
      e.preventDefault();
      const r = await run(
        () => api('POST', `/caches/${encodeURIComponent(cache)}/topics/${encodeURIComponent(topic)}/messages`, { value: { text: message } }),
        (r) => `Published as sequence number ${r.sequence}`,
      );
      if (r) setMessage('');
    }}>
      <label for="topic-message">Message</label>
      <input id="topic-message" value=${message} onInput=${(e) => setMessage(e.target.value)} required />
      <button type="submit" disabled=${!topic}>Publish</button>
    </form>
    <${Notice} notice=${notice} />
    <table aria-label="Messages" data-testid="topic-events">
      <thead><tr><th scope="col">Sequence</th><th scope="col">Page</th><th scope="col">Message</th></tr></thead>
      <tbody>
        ${events.map((ev) =>
          ev.type === 'discontinuity'
            ? html`<tr class="gap"><td colspan="3">Discontinuity: ${ev.last + 1}–${ev.new} lost (page ${ev.page})</td></tr>`
            : html`<tr><td>${ev.sequence}</td><td>${ev.page}</td><td>${text(ev.value)}</td></tr>`,
        )}
      </tbody>
    </table>`;
}
