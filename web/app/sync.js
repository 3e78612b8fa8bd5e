// The outbox: every action the technician takes is first written to the phone (IndexedDB)
// with its own Idempotency-Key, then sent to the server strictly in the order it was
// taken. Without a network it waits and is sent when the network returns (the `online`
// event, and a retry timer as a fallback).
//
// Versions. Order actions carry `If-Match` with the order version the phone knows
// (`known`). Each action bumps the order's version by exactly one, so as a queued action
// succeeds the phone takes the version the server answered as the next one's If-Match. If
// somebody else changed the order meanwhile, the server answers 412 version_mismatch (or
// 409 invalid_transition): that action becomes a *conflict*, shown with what failed and
// why, and the order's later actions wait behind it until the technician retries it
// against the current order or discards it. Nothing is ever dropped without them.
//
// A retry after a lost answer is safe: the same key and body get the first answer again.
// Payments have no If-Match (they do not change the order) but always an Idempotency-Key.
import { api, ApiProblem, newKey, explain, reachable, onReachable } from '/lib/api.js';
import { problemText } from '/lib/problems.js';
import { ORDER_STATUS } from '/lib/fmt.js';
import * as db from './db.js';

const listeners = new Set();
/** `f()` after every change of the queue or of a cached order */
export const onChange = (f) => listeners.add(f);
const emit = () => listeners.forEach((f) => { try { f(); } catch (e) { console.error(e); } });

const results = new Map();
let running = null;
let rerun = false;
let timer = null;
let backoff = 2000;
/** the last time the server answered (ms), for the offline banner */
export let lastContact = 0;

/**
 * Whether the network works, as the app shows it: the browser must think it is online AND
 * the last request must not have failed to reach the server (after a reload too: api.js
 * keeps the outcome). A queue whose sending failed is never shown as "网络正常".
 */
export const online = () => navigator.onLine && reachable() !== false;
onReachable(() => emit());

// ------------------------------------------------------------ orders as the phone sees them

/** Stores an order view fresh from the server. While actions of the order wait in the
 * queue, the phone keeps its own `known` version: the queue's If-Match chain starts there. */
export async function saveServer(view) {
  const q = (await db.all('queue')).filter((e) => e.orderId === view.id);
  const rec = await db.get('orders', view.id);
  const known = q.length && rec ? rec.known : view.version;
  await db.put('orders', { id: view.id, view, known, fetchedAt: Date.now() });
}

export async function forget(orderId) { await db.del('orders', orderId); }

/** The lead's next steps by state (what the server offers the lead), for local views. */
const LEAD = {
  assigned: ['accept', 'decline'], accepted: ['readiness', 'hold'], ready: ['depart', 'hold'],
  en_route: ['arrive', 'hold'], on_site: ['hold', 'complete'], on_hold: ['resume'],
};
const NEXT = { accept: 'accepted', readiness: 'ready', depart: 'en_route', arrive: 'on_site', complete: 'completed', decline: 'approved' };

