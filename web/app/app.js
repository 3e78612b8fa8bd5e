// The technician's phone app: my jobs in visiting order, a job from acceptance to the
// customer's sign-off, fee collection and the receipt — on or off the network. Every
// action goes through the outbox (sync.js); what the screens show is the order as the
// server last answered plus the actions still waiting on the phone.
import { api, ApiProblem, all, newKey } from '/lib/api.js';
import { h, $, mount, toast, onPress } from '/lib/dom.js';
import { yuan, toFen, dateTime, time, chinaDay, ORDER_STATUS, KIND, URGENCY } from '/lib/fmt.js';
import { requireUser, signOut, home, ROLE } from '/lib/session.js';
import * as db from './db.js';
import * as sync from './sync.js';
import { take, JOBS, PARTS } from './boot.js';

// The modules of the job, vehicle and sign-off screens are not on the first screen's path
// (a first visit on a slow network waits for every file it imports): they are imported
// when a screen needs them, fetched in the background once the job list is up, and kept
// by the service worker like every other file of the app.
const lazy = {
  geo: () => import('./geo.js'),
  ids: () => import('./ids.js'),
  scan: () => import('./scan.js'),
  signature: () => import('./signature.js'),
  photo: () => import('./photo.js'),
};

const LINE_STATUS = { pending: '待处理', done: '已完成', not_done: '未完成' };
const WORK = { install: '已安装', terminal_swap: '已更换终端', sim_swap: '已更换SIM卡', repair: '已现场修复' };
const READINESS = [
  ['info_verified', '已核对客户和车辆信息'],
  ['tools', '工具齐全'],
  ['spare_parts', '备件齐全（终端、SIM卡、配件）'],
  ['documents', '单据齐全（派工单、收据）'],
];
const METHODS = [['cash', '现金'], ['wechat', '微信支付'], ['alipay', '支付宝'], ['pos', 'POS刷卡']];
const METHOD = Object.fromEntries(METHODS.concat([['bank_transfer', '银行转账']]));

const view = $('#view');
const user = requireUser();

// ------------------------------------------------------------------ small pieces

const badge = (text, cls = '') => h('span', { class: `badge ${cls}` }, text);
const statusBadge = (s) => badge(ORDER_STATUS[s] || s, s === 'completed' ? 'ok' : s === 'on_hold' ? 'warn' : '');
const back = (href, text) => h('a', { class: 'back', href }, '‹ ', text);
/** whether to show the network as working: judged by the last request (sync.online) */
const online = () => sync.online();
/** whether to try a request at all (trying is how the app learns the network is back) */
const mayTry = () => navigator.onLine;

function whenText(iso) {
  if (!iso) return '未排期';
  const d = chinaDay(new Date(iso));
  if (d === chinaDay()) return `今天 ${time(iso)}`;
  if (d === chinaDay(new Date(Date.now() + 864e5))) return `明天 ${time(iso)}`;
  const [, m, day] = d.split('-');
  return `${Number(m)}月${Number(day)}日 ${time(iso)}`;
}

/** One message at a time at the bottom (a pile of them would hide the form). */
function note(text, kind = 'info') {
  for (const t of document.querySelectorAll('#toasts .toast')) if (kind === 'error' || !t.classList.contains('error')) t.remove();
  toast(text, kind);
}

