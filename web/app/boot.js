// The first script of the phone app: no imports, loaded `async` at high priority ahead of
// the other modules (index.html), so it runs one round trip after the page arrives. On a
// first visit over a slow network the modules take a round trip or two more to come; the
// job list and the price list are asked for now, in parallel with them, instead of after
// them. app.js takes these answers (`take`) instead of asking again; anything that went
// wrong here (offline, 401, a server error) is simply asked again by app.js through api(),
// which handles it as usual.

/** The job list the technician's phone keeps: every state a job of theirs can be in. */
export const JOBS = '/work-orders?status=assigned,accepted,ready,en_route,on_site,on_hold,completed&limit=200';
/** The price list (the parts form works offline with it). */
export const PARTS = '/parts?active=true';

/** an answer that came longer ago than this is not used (the page sat on another screen) */
const FRESH_MS = 30000;
const early = new Map();

function ask(path, token) {
  const e = { arrived: 0, answer: null };
  e.answer = fetch('/api/v1' + path, {
    headers: { Accept: 'application/json', Authorization: 'Bearer ' + token },
    priority: 'high',
  }).then((r) => (r.ok ? r.json() : null)).catch(() => null)
    .then((data) => { e.arrived = Date.now(); return data; });
  early.set(path, e);
}

/** The JSON answer to `path` asked for at start-up (once), or null: not asked, failed, or old. */
export async function take(path) {
  const e = early.get(path);
  if (!e) return null;
  early.delete(path);
  const data = await e.answer;
  return Date.now() - e.arrived > FRESH_MS ? null : data;
}

(() => {
  try {
    const token = localStorage.getItem('dispatch.token');
    const me = JSON.parse(localStorage.getItem('dispatch.me') || 'null');
    // only for the screen that needs them: the technician's job list
    if (!token || me?.role !== 'technician' || !navigator.onLine || !/^#?\/?$/.test(location.hash)) return;
    ask(JOBS, token);
    ask(PARTS, token);
  } catch { /* storage unavailable: app.js asks as usual */ }
})();