/** The order as it will be once the queued actions are through. */
export function applyLocal(v, e, me) {
  const at = e.createdAt;
  const b = e.body || {};
  const m = e.meta || {};
  if (e.ifMatch) v.version += 1;
  const a = e.action;
  if (NEXT[a]) v.status = NEXT[a];
  if (a === 'resume') { v.status = v.held_from || v.status; v.held_from = null; }
  if (a === 'readiness') { v.readiness = b.items; v.ready_at = at; }
  if (a === 'depart') v.departed_at = at;
  if (a === 'arrive') { v.arrived_at = at; v.arrived_lat = b.lat ?? null; v.arrived_lng = b.lng ?? null; }
  if (a === 'sign-off') { v.signoff_name = b.signer_name; v.signoff_at = at; v.has_signature = !!b.signature_image; }
  if (a === 'parts') {
    v.parts = [...(v.parts || []), {
      id: `local:${e.seq}`, part_code: b.part_code, part_name: m.part_name || b.part_code, quantity: b.quantity,
      unit_price_fen: m.unit_price_fen ?? null, amount_fen: m.unit_price_fen == null ? null : m.unit_price_fen * b.quantity,
      line_id: b.line_id || null, verbal_approval_id: b.verbal_approval_id || null, recorded_by: me?.id, _pending: true,
    }];
  }
  if (a === 'verbal-approvals') {
    v.verbal_approvals = [...(v.verbal_approvals || []), {
      id: `local:${e.seq}`, approver_id: b.approver_id, content: b.content, approved_at: b.approved_at || at,
      recorded_by: me?.id, confirmed_by: null, _pending: true,
    }];
  }
  if (a === 'complete') {
    v.completed_at = at;
    const parts = (v.parts || []).reduce((s, p) => s + (p.amount_fen || 0), 0);
    v.parts_total_fen = parts;
    v.fee_fen = v.kind === 'repair' && v.warranty_in ? 0 : parts;
    v._fee_estimated = true;
  }
  if (a.startsWith('photos?')) {
    // a photo waiting to go: on the view at once, and no longer missing
    const q = new URLSearchParams(a.slice(7));
    const kind = q.get('kind'); const line = q.get('line_id') || null;
    v.photos = [...(v.photos || []), { id: `local:${e.seq}`, kind, line_id: line, taken_at: q.get('taken_at'), _pending: true }];
    // (a photo of the order is taken without a line, as its missing entry has none)
    v.photos_missing = (v.photos_missing || []).filter((x) => !(x.kind === kind && (x.line_id || null) === line));
  }
  const lm = a.match(/^lines\/([^/]+)\/(.+)$/);
  if (lm) {
    v.lines = (v.lines || []).map((l) => {
      if (l.id !== lm[1]) return l;
      const n = { ...l, work: [...(l.work || [])], _pending: true };
      const work = { install: 'install', 'terminal-swap': 'terminal_swap', 'sim-swap': 'sim_swap', repair: 'repair' }[lm[2]];
      if (work) { n.status = 'done'; if (!n.work.includes(work)) n.work.push(work); n.done_at = at; }
      if (lm[2] === 'install') { n._imei = b.imei; n._iccid = b.iccid; }
      if (lm[2] === 'terminal-swap') { n._imei = b.new_imei; n.fault_tag = `${l.plate_no} / ${b.fault}`; }
      if (lm[2] === 'sim-swap') n._iccid = b.new_iccid;
      if (lm[2] === 'repair') n.notes = b.notes;
      if (lm[2] === 'not-done') { n.status = 'not_done'; n.not_done_reason = b.reason; }
      return n;
    });
  }
  return v;
}

/** `{view, rec, pending, conflicts, payments}` for one order, or null when not on the phone. */
export async function localOrder(id, me) {
  const rec = await db.get('orders', id);
  if (!rec) return null;
  const q = (await db.all('queue')).filter((e) => e.orderId === id).sort((x, y) => x.seq - y.seq);
  let view = structuredClone(rec.view);
  const pending = q.filter((e) => e.state === 'pending');
  const conflicts = q.filter((e) => e.state === 'conflict');
  for (const e of pending) if (e.action !== 'payments') view = applyLocal(view, e, me);
  if (pending.some((e) => e.action !== 'payments')) {
    view.allowed_actions = view.lead_technician_id === me?.id ? LEAD[view.status] || [] : [];
    view._local = true;
  }
  const payments = await db.kvGet(`payments:${id}`, []);
  return { view, rec, pending, conflicts, payments, queuedPayments: pending.filter((e) => e.action === 'payments') };
}

// ------------------------------------------------------------ the queue

/** Every waiting action, oldest first. */
export async function queue() {
  return (await db.all('queue')).sort((x, y) => x.seq - y.seq);
}

/**
 * Queues an action and sends the queue. Answers `{data}` when the server took it at once,
 * `{queued: true}` when it waits for the network. When the network is up and nothing of
 * the order is waiting, a refusal is thrown right away (the technician is looking at the
 * form) instead of becoming a conflict.
 */
export async function enqueue({ orderId, number, action, label, body, meta, ifMatch = true, at }) {
  const waiting = (await db.all('queue')).some((x) => x.orderId === orderId);
  const entry = {
    orderId, number, action, label, body: body ?? {}, meta: meta || {}, key: newKey(), ifMatch,
    createdAt: at || new Date().toISOString(), state: 'pending', interactive: online() && !waiting, attempts: 0,
  };
  entry.seq = await db.put('queue', entry);
  emit();
  await flush();
  const r = results.get(entry.seq);
  results.delete(entry.seq);
  if (!r) return { queued: true };
  if (!r.ok) throw r.error;
  return { data: r.data };
}

