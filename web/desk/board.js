// The dispatcher's day: the board by technician (refreshing), deadline breaches and open
// complaints, and the technicians' last known positions on the map (web/desk/map.js).
import { all } from '/lib/api.js';
import { h, mount } from '/lib/dom.js';
import { dateTime, time, KIND, ORDER_STATUS, URGENCY, number } from '/lib/fmt.js';
import {
  guarded, technicians, customers, customerName, personName, table, field, centerParam, centerId, center,
  statusClass, missed, deadlineOf, dayBounds, today, addDays, iso, km, kmText, TICKET_KIND, TICKET_STATUS,
  OPEN_BEFORE_ARRIVAL,
} from './util.js';
import { mapView } from './map.js';

const REFRESH_KEY = 'dispatch.desk.refresh';
const REFRESH = [[5, '每 5 秒'], [15, '每 15 秒'], [30, '每 30 秒'], [60, '每 60 秒'], [0, '不自动刷新']];

/** "刷新" controls shared by the refreshing views: a select and the time of the last read. */
function refresher(ctx, reload) {
  const stored = Number(localStorage.getItem(REFRESH_KEY) || 30);
  const sel = h('select', { id: 'refresh-every', class: 'compact' }, REFRESH.map(([v, l]) => h('option', { value: v, selected: v === stored }, l)));
  const stamp = h('span', { class: 'muted', id: 'refreshed-at' });
  let timer = null;
  const arm = () => {
    if (timer) clearInterval(timer);
    const secs = Number(sel.value);
    timer = secs ? setInterval(() => { if (ctx.alive()) tick(); }, secs * 1000) : null;
  };
  const mark = () => { stamp.textContent = `更新于 ${new Date().toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })}`; };
  const tick = async () => {
    try { await reload(); mark(); } catch { stamp.textContent = '刷新失败，稍后重试'; }
  };
  sel.addEventListener('change', () => { localStorage.setItem(REFRESH_KEY, sel.value); arm(); });
  const onVisible = () => { if (document.visibilityState === 'visible' && ctx.alive()) tick(); };
  document.addEventListener('visibilitychange', onVisible);
  // live: an order or ticket change re-reads the view (a burst once), besides the timer
  let soon = null;
  const onEvent = (ev) => {
    if (!['order', 'ticket'].includes(ev.detail?.kind)) return;
    clearTimeout(soon);
    soon = setTimeout(() => { if (ctx.alive()) tick(); }, 300);
  };
  document.addEventListener('dispatch-event', onEvent);
  ctx.onLeave(() => {
    if (timer) clearInterval(timer);
    clearTimeout(soon);
    document.removeEventListener('visibilitychange', onVisible);
    document.removeEventListener('dispatch-event', onEvent);
  });
  arm();
  const now = h('button', { type: 'button', class: 'small', onclick: tick }, '立即刷新');
  return { controls: h('div', { class: 'row refresh' }, field('自动刷新', sel), now, stamp), tick, mark };
}

// ---------------------------------------------------------------- the board

