// The nodes that serve this node's engine (its registry, /v1/cluster/nodes),
// refreshed every two seconds while the page is open. With the memory
// engine the node is alone.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { clusterNodes } from './api.js';

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s + ' s ago';
}

export function NodesPage() {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const d = await clusterNodes();
        if (live) {
          setData(d);
          setError('');
        }
      } catch (e) {
        if (live) setError(e.message);
      }
    };
    poll();
    const t = setInterval(poll, 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!data) return html`<p>Loading…</p>`;
  const up = data.nodes.filter((n) => n.up).length;
  return html`
    <p data-testid="nodes-summary">${up} of ${data.nodes.length} node${data.nodes.length === 1 ? '' : 's'} up; this is ${data.self}.</p>
    <table aria-label="Nodes" data-testid="nodes">
      <thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Engine</th><th scope="col">Listeners</th><th scope="col">Heartbeat</th><th scope="col">Version</th></tr></thead>
      <tbody>
        ${data.nodes.map(
          (n) => html`<tr>
            <td>${n.id}${n.id === data.self ? ' (this node)' : ''}</td>
            <td>${n.up ? 'up' : 'down'}</td>
            <td>${n.engine}</td>
            <td>${Object.entries(n.addrs || {}).sort().map(([k, v]) => html`<div><code>${k} ${v}</code></div>`)}</td>
            <td>${ago(n.heartbeat)}</td>
            <td>${n.version || ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
}