/** label + input + the error line under it */
function field(id, label, input, hint) {
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-error`);
  return [h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' })];
}
function setError(id, text) {
  const input = document.getElementById(id);
  const out = document.getElementById(`${id}-error`);
  if (input) input.setAttribute('aria-invalid', text ? 'true' : 'false');
  if (out) out.textContent = text || '';
  // a refusal is shown where the technician looks: scrolled to when it is off the screen
  // (or under the bottom bar)
  if (text && out && !out.closest('#nextbar')) {
    const r = out.getBoundingClientRect();
    const bar = document.getElementById('nextbar');
    const bottom = bar ? bar.getBoundingClientRect().top : innerHeight;
    if (r.top < 56 || r.bottom > bottom) (input || out).scrollIntoView({ block: 'center' });
  }
  return !text;
}

/** Where the phone is, when the technician allows it (else null, and the work goes on). */
function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    const t = setTimeout(() => resolve(null), 6000);
    navigator.geolocation.getCurrentPosition(
      (p) => { clearTimeout(t); resolve({ lat: +p.coords.latitude.toFixed(6), lng: +p.coords.longitude.toFixed(6) }); },
      () => { clearTimeout(t); resolve(null); },
      { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 },
    );
  });
}

/** `order:action` → when the server last took it (a refusal of a repeat is no failure of it) */
const taken = new Map();
/** What the server says to an action repeated after it was taken: not a failure of the first. */
const REPEATED = new Set(['nothing_due', 'overpayment', 'invalid_transition', 'idempotency_key_in_use', 'duplicate']);

/**
 * Takes an action through the outbox. Answers the server's answer, `{queued: true}`, or
 * null after showing a refusal in `errorId` (and a toast). `at` is when the technician
 * tapped (default now). The button is the caller's to hold (`press`/`onPress`).
 */
async function act(v, action, label, body, { meta, ifMatch = true, button, errorId, at } = {}) {
  if (errorId) setError(errorId, '');
  const key = `${v.id}:${action}`;
  try {
    const r = await sync.enqueue({ orderId: v.id, number: v.number, action, label, body, meta, ifMatch, at });
    if (r.data) taken.set(key, Date.now());
    // the form is done with: the screen is redrawn with it empty (by id: it may have been
    // redrawn while the action was on its way)
    const form = button?.closest('fieldset[id]') && document.getElementById(button.closest('fieldset[id]').id);
    if (form) { form.querySelectorAll('[data-dirty]').forEach((el) => { delete el.dataset.dirty; }); rerender(); }
    note(r.queued ? `${label}：已保存在手机上，恢复网络后自动提交` : `${label}：已提交`, r.queued ? 'info' : 'ok');
    return r;
  } catch (e) {
    if (REPEATED.has(e.code) && Date.now() - (taken.get(key) || 0) < 120000) {
      // the first one went through: this is its repeat, refused as it should be
      note(`${label}：已提交过，重复的操作未再提交`, 'info');
      refreshOrder(v.id).then(rerender, () => {});
      return null;
    }
    const text = sync.explainZh(e);
    if (errorId) setError(errorId, text);
    note(`${label}未成功：${text}`, 'error');
    // the order changed elsewhere: show it as it is now
    if (['version_mismatch', 'invalid_transition', 'not_found'].includes(e.code)) refreshOrder(v.id).then(rerender, () => {});
    return null;
  }
}

// ------------------------------------------------------------------ data

/** when the last refresh of the job list started (ms) */
let lastRefresh = 0;
/** the refresh under way (one at a time), or null */
let refreshing = null;
/**
 * While the first download runs (no job list on the phone yet): the order list's entries
 * (id → entry), so the list is drawn as soon as it arrives — number, time, address, contact —
 * and each job's details (customer, vehicles) fill in as its full view comes.
 */
let briefs = null;

async function pool(items, n, f) {
  const out = [];
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) {
      const it = items[i++];
      try { out.push(await f(it)); } catch (e) { if (!(e instanceof ApiProblem) || e.status !== 404) throw e; }
    }
  }));
  return out;
}

/** Every page of a list; the first one as boot.js asked for it at start-up, when it did. */
async function every(path) {
  let page = await take(path);
  if (!page) return all(path);
  const items = [...(page.items || [])];
  while (page.next_cursor && items.length < 2000) {
    page = (await api(`${path}&cursor=${encodeURIComponent(page.next_cursor)}`)).data;
    items.push(...(page.items || []));
  }
  return items;
}

/** The technician's jobs (and the price list) from the server into the phone. */
function refreshJobs() {
  refreshing ??= download().finally(() => { refreshing = null; });
  return refreshing;
}

async function download() {
  lastRefresh = Date.now();
  const first = !(await db.kvGet('jobs'));
  // the list, the jobs' views and the price list: the price list alongside, not after
  const parts = every(PARTS);
  parts.catch(() => { /* awaited below; a failure before then is the list's to report */ });
  const list = await every(JOBS);
  const cutoff = Date.now() - 3 * 864e5;
  const keep = list.filter((o) => o.status !== 'completed' || (o.completed_at && Date.parse(o.completed_at) > cutoff));
  if (first) { briefs = new Map(keep.map((o) => [o.id, o])); rerender(); }
  await pool(keep, 6, async (o) => {
    const v = (await api(`/work-orders/${o.id}`)).data;
    await sync.saveServer(v);
    if (first) rerender();
    if (v.status === 'completed') await db.kvPut(`payments:${v.id}`, await all(`/payments?order_id=${v.id}`));
  });
  await db.kvPut('jobs', { ids: keep.map((o) => o.id), at: Date.now() });
  await db.kvPut('parts', await parts);
  briefs = null;
}

/** One order from the server into the phone; false when it is not (or no longer) ours. */
async function refreshOrder(id) {
  try {
    const v = (await api(`/work-orders/${id}`)).data;
    await sync.saveServer(v);
    if (v.status === 'completed') await db.kvPut(`payments:${id}`, await all(`/payments?order_id=${id}`));
    return true;
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 404) { await sync.forget(id); return false; }
    if (e instanceof ApiProblem && e.offline) return null;
    throw e;
  }
}

// ------------------------------------------------------------------ screens

async function jobsScreen() {
  const jobs = await db.kvGet('jobs');
  // nothing on the phone yet (a first visit): the screen is drawn now and again as the list
  // and then each job's details arrive; else the list is refreshed in the background
  if (mayTry() && !refreshing && Date.now() - lastRefresh > 20000) {
    refreshJobs().then(rerender, (e) => {
      if (!jobs && !e.offline) note(sync.explainZh(e), 'error');
      rerender();
    });
  }
  const ids = new Set(jobs?.ids || briefs?.keys() || []);
  for (const e of await sync.queue()) ids.add(e.orderId);
  const orders = (await Promise.all([...ids].map(async (id) => {
    const o = await sync.localOrder(id, user);
    if (o) return { ...o.view, _conflicts: o.conflicts.length };
    const b = briefs?.get(id);
    return b ? { ...b, _brief: true } : null;
  }))).filter(Boolean);
  const order = (a, b) => (Date.parse(a.scheduled_at || '2100-01-01') - Date.parse(b.scheduled_at || '2100-01-01'))
    || (a.urgency === 'urgent' ? -1 : 0) - (b.urgency === 'urgent' ? -1 : 0) || a.number.localeCompare(b.number);
  const open = orders.filter((o) => o.status !== 'completed').sort(order);
  const doneList = orders.filter((o) => o.status === 'completed').sort(order);
  const today = chinaDay();
  const groups = new Map();
  for (const o of open) {
    const d = o.scheduled_at ? chinaDay(new Date(o.scheduled_at)) : '9999';
    const key = d <= today ? '今天' : d === chinaDay(new Date(Date.now() + 864e5)) ? '明天' : `${Number(d.slice(5, 7))}月${Number(d.slice(8))}日`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(o);
  }
  const card = (o) => h('a', { class: 'card job', href: `#/job/${o.id}` },
    h('div', { class: 'top' },
      h('span', { class: 'when' }, whenText(o.scheduled_at)),
      badge(KIND[o.kind] || o.kind), o.urgency === 'urgent' ? badge(URGENCY.urgent, 'urgent') : null, statusBadge(o.status),
      o._conflicts ? badge('同步冲突', 'bad') : o._local ? badge('待同步', 'warn') : null),
    h('div', { class: 'who' }, o.customer_name || (o._brief ? `联系人 ${o.contact_name}` : o.contact_name)),
    h('div', { class: 'where' }, o.site_address),
    h('div', { class: 'muted' }, o._brief ? `${o.number} · 正在下载详情…` : `${o.number} · ${o.lines?.length || 0} 辆车`,
      o.scheduled_at && Date.parse(o.scheduled_at) < Date.now() && ['assigned', 'accepted', 'ready'].includes(o.status) ? ' · 已过预约时间' : ''));
  const refresh = h('button', { type: 'button', onclick: onPress(async () => {
    try { await refreshJobs(); rerender(); } catch (e) { note(sync.explainZh(e), 'error'); }
  }, '正在刷新…') }, '刷新');
  return [
    h('div', { class: 'row' }, h('h1', { class: 'grow' }, '我的工单'), refresh),
    h('p', { class: 'muted' }, `${user.display_name}（${ROLE.technician}）· `,
      jobs?.at ? `更新于 ${time(new Date(jobs.at).toISOString())}` : refreshing ? '正在下载工单…' : '尚未下载工单', ' · ',
      h('a', { href: '#/cash' }, '交款'), ' · ', h('a', { href: '#/signout' }, '退出登录')),
    !jobs && !online() ? h('p', { class: 'card' }, '当前离线，手机上还没有保存工单。联网后打开本页即可下载。')
      : !jobs && !briefs && orders.length === 0 ? h('p', { class: 'card' }, refreshing ? '正在下载工单…' : '工单未能下载，请点“刷新”重试。')
        : open.length === 0 ? h('p', { class: 'card' }, '今天和近期没有派给您的工单。') : null,
    [...groups].map(([k, list]) => [h('h2', { class: 'day' }, `${k}（${list.length}）`), list.map(card)]),
    doneList.length ? [h('h2', { class: 'day' }, `已完工（${doneList.length}）`), doneList.map(card)] : null,
  ];
}

async function signOutScreen() {
  const n = (await sync.queue()).length;
  if (!n) { signOut('/app/'); return []; }
  return [back('#/', '我的工单'), h('div', { class: 'card conflict-box' },
    h('h1', {}, `还有 ${n} 项操作未同步`),
    h('p', {}, '退出后这些操作仍保存在本机，您重新登录后会继续提交。'),
    h('div', { class: 'actions two' },
      h('button', { type: 'button', class: 'danger', onclick: () => signOut('/app/') }, '仍然退出'),
      h('a', { class: 'button', href: '#/sync' }, '查看待同步')))];
}

function notYours() {
  return [back('#/', '我的工单'),
    h('div', { class: 'card conflict-box', role: 'alert' },
      h('h1', {}, '无法查看此工单'),
      h('p', {}, '找不到该工单：它不存在，或没有派给您。服务器拒绝了访问（404）。'),
      h('p', { class: 'muted' }, '技术员只能查看派给自己的工单；如有疑问请联系调度。'))];
}

/** The order for a screen: from the phone, fetched when missing. */
async function loadOrder(id, { fresh = true } = {}) {
  let lo = await sync.localOrder(id, user);
  if (!lo && mayTry()) {
    const ok = await refreshOrder(id);
    if (ok === false) return 'not-yours';
    lo = await sync.localOrder(id, user);
  } else if (lo && fresh && mayTry() && Date.now() - lo.rec.fetchedAt > 10000) {
    refreshOrder(id).then((ok) => { if (ok !== null) rerender(); }, () => {});
  }
  return lo;
}

function conflictBoxes(list) {
  return list.map((e) => h('div', { class: 'card conflict-box', role: 'alert' },
    h('h3', {}, `同步冲突：「${e.label}」未能提交`),
    h('p', {}, e.error?.text || '服务器拒绝了此操作',
      e.error?.server_status ? `。服务器上工单现在是「${ORDER_STATUS[e.error.server_status] || e.error.server_status}」` : ''),
    h('p', { class: 'muted' }, `工单 ${e.number} · 手机上操作于 ${dateTime(e.createdAt)}`,
      e.error?.known != null ? ` · 手机所知版本 ${e.error.known}` : '',
      e.error?.current_version != null ? `，服务器版本 ${e.error.current_version}` : ''),
    h('p', { class: 'hint' }, '此单之后的操作暂停提交，直到您处理此项。'),
    h('div', { class: 'actions two' },
      h('button', { type: 'button', onclick: onPress(() => sync.retry(e.seq), '正在重试…') }, '按最新数据重试'),
      h('button', { type: 'button', class: 'danger', onclick: onPress(() => sync.discard(e.seq)) }, '放弃此项'))));
}

function lineSummary(l) {
  if (l.status === 'not_done') return `未完成：${l.not_done_reason || ''}`;
  if (l.status === 'done') return (l.work || []).map((w) => WORK[w] || w).join('、') || '已完成';
  return '待处理';
}

