// New jobs without pulling: the technician's slice of GET /api/v1/events (their own orders,
// including one just taken off them). A bonus, never required: the app works the same
// without it (offline, or the stream refused), and a missed event is caught up by the next
// list refresh. Loaded lazily by app.js once the first screen is drawn.
import { token } from '/lib/api.js';

let source = null;
let lastId = null;
let failures = 0;
let timer = null;

/**
 * Follows the stream while the phone is online; `onOrder(detail)` for every order event
 * (`detail` = { event_id, kind, id, center_id, status, version, action, at }).
 */
export function follow(onOrder) {
  if (typeof EventSource === 'undefined') return;
  const open = () => {
    timer = null;
    const t = token();
    if (!t || !navigator.onLine || source) return;
    const qs = new URLSearchParams({ access_token: t });
    if (lastId) qs.set('last_event_id', lastId);
    const es = new EventSource(`/api/v1/events?${qs}`);
    source = es;
    es.onopen = () => { failures = 0; document.documentElement.dataset.live = 'open'; };
    es.addEventListener('order', (ev) => {
      lastId = ev.lastEventId || lastId;
      try { onOrder({ event_id: ev.lastEventId, ...JSON.parse(ev.data) }); } catch (e) { console.warn('live event', e); }
    });
    es.addEventListener('reset', (ev) => { lastId = ev.lastEventId || lastId; onOrder(null); });
    es.onerror = () => {
      es.close();
      source = null;
      clearTimeout(timer);
      // a growing pause (2 s … 60 s): a phone on a weak network should not keep the radio busy
      timer = setTimeout(open, Math.min(60000, 2000 * 2 ** failures++));
    };
  };
  addEventListener('online', () => { failures = 0; clearTimeout(timer); open(); });
  addEventListener('offline', () => { source?.close(); source = null; clearTimeout(timer); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !source) { clearTimeout(timer); open(); }
  });
  open();
}