export async function board(ctx) {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('day') || '') ? ctx.query.get('day') : today();
  const highlight = ctx.query.get('highlight');
  const what = '调度看板';
  const [from, to] = dayBounds(day);
  const body = h('div', { id: 'board-body' });

  const load = async () => {
    const [techs, orders] = await Promise.all([
      guarded(technicians(true), what),
      guarded(all(`/work-orders?limit=200&scheduled_from=${iso(from)}&scheduled_to=${iso(new Date(to.getTime() - 1000))}${centerParam()}`), what),
    ]);
    const shown = orders.filter((o) => !['cancelled', 'rejected'].includes(o.status));
    shown.sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at));
    const names = await customers(shown.map((o) => o.customer_id));
    if (!ctx.alive()) return;
    const byTech = new Map();
    for (const o of shown) {
      const k = o.lead_technician_id || '';
      if (!byTech.has(k)) byTech.set(k, []);
      byTech.get(k).push(o);
    }
    const people = [...techs.values()].filter((t) => t.active || byTech.has(t.user_id));
    people.sort((a, b) => (byTech.get(b.user_id)?.length || 0) - (byTech.get(a.user_id)?.length || 0) || a.display_name.localeCompare(b.display_name, 'zh-CN'));
    const card = (o) => h('li', { class: `job${o.id === highlight ? ' highlight' : ''}${missed(o) ? ' late' : ''}`, dataset: { order: o.id } },
      h('div', { class: 'row' },
        h('time', { datetime: o.scheduled_at }, time(o.scheduled_at)),
        h('a', { href: `#/orders/${o.id}` }, o.number),
        h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status),
        o.urgency === 'urgent' ? h('span', { class: 'badge urgent' }, URGENCY.urgent) : null,
        missed(o) ? h('span', { class: 'badge bad' }, '预约超时') : null),
      h('div', { class: 'muted small' }, `${KIND[o.kind] || o.kind} · ${customerName(names, o.customer_id)} · ${o.site_address}`));
    const rows = people.map((t) => {
      const jobs = byTech.get(t.user_id) || [];
      return h('tr', { dataset: { technician: t.user_id } },
        h('th', { scope: 'row' }, t.display_name, t.external ? h('span', { class: 'badge warn' }, '外协') : null,
          h('div', { class: 'muted small' }, [t.can_install ? '安装' : null, t.can_repair ? '维修' : null].filter(Boolean).join('·'))),
        h('td', { class: 'num' }, number(jobs.length)),
        h('td', {}, jobs.length ? h('ol', { class: 'jobs' }, jobs.map(card)) : h('span', { class: 'muted' }, '空闲')));
    });
    const orphans = [...byTech.entries()].filter(([k]) => !people.some((t) => t.user_id === k)).flatMap(([, v]) => v);
    if (orphans.length) rows.push(h('tr', {}, h('th', { scope: 'row' }, '其他'), h('td', { class: 'num' }, number(orphans.length)), h('td', {}, h('ol', { class: 'jobs' }, orphans.map(card)))));
    const done = shown.filter((o) => ['completed', 'closed'].includes(o.status)).length;
    mount(body,
      h('p', { class: 'muted' }, `当日共 ${number(shown.length)} 单，已完工 ${number(done)} 单，预约超时 ${number(shown.filter((o) => missed(o)).length)} 单。`),
      Object.assign(table(`${day} 按技术员排班`, ['技术员', '单数', '当日工单（按预约时间）'], rows, '本中心没有技术员'), { className: 'board' }));
  };

  const dayInput = h('input', { type: 'date', id: 'board-day', value: day, class: 'compact' });
  dayInput.addEventListener('change', () => { if (dayInput.value) ctx.go(`#/board?day=${dayInput.value}`); });
  const { controls, mark } = refresher(ctx, load);
  mount(ctx.root,
    h('div', { class: 'pagehead' },
      h('h1', {}, day === today() ? `今日看板（${day}）` : `看板（${day}）`),
      h('a', { class: 'button small', href: `#/board?day=${addDays(day, -1)}` }, '← 前一天'),
      field('日期', dayInput),
      h('a', { class: 'button small', href: `#/board?day=${addDays(day, 1)}` }, '后一天 →'),
      day !== today() ? h('a', { class: 'button small', href: '#/board' }, '回到今天') : null,
      controls),
    body);
  await load();
  mark();
}

// ---------------------------------------------------------------- breaches and complaints

/** Tickets past their reply deadline: marked breached by the server's job (kept after a
 *  late reply, until closed), or still unanswered past the deadline (the job runs each
 *  minute; the page does not wait for it). */
export function overdueTickets(breached, unanswered, now = Date.now()) {
  const out = new Map(breached.filter((t) => t.status !== 'closed').map((t) => [t.id, t]));
  for (const t of unanswered) if (new Date(t.reply_due_at).getTime() < now) out.set(t.id, t);
  return [...out.values()].sort((a, b) => a.reply_due_at.localeCompare(b.reply_due_at));
}