/**
 * 上线检测 of a line: passed with the time of the terminal's first fix, or what it still
 * lacks and what to do (the server's words). Null before a terminal is fitted.
 */
function firstReportNode(l) {
  const r = l.first_report;
  if (!r) return null;
  if (r.status === 'passed') return h('div', { class: 'first-report ok' }, `上线检测：已通过（首次定位 ${time(r.first_fix_at)}）`);
  const first = (r.missing || [])[0];
  return h('div', { class: 'first-report wait' }, '上线检测：等待终端上线',
    first ? h('div', { class: 'muted' }, first.message) : null,
    r.platform_error ? h('div', { class: 'muted' }, r.platform_error) : null);
}

async function jobScreen(id) {
  const lo = await loadOrder(id);
  if (lo === 'not-yours') return notYours();
  if (!lo) return [back('#/', '我的工单'), h('p', { class: 'card' }, '此工单不在手机上，且当前没有网络。联网后再打开。')];
  const v = lo.view;
  const lead = v.lead_technician_id === user.id;
  const can = (a) => (v.allowed_actions || []).includes(a);
  const site = { lat: v.site_lat, lng: v.site_lng, name: v.customer_name || v.contact_name, address: v.site_address };
  // the map links need geo.js: without it (first visit, network lost before it came) the
  // job is shown without them
  const geo = await lazy.geo().catch(() => null);
  const steps = [];
  // the next step rides in a bar at the bottom of the screen (#nextbar), with its error line:
  // never a scroll away from the technician's thumb
  const next = [];
  const nextError = (id) => h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const main = (label, f, busy) => h('button', { type: 'button', class: 'primary big', onclick: onPress(f, busy) }, label);

  if (!lead) {
    steps.push(h('p', { class: 'card' }, '您是本单的协助人员，接单、施工记录和收费由负责人操作。'));
  } else if (can('accept') || can('decline')) {
    const reason = h('input', { placeholder: '如：当天休假、技能不符' });
    next.push(nextError('step'), main('接单', (ev) => act(v, 'accept', '接单', {}, { button: ev.target, errorId: 'step' })));
    steps.push(h('details', { id: 'fold-decline' }, h('summary', {}, '无法前往？拒单'),
      field('decline-reason', '拒单原因', reason),
      h('button', { type: 'button', class: 'danger', onclick: onPress(async (ev) => {
        if (!reason.value.trim()) return setError('decline-reason', '请填写原因');
        const r = await act(v, 'decline', '拒单', { reason: reason.value.trim() }, { button: ev.target, errorId: 'decline-reason' });
        if (r?.data) { await sync.forget(v.id); location.hash = '#/'; }
      }) }, '确认拒单')));
  } else if (can('readiness')) {
    const ticked = new Set(v.readiness || []);
    const boxes = READINESS.map(([k, label]) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', id: `ready-${k}`, value: k, checked: ticked.has(k) }), label));
    steps.push(h('fieldset', { id: 'form-ready' }, h('legend', {}, '出发前核对'), boxes));
    next.push(nextError('step'), main('确认就绪', (ev) => {
      const items = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      if (items.length < READINESS.length) return setError('step', `还有 ${READINESS.length - items.length} 项未勾选：四项都核对后才能出发`);
      return act(v, 'readiness', '出发前核对', { items }, { button: ev.target, errorId: 'step' });
    }));
  } else if (can('depart') || can('arrive')) {
    const [action, label] = can('depart') ? ['depart', '出发'] : ['arrive', '到场'];
    next.push(nextError('step'), main(label, async (ev) => {
      const at = new Date().toISOString();
      const p = await position();
      return act(v, action, label, p || {}, { at, button: ev.target, errorId: 'step' });
    }, '正在定位…'));
  } else if (can('resume')) {
    steps.push(h('p', { class: 'card' }, '本单已暂停。'));
    next.push(nextError('step'), main('恢复工单', (ev) => act(v, 'resume', '恢复', {}, { button: ev.target, errorId: 'step' })));
  }

  const onSite = lead && (v.status === 'on_site' || v.status === 'on_hold');
  const sections = [];
  sections.push(h('h2', {}, `车辆（${v.lines.length}）`), h('div', { class: 'card' }, v.lines.map((l) => h('div', { class: 'line vehicle' },
    h('div', { class: 'grow' }, h('div', { class: 'plate' }, l.plate_no),
      h('div', { class: l.status === 'not_done' ? 'muted' : '' }, lineSummary(l), l._pending ? h('span', { class: 'pending' }, ' · 待同步') : null),
      v.kind === 'repair' && fittedText(l) ? h('div', { class: 'muted fitted' }, fittedText(l)) : null,
      firstReportNode(l)),
    v.status === 'on_site' && lead && l.status !== 'not_done' && !(v.kind === 'install' && l.status === 'done')
      ? h('a', { class: 'button', href: `#/job/${v.id}/line/${l.id}`, 'aria-label': `处理 ${l.plate_no}` }, '处理')
      : null))));
  const onSiteAny = v.status === 'on_site' || v.status === 'on_hold';
  if (onSiteAny || (v.photos || []).length || (v.photos_missing || []).length) {
    const photo = await lazy.photo().catch(() => null);
    if (photo) sections.push(photosSection(v, onSiteAny, photo));
  }
  if (onSite || (v.parts || []).length) sections.push(partsSection(v, onSite, await db.kvGet('parts', [])));
  if (onSite || (v.verbal_approvals || []).length) sections.push(verbalSection(v, onSite));
  if (v.status === 'on_site' && lead) {
    const unresolved = v.lines.filter((l) => l.status === 'pending').length;
    const signed = !!v.signoff_at;
    sections.push(h('h2', {}, '验收与完工'), h('div', { class: 'card' },
      signed ? h('p', {}, `客户已签字：${v.signoff_name}（${dateTime(v.signoff_at)}）`) : h('p', { class: 'muted' }, '客户尚未签字。'),
      unresolved ? h('p', { class: 'hint' }, `还有 ${unresolved} 辆车未处理（完成或标记未完成）。`) : null));
    next.push(unresolved ? h('p', { class: 'hint' }, `还有 ${unresolved} 辆车未处理，处理后才能完工。`) : null,
      nextError('complete'),
      h('div', { class: signed ? 'actions' : 'actions two' },
        signed ? null : h('a', { class: 'button primary big', href: `#/job/${v.id}/sign` }, '客户签字'),
        h('button', {
          type: 'button', class: signed ? 'primary big' : 'big', disabled: !signed || unresolved > 0,
          onclick: onPress((ev) => act(v, 'complete', '完工', {}, { button: ev.target, errorId: 'complete' })),
        }, '完工')));
  }
  if (v.status === 'completed') {
    const fee = feeSection(v, lo);
    sections.push(fee.nodes);
    if (fee.collect) next.push(fee.collect);
  }

  const pendingNote = lo.pending.length
    ? h('p', { class: 'banner' }, `本单有 ${lo.pending.length} 项操作保存在手机上，待同步。`, h('a', { href: '#/sync' }, '查看')) : null;
  return [
    back('#/', '我的工单'),
    conflictBoxes(lo.conflicts), pendingNote,
    h('div', { class: 'card' },
      h('div', { class: 'row' }, badge(KIND[v.kind]), v.urgency === 'urgent' ? badge(URGENCY.urgent, 'urgent') : null,
        h('span', { id: 'status' }, statusBadge(v.status)), h('span', { class: 'muted' }, v.number)),
      h('h1', { style: 'margin-top:.4rem' }, v.customer_name || v.contact_name),
      h('dl', { class: 'kv' },
        h('dt', {}, '地址'), h('dd', {}, v.site_address),
        h('dt', {}, '联系人'), h('dd', {}, `${v.contact_name} `, h('a', { class: 'tel', href: `tel:${v.contact_phone}`, 'aria-label': `拨打 ${v.contact_name} ${v.contact_phone}` }, v.contact_phone)),
        h('dt', {}, '预约'), h('dd', {}, v.scheduled_at ? dateTime(v.scheduled_at) : '未排期'),
        v.window_start ? [h('dt', {}, '时间窗'), h('dd', {}, `${dateTime(v.window_start)} – ${time(v.window_end)}`)] : null,
        v.fault_symptoms ? [h('dt', {}, '故障现象'), h('dd', {}, v.fault_symptoms)] : null,
        v.kind === 'repair' && v.warranty_in !== null ? [h('dt', {}, '保修'), h('dd', {},
          v.warranty_in ? `保修期内（至 ${v.warranty_ends_on}），免费` : `已过保修期（${v.warranty_ends_on} 止），只收配件费`)] : null,
        v.product_model ? [h('dt', {}, '型号'), h('dd', {}, v.product_model)] : null,
        v.notes ? [h('dt', {}, '备注'), h('dd', {}, v.notes)] : null),
      geo ? h('div', { class: 'actions two' },
        h('a', { class: 'button', href: geo.amapUrl(site), target: '_blank', rel: 'noopener' }, '高德地图导航'),
        h('a', { class: 'button', href: geo.baiduUrl(site), target: '_blank', rel: 'noopener' }, '百度地图导航')) : null),
    steps,
    sections,
    next.length ? h('div', { id: 'nextbar', role: 'region', 'aria-label': '下一步' }, h('div', { class: 'inner' }, next)) : null,
  ];
}

/**
 * 现场照片: per vehicle line and for the order, a button per kind with how many were taken
 * (必拍 when the center requires it and it is missing). A picture is shrunk and stamped
 * in the phone, then queued like any action (sent in order, kept through a reload).
 */
function photosSection(v, editable, photo) {
  const photos = v.photos || [];
  const missing = v.photos_missing || [];
  const count = (kind, lineId) => photos.filter((p) => p.kind === kind && (p.line_id || null) === lineId).length;
  const isMissing = (kind, lineId) => missing.some((m) => m.kind === kind && (m.line_id || null) === lineId);
  const take = (kind, lineId, plate) => {
    const label = `${plate ? `${plate} ` : ''}${photo.KINDS[kind]}`;
    const input = h('input', {
      type: 'file', accept: 'image/*', capture: 'environment', hidden: true,
      'aria-label': `拍照：${label}`, 'data-photo': `${lineId || 'order'}:${kind}`,
      onchange: async (ev) => {
        const file = ev.target.files?.[0];
        if (!file) return;
        const takenAt = new Date();
        try {
          const pos = await position();
          const blob = await photo.shrink(file, { takenAt, pos, label });
          await act(v, photo.uploadAction(kind, lineId, takenAt, pos), `照片：${label}`, blob);
        } catch (e) {
          note(`照片：${label}未保存：${e.message || e}`, 'error');
        }
        ev.target.value = '';
        rerender();
      },
    });
    const n = count(kind, lineId);
    const need = isMissing(kind, lineId);
    // the label is the button (a hidden file input still opens the camera from its label)
    return h('label', {
      class: `button photo${need ? ' need' : ''}`, role: 'button', tabindex: '0',
      onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); input.click(); } },
    }, input,
      `${photo.KINDS[kind]}${n ? ` ✓${n > 1 ? n : ''}` : ''}${need ? '（必拍）' : ''}`);
  };
  const row = (title, kinds, lineId, plate) => h('div', { class: 'line photos' },
    h('div', { class: 'grow' }, h('div', { class: 'plate' }, title),
      editable ? h('div', { class: 'photo-buttons' }, kinds.map((k) => take(k, lineId, plate)))
        : h('div', { class: 'muted' }, kinds.filter((k) => count(k, lineId)).map((k) => `${photo.KINDS[k]} ${count(k, lineId)} 张`).join('、') || '无')));
  const pending = photos.filter((p) => p._pending).length;
  // the buttons fold away unless the center still needs a picture: the on-site screen
  // stays short
  const taken = photos.length ? `已拍 ${photos.length} 张` : '可选';
  return [h('h2', {}, '现场照片'), h('div', { class: 'card' },
    missing.length ? h('p', { class: 'hint', id: 'photos-missing' }, `还缺 ${missing.length} 张必拍照片：`,
      missing.map((m) => `${m.line_id ? `${v.lines.find((l) => l.id === m.line_id)?.plate_no || ''} ` : ''}${photo.KINDS[m.kind] || m.kind}`).join('、'))
      : v.photo_waiver ? h('p', { class: 'muted' }, `经理已豁免照片：${v.photo_waiver.reason}`) : null,
    pending ? h('p', { class: 'pending' }, `${pending} 张照片保存在手机上，待上传`) : null,
    h('details', { id: 'fold-photos', open: missing.length > 0 && editable },
      h('summary', {}, editable ? `拍照（${taken}）…` : `照片（${taken}）`),
      v.lines.filter((l) => l.status !== 'not_done').map((l) => row(l.plate_no, photo.LINE_KINDS, l.id, l.plate_no)),
      row('本单', photo.ORDER_KINDS, null, '')))];
}

