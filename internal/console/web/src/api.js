// The console's client of its own JSON API (/console/api/) and of
// /v1/status. The API key lives in sessionStorage only: it is gone when the
// browser tab closes, and it travels in the Authorization header, never in
// a URL.

const KEY = 'setsuna.key';

export const session = {
  key: () => sessionStorage.getItem(KEY) || '',
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(json) {
  const h = { 'X-Setsuna-Console': '1' };
  const k = session.key();
  if (k) h.Authorization = 'Bearer ' + k;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function failure(r) {
  let body = null;
  try {
    body = await r.json();
  } catch {
    // not JSON
  }
  const e = body && body.error;
  return new ApiError(r.status, (e && e.message) || r.statusText || 'request failed', e && e.code);
}

export async function api(method, path, body) {
  const r = await fetch('/console/api' + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw await failure(r);
  if (r.status === 204) return null;
  return r.json();
}

export async function status() {
  const h = {};
  const k = session.key();
  if (k) h.Authorization = 'Bearer ' + k;
  const r = await fetch('/v1/status', { headers: h });
  if (!r.ok) throw await failure(r);
  return r.json();
}

// stream reads a server-sent events endpoint of the API with fetch (an
// EventSource cannot send the key in a header). It calls onEvent with each
// event's JSON and onEnd once, with an error or null; the returned function
// stops it.
export function stream(path, onEvent, onEnd) {
  const ctrl = new AbortController();
  (async () => {
    try {
      const r = await fetch('/console/api' + path, { headers: headers(false), signal: ctrl.signal });
      if (!r.ok) throw await failure(r);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of chunk.split('\n')) {
            if (line.startsWith('data: ')) onEvent(JSON.parse(line.slice(6)));
          }
        }
      }
      onEnd(null);
    } catch (e) {
      if (e.name !== 'AbortError') onEnd(e);
    }
  })();
  return () => ctrl.abort();
}

// text shows a {text}|{base64} value of the API.
export function text(b) {
  if (!b) return '';
  return b.base64 !== undefined && b.base64 !== '' ? 'base64:' + b.base64 : b.text || '';
}

// keyQuery is the query parameter naming an item key of the API.
export function keyQuery(b) {
  return b.base64 ? 'key_b64=' + encodeURIComponent(b.base64) : 'key=' + encodeURIComponent(b.text || '');
}

export async function clusterNodes() {
  const h = {};
  const k = session.key();
  if (k) h.Authorization = 'Bearer ' + k;
  const r = await fetch('/v1/cluster/nodes', { headers: h });
  if (!r.ok) throw await failure(r);
  return r.json();
}
