// The desk: a small hash router over the agent's, dispatcher's and finance's views.
//   #/search?q=  #/call  #/install  #/customers  #/customers/<id>  #/tickets  #/tickets/<id>
//   #/follow-ups  #/registry  (agents)
//   #/approvals  #/orders/<id>  #/board?day=  #/plan?day=  #/alerts  #/positions
//   #/finance  #/finance/discrepancies  #/finance/reconciliation?from=&to=  #/finance/invoices?as_of=
// Each area opens with a strip of counts read from the API; when the API refuses the
// signed-in role (403) the page says so and shows no data.
import { api, all, signOut } from '/lib/api.js';
import { h, mount, $ } from '/lib/dom.js';
import { requireUser, ROLE } from '/lib/session.js';
import { yuan, number } from '/lib/fmt.js';
import { Refused, guarded, refusalBlock, errorBlock, missed, centerId, setCenterId, centerParam, OPEN_BEFORE_ARRIVAL } from './util.js';
import * as approval from './approval.js';
import * as order from './order.js';
import * as board from './board.js';
import * as finance from './finance.js';
import * as search from './search.js';
import * as call from './call.js';
import * as install from './install.js';
import * as archive from './archive.js';
import * as tickets from './tickets.js';
import * as followups from './followups.js';
import * as registry from './registry.js';
import * as plan from './plan.js';
import * as live from './live.js';

const user = requireUser();

const AGENT = [
  ['#/call', '来电报修'], ['#/install', '安装需求'], ['#/customers', '客户档案'], ['#/tickets', '客户诉求'],
  ['#/follow-ups', '回访'], ['#/registry', '登记与导入'],
];
const DISPATCH = [
  ['#/approvals', '审批队列'], ['#/plan', '日计划'], ['#/board', '今日看板'], ['#/alerts', '超时与投诉'], ['#/positions', '技术员位置'],
];
const FINANCE = [
  ['#/finance', '交款确认'], ['#/finance/discrepancies', '差异处理'], ['#/finance/reconciliation', '对账表'], ['#/finance/invoices', '账单与账龄'],
];

const ROUTES = [
  [/^\/search$/, 'dispatch', search.results, '查找'],
  [/^\/call$/, 'dispatch', call.page, '来电报修'],
  [/^\/install$/, 'dispatch', install.page, '安装需求'],
  [/^\/customers$/, 'dispatch', archive.list, '客户档案'],
  [/^\/customers\/([\w-]+)$/, 'dispatch', archive.detail, '客户档案'],
  [/^\/tickets$/, 'dispatch', tickets.list, '客户诉求'],
  [/^\/tickets\/([\w-]+)$/, 'dispatch', tickets.detail, '客户诉求'],
  [/^\/follow-ups$/, 'dispatch', followups.list, '回访'],
  [/^\/registry$/, 'dispatch', registry.page, '登记与导入'],
  [/^\/plan$/, 'dispatch', plan.page, '日计划'],
  [/^\/approvals$/, 'dispatch', approval.queue, '审批队列'],
  [/^\/orders\/([\w-]+)$/, 'dispatch', order.detail, '工单详情'],
  [/^\/board$/, 'dispatch', board.board, '今日看板'],
  [/^\/alerts$/, 'dispatch', board.alerts, '超时与投诉'],
  [/^\/positions$/, 'dispatch', board.positions, '技术员位置'],
  [/^\/finance$/, 'finance', finance.remittances, '交款确认'],
  [/^\/finance\/discrepancies$/, 'finance', finance.discrepancies, '差异处理'],
  [/^\/finance\/reconciliation$/, 'finance', finance.reconciliation, '对账表'],
  [/^\/finance\/invoices$/, 'finance', finance.invoices, '账单与账龄'],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(qs || '') };
}

/** Navigate within the desk (replaces the query of the current view when `replace`). */
export function go(hash, { replace = false } = {}) {
  if (replace) { history.replaceState(null, '', hash); route(); } else location.hash = hash;
}

// ---------------------------------------------------------------- strips (the area's counts)

async function dispatchStrip() {
  const what = '调度台的数据';
  const [orders, unanswered, replied, breached] = await Promise.all([
    guarded(all(`/work-orders?limit=200&status=${OPEN_BEFORE_ARRIVAL.join(',')}${centerParam()}`), what),
    guarded(all(`/tickets?limit=200&status=open${centerParam()}`), what),
    guarded(all(`/tickets?limit=200&kind=complaint&status=replied${centerParam()}`), what),
    guarded(all(`/tickets?limit=200&breached=true${centerParam()}`), what),
  ]);
  const now = Date.now();
  const items = [
    ['#/approvals', '待审批', orders.filter((o) => o.status === 'submitted').length],
    ['#/approvals', '待派工', orders.filter((o) => o.status === 'approved').length],
    ['#/alerts', '预约超时', orders.filter((o) => missed(o, now)).length, true],
    ['#/alerts', '超时未回复', board.overdueTickets(breached, unanswered, now).length, true],
    ['#/alerts', '未结投诉', unanswered.filter((t) => t.kind === 'complaint').length + replied.length, true],
  ];
  return items.map(([href, label, n, alarm]) => h('a', { href, class: `pill${alarm && n ? ' alarm' : ''}` }, label, ' ', h('strong', {}, number(n))));
}

