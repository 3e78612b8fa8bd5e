// The approval queue: submitted orders waiting for a manager, and approved orders
// waiting for a technician. Each opens the order's page (#/orders/<id>).
import { all } from '/lib/api.js';
import { h, mount } from '/lib/dom.js';
import { dateTime, time, date, KIND, URGENCY, ORDER_STATUS } from '/lib/fmt.js';
import { guarded, customers, customerName, table, centerParam, statusClass } from './util.js';

/** "11/27 09:00 – 12:00" for an order's window (Beijing). */
export function windowText(o) {
  if (!o.window_start && !o.window_end) return '—';
  if (o.window_start && o.window_end && date(o.window_start) === date(o.window_end)) return `${dateTime(o.window_start)} – ${time(o.window_end)}`;
  return `${dateTime(o.window_start)} – ${dateTime(o.window_end)}`;
}

const byUrgencyThenAge = (a, b) => (a.urgency === b.urgency ? a.requested_at.localeCompare(b.requested_at) : a.urgency === 'urgent' ? -1 : 1);

function rows(list, names, action) {
  return list.map((o) => h('tr', { dataset: { order: o.id } },
    h('td', {}, h('a', { href: `#/orders/${o.id}` }, o.number)),
    h('td', {}, KIND[o.kind] || o.kind),
    h('td', {}, h('span', { class: `badge ${o.urgency === 'urgent' ? 'urgent' : ''}` }, URGENCY[o.urgency] || o.urgency)),
    h('td', {}, customerName(names, o.customer_id)),
    h('td', { class: 'addr' }, o.site_address),
    h('td', {}, windowText(o)),
    h('td', {}, dateTime(o.requested_at)),
    h('td', {}, h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status)),
    h('td', {}, h('a', { class: 'button small', href: `#/orders/${o.id}`, 'aria-label': `${action} ${o.number}` }, action))));
}

const HEAD = ['工单号', '类型', '紧急程度', '客户', '作业地址', '期望上门时间', '受理时间', '状态', '操作'];

export async function queue(ctx) {
  const what = '审批队列';
  const load = async () => {
    const [submitted, approved] = await Promise.all([
      guarded(all(`/work-orders?limit=200&status=submitted${centerParam()}`), what),
      guarded(all(`/work-orders?limit=200&status=approved${centerParam()}`), what),
    ]);
    submitted.sort(byUrgencyThenAge);
    approved.sort(byUrgencyThenAge);
    const names = await customers([...submitted, ...approved].map((o) => o.customer_id));
    return { submitted, approved, names };
  };
  const render = ({ submitted, approved, names }) => {
    if (!ctx.alive()) return;
    mount(ctx.root,
      h('div', { class: 'pagehead' }, h('h1', {}, '审批队列'), h('span', { class: 'muted' }, '新工单实时显示')),
      h('section', { 'aria-labelledby': 'q-sub' },
        h('h2', { id: 'q-sub' }, `待审批（${submitted.length}）`),
        table('待审批工单', HEAD, rows(submitted, names, '审批'), '没有待审批的工单')),
      h('section', { 'aria-labelledby': 'q-app' },
        h('h2', { id: 'q-app' }, `已审批待派工（${approved.length}）`),
        table('已审批待派工', HEAD, rows(approved, names, '派工'), '没有待派工的工单')));
  };
  render(await load());
  const reload = async () => { try { render(await load()); } catch { /* next time */ } };
  // live: any order change re-reads the queue (a burst once); the 30 s poll stays as the
  // fallback when the event stream is down
  let soon = null;
  const onEvent = (ev) => {
    if (ev.detail?.kind !== 'order') return;
    clearTimeout(soon);
    soon = setTimeout(() => { if (ctx.alive()) reload(); }, 150);
  };
  document.addEventListener('dispatch-event', onEvent);
  ctx.onLeave(() => { clearTimeout(soon); document.removeEventListener('dispatch-event', onEvent); });
  ctx.every(30000, reload);
}