/** Sends what waits, in order. One run at a time; a call during a run runs again after. */
export function flush() {
  if (running) { rerun = true; return running; }
  running = (async () => {
    try {
      do { rerun = false; await flushOnce(); } while (rerun);
    } finally { running = null; }
  })();
  return running;
}

async function flushOnce() {
  const entries = await queue();
  if (!navigator.onLine && entries.some((e) => e.state === 'pending')) { schedule(); return; }
  const blocked = new Set();
  for (const e of entries) {
    if (e.state === 'conflict') { blocked.add(e.orderId); continue; }
    if (blocked.has(e.orderId)) continue;
    const outcome = await send(e);
    if (outcome === 'offline') { schedule(); return; }
    if (outcome === 'conflict') blocked.add(e.orderId);
  }
  backoff = 2000;
}

function schedule() {
  if (timer) return;
  timer = setTimeout(() => { timer = null; flush(); }, backoff);
  backoff = Math.min(backoff * 2, 15000);
}

/** A problem worth retrying by itself later: no network, server trouble, still in progress. */
const transient = (err) => !(err instanceof ApiProblem) || err.status === 0 || err.status >= 500
  || err.status === 401 || err.status === 429 || err.code === 'idempotency_key_in_use';

async function resolveBody(e) {
  const body = { ...e.body };
  const ref = body.verbal_approval_id;
  if (typeof ref === 'string' && ref.startsWith('local:')) {
    const id = await db.kvGet(`va:${ref.slice(6)}`);
    if (id) body.verbal_approval_id = id; else delete body.verbal_approval_id;
  }
  return body;
}

/** A garage with one bar of signal can hold a request for minutes: after this long the
 * action stays queued (a later retry with its key is answered once, whatever happened). */
const PATIENCE_MS = 20000;
const slow = () => new Promise((_, reject) => {
  setTimeout(() => reject(new ApiProblem(0, { title: '网络太慢', detail: '服务器长时间未应答' })), PATIENCE_MS);
});

// ------------------------------------------------------------ when it was done

/**
 * The switch for issue 14 item 11 (the phone half): order actions carry `at`, the time the
 * technician tapped (RFC 3339), so an action that waited in a garage is recorded as done
 * when it was done, not when the network came back (the server keeps both, `at` and
 * `received_at`, and refuses a time in the future, > 72 h back or before the previous step).
 */
const SEND_ACTION_TIME = true;
/** the actions that take `at` (the server's bodies refuse it elsewhere) */
const TIMED = /^(depart|arrive|complete|lines\/[^/]+\/(install|terminal-swap|sim-swap|repair|not-done))$/;
export const sendsActionTime = () => SEND_ACTION_TIME || localStorage.getItem('dispatch.sendAt') === '1';

/** The body as sent: with `at` (the same on every retry of the entry: its key's body). */
export function stamped(e, body) {
  if (sendsActionTime() && TIMED.test(e.action) && body.at === undefined) body.at = e.createdAt;
  return body;
}

