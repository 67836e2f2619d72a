// API keys: mint with scopes (Momento's permission model), revoke.
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api } from './api.js';
import { useAction, Notice, Copy } from './ui.js';

const roles = {
  cache: [
    ['readwrite', 'ReadWrite'],
    ['readonly', 'ReadOnly'],
    ['writeonly', 'WriteOnly'],
  ],
  topic: [
    ['readwrite', 'PublishSubscribe'],
    ['readonly', 'SubscribeOnly'],
    ['writeonly', 'PublishOnly'],
  ],
};

const emptyScope = { resource: 'cache', role: 'readwrite', cache: '', key_prefix: '', topic: '' };

function ScopeRow({ i, scope, onChange, onRemove }) {
  const set = (k) => (e) => onChange({ ...scope, [k]: e.target.value });
  return html`
    <fieldset class="scope">
      <legend>Scope ${i + 1}</legend>
      <label for="scope-${i}-resource">Resource</label>
      <select id="scope-${i}-resource" value=${scope.resource} onChange=${(e) => onChange({ ...scope, resource: e.target.value, role: 'readwrite' })}>
        <option value="cache">Cache</option>
        <option value="topic">Topic</option>
      </select>
      <label for="scope-${i}-role">Role</label>
      <select id="scope-${i}-role" value=${scope.role} onChange=${set('role')}>
        ${roles[scope.resource].map(([v, t]) => html`<option value=${v}>${t}</option>`)}
      </select>
      <label for="scope-${i}-cache">Cache (empty: all)</label>
      <input id="scope-${i}-cache" value=${scope.cache} onInput=${set('cache')} />
      ${scope.resource === 'cache'
        ? html`<label for="scope-${i}-prefix">Key prefix (empty: all keys)</label>
            <input id="scope-${i}-prefix" value=${scope.key_prefix} onInput=${set('key_prefix')} />`
        : html`<label for="scope-${i}-topic">Topic (empty: all topics)</label>
            <input id="scope-${i}-topic" value=${scope.topic} onInput=${set('topic')} />`}
      <button type="button" class="secondary" onClick=${onRemove} aria-label="Remove scope ${i + 1}">Remove</button>
    </fieldset>`;
}

export function ApiKeysPage({ who }) {
  const [scopes, setScopes] = useState([{ ...emptyScope }]);
  const [expires, setExpires] = useState('3600');
  const [tokenID, setTokenID] = useState('');
  const [minted, setMinted] = useState([]); // keys minted in this tab
  const [revokeID, setRevokeID] = useState('');
  const [notice, run] = useAction();

  if (!who.auth) return html`<p>Auth is off (dev mode): there are no API keys. Start the server with <code>--auth</code>.</p>`;

  const mint = async (e) => {
    e.preventDefault();
    const body = {
      scopes: scopes.map((s) =>
        s.resource === 'cache'
          ? { resource: 'cache', role: s.role, cache: s.cache, key_prefix: s.key_prefix }
          : { resource: 'topic', role: s.role, cache: s.cache, topic: s.topic },
      ),
      expires_in_seconds: Number(expires) || 0,
      token_id: tokenID,
    };
    const m = await run(() => api('POST', '/keys', body), (m) => `Minted key ${m.id}`);
    if (m) setMinted([{ ...m, revoked: false }, ...minted]);
  };
  const revoke = async (id) => {
    const ok = await run(() => api('POST', '/keys/revoke', { id }), `Revoked ${id}`);
    if (ok !== undefined) setMinted(minted.map((m) => (m.id === id ? { ...m, revoked: true } : m)));
  };

  return html`
    <${Notice} notice=${notice} />
    <section aria-labelledby="mint">
      <h2 id="mint">Mint a key</h2>
      <form onSubmit=${mint}>
        ${scopes.map(
          (s, i) => html`<${ScopeRow} i=${i} scope=${s}
            onChange=${(ns) => setScopes(scopes.map((x, j) => (j === i ? ns : x)))}
            onRemove=${() => setScopes(scopes.filter((_, j) => j !== i))} />`,
        )}
        <div class="row">
          <button type="button" class="secondary" onClick=${() => setScopes([...scopes, { ...emptyScope }])}>Add a scope</button>
          <label for="key-expires">Expires in (seconds, 0: never)</label>
          <input id="key-expires" type="number" min="0" value=${expires} onInput=${(e) => setExpires(e.target.value)} />
          <label for="key-token-id">Token id (optional)</label>
          <input id="key-token-id" value=${tokenID} onInput=${(e) => setTokenID(e.target.value)} />
          <button type="submit" disabled=${scopes.length === 0}>Mint</button>
        </div>
      </form>
    </section>
    <section aria-labelledby="minted">
      <h2 id="minted">Keys minted in this session</h2>
      <p class="hint">A key is shown once: copy it now. Keys are not stored on the server, so only the ones minted in this tab are listed;
        revoke any other by its id below.</p>
      <table data-testid="minted-keys">
        <thead><tr><th scope="col">Id</th><th scope="col">Valid until</th><th scope="col">Key</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          ${minted.map(
            (m) => html`<tr>
              <td><code>${m.id}</code></td>
              <td>${m.valid_until ? new Date(m.valid_until * 1000).toISOString() : 'never'}</td>
              <td><code class="token" data-testid="minted-key">${m.api_key}</code></td>
              <td class="actions">
                <${Copy} text=${m.api_key} label="Copy key" />
                ${m.revoked ? html`<span>revoked</span>` : html`<button class="danger" aria-label="Revoke ${m.id}" onClick=${() => revoke(m.id)}>Revoke</button>`}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="revoke">
      <h2 id="revoke">Revoke by id</h2>
      <form class="row" onSubmit=${(e) => {
        e.preventDefault();
        revoke(revokeID.trim());
        setRevokeID('');
      }}>
        <label for="revoke-id">Token id</label>
        <input id="revoke-id" value=${revokeID} onInput=${(e) => setRevokeID(e.target.value)} required />
        <button type="submit" class="danger">Revoke</button>
      </form>
    </section>`;
}