/** What is in the vehicle now (a repair line): its terminal and SIM card, from the server. */
function fittedText(l) {
  const f = l.fitted;
  if (!f || (!f.terminal_imei && !f.sim_iccid)) return null;
  return `车上现有：${f.terminal_imei ? `终端 ${f.terminal_imei}${f.terminal_model ? `（${f.terminal_model}）` : ''}` : '无终端'}`
    + ` · ${f.sim_iccid ? `SIM卡 ${f.sim_iccid}${f.sim_msisdn ? `（${f.sim_msisdn}）` : ''}` : '无SIM卡'}`;
}

function partsSection(v, editable, list) {
  const lines = v.lines;
  const parts = v.parts || [];
  const total = parts.reduce((s, p) => s + (p.amount_fen || 0), 0);
  const out = [h('h2', {}, '配件'), h('div', { class: 'card' },
    parts.length ? parts.map((p) => h('div', { class: 'line' },
      h('div', { class: 'grow' }, `${p.part_name} × ${p.quantity}`,
        p.line_id ? h('span', { class: 'muted' }, ` · ${lines.find((l) => l.id === p.line_id)?.plate_no || ''}`) : null,
        p.verbal_approval_id ? h('span', { class: 'muted' }, ' · 依口头请示') : null,
        p._pending ? h('span', { class: 'pending' }, ' · 待同步') : null),
      h('span', { class: 'money' }, p.amount_fen == null ? '—' : yuan(p.amount_fen))))
      : h('p', { class: 'muted' }, '尚未记录配件。'),
    parts.length ? h('p', { class: 'row' }, h('span', { class: 'grow' }, '配件合计'), h('strong', { class: 'money' }, yuan(total))) : null,
    editable ? partForm(v, list) : null)];
  return out;
}

function partForm(v, list) {
  const select = h('select', {}, h('option', { value: '' }, list.length ? '请选择配件' : '价目表为空（联网后刷新）'),
    list.map((p) => h('option', { value: p.code }, `${p.name}（${p.code}）${yuan(p.unit_price_fen)}`)));
  const qty = h('input', { type: 'number', inputmode: 'numeric', min: '1', max: '1000', value: '1' });
  const line = h('select', {}, h('option', { value: '' }, '不指定车辆'), v.lines.map((l) => h('option', { value: l.id }, l.plate_no)));
  const approvals = v.verbal_approvals || [];
  const va = h('select', {}, h('option', { value: '' }, '无'), approvals.map((a) => h('option', { value: a.id }, a.content)));
  return h('details', { id: 'fold-part' }, h('summary', {}, '记录用到的配件…'), h('fieldset', { id: 'form-part' }, h('legend', {}, '添加配件'),
    field('part', '配件', select),
    field('qty', '数量', qty),
    field('part-line', '用于车辆', line),
    approvals.length ? field('part-va', '依据口头请示（备件不足时）', va) : null,
    h('button', { type: 'button', class: 'primary', onclick: onPress(async (ev) => {
      const part = list.find((p) => p.code === select.value);
      const n = Number(qty.value);
      if (!setError('part', part ? '' : '请选择配件')) return;
      if (!setError('qty', Number.isInteger(n) && n >= 1 && n <= 1000 ? '' : '数量应为 1–1000 的整数')) return;
      const body = { part_code: part.code, quantity: n };
      if (line.value) body.line_id = line.value;
      if (va.value) body.verbal_approval_id = va.value;
      await act(v, 'parts', `配件 ${part.name} × ${n}`, body, { meta: { part_name: part.name, unit_price_fen: part.unit_price_fen }, button: ev.target, errorId: 'part' });
    }) }, '添加配件')))
}