async function financeStrip() {
  const what = '财务数据';
  const [waiting, open] = await Promise.all([
    guarded(all(`/remittances?limit=200&status=submitted${centerParam()}`), what),
    guarded(all(`/discrepancies?limit=200&status=open${centerParam()}`), what),
  ]);
  const sum = waiting.reduce((a, r) => a + r.expected_fen, 0);
  return [
    h('a', { href: '#/finance', class: 'pill' }, '待确认交款 ', h('strong', {}, number(waiting.length)), ' 笔 · ', h('span', { class: 'money' }, yuan(sum))),
    h('a', { href: '#/finance/discrepancies', class: `pill${open.length ? ' alarm' : ''}` }, '未结差异 ', h('strong', {}, number(open.length))),
  ];
}

let currentArea = null;
/** Re-reads the strip of the current area (after an action changed the counts). */
export async function refreshStrip() {
  if (!currentArea) return;
  try {
    mount($('#strip'), h('div', { class: 'strip' }, await (currentArea === 'finance' ? financeStrip() : dispatchStrip())));
  } catch { /* the view shows problems */ }
}

// ---------------------------------------------------------------- chrome

function renderNav(active) {
  const groups = [];
  if (user.role !== 'finance') groups.push(['客服', AGENT]);
  if (user.role !== 'finance') groups.push(['调度', DISPATCH]);
  if (user.role !== 'agent') groups.push(['财务', FINANCE]);
  mount($('#nav'), groups.map(([name, links]) => h('div', { class: 'navgroup' },
    h('span', { class: 'navhead' }, name),
    links.map(([href, label]) => h('a', { href, 'aria-current': href === active ? 'page' : null }, label)))));
}

async function renderWho() {
  const out = $('#who');
  const parts = [h('span', {}, `${user.display_name || user.username}（${ROLE[user.role] || user.role}）`)];
  if (user.role === 'admin') {
    const sel = h('select', { id: 'center-pick', 'aria-label': '服务中心', class: 'compact' });
    parts.push(sel);
    api('/centers?limit=200').then((r) => {
      for (const c of r.data.items) sel.append(h('option', { value: c.id, selected: c.id === centerId() }, c.name));
    }).catch(() => sel.remove());
    sel.addEventListener('change', () => { setCenterId(sel.value); route(); });
  }
  parts.push(h('button', { type: 'button', class: 'small', onclick: () => signOut('/desk/') }, '退出'));
  mount(out, parts);
}

// ---------------------------------------------------------------- the router

let generation = 0;
let cleanups = [];

async function route() {
  const gen = ++generation;
  for (const f of cleanups) { try { f(); } catch { /* already gone */ } }
  cleanups = [];
  const { path, query } = parseHash();
  if (path === '/') {
    history.replaceState(null, '', user.role === 'finance' ? '#/finance' : '#/approvals');
    return route();
  }
  const found = ROUTES.map(([re, area, view, title]) => ({ m: path.match(re), area, view, title })).find((r) => r.m);
  const view = $('#view');
  if (!found) { mount(view, h('p', { class: 'banner' }, '没有这个页面。'), h('a', { href: '#/' }, '返回首页')); return; }
  const activeHref = `#${path.startsWith('/orders/') ? '/approvals'
    : path.startsWith('/customers/') ? '/customers' : path.startsWith('/tickets/') ? '/tickets' : path}`;
  renderNav(activeHref);
  document.title = `${found.title} · 派工系统`;
  currentArea = found.area;
  const alive = () => gen === generation;
  const ctx = {
    root: view, params: found.m.slice(1), query, user, alive, go, refreshStrip,
    /** repeat `fn` every `ms` while this view is shown */
    every(ms, fn) { const t = setInterval(() => { if (alive()) fn(); }, ms); cleanups.push(() => clearInterval(t)); },
    onLeave(fn) { cleanups.push(fn); },
  };
  view.setAttribute('aria-busy', 'true');
  try {
    const strip = await (found.area === 'finance' ? financeStrip() : dispatchStrip());
    if (!alive()) return;
    mount($('#strip'), h('div', { class: 'strip', 'aria-label': '概况' }, strip));
    await found.view(ctx);
  } catch (e) {
    if (!alive()) return;
    if (e instanceof Refused) {
      mount($('#strip'));
      mount(view, refusalBlock(e.what));
    } else {
      mount(view, errorBlock(e));
    }
  } finally {
    if (alive()) view.removeAttribute('aria-busy');
  }
}

if (user) {
  renderWho();
  search.box($('#find'), go);
  live.start(user, { refreshStrip, route });
  window.addEventListener('hashchange', route);
  route();
}
