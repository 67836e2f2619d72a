// Caches (create, flush, delete) and the keys of one cache (browse by
// prefix, get, set with a TTL, delete; collections shown by type).
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, text, keyQuery } from './api.js';
import { useAsync, useAction, Notice, CachePicker } from './ui.js';

export function CachesPage() {
  const caches = useAsync(() => api('GET', '/caches'), []);
  const [name, setName] = useState('');
  const [notice, run] = useAction();
  const act = async (fn, msg) => {
    await run(fn, msg);
    caches.reload();
  };
  return html`
    <section aria-labelledby="create-cache">
      <h2 id="create-cache">Create a cache</h2>
      <form class="row" onSubmit=${(e) => {
        e.preventDefault();
        act(() => api('POST', '/caches', { name }), `Cache ${name} created`);
        setName('');
      }}>
        <label for="cache-name">Name</label>
        <input id="cache-name" value=${name} onInput=${(e) => setName(e.target.value)} required />
        <button type="submit">Create</button>
      </form>
      <${Notice} notice=${notice} />
    </section>
    <section aria-labelledby="cache-list">
      <h2 id="cache-list">Caches</h2>
      ${caches.error && html`<p class="error" role="alert">${caches.error}</p>`}
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Partitions</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          ${(caches.data || []).map(
            (c) => html`<tr>
              <td><a href="#/keys?cache=${encodeURIComponent(c.name)}">${c.name}</a></td>
              <td>${c.partitions}</td>
              <td class="actions">
                <button class="secondary" aria-label="Flush ${c.name}" onClick=${() =>
                  confirm(`Drop every item of ${c.name}?`) && act(() => api('POST', `/caches/${encodeURIComponent(c.name)}/flush`), `Cache ${c.name} flushed`)}>Flush</button>
                <button class="danger" aria-label="Delete ${c.name}" onClick=${() =>
                  confirm(`Delete cache ${c.name} with its items, feed and topics?`) && act(() => api('DELETE', `/caches/${encodeURIComponent(c.name)}`), `Cache ${c.name} deleted`)}>Delete</button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${caches.data && caches.data.length === 0 && html`<p>No caches yet.</p>`}
    </section>`;
}

function ItemView({ item }) {
  if (!item) return null;
  const ttl = item.ttl_ms == null ? 'never expires' : `expires in ${Math.round(item.ttl_ms / 1000)} s`;
  return html`
    <div class="item" aria-live="polite">
      <p><strong>${text(item.key)}</strong> · ${item.kind} · LSN ${item.lsn} · ${ttl}</p>
      ${item.value && html`<pre class="value" data-testid="item-value">${text(item.value)}</pre>`}
      ${item.elements &&
      html`<table>
        <thead><tr>
          ${item.kind === 'dictionary' && html`<th scope="col">Field</th>`}
          <th scope="col">${item.kind === 'list' ? 'Element' : 'Value'}</th>
          ${item.kind === 'sorted_set' && html`<th scope="col">Score</th>`}
        </tr></thead>
        <tbody>
          ${item.elements.map(
            (e) => html`<tr>
              ${item.kind === 'dictionary' && html`<td>${text(e.field)}</td>`}
              <td>${text(e.value)}</td>
              ${item.kind === 'sorted_set' && html`<td>${e.score}</td>`}
            </tr>`,
          )}
        </tbody>
      </table>`}
      ${item.truncated && html`<p class="hint">Showing the first 1000 elements.</p>`}
    </div>`;
}

export function KeysPage({ params }) {
  const [cache, setCache] = useState(params.get('cache') || '');
  const [prefix, setPrefix] = useState('');
  const [keys, setKeys] = useState(null);
  const [item, setItem] = useState(null);
  const [form, setForm] = useState({ key: '', value: '', ttl: '0' });
  const [notice, run] = useAction();
  const base = () => `/caches/${encodeURIComponent(cache)}`;

  const browse = async (more) => {
    const q = new URLSearchParams({ prefix, limit: '100' });
    if (more) q.set('continuation', keys.continuation);
    const r = await run(() => api('GET', `${base()}/keys?${q}`));
    if (r) setKeys({ ...r, keys: more ? [...keys.keys, ...r.keys] : r.keys });
  };
  const open = async (k) => {
    if (!k.base64) setForm((f) => ({ ...f, key: k.text }));
    const r = await run(() => api('GET', `${base()}/item?${keyQuery(k)}`));
    setItem(r || null);
  };
  return html`
    <div class="row">
      <${CachePicker} id="keys-cache" value=${cache} onChange=${(c) => {
        setCache(c);
        setKeys(null);
        setItem(null);
      }} />
    </div>
    <${Notice} notice=${notice} />
    <div class="columns">
      <section aria-labelledby="browse">
        <h2 id="browse">Browse</h2>
        <form class="row" onSubmit=${(e) => {
          e.preventDefault();
          browse(false);
        }}>
          <label for="key-prefix">Key prefix</label>
          <input id="key-prefix" value=${prefix} onInput=${(e) => setPrefix(e.target.value)} placeholder="all keys" />
          <button type="submit">List keys</button>
        </form>
        <p class="hint">Keys are read from the cache's change feed from the beginning (each live item once, at its last
          change): a console tool for small and medium caches.</p>
        ${keys &&
        html`<ul class="keys" aria-label="Keys">
            ${keys.keys.map(
              (k) => html`<li><button class="link" onClick=${() => open(k.key)}>${text(k.key)}</button> <span class="kind">${k.kind}</span></li>`,
            )}
          </ul>
          <p class="hint">${keys.keys.length} keys${keys.done ? ', the whole cache was read' : ''}.</p>
          ${!keys.done && html`<button class="secondary" onClick=${() => browse(true)}>More</button>`}`}
      </section>
      <section aria-labelledby="item">
        <h2 id="item">Item</h2>
        <form class="grid" onSubmit=${(e) => {
          e.preventDefault();
        }}>
          <label for="item-key">Key</label>
          <input id="item-key" value=${form.key} onInput=${(e) => setForm({ ...form, key: e.target.value })} required />
          <label for="item-value">Value</label>
          <textarea id="item-value" rows="3" value=${form.value} onInput=${(e) => setForm({ ...form, value: e.target.value })}></textarea>
          <label for="item-ttl">TTL (seconds, 0: never expires)</label>
          <input id="item-ttl" type="number" min="0" value=${form.ttl} onInput=${(e) => setForm({ ...form, ttl: e.target.value })} />
          <div class="buttons">
            <button type="button" onClick=${() => open({ text: form.key })}>Get</button>
            <button type="button" onClick=${async () => {
              const ok = await run(
                () => api('PUT', `${base()}/item`, { key: { text: form.key }, value: { text: form.value }, ttl_seconds: Number(form.ttl) || 0 }),
                `Set ${form.key}`,
              );
              if (ok !== undefined) open({ text: form.key });
            }}>Set</button>
            <button type="button" class="danger" onClick=${async () => {
              await run(() => api('DELETE', `${base()}/item?${keyQuery({ text: form.key })}`), `Deleted ${form.key}`);
              setItem(null);
            }}>Delete</button>
          </div>
        </form>
        <${ItemView} item=${item} />
      </section>
    </div>`;
}