function verbalSection(v, editable) {
  const list = v.verbal_approvals || [];
  const managers = [...new Set([v.approved_by, v.outsourcing_approved_by].filter(Boolean))];
  const content = h('textarea', { placeholder: '如：备件不足，经理同意使用备用继电器' });
  const who = h('select', {}, managers.map((m, i) => h('option', { value: m }, i === 0 ? '审批本单的经理' : '批准外协的经理')));
  return [h('h2', {}, '口头请示（紧急）'), h('div', { class: 'card' },
    list.length ? list.map((a) => h('div', { class: 'line' }, h('div', { class: 'grow' }, a.content,
      h('div', { class: 'muted' }, `${dateTime(a.approved_at)} · ${a.confirmed_by ? '经理已确认' : '待经理确认'}`,
        a._pending ? h('span', { class: 'pending' }, ' · 待同步') : null))))
      : h('p', { class: 'muted' }, '没有口头请示记录。'),
    editable ? h('details', { id: 'fold-va' }, h('summary', {}, '电话请示经理（备件不足等）…'), h('fieldset', { id: 'form-va' }, h('legend', {}, '记录口头请示'),
      h('p', { class: 'hint' }, '现场急需（如备件不足）时电话请示经理，记录谁、何时、同意了什么，事后由经理确认。'),
      field('va-content', '请示内容', content),
      managers.length ? field('va-who', '批准人', who) : h('p', { class: 'field-error' }, '本单没有审批经理记录，无法记录口头请示。'),
      h('button', { type: 'button', class: 'primary', disabled: !managers.length, onclick: onPress(async (ev) => {
        const text = content.value.trim();
        if (!setError('va-content', text ? '' : '请填写请示内容')) return;
        await act(v, 'verbal-approvals', '口头请示', { approver_id: who.value, content: text, approved_at: new Date().toISOString() },
          { button: ev.target, errorId: 'va-content' });
      }) }, '记录口头请示'))) : null)];
}

function feeSection(v, lo) {
  const ch = v.charge;
  const paidHere = lo.queuedPayments.reduce((s, e) => s + e.body.amount_fen, 0);
  const due = ch ? ch.amount_fen - ch.adjusted_fen - ch.paid_fen - paidHere : (v.fee_fen || 0) - paidHere;
  let state;
  if (!ch) state = v._fee_estimated ? `预计应收 ${yuan(v.fee_fen)}（完工待同步，以服务器为准）` : `应收 ${yuan(v.fee_fen)}`;
  else if (ch.status === 'no_charge') state = '无需收费';
  else if (ch.terms === 'credit') state = '挂账客户：费用计入月结账单，无需现场收费';
  else if (ch.status === 'paid' || due <= 0) state = '已收清';
  else state = `待收 ${yuan(due)}`;
  const payments = lo.payments.filter((p) => p.kind === 'collection' || p.kind === undefined);
  const canCollect = (!ch || (ch.terms !== 'credit' && ch.status === 'open')) && due > 0;
  const collect = canCollect && v.lead_technician_id === user.id
    ? h('a', { class: 'button primary big', style: 'width:100%', href: `#/job/${v.id}/pay` }, `收费 ${yuan(due)}`) : null;
  const nodes = [h('h2', {}, '费用与收据'), h('div', { class: 'card' },
    h('p', { class: 'row' }, h('span', { class: 'grow' }, v.kind === 'repair' ? (v.warranty_in ? '保修期内维修' : '保修期外：只收配件费') : '安装费用（配件）'),
      h('strong', { class: 'money' }, yuan(ch ? ch.amount_fen : v.fee_fen))),
    h('p', { id: 'fee-state' }, state),
    payments.map((p) => h('div', { class: 'line' },
      h('div', { class: 'grow' }, `收据 ${p.receipt_no}`, h('div', { class: 'muted' }, `${yuan(p.amount_fen)} · ${METHOD[p.method] || p.method} · ${dateTime(p.paid_at)}`)),
      h('a', { class: 'button', href: `#/job/${v.id}/receipt/${p.id}` }, '查看收据'))),
    lo.queuedPayments.map((e) => h('div', { class: 'line' },
      h('div', { class: 'grow' }, `收款 ${yuan(e.body.amount_fen)} · ${METHOD[e.body.method]}`, h('div', { class: 'pending' }, '待同步：联网后出具收据'))))),
  ];
  return { nodes, collect };
}

/**
 * A number field checked as the API checks it. While typing, a number that is merely not
 * finished yet is not called wrong; leaving the field (or saving) says everything.
 */
function numberInput({ canScan, scan, pickNumber }, id, label, problem, hint, max = 15) {
  const min = max === 20 ? 19 : 15;
  const input = h('input', { inputmode: 'numeric', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
  input.addEventListener('input', () => {
    const v = input.value.trim();
    const onTheWay = /^[0-9]*$/.test(v) && v.length < min && (max !== 20 || (v.length < 2 ? '89'.startsWith(v) : v.startsWith('89')));
    setError(id, onTheWay ? '' : problem(v));
  });
  input.addEventListener('blur', () => setError(id, input.value.trim() ? problem(input.value) : ''));
  const row = h('div', { class: 'field-row' }, input,
    canScan() ? h('button', { type: 'button', 'aria-label': `扫码填入${max === 20 ? 'ICCID' : 'IMEI'}`, onclick: async () => {
      const got = await scan(label, (text) => pickNumber(text, problem));
      if (got) { input.value = got; input.dispatchEvent(new Event('input')); }
    } }, '扫码') : null);
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-error`);
  return [h('label', { for: id }, label), row, hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' })];
}

const valueOf = (id) => document.getElementById(id).value.trim();
const check = (id, problem) => setError(id, problem(valueOf(id)));

async function lineScreen(id, lineId) {
  const lo = await loadOrder(id, { fresh: false });
  if (lo === 'not-yours') return notYours();
  if (!lo) return [back('#/', '我的工单'), h('p', { class: 'card' }, '此工单不在手机上。')];
  const v = lo.view;
  const l = v.lines.find((x) => x.id === lineId);
  if (!l) return [back(`#/job/${id}`, '返回工单'), h('p', { class: 'card' }, '找不到该车辆。')];
  const [ids, scanner] = await Promise.all([lazy.ids(), lazy.scan()]);
  const { imeiProblem, iccidProblem, carrierOf } = ids;
  const { canScan } = scanner;
  const kit = { ...scanner, pickNumber: ids.pickNumber };
  const done = async (r) => { if (r) location.hash = `#/job/${id}`; };
  const forms = [];
  if (v.status !== 'on_site') forms.push(h('p', { class: 'card' }, '到场后才能记录车辆施工。'));
  else {
    if (v.kind === 'install' && l.status === 'pending') {
      forms.push(h('fieldset', {}, h('legend', {}, '安装终端和SIM卡'),
        numberInput(kit, 'imei', '终端 IMEI（15位数字）', imeiProblem, canScan() ? '可点“扫码”对准终端条码' : '请对照终端标签输入'),
        numberInput(kit, 'iccid', 'SIM卡 ICCID（19–20位，89开头）', iccidProblem, null, 20),
        field('install-notes', '备注（可不填）', h('input', {})),
        h('button', { type: 'button', class: 'primary big', style: 'width:100%', onclick: onPress(async (ev) => {
          if (!(check('imei', imeiProblem) & check('iccid', iccidProblem))) return;
          const body = { imei: valueOf('imei'), iccid: valueOf('iccid') };
          if (valueOf('install-notes')) body.notes = valueOf('install-notes');
          done(await act(v, `lines/${l.id}/install`, `${l.plate_no} 安装`, body, { button: ev.target, errorId: 'imei' }));
        }) }, '保存安装')));
    }
    if (v.kind === 'repair') {
      forms.push(h('fieldset', {}, h('legend', {}, '更换终端'),
        numberInput(kit, 'new-imei', '新终端 IMEI（15位数字）', imeiProblem),
        field('fault', '旧终端故障（写入返修标签）', h('input', { value: v.fault_symptoms || '' })),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'move-sim', checked: true }), 'SIM卡移到新终端'),
        h('button', { type: 'button', class: 'primary', style: 'width:100%', onclick: onPress(async (ev) => {
          if (!check('new-imei', imeiProblem)) return;
          if (!setError('fault', valueOf('fault') ? '' : '请填写故障')) return;
          done(await act(v, `lines/${l.id}/terminal-swap`, `${l.plate_no} 更换终端`,
            { new_imei: valueOf('new-imei'), fault: valueOf('fault'), move_sim: document.getElementById('move-sim').checked },
            { button: ev.target, errorId: 'new-imei' }));
        }) }, '保存更换终端')));
      const old = h('select', {}, h('option', { value: 'suspended' }, '停机保号（默认）'), h('option', { value: 'in_stock' }, '回库'), h('option', { value: 'cancelled' }, '注销'));
      forms.push(h('fieldset', {}, h('legend', {}, '更换SIM卡'),
        numberInput(kit, 'new-iccid', '新SIM卡 ICCID（19–20位，89开头）', iccidProblem, null, 20),
        field('old-sim', '旧SIM卡处理', old),
        h('button', { type: 'button', class: 'primary', style: 'width:100%', onclick: onPress(async (ev) => {
          if (!check('new-iccid', iccidProblem)) return;
          const carrier = carrierOf(valueOf('new-iccid'));
          done(await act(v, `lines/${l.id}/sim-swap`, `${l.plate_no} 更换SIM卡${carrier ? `（${carrier}）` : ''}`,
            { new_iccid: valueOf('new-iccid'), old_sim_status: old.value }, { button: ev.target, errorId: 'new-iccid' }));
        }) }, '保存更换SIM卡')));
      forms.push(h('fieldset', {}, h('legend', {}, '现场修复（未换件）'),
        field('repair-notes', '处理说明', h('textarea', { placeholder: '如：天线接头松动，已紧固' })),
        h('button', { type: 'button', class: 'primary', style: 'width:100%', onclick: onPress(async (ev) => {
          if (!setError('repair-notes', valueOf('repair-notes') ? '' : '请填写处理说明')) return;
          done(await act(v, `lines/${l.id}/repair`, `${l.plate_no} 现场修复`, { notes: valueOf('repair-notes') }, { button: ev.target, errorId: 'repair-notes' }));
        }) }, '保存修复')));
    }
    if (l.status === 'pending') {
      forms.push(h('fieldset', {}, h('legend', {}, '本车未完成'),
        field('reason', '未完成原因', h('input', { placeholder: '如：车辆外出未到场' })),
        h('button', { type: 'button', class: 'danger', style: 'width:100%', onclick: onPress(async (ev) => {
          if (!setError('reason', valueOf('reason') ? '' : '请填写原因')) return;
          done(await act(v, `lines/${l.id}/not-done`, `${l.plate_no} 未完成`, { reason: valueOf('reason') }, { button: ev.target, errorId: 'reason' }));
        }) }, '标记未完成')));
    }
  }
  return [back(`#/job/${id}`, '返回工单'),
    h('div', { class: 'card' }, h('h1', {}, l.plate_no),
      h('p', {}, l.status === 'done' ? `${LINE_STATUS.done} · ${lineSummary(l)}` : lineSummary(l), l._pending ? h('span', { class: 'pending' }, ' · 待同步') : null),
      v.kind === 'repair' && fittedText(l) ? h('p', { class: 'fitted' }, fittedText(l)) : null,
      l.fault_tag ? h('p', { class: 'muted' }, `返修标签：${l.fault_tag}`) : null),
    forms];
}

