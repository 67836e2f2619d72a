// Setsuna console: a single-page app on Preact and htm (no JSX build
// step), routed by the URL hash, talking to /console/api/ (see api.js).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { api, session, ApiError } from './api.js';
import { CachesPage, KeysPage } from './caches.js';
import { TopicsPage } from './topics.js';
import { FeedPage } from './feed.js';
import { ApiKeysPage } from './apikeys.js';
import { MetricsPage } from './metrics.js';
import { NodesPage } from './nodes.js';
import './app.css';

const pages = [
  { path: 'caches', title: 'Caches', view: CachesPage },
  { path: 'keys', title: 'Keys', view: KeysPage },
  { path: 'topics', title: 'Topics', view: TopicsPage },
  { path: 'feed', title: 'Change feed', view: FeedPage },
  { path: 'apikeys', title: 'API keys', view: ApiKeysPage },
  { path: 'metrics', title: 'Metrics', view: MetricsPage },
  { path: 'nodes', title: 'Nodes', view: NodesPage },
];

// route is the page and its parameters of a hash like #/keys?cache=demo.
function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?');
  return { page: pages.find((p) => p.path === path) || pages[0], params: new URLSearchParams(query || '') };
}

function Login({ onLogin, error }) {
  const [key, setKey] = useState('');
  return html`
    <main id="main" class="login">
      <h1>Setsuna console</h1>
      <form
        onSubmit=${(e) => {
          e.preventDefault();
          onLogin(key.trim());
        }}
      >
        <label for="api-key">API key</label>
        <textarea id="api-key" rows="4" value=${key} onInput=${(e) => setKey(e.target.value)} required
          autocomplete="off" spellcheck="false"></textarea>
        <p class="hint">A Setsuna API key (as minted by <code>setsuna token issue</code> or this console). It is kept in this
          browser tab's session storage only.</p>
        <button type="submit">Log in</button>
        ${error && html`<p class="error" role="alert">${error}</p>`}
      </form>
    </main>`;
}

function App() {
  const [r, setRoute] = useState(route());
  const [who, setWho] = useState(null); // the session, once checked
  const [loginError, setLoginError] = useState('');

  useEffect(() => {
    const f = () => setRoute(route());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  useEffect(() => {
    document.title = (who ? r.page.title + ' · ' : '') + 'Setsuna console';
  }, [r, who]);

  const check = async () => {
    try {
      setWho(await api('GET', '/session'));
      setLoginError('');
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        if (session.key()) setLoginError(e.message);
        session.clear();
        setWho(false);
      } else {
        setWho(false);
        setLoginError(e.message);
      }
    }
  };
  useEffect(() => {
    check();
  }, []);

  if (who === null) return html`<main id="main"><p>Loading…</p></main>`;
  if (who === false) {
    return html`<${Login} error=${loginError} onLogin=${(k) => {
      session.set(k);
      check();
    }} />`;
  }
  const Page = r.page.view;
  return html`
    <header>
      <span class="brand">Setsuna</span>
      <nav aria-label="Console pages">
        <ul>
          ${pages.map(
            (p) => html`<li><a href="#/${p.path}" aria-current=${p === r.page ? 'page' : undefined}>${p.title}</a></li>`,
          )}
        </ul>
      </nav>
      <span class="who">${who.auth ? 'key ' + who.principal.slice(0, 8) + (who.super_user ? ' (super user)' : '') : 'dev mode (auth off)'}</span>
      ${who.auth &&
      html`<button class="secondary" onClick=${() => {
        session.clear();
        setWho(false);
      }}>Log out</button>`}
    </header>
    <main id="main">
      <h1>${r.page.title}</h1>
      <${Page} params=${r.params} who=${who} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