export async function alerts(ctx) {
  const what = '超时与投诉';
  const body = h('div');
  const load = async () => {
    const [orders, breached, unanswered, replied] = await Promise.all([
      guarded(all(`/work-orders?limit=200&status=${OPEN_BEFORE_ARRIVAL.join(',')}${centerParam()}`), what),
      guarded(all(`/tickets?limit=200&breached=true${centerParam()}`), what),
      guarded(all(`/tickets?limit=200&status=open${centerParam()}`), what),
      guarded(all(`/tickets?limit=200&kind=complaint&status=replied${centerParam()}`), what),
    ]);
    const now = Date.now();
    const late = orders.filter((o) => missed(o, now)).sort((a, b) => deadlineOf(a) - deadlineOf(b));
    const tickets = overdueTickets(breached, unanswered, now);
    const open = [...unanswered.filter((t) => t.kind === 'complaint'), ...replied].sort((a, b) => a.reply_due_at.localeCompare(b.reply_due_at));
    const names = await customers([...late, ...tickets, ...open].map((x) => x.customer_id));
    const people = new Map();
    await Promise.all([...late.map((o) => o.lead_technician_id), ...tickets.map((t) => t.owner_id), ...open.map((t) => t.owner_id)]
      .filter(Boolean).map(async (id) => people.set(id, await personName(id))));
    if (!ctx.alive()) return;
    const overdue = (d) => {
      const m = Math.max(0, Math.round((now - new Date(d).getTime()) / 60000));
      return m < 60 ? `${m} 分钟` : m < 2880 ? `${Math.floor(m / 60)} 小时 ${m % 60} 分` : `${Math.floor(m / 1440)} 天`;
    };
    const ticketRow = (t) => h('tr', { dataset: { ticket: t.id } },
      h('td', {}, t.number), h('td', {}, TICKET_KIND[t.kind] || t.kind),
      h('td', {}, h('span', { class: `badge ${t.urgency === 'urgent' ? 'urgent' : ''}` }, URGENCY[t.urgency] || t.urgency)),
      h('td', {}, customerName(names, t.customer_id)), h('td', {}, t.subject),
      h('td', {}, people.get(t.owner_id) || '—'), h('td', {}, dateTime(t.received_at)),
      h('td', {}, dateTime(t.reply_due_at), t.breached || (t.status === 'open' && new Date(t.reply_due_at).getTime() < now) ? h('span', { class: 'badge bad' }, '已超时') : null),
      h('td', {}, TICKET_STATUS[t.status] || t.status),
      h('td', {}, t.order_id ? h('a', { href: `#/orders/${t.order_id}` }, '相关工单') : '—'));
    mount(body,
      h('section', { 'aria-labelledby': 'al-late' },
        h('h2', { id: 'al-late' }, `预约超时（${late.length}）`),
        h('p', { class: 'muted small' }, '已过客户期望时段结束（或预约时间两小时后）仍未到场的工单。'),
        table('预约超时工单', ['工单号', '客户', '主修技术员', '预约上门', '应到场时限', '已超时', '状态'], late.map((o) => h('tr', { dataset: { order: o.id } },
          h('td', {}, h('a', { href: `#/orders/${o.id}` }, o.number)),
          h('td', {}, customerName(names, o.customer_id)),
          h('td', {}, o.lead_technician_id ? people.get(o.lead_technician_id) : h('span', { class: 'badge bad' }, '未派工')),
          h('td', {}, o.scheduled_at ? dateTime(o.scheduled_at) : '—'),
          h('td', {}, dateTime(deadlineOf(o))),
          h('td', {}, h('span', { class: 'badge bad' }, overdue(deadlineOf(o)))),
          h('td', {}, h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status)))), '没有预约超时的工单')),
      h('section', { 'aria-labelledby': 'al-breach' },
        h('h2', { id: 'al-breach' }, `超时未回复的咨询、投诉、建议（${tickets.length}）`),
        table('超时工单', ['编号', '类型', '紧急', '客户', '主题', '首问负责人', '受理时间', '回复时限', '状态', '工单'], tickets.map(ticketRow), '没有超时的记录')),
      h('section', { 'aria-labelledby': 'al-compl' },
        h('h2', { id: 'al-compl' }, `未结投诉（${open.length}）`),
        table('未结投诉', ['编号', '类型', '紧急', '客户', '主题', '首问负责人', '受理时间', '回复时限', '状态', '工单'], open.map(ticketRow), '没有未结投诉')));
  };
  const { controls, mark } = refresher(ctx, load);
  mount(ctx.root, h('div', { class: 'pagehead' }, h('h1', {}, '超时与投诉'), controls), body);
  await load();
  mark();
}

// ---------------------------------------------------------------- positions