async function signScreen(id) {
  const lo = await loadOrder(id, { fresh: false });
  if (lo === 'not-yours') return notYours();
  if (!lo) return [back('#/', '我的工单'), h('p', { class: 'card' }, '此工单不在手机上。')];
  const v = lo.view;
  const canvas = h('canvas', { class: 'sig', role: 'img', 'aria-label': '签名板：请客户在框内签名' });
  const name = h('input', { value: v.signoff_name || v.contact_name || '', autocomplete: 'off' });
  const pad = (await lazy.signature()).signaturePad(canvas);
  const total = (v.parts || []).reduce((s, p) => s + (p.amount_fen || 0), 0);
  return [back(`#/job/${id}`, '返回工单'),
    h('h1', {}, '客户签字验收'),
    h('div', { class: 'card' }, h('p', {}, `${v.customer_name || v.contact_name} · ${v.number}`),
      v.lines.map((l) => h('p', { class: 'line' }, h('span', { class: 'plate grow' }, l.plate_no), lineSummary(l))),
      (v.parts || []).length ? h('p', {}, `配件合计 ${yuan(total)}`) : null),
    field('signer', '签字人姓名', name),
    h('p', { style: 'font-weight:600;margin:.6rem 0 .2rem' }, '请客户在框内签名'),
    canvas,
    h('p', { class: 'field-error', id: 'sig-error', role: 'alert' }),
    h('div', { class: 'actions two' },
      h('button', { type: 'button', onclick: () => pad.clear() }, '清除重签'),
      h('button', { type: 'button', class: 'primary', onclick: onPress(async (ev) => {
        const signer = name.value.trim();
        if (!setError('signer', signer ? '' : '请填写签字人姓名')) return;
        if (pad.isEmpty()) { document.getElementById('sig-error').textContent = '请客户在框内签名'; return; }
        const r = await act(v, 'sign-off', '客户签字', { signer_name: signer, signature_image: pad.toDataURL() }, { button: ev.target, errorId: 'signer' });
        if (r) location.hash = `#/job/${id}`;
      }) }, '确认签字'))];
}

async function payScreen(id) {
  const lo = await loadOrder(id, { fresh: false });
  if (lo === 'not-yours') return notYours();
  if (!lo) return [back('#/', '我的工单'), h('p', { class: 'card' }, '此工单不在手机上。')];
  const v = lo.view;
  const ch = v.charge;
  const paidHere = lo.queuedPayments.reduce((s, e) => s + e.body.amount_fen, 0);
  const due = ch ? ch.amount_fen - ch.adjusted_fen - ch.paid_fen - paidHere : (v.fee_fen || 0) - paidHere;
  if (v.status !== 'completed' || due <= 0) {
    return [back(`#/job/${id}`, '返回工单'), h('p', { class: 'card' }, due <= 0 ? '本单没有待收款项。' : '完工后才能收费。')];
  }
  const amount = h('input', { inputmode: 'decimal', value: (due / 100).toFixed(2), autocomplete: 'off' });
  const payer = h('input', { value: v.signoff_name || v.contact_name || '' });
  const methods = h('div', { class: 'methods', role: 'radiogroup', 'aria-label': '收款方式' },
    METHODS.map(([k, label], i) => h('label', {}, h('input', { type: 'radio', name: 'method', value: k, checked: i === 0 }), label)));
  return [back(`#/job/${id}`, '返回工单'),
    h('h1', {}, '现场收费'),
    h('div', { class: 'card' }, h('p', { class: 'muted' }, `${v.customer_name || v.contact_name} · ${v.number}`),
      h('p', {}, '应收'), h('p', { class: 'big-money' }, yuan(due)),
      v.kind === 'repair' && !v.warranty_in ? h('p', { class: 'hint' }, '保修期外维修只收配件费，不收人工费。') : null),
    field('amount', '收款金额（元）', amount),
    h('p', { style: 'font-weight:600;margin:.6rem 0 .2rem' }, '收款方式'), methods,
    field('payer', '付款人', payer),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary big', onclick: onPress(async (ev) => {
      const fen = toFen(amount.value);
      if (!setError('amount', fen === null || fen <= 0 ? '请输入正确金额，如 60.00' : fen > due ? `不能超过应收 ${yuan(due)}` : '')) return;
      if (!setError('payer', payer.value.trim() ? '' : '请填写付款人')) return;
      const method = methods.querySelector('input:checked').value;
      const at = new Date().toISOString();
      const p = await position();
      const body = { amount_fen: fen, method, payer_name: payer.value.trim(), ...(p || {}) };
      if (!online()) body.paid_at = at;
      const r = await act(v, 'payments', `收款 ${yuan(fen)}`, body, { at, ifMatch: false, button: ev.target, errorId: 'amount' });
      if (r?.data) location.hash = `#/job/${id}/receipt/${r.data.id}`;
      else if (r) location.hash = `#/job/${id}`;
    }, '正在定位和提交…') }, '确认收款'))];
}