async function send(e) {
  const rec = await db.get('orders', e.orderId);
  // a photo is its Blob, sent as it is
  const body = e.body instanceof Blob ? e.body : stamped(e, await resolveBody(e));
  let r;
  try {
    r = await Promise.race([api(`/work-orders/${e.orderId}/${e.action}`, {
      method: 'POST', body, ifMatch: e.ifMatch ? rec?.known : undefined, idempotencyKey: e.key,
    }), slow()]);
  } catch (err) {
    if (transient(err)) {
      e.attempts += 1;
      e.interactive = false;
      e.lastError = explain(err);
      await db.put('queue', e);
      emit();
      return 'offline';
    }
    lastContact = Date.now();
    if (e.interactive) {
      await db.del('queue', e.seq);
      results.set(e.seq, { ok: false, error: err });
      emit();
      return 'conflict';
    }
    e.state = 'conflict';
    e.error = {
      status: err.status, code: err.code, text: explainZh(err), known: rec?.known ?? null,
      current_version: err.problem?.current_version ?? null, current_status: err.problem?.current_status ?? null,
      at: new Date().toISOString(),
    };
    // what the order is now, to say plainly what changed (the phone's version stays)
    try { e.error.server_status = (await api(`/work-orders/${e.orderId}`)).data.status; } catch { /* gone or offline */ }
    await db.put('queue', e);
    emit();
    return 'conflict';
  }
  lastContact = Date.now();
  if (e.action === 'payments') {
    const key = `payments:${e.orderId}`;
    const list = await db.kvGet(key, []);
    if (!list.some((p) => p.id === r.data.id)) list.push(r.data);
    await db.kvPut(key, list);
    if (rec && r.data.charge) { rec.view.charge = r.data.charge; await db.put('orders', rec); }
  } else {
    if (e.action === 'verbal-approvals') {
      const before = new Set((rec?.view.verbal_approvals || []).map((a) => a.id));
      const fresh = (r.data.verbal_approvals || []).filter((a) => !before.has(a.id));
      const mine = fresh.find((a) => a.content === e.body.content) || fresh[fresh.length - 1];
      if (mine) await db.kvPut(`va:${e.seq}`, mine.id);
    }
    // a declined order is no longer the technician's to see
    if (e.action === 'decline') await forget(e.orderId);
    else await db.put('orders', { id: e.orderId, view: r.data, known: r.data.version, fetchedAt: Date.now() });
  }
  await db.del('queue', e.seq);
  results.set(e.seq, { ok: true, data: r.data });
  emit();
  return 'sent';
}

/** The order as the server has it now becomes what the phone knows (after a conflict). */
async function rebase(orderId) {
  try {
    const r = await api(`/work-orders/${orderId}`);
    lastContact = Date.now();
    await db.put('orders', { id: orderId, view: r.data, known: r.data.version, fetchedAt: Date.now() });
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 404) await forget(orderId);
  }
}

/** The technician gives up a conflicting action: it is removed, the order re-read. */
export async function discard(seq) {
  const e = await db.get('queue', seq);
  if (!e) return;
  await db.del('queue', seq);
  await rebase(e.orderId);
  emit();
  flush();
}

/** The technician sends a conflicting action again, against the order as it is now. */
export async function retry(seq) {
  const e = await db.get('queue', seq);
  if (!e) return;
  e.state = 'pending';
  e.error = null;
  e.interactive = false;
  await db.put('queue', e);
  await rebase(e.orderId);
  emit();
  await flush();
}

/** Sends now (a button, the online event). */
export function kick() {
  backoff = 2000;
  clearTimeout(timer);
  timer = null;
  return flush();
}
addEventListener('online', () => kick());

// ------------------------------------------------------------ what a problem means here

const FIELDS = {
  imei: 'IMEI', iccid: 'ICCID', new_imei: '新终端 IMEI', new_iccid: '新SIM卡 ICCID', part_code: '配件',
  quantity: '数量', approver_id: '批准人', content: '请示内容', reason: '原因', signer_name: '签字人',
  signature_image: '签名', amount_fen: '金额', method: '收款方式', payer_name: '付款人', fault: '故障', notes: '说明',
  line_id: '车辆', verbal_approval_id: '口头请示', signed_at: '签字时间', paid_at: '收款时间',
};
const BLOCKERS = { lines_unresolved: '还有车辆未处理', not_signed_off: '客户尚未签字' };

/** A refusal in plain Chinese, with the fields that were wrong. */
export function explainZh(err) {
  if (!(err instanceof ApiProblem)) return String(err?.message || err);
  const p = err.problem || {};
  if (err.code === 'version_mismatch') {
    return `工单已在别处被修改（服务器版本 ${p.current_version ?? '?'}），与手机上的不一致`;
  }
  if (err.code === 'invalid_transition') {
    const s = ORDER_STATUS[p.current_status] || p.current_status;
    return `工单当前状态为「${s || '未知'}」，不能执行此操作`;
  }
  if (err.code === 'completion_blocked') {
    return '还不能完工：' + (p.blockers || []).map((b) => BLOCKERS[b] || b).join('、');
  }
  if (err.code === 'not_found') return '找不到该工单，或它已不再派给您';
  const fields = (p.errors || []).map((f) => `${FIELDS[f.field] || f.field}：${problemText(f.code, true) || f.message}`);
  const base = problemText(err.code) || explain(err);
  return fields.length ? `${base}（${fields.join('；')}）` : base;
}
