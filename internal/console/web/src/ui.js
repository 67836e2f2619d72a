// Small shared pieces of the pages.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api } from './api.js';

// useAsync runs fn and keeps its result, error and a reload function.
export function useAsync(fn, deps) {
  const [state, setState] = useState({ data: null, error: '', loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: '', loading: false }),
      (e) => live && setState({ data: null, error: e.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

// Notice shows the outcome of the last action.
export function Notice({ notice }) {
  if (!notice) return null;
  return html`<p class=${notice.error ? 'error' : 'ok'} role=${notice.error ? 'alert' : 'status'}>${notice.text}</p>`;
}

// useAction wraps an async action so that its outcome shows in a Notice.
export function useAction() {
  const [notice, setNotice] = useState(null);
  const run = async (fn, done) => {
    try {
      const r = await fn();
      if (done) setNotice({ text: typeof done === 'function' ? done(r) : done });
      return r;
    } catch (e) {
      setNotice({ error: true, text: e.message });
      return undefined;
    }
  };
  return [notice, run, setNotice];
}

// CachePicker selects one of the caches.
export function CachePicker({ id, value, onChange }) {
  const caches = useAsync(() => api('GET', '/caches'), []);
  useEffect(() => {
    if (!value && caches.data && caches.data.length) onChange(caches.data[0].name);
  }, [caches.data]);
  return html`
    <label for=${id}>Cache</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${(caches.data || []).map((c) => html`<option value=${c.name}>${c.name}</option>`)}
    </select>`;
}

// Copy is a button that copies text to the clipboard.
export function Copy({ text, label }) {
  const [done, setDone] = useState(false);
  return html`<button type="button" class="secondary" onClick=${async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
    } catch {
      setDone(false);
    }
  }}>${done ? 'Copied' : label || 'Copy'}</button>`;
}