const pdfUrls = new Map();

async function receiptScreen(id, pid) {
  const list = await db.kvGet(`payments:${id}`, []);
  let p = list.find((x) => x.id === pid);
  if (!p && mayTry()) {
    try { p = (await api(`/payments/${pid}`)).data; } catch (e) { if (!e.offline) return notYours(); }
  }
  if (!p) return [back(`#/job/${id}`, '返回工单'), h('p', { class: 'card' }, '收据不在手机上，联网后再打开。')];
  const lo = await sync.localOrder(id, user);
  const actions = h('div', { class: 'actions' }, h('p', { class: 'muted' }, '正在准备收据 PDF…'));
  const name = `收据-${p.receipt_no}.pdf`;
  (async () => {
    let blob = await db.kvGet(`receipt:${pid}`);
    if (!blob && mayTry()) {
      try {
        blob = (await api(`/payments/${pid}/receipt.pdf`, { raw: true })).data;
        await db.kvPut(`receipt:${pid}`, blob);
      } catch (e) {
        mount(actions, h('p', { class: 'field-error', role: 'alert' }, `收据 PDF 暂不可用：${sync.explainZh(e)}`));
        return;
      }
    }
    if (!blob) { mount(actions, h('p', { class: 'muted' }, '离线：联网后可打开收据 PDF。')); return; }
    if (!pdfUrls.has(pid)) pdfUrls.set(pid, URL.createObjectURL(blob));
    const url = pdfUrls.get(pid);
    const file = new File([blob], name, { type: 'application/pdf' });
    const share = navigator.canShare?.({ files: [file] })
      ? h('button', { type: 'button', class: 'big', onclick: () => navigator.share({ files: [file], title: name }).catch(() => {}) }, '分享收据（微信等）')
      : null;
    mount(actions,
      h('a', { class: 'button primary big', href: url, target: '_blank', rel: 'noopener', id: 'receipt-pdf' }, '打开收据 PDF'),
      share,
      h('a', { class: 'button', href: url, download: name }, '保存到手机'),
      h('p', { class: 'hint' }, `PDF ${Math.max(1, Math.round(blob.size / 1024))} KB，已保存在手机上，离线也可打开。`));
  })();
  return [back(`#/job/${id}`, '返回工单'),
    h('h1', {}, '收据'),
    h('div', { class: 'card' },
      h('dl', { class: 'kv' },
        h('dt', {}, '收据号'), h('dd', { id: 'receipt-no' }, p.receipt_no),
        h('dt', {}, '金额'), h('dd', {}, h('strong', { class: 'money' }, yuan(p.amount_fen)), p.amount_capital ? ` （${p.amount_capital}）` : ''),
        h('dt', {}, '方式'), h('dd', {}, METHOD[p.method] || p.method),
        h('dt', {}, '付款人'), h('dd', {}, p.payer_name),
        h('dt', {}, '时间'), h('dd', {}, dateTime(p.paid_at)),
        lo ? [h('dt', {}, '工单'), h('dd', {}, `${lo.view.number} · ${lo.view.customer_name || lo.view.contact_name}`)] : null)),
    actions];
}

/**
 * 交款: the technician hands the money collected on site to finance. The payments not yet
 * handed over (the server's list), ticked by default; one remittance for the ticked ones,
 * sent with one Idempotency-Key per attempt (a tap again after a lost answer is the same
 * remittance, never a second); the remittances waiting for finance below.
 */
let remitKey = null;
async function cashScreen() {
  if (!mayTry()) return [back('#/', '我的工单'), h('h1', {}, '交款'), h('p', { class: 'card' }, '交款需要联网：恢复网络后再打开本页。')];
  let hand;
  let mine;
  try {
    [hand, mine] = await Promise.all([api(`/technicians/${user.id}/cash`).then((r) => r.data), all('/remittances?limit=20', 20)]);
  } catch (e) {
    return [back('#/', '我的工单'), h('h1', {}, '交款'), h('p', { class: 'card field-error', role: 'alert' }, `未能读取手上的款项：${sync.explainZh(e)}`)];
  }
  const orders = new Map();
  for (const p of hand.unremitted) {
    if (p.order_id && !orders.has(p.order_id)) orders.set(p.order_id, (await db.get('orders', p.order_id))?.view || null);
  }
  const boxes = hand.unremitted.map((p) => {
    const o = orders.get(p.order_id);
    return h('label', { class: 'check pay-item' },
      h('input', { type: 'checkbox', value: p.id, checked: true, 'aria-label': `收据 ${p.receipt_no || p.id} ${yuan(p.amount_fen)}` }),
      h('span', { class: 'grow' }, `${METHOD[p.method] || p.method} ${yuan(p.amount_fen)}`,
        h('span', { class: 'muted' }, ` · 收据 ${p.receipt_no || '—'}`, o ? ` · ${o.number} ${o.customer_name || o.contact_name}` : '', ` · ${dateTime(p.paid_at)}`)));
  });
  const picked = () => boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
  const sum = () => hand.unremitted.filter((p) => picked().includes(p.id)).reduce((s, p) => s + p.amount_fen, 0);
  const total = h('strong', { class: 'money', id: 'remit-total' }, yuan(sum()));
  const notes = h('input', { placeholder: '如：现金已交财务室王会计' });
  const button = h('button', { type: 'button', class: 'primary big', disabled: !hand.unremitted.length, onclick: onPress(async () => {
    const ids = picked();
    if (!setError('remit', ids.length ? '' : '请至少选择一笔款项')) return;
    const body = { payment_ids: ids };
    if (notes.value.trim()) body.notes = notes.value.trim();
    remitKey ??= newKey();
    try {
      const r = await api('/remittances', { method: 'POST', body, idempotencyKey: remitKey });
      remitKey = null;
      note(`交款已提交：${yuan(r.data.expected_fen)}，请把款项交给财务，财务点收后确认`, 'ok');
      render(true);
    } catch (e) {
      if (!e.offline) remitKey = null; // a refusal: the next tap is a new request
      setError('remit', e.offline ? '网络不可用，未能提交：恢复网络后再点“交款”（不会重复交款）' : sync.explainZh(e));
    }
  }, '正在提交…') }, '交款');
  for (const b of boxes) b.querySelector('input').addEventListener('change', () => { total.textContent = yuan(sum()); });
  const STATUS = { submitted: '待财务确认', confirmed: '财务已确认' };
  return [back('#/', '我的工单'),
    h('h1', {}, '交款'),
    h('div', { class: 'card' }, h('p', { class: 'row' }, h('span', { class: 'grow' }, '手上未交款项'), h('strong', { class: 'money', id: 'in-hand' }, yuan(hand.in_hand_fen))),
      h('p', { class: 'hint' }, '现场收取的款项（现金等）交给财务后，由财务点收确认。')),
    hand.unremitted.length ? [h('h2', {}, `待交款项（${hand.unremitted.length}）`), h('div', { class: 'card' }, boxes),
      field('remit-notes', '备注（可不填）', notes),
      h('div', { id: 'nextbar', role: 'region', 'aria-label': '下一步' }, h('div', { class: 'inner' },
        h('p', { class: 'row', style: 'margin:0 0 .4rem' }, h('span', { class: 'grow' }, '本次交款'), total),
        h('p', { class: 'field-error', id: 'remit-error', role: 'alert' }), button))]
      : h('p', { class: 'card' }, '没有待交的款项。'),
    mine.length ? [h('h2', {}, '最近交款'), h('div', { class: 'card' }, mine.map((r) => h('div', { class: 'line remittance' },
      h('div', { class: 'grow' }, `${yuan(r.expected_fen)} · ${dateTime(r.submitted_at)}`, r.notes ? h('div', { class: 'muted' }, r.notes) : null),
      h('span', { class: `badge ${r.status === 'confirmed' ? 'ok' : 'warn'}` }, STATUS[r.status] || r.status))))] : null];
}

