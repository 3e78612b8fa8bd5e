// The one way the pages talk to the server: the public REST API under /api/v1.
// A token lives in localStorage; a 401 sends the user back to the sign-in page.

import { problemText } from '/lib/problems.js';

const TOKEN = 'dispatch.token';
const ME = 'dispatch.me';

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || (status === 0 ? 'network' : `http_${status}`);
    this.problem = problem || {};
  }
  /** true when the request never reached the server (offline, DNS, timeout) */
  get offline() { return this.status === 0; }
}

// Whether the server could be reached, judged by the requests themselves: the outcome of
// the last one (kept across a reload), not `navigator.onLine`, which says "online" behind a
// dead Wi-Fi, a captive portal or a garage with no signal.
const NET = 'dispatch.net';
const netListeners = new Set();
let reached = (() => { try { const v = localStorage.getItem(NET); return v === 'up' ? true : v === 'down' ? false : null; } catch { return null; } })();
/** true when the last request reached the server, false when it did not, null before any */
export const reachable = () => reached;
/** `f(ok)` whenever that changes */
export const onReachable = (f) => netListeners.add(f);
/** Records a request's outcome (true: the server answered, whatever it said). */
export function heard(ok) {
  if (reached === ok) return;
  reached = ok;
  try { localStorage.setItem(NET, ok ? 'up' : 'down'); } catch { /* private mode */ }
  netListeners.forEach((f) => { try { f(ok); } catch (e) { console.error(e); } });
}

export const token = () => localStorage.getItem(TOKEN);
export const me = () => { try { return JSON.parse(localStorage.getItem(ME)); } catch { return null; } };

export function signOut(next = location.pathname + location.hash) {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(ME);
  location.href = '/?next=' + encodeURIComponent(next);
}

/** Signs in and remembers the token and the user (`/auth/me`). */
export async function signIn(username, password) {
  const t = await api('/auth/login', { method: 'POST', body: { username, password }, anonymous: true });
  localStorage.setItem(TOKEN, t.data.access_token);
  const u = await api('/auth/me');
  localStorage.setItem(ME, JSON.stringify(u.data));
  return u.data;
}

/**
 * `api(path, {method, body, ifMatch, idempotencyKey, raw})` → `{status, data, etag, headers}`.
 * Throws `ApiProblem` for every non-2xx answer (status 0 when the network is down).
 * `raw: true` returns the Response's Blob as `data` (PDF, CSV, XLSX).
 */
export async function api(path, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (!opts.anonymous && token()) headers.Authorization = 'Bearer ' + token();
  // a Blob (a photo) goes as it is, with its own type; anything else as JSON
  const blob = typeof Blob !== 'undefined' && opts.body instanceof Blob;
  if (opts.body !== undefined) headers['Content-Type'] = blob ? (opts.body.type || 'application/octet-stream') : 'application/json';
  if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['If-Match'] = typeof opts.ifMatch === 'number' ? `"${opts.ifMatch}"` : opts.ifMatch;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method: opts.method || 'GET',
      headers,
      body: opts.body === undefined ? undefined : blob ? opts.body : JSON.stringify(opts.body),
    });
  } catch (e) {
    heard(false);
    throw new ApiProblem(0, { title: '网络不可用', detail: '无法连接服务器，请检查网络' });
  }
  heard(true);
  if (res.status === 401 && !opts.anonymous) {
    signOut();
    throw new ApiProblem(401, { title: '请重新登录', detail: '登录已过期，请重新登录' });
  }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiProblem(res.status, problem);
  }
  const etag = res.headers.get('ETag');
  let data = null;
  if (opts.raw) data = await res.blob();
  else if (res.status !== 204) {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  }
  return { status: res.status, data, etag, headers: res.headers };
}

/** Every page of a cursor-paginated list (`{items, next_cursor}`), up to `max` items. */
export async function all(path, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api(path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''));
    items.push(...(r.data.items || []));
    cursor = r.data.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** A fresh Idempotency-Key. */
export const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

/** What a person should read for a problem: the Chinese of its code (web/lib/problems.js),
 * with the fields that were wrong. */
export function explain(e) {
  if (!(e instanceof ApiProblem)) return String(e?.message || e);
  const fields = (e.problem.errors || [])
    .map((f) => `${f.field}：${problemText(f.code, true) || f.message}`).join('；');
  const base = problemText(e.code) || e.problem.title || e.message;
  return fields ? `${base}（${fields}）` : base;
}
