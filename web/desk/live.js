// Live updates from GET /api/v1/events (server-sent events).
//
// Every event is re-dispatched on `document` as
//   new CustomEvent('dispatch-event', { detail: { event_id, kind, id, center_id, status, version, action, at } })
// (`kind` order|ticket|remittance, `id` the object's id); a page that wants live updates
// listens to that and removes its listener in `ctx.onLeave`. A `reset` (the gap since the
// last event was too long to replay) re-renders the current view instead. The strip's
// counts are re-read after each burst of events. A new order awaiting approval shows a
// toast for those who approve (managers, admins) with a short tone they can mute in the top
// bar (remembered in this browser). Pages never depend on this: they load fresh on open.
import { api, token } from '/lib/api.js';
import { h, toast, $ } from '/lib/dom.js';
import { centerId } from './util.js';

const MUTE_KEY = 'dispatch.desk.mute';
const KINDS = ['order', 'ticket', 'remittance'];
const NEW = new Set(['create', 'submit', 'resubmit']);

let source = null;
let lastId = null;
let failures = 0;
let timer = null;

/** Opens the event stream for the signed-in user; `hooks` = { refreshStrip, route }. */
export function start(user, hooks) {
  if (!user || typeof EventSource === 'undefined') return;
  if (['manager', 'admin'].includes(user.role)) muteToggle();
  connect(user, hooks);
  // back from a sleeping laptop or a hidden tab: reconnect at once if the stream died
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !source) { clearTimeout(timer); connect(user, hooks); }
  });
}

/** Whether the stream is open (for tests and the top bar). */
export const connected = () => source?.readyState === EventSource.OPEN;

function connect(user, hooks) {
  timer = null;
  const t = token();
  if (!t) return;
  const qs = new URLSearchParams({ access_token: t });
  if (lastId) qs.set('last_event_id', lastId);
  const es = new EventSource(`/api/v1/events?${qs}`);
  source = es;
  es.onopen = () => { failures = 0; document.documentElement.dataset.live = 'open'; };
  for (const kind of KINDS) es.addEventListener(kind, (ev) => received(ev, user, hooks));
  es.addEventListener('reset', (ev) => {
    lastId = ev.lastEventId || lastId;
    hooks.route();
  });
  // Reconnect ourselves, with a growing pause (1 s … 30 s), whatever went wrong: the
  // browser's own retry would reuse the old token and never back off.
  es.onerror = () => {
    es.close();
    if (source === es) source = null;
    document.documentElement.dataset.live = 'closed';
    const pause = Math.min(30000, 1000 * 2 ** failures) * (0.8 + Math.random() * 0.4);
    failures += 1;
    clearTimeout(timer);
    timer = setTimeout(() => connect(user, hooks), pause);
  };
}

let stripTimer = null;
function received(ev, user, hooks) {
  let data;
  try { data = JSON.parse(ev.data); } catch { return; }
  lastId = ev.lastEventId || lastId;
  const detail = { event_id: ev.lastEventId, ...data };
  document.dispatchEvent(new CustomEvent('dispatch-event', { detail }));
  // one strip refresh per burst
  clearTimeout(stripTimer);
  stripTimer = setTimeout(() => hooks.refreshStrip(), 250);
  if (data.kind === 'order' && data.status === 'submitted' && NEW.has(data.action)
      && ['manager', 'admin'].includes(user.role)
      && (user.role !== 'admin' || !centerId() || centerId() === data.center_id)) {
    announce(data);
  }
}

/** A toast (with the order's number when it can be read) and a short tone. */
async function announce(data) {
  beep();
  let text = '有新工单待审批';
  try {
    const o = (await api(`/work-orders/${data.id}`)).data;
    text = `新工单待审批：${o.number}`;
  } catch { /* the toast still says there is one */ }
  toast(`${text}（见审批队列）`, 'info');
}

// ---------------------------------------------------------------- the tone

const muted = () => localStorage.getItem(MUTE_KEY) === '1';
let audio = null;

/** Two short sine notes (≈0.3 s), made with WebAudio: no sound file. */
function beep() {
  if (muted()) return;
  try {
    audio = audio || new AudioContext();
    if (audio.state === 'suspended') audio.resume();
    const t0 = audio.currentTime;
    for (const [freq, at] of [[880, 0], [1320, 0.15]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.14);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + 0.15);
    }
    document.documentElement.dataset.lastBeep = String(Date.now());
  } catch { /* no audio here: the toast is enough */ }
}

/** The mute switch in the top bar (before the user's name). */
function muteToggle() {
  const bar = $('.topbar');
  if (!bar || $('#sound-toggle')) return;
  const btn = h('button', { type: 'button', id: 'sound-toggle', class: 'small sound' });
  const show = () => {
    const off = muted();
    btn.setAttribute('aria-pressed', String(!off));
    btn.textContent = off ? '提示音：关' : '提示音：开';
    btn.title = off ? '新工单到达时不响提示音；点击打开' : '新工单到达时响提示音；点击关闭';
  };
  btn.addEventListener('click', () => {
    localStorage.setItem(MUTE_KEY, muted() ? '0' : '1');
    show();
    if (!muted()) beep(); // let them hear it (and let the browser allow audio)
  });
  show();
  bar.insertBefore(btn, $('#who'));
}