export async function positions(ctx) {
  const what = '技术员位置';
  const mapBox = h('div', { class: 'positions-map' });
  const tableBox = h('div');
  const body = h('div', { class: 'positions' }, mapBox, tableBox);
  let view = null;
  ctx.onLeave(() => view?.destroy());
  const load = async () => {
    const [techs, c] = await Promise.all([guarded(technicians(true), what), center(centerId())]);
    const [from, to] = dayBounds(today());
    const orders = await guarded(all(`/work-orders?limit=200&scheduled_from=${iso(from)}&scheduled_to=${iso(new Date(to.getTime() - 1000))}${centerParam()}`), what);
    if (!ctx.alive()) return;
    const list = [...techs.values()].filter((t) => t.active);
    const origin = c ? { lat: c.lat, lng: c.lng } : list.length ? { lat: list[0].home_lat, lng: list[0].home_lng } : { lat: 34.7466, lng: 113.6254 };
    const now = Date.now();
    const pts = list.map((t) => {
      const live = t.last_lat !== null && t.last_lat !== undefined;
      const p = live ? { lat: t.last_lat, lng: t.last_lng } : { lat: t.home_lat, lng: t.home_lng };
      const jobs = orders.filter((o) => o.lead_technician_id === t.user_id && !['cancelled', 'rejected'].includes(o.status));
      const onSite = jobs.find((o) => ['en_route', 'on_site'].includes(o.status));
      return { t, live, p, dist: km(origin, p), jobs, onSite, stale: live && t.last_seen_at && now - new Date(t.last_seen_at).getTime() > 4 * 3600000 };
    });
    const sites = orders.filter((o) => !['cancelled', 'rejected', 'completed', 'closed'].includes(o.status));
    // the center, today's sites, the technicians (web/desk/map.js: a map when tiles are
    // configured, else the plot of rings around the center)
    const markers = [
      { ...origin, kind: 'center', label: c?.name || '服务中心', title: c?.name || '服务中心' },
      ...sites.map((o) => ({ lat: o.site_lat, lng: o.site_lng, kind: 'site', data: { order: o.id }, title: `${o.number} ${ORDER_STATUS[o.status] || o.status} ${time(o.scheduled_at)} ${o.site_address}` })),
      ...pts.map((q) => ({
        ...q.p, kind: q.live ? 'live' : 'home', label: q.t.display_name, data: { technician: q.t.user_id },
        classes: [q.stale ? 'stale' : '', q.onSite ? 'busy' : ''].filter(Boolean).join(' '),
        title: `${q.t.display_name}：${q.live ? `最近上报 ${dateTime(q.t.last_seen_at)}` : '常驻地（未上报位置）'}，距中心 ${kmText(q.dist)}`,
      })),
    ];
    if (view) view.setMarkers(markers);
    else view = mapView(mapBox, { center: [origin.lat, origin.lng], markers, title: `${c?.name || '服务中心'}周边技术员位置`, centerName: c?.name, id: 'positions-plot' });
    const rows = pts.sort((a, b) => a.dist - b.dist).map((q) => h('tr', { dataset: { technician: q.t.user_id } },
      h('th', { scope: 'row' }, q.t.display_name, q.t.external ? h('span', { class: 'badge warn' }, '外协') : null),
      h('td', {}, q.live ? h('span', { class: `badge ${q.stale ? 'warn' : 'ok'}` }, q.stale ? '上报较早' : '实时') : h('span', { class: 'badge' }, '常驻地')),
      h('td', {}, q.live ? dateTime(q.t.last_seen_at) : '—'),
      h('td', { class: 'num' }, kmText(q.dist)),
      h('td', { class: 'num' }, number(q.jobs.length)),
      h('td', {}, q.onSite ? h('a', { href: `#/orders/${q.onSite.id}` }, `${ORDER_STATUS[q.onSite.status]} ${q.onSite.number}`) : '—')));
    mount(tableBox, table('技术员位置', ['技术员', '位置来源', '最后上报（北京时间）', '距中心', '今日单数', '进行中'], rows, '本中心没有技术员'));
  };
  const { controls, mark } = refresher(ctx, load);
  mount(ctx.root, h('div', { class: 'pagehead' }, h('h1', {}, '技术员位置'), controls), body);
  await load();
  mark();
}