async function syncScreen() {
  const q = await sync.queue();
  const conflicts = q.filter((e) => e.state === 'conflict');
  const pending = q.filter((e) => e.state !== 'conflict');
  return [back('#/', '我的工单'),
    h('div', { class: 'row' }, h('h1', { class: 'grow' }, '同步'),
      h('button', { type: 'button', class: 'small', onclick: onPress(() => sync.kick(), '正在同步…') }, '立即同步')),
    h('p', { class: 'muted' }, online() ? '网络正常。' : '当前离线：操作保存在手机上，恢复网络后按顺序自动提交。'),
    q.length === 0 ? h('p', { class: 'card' }, '全部已同步，手机上没有待提交的操作。') : null,
    conflictBoxes(conflicts),
    pending.length ? [h('h2', {}, `待同步（${pending.length}）`), h('ol', { class: 'card', style: 'padding-left:2rem' },
      pending.map((e) => h('li', { class: 'queue-item' }, h('strong', {}, e.label),
        h('div', { class: 'muted' }, `${e.number} · ${dateTime(e.createdAt)}`, e.attempts ? ` · 已尝试 ${e.attempts} 次（${e.lastError || '网络不可用'}）` : ''))))] : null];
}

// ------------------------------------------------------------------ the frame

const ROUTES = [
  [/^#?\/?$/, jobsScreen, true],
  [/^#\/job\/([^/]+)$/, jobScreen, true],
  [/^#\/job\/([^/]+)\/line\/([^/]+)$/, lineScreen, false],
  [/^#\/job\/([^/]+)\/sign$/, signScreen, false],
  [/^#\/job\/([^/]+)\/pay$/, payScreen, false],
  [/^#\/job\/([^/]+)\/receipt\/([^/]+)$/, receiptScreen, false],
  [/^#\/sync$/, syncScreen, true],
  [/^#\/cash$/, cashScreen, false],
  [/^#\/signout$/, signOutScreen, false],
];
let token = 0;

/** The values the technician has typed or picked on the screen (by element id). */
function typed() {
  return [...view.querySelectorAll('[data-dirty]')].filter((el) => el.id)
    .map((el) => [el.id, el.type === 'checkbox' || el.type === 'radio' ? el.checked : el.value]);
}
view.addEventListener('input', (ev) => { ev.target.dataset.dirty = '1'; });
view.addEventListener('change', (ev) => { ev.target.dataset.dirty = '1'; });

/** the folds (`<details id>`) open on the screen drawn last, and that screen's hash */
const folds = new Set();
let foldsOf = '';
view.addEventListener('toggle', (ev) => {
  const d = ev.target;
  if (d.id && d.tagName === 'DETAILS' && !d.open) folds.delete(d.id);
}, true);

async function render(scroll) {
  const hash = location.hash || '#/';
  const [re, screen, live] = ROUTES.find(([r]) => r.test(hash)) || ROUTES[0];
  if (!scroll && !live) return; // entry screens are drawn once: what is typed (and signed) stays
  const mine = ++token;
  const args = (hash.match(re) || []).slice(1).map(decodeURIComponent);
  try {
    const nodes = await screen(...args);
    if (mine !== token || hash !== (location.hash || '#/')) return;
    const keep = scroll ? [] : typed();
    // a fold the technician opened stays open through every redraw of the same screen
    if (hash !== foldsOf) { foldsOf = hash; folds.clear(); }
    for (const d of view.querySelectorAll('details[open][id]')) folds.add(d.id);
    mount(view, nodes);
    for (const id of folds) document.getElementById(id)?.setAttribute('open', '');
    fitNextbar();
    for (const [id, value] of keep) {
      const el = document.getElementById(id);
      if (!el) continue;
      if (typeof value === 'boolean') el.checked = value; else el.value = value;
      el.dataset.dirty = '1';
    }
    if (scroll) window.scrollTo(0, 0);
  } catch (e) {
    if (mine !== token) return;
    console.error(e);
    mount(view, h('p', { class: 'card field-error', role: 'alert' }, `出错了：${sync.explainZh(e)}`), back('#/', '我的工单'));
  }
}

// The bottom bar's height, for the page's bottom padding and the toasts (which sit above it).
const barSize = new ResizeObserver(() => sizeNextbar());
function sizeNextbar() {
  const bar = document.getElementById('nextbar');
  document.documentElement.style.setProperty('--nextbar', `${bar ? bar.offsetHeight : 0}px`);
}
function fitNextbar() {
  barSize.disconnect();
  const bar = document.getElementById('nextbar');
  if (bar) barSize.observe(bar);
  sizeNextbar();
}

let pendingRender = null;
let deferred = false;
/**
 * Re-draws a list or job screen after a change (entry screens are left alone). What was
 * typed is kept; while the technician is typing (an IME may be composing) it waits.
 */
const isLive = () => (ROUTES.find(([r]) => r.test(location.hash || '#/')) || ROUTES[0])[2];
function rerender() {
  if (!isLive()) return;
  const a = document.activeElement;
  if (a && view.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== 'checkbox') { deferred = true; return; }
  clearTimeout(pendingRender);
  pendingRender = setTimeout(() => { if (isLive()) render(false); }, 30);
}
view.addEventListener('focusout', () => { if (deferred) { deferred = false; setTimeout(rerender, 0); } });

async function indicator() {
  const q = await sync.queue();
  const el = $('#sync');
  const c = q.filter((e) => e.state === 'conflict').length;
  el.hidden = q.length === 0;
  el.className = c ? 'sync conflict' : 'sync';
  el.textContent = c ? `同步冲突 ${c} 项${q.length > c ? ` · 待同步 ${q.length - c} 项` : ''}` : `待同步 ${q.length} 项`;
  $('#net').textContent = online() ? '' : '离线';
  const banner = $('#banner');
  mount(banner,
    online() ? null : h('p', { class: 'banner' }, '离线模式：显示手机上保存的工单，操作会保存在手机上，恢复网络后自动提交。'),
    c ? h('p', { class: 'banner bad' }, `有 ${c} 项操作同步冲突，未能提交。`, h('a', { href: '#/sync' }, '查看并处理')) : null,
    updated ? h('p', { class: 'banner' }, '应用已更新。', h('a', { href: location.href, onclick: () => location.reload() }, '点此刷新')) : null);
}

let updated = false;

/** New and changed jobs as they happen (web/app/live.js): a bonus over the list refresh. */
function followLive() {
  import('./live.js').then((live) => live.follow(async (e) => {
    try {
      if (!e) { await refreshJobs(); rerender(); return; } // a gap too long to replay
      const jobs = await db.kvGet('jobs');
      const known = !!jobs?.ids?.includes(e.id);
      if (!known) {
        if (!['assigned', 'accepted'].includes(e.status)) return;
        await refreshJobs(); // a new assignment: the list and its details
        const o = await sync.localOrder(e.id, user);
        if (o) toast(`新派工单：${o.view.number}`, 'ok');
      } else if ((await refreshOrder(e.id)) === false) {
        await db.kvPut('jobs', { ...jobs, ids: jobs.ids.filter((id) => id !== e.id) });
        toast('有一张工单已改派他人', 'info');
      }
      rerender();
    } catch { /* the next refresh catches up */ }
  })).catch(() => { /* offline before it was cached: the app works without it */ });
}

async function start() {
  if (!user) return;
  if (user.role !== 'technician') {
    mount(view, h('div', { class: 'card', role: 'alert' }, h('h1', {}, '此应用供技术员使用'),
      h('p', {}, `您的账户（${ROLE[user.role] || user.role}）请使用 `, h('a', { href: home(user) }, '办公页面'), '。')));
    return;
  }
  await db.open(user.id);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.addEventListener('message', (ev) => {
      if (ev.data?.type === 'shell-updated') { updated = true; indicator(); }
    });
  }
  sync.onChange(() => { indicator(); rerender(); });
  addEventListener('hashchange', () => render(true));
  addEventListener('online', async () => {
    indicator();
    await sync.kick();
    try { await refreshJobs(); } catch { /* still flaky */ }
    rerender();
  });
  addEventListener('offline', () => { indicator(); rerender(); });
  await indicator();
  await render(true);
  sync.flush();
  // the rest once the first screen and its data are in (on a slow network these requests
  // would queue ahead of the jobs): the other screens' modules, then the service worker,
  // which fetches the whole shell for offline use
  if (refreshing) await refreshing.catch(() => {});
  followLive();
  await Promise.all(Object.values(lazy).map((load) => load().catch(() => {})));
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((e) => console.warn('service worker', e));
  }
}

start();
