// The dispatcher's day plan (#/plan?day=): the center's technicians as rows on a time line
// 07:00–22:00 (Beijing), each order a block at its visit time with the customer's window
// under it and the travel before it; approved orders waiting for a technician in a side
// list. Dragging an order onto a row at a time assigns it (or reassigns it) through the
// API with If-Match; the ranking's reasons show on every row while dragging; a refusal
// (double booking, missing skill, contractor without a reason) is shown in the row in the
// API's Chinese words and the block goes back where it was. Keyboard: select an order
// (Enter), pick technician and time in the form, Enter.
import { api, all, newKey, explain, ApiProblem } from '/lib/api.js';
import { h, mount, toast } from '/lib/dom.js';
import { time, dateTime, KIND, URGENCY, ORDER_STATUS } from '/lib/fmt.js';
import { problemText } from '/lib/problems.js';
import {
  guarded, technicians, centerParam, centerId, center, dayBounds, today, addDays, iso, field, statusClass, kmText,
} from './util.js';
import { windowText } from './approval.js';
import { haversineKm, travelMinutes, TRAVEL_KMH } from './geo.js';

const FROM = 7 * 60;
const TO = 22 * 60;
const SPAN = TO - FROM;
const SNAP = 15;
/** How long a visit is drawn (minutes); the server books ±2 h around it for clashes. */
const VISIT_MIN = 60;
const CLASH_MIN = 120;
const MOVABLE = ['approved', 'assigned', 'accepted', 'ready'];
const HIDDEN = ['cancelled', 'rejected', 'draft'];

const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const pct = (m) => `${(((Math.min(Math.max(m, FROM), TO) - FROM) / SPAN) * 100).toFixed(3)}%`;

/** The refusal in the API's Chinese words (field errors without the field names). */
export function refusalText(e) {
  if (e instanceof ApiProblem && (e.problem.errors || []).length) {
    return [...new Set(e.problem.errors.map((f) => problemText(f.code, true) || problemText(e.code) || f.message))].join('；');
  }
  return explain(e);
}

export async function page(ctx) {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('day') || '') ? ctx.query.get('day') : today();
  const what = '日计划';
  const [dayStart, dayEnd] = dayBounds(day);
  const minuteOf = (d) => Math.round((new Date(d).getTime() - dayStart.getTime()) / 60000);
  const atMinute = (m) => new Date(dayStart.getTime() + m * 60000);

  // what the page shows, re-read by load()
  let techs = [];
  let rows = new Map(); // technician id → their orders of the day, by time
  let waiting = [];
  let byId = new Map();
  let place = null; // the center
  // what the person is doing
  let selected = null; // an order id (keyboard path)
  let dragging = null; // { order, ranks: Map(techId → {rank, c}) | null }
  let refusal = null; // { techId, text, retry }
  let flash = null; // an order id just assigned
  let pendingReload = false;
  let busyCall = false;

  const grid = h('div', { class: 'plan-grid', id: 'plan-grid' });
  const side = h('aside', { class: 'plan-side', 'aria-labelledby': 'plan-waiting' });
  const form = h('div', { id: 'plan-form-box' });
  const status = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite', id: 'plan-status' });
  // the page's own element: its listeners go with it when the view changes
  const wrap = h('div', { class: 'plan-page' });

  async function load() {
    const [t, dayOrders, approved, c] = await Promise.all([
      guarded(technicians(true), what),
      guarded(all(`/work-orders?limit=200&scheduled_from=${iso(dayStart)}&scheduled_to=${iso(new Date(dayEnd.getTime() - 1000))}${centerParam()}`), what),
      guarded(all(`/work-orders?limit=200&status=approved${centerParam()}`), what),
      center(centerId()),
    ]);
    place = c;
    byId = new Map([...dayOrders, ...approved].map((o) => [o.id, o]));
    rows = new Map();
    for (const o of dayOrders) {
      if (HIDDEN.includes(o.status) || o.status === 'approved' || !o.lead_technician_id || !o.scheduled_at) continue;
      if (!rows.has(o.lead_technician_id)) rows.set(o.lead_technician_id, []);
      rows.get(o.lead_technician_id).push(o);
    }
    for (const list of rows.values()) list.sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at));
    techs = [...t.values()].filter((x) => x.active || rows.has(x.user_id));
    techs.sort((a, b) => Number(a.external) - Number(b.external) || a.display_name.localeCompare(b.display_name, 'zh-CN'));
    waiting = approved.slice().sort((a, b) => (a.urgency === b.urgency ? (a.window_start || a.requested_at).localeCompare(b.window_start || b.requested_at) : a.urgency === 'urgent' ? -1 : 1));
    if (selected && !byId.has(selected)) selected = null;
  }

  // ------------------------------------------------------------ travel

  /** Where a technician starts the day: today's last report, else the home base. */
  function startOf(t) {
    const live = t.last_lat !== null && t.last_lat !== undefined && t.last_seen_at && day === today()
      && new Date(t.last_seen_at).getTime() >= dayStart.getTime();
    return live ? { lat: t.last_lat, lng: t.last_lng, from: '最近上报位置' } : { lat: t.home_lat, lng: t.home_lng, from: '常驻地' };
  }

  /** Each order of the row with its travel: from the previous site, or the start. */
  function legs(t, list) {
    let prev = startOf(t);
    return list.map((o) => {
      const site = { lat: o.site_lat, lng: o.site_lng };
      const km = haversineKm(prev, site);
      const leg = { o, km, min: travelMinutes(km), from: prev.from };
      prev = { ...site, from: `上一单 ${o.number}` };
      return leg;
    });
  }

  // ------------------------------------------------------------ drawing

  function orderTitle(o) {
    return `${o.number} ${KIND[o.kind] || o.kind} · ${o.customer_name || ''} · ${o.site_address}`;
  }

  function block(o, leg) {
    const at = minuteOf(o.scheduled_at);
    const movable = MOVABLE.includes(o.status);
    const parts = [];
    if (o.window_start || o.window_end) {
      const ws = o.window_start ? minuteOf(o.window_start) : at;
      const we = o.window_end ? minuteOf(o.window_end) : at + VISIT_MIN;
      if (we > FROM && ws < TO) {
        parts.push(h('div', { class: 'window', style: `left:${pct(ws)};width:calc(${pct(we)} - ${pct(ws)})`, title: `客户期望时段 ${windowText(o)}` }));
      }
    }
    if (leg && leg.min > 0) {
      parts.push(h('div', {
        class: 'travel', style: `left:${pct(at - leg.min)};width:calc(${pct(at)} - ${pct(at - leg.min)})`,
        title: `路程：从${leg.from}约 ${kmText(leg.km)}，按平均时速 ${TRAVEL_KMH} 公里估算约 ${leg.min} 分钟`,
        dataset: { travel: o.id },
      }, h('span', {}, `${leg.min}分`)));
    }
    const label = `${o.number}，${time(o.scheduled_at)}，${o.customer_name || ''}，${ORDER_STATUS[o.status] || o.status}${leg ? `，路程约 ${leg.min} 分钟` : ''}`;
    parts.push(h('div', {
      class: `block ${o.kind}${o.urgency === 'urgent' ? ' urgent' : ''}${movable ? ' movable' : ' fixed'}${selected === o.id ? ' selected' : ''}${flash === o.id ? ' just' : ''}`,
      style: `left:${pct(at)};width:calc(${pct(at + VISIT_MIN)} - ${pct(at)})`,
      tabindex: 0, role: 'button', 'aria-pressed': selected === o.id ? 'true' : 'false', 'aria-label': label,
      title: `${orderTitle(o)}\n预约 ${dateTime(o.scheduled_at)}；客户期望 ${windowText(o)}；${ORDER_STATUS[o.status] || o.status}${movable ? '\n拖到其他技术员或时间可改派' : ''}`,
      draggable: movable ? 'true' : 'false', dataset: { order: o.id, status: o.status },
    },
    h('strong', {}, time(o.scheduled_at)), ' ', o.number,
    h('span', { class: 'sub' }, `${KIND[o.kind] || o.kind} · ${o.customer_name || ''}`),
    h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status)));
    return parts;
  }

  /** The red line of the present moment, on today's plan. */
  function nowLine() {
    const now = minuteOf(new Date());
    return day === today() && now > FROM && now < TO ? h('div', { class: 'now', style: `left:${pct(now)}`, title: `现在 ${hhmm(now)}`, 'aria-hidden': 'true' }) : null;
  }

  function row(t) {
    const list = rows.get(t.user_id) || [];
    const rank = dragging?.ranks?.get(t.user_id);
    let reason = null;
    if (dragging && dragging.ranks) {
      reason = rank
        ? h('div', { class: `reasons${rank.c.available ? '' : ' warn'}` }, `推荐第 ${rank.rank} · ${rank.c.reasons.join('；')}`)
        : h('div', { class: 'reasons bad' }, '不在推荐名单：不具备此类工单的技能或已停用');
    } else if (dragging) {
      reason = h('div', { class: 'reasons muted' }, '正在读取推荐理由…');
    }
    const skills = [t.can_install ? '安装' : null, t.can_repair ? '维修' : null].filter(Boolean).join('·') || '无技能';
    const lane = h('div', {
      class: `lane${dragging && dragging.ranks && !rank ? ' no-skill' : ''}`, dataset: { technician: t.user_id },
      'aria-label': `${t.display_name}的时间线`,
    }, nowLine(), list.length ? legs(t, list).map((leg) => block(leg.o, leg)) : null);
    const out = h('div', { class: `plan-row${refusal?.techId === t.user_id ? ' refused' : ''}`, dataset: { technician: t.user_id } },
      h('div', { class: 'tech-head' },
        h('strong', {}, t.display_name), t.external ? h('span', { class: 'badge warn' }, '外协') : null,
        h('div', { class: 'muted small' }, `${skills} · ${list.length} 单`),
        reason),
      lane);
    if (refusal?.techId === t.user_id) {
      out.append(h('div', { class: 'plan-refusal banner bad', role: 'alert' },
        h('span', { class: 'text' }, refusal.text),
        refusal.retry ? h('button', { type: 'button', class: 'small', onclick: refusal.retry }, '仍然派工') : null,
        h('button', { type: 'button', class: 'small', onclick: () => { refusal = null; draw(); } }, '知道了')));
    }
    return out;
  }

  function card(o) {
    return h('li', {},
      h('div', {
        class: `plan-card${selected === o.id ? ' selected' : ''}${o.urgency === 'urgent' ? ' urgent' : ''}`,
        tabindex: 0, role: 'button', draggable: 'true', dataset: { order: o.id },
        'aria-pressed': selected === o.id ? 'true' : 'false',
        'aria-label': `待派工 ${o.number}，${KIND[o.kind] || o.kind}，${o.customer_name || ''}，期望 ${windowText(o)}`,
      },
      h('div', { class: 'row' }, h('strong', {}, o.number),
        h('span', { class: 'badge' }, KIND[o.kind] || o.kind),
        o.urgency === 'urgent' ? h('span', { class: 'badge urgent' }, URGENCY.urgent) : null),
      h('div', { class: 'small' }, o.customer_name || ''),
      h('div', { class: 'muted small' }, o.site_address),
      h('div', { class: 'muted small' }, `期望：${windowText(o)}`)),
      h('a', { href: `#/orders/${o.id}`, class: 'small' }, '详情'));
  }

  function draw() {
    if (!ctx.alive()) return;
    const hours = [];
    for (let m = FROM; m <= TO; m += 60) hours.push(h('span', { class: 'hour', style: `left:${pct(m)}` }, hhmm(m)));
    mount(grid,
      h('div', { class: 'plan-row axis', 'aria-hidden': 'true' }, h('div', { class: 'tech-head' }, '技术员'), h('div', { class: 'lane axis' }, hours)),
      techs.length ? techs.map(row) : h('p', { class: 'muted' }, '本中心没有技术员。'));
    mount(side,
      h('h2', { id: 'plan-waiting' }, `待派工（${waiting.length}）`),
      h('p', { class: 'muted small' }, '拖到右侧技术员的时间线上派工；或选中后用下方表单（键盘可用）。'),
      waiting.length ? h('ul', { class: 'plan-cards' }, waiting.map(card)) : h('p', { class: 'muted' }, '没有待派工的工单。'));
    drawForm();
  }

  // ------------------------------------------------------------ assigning

  async function ranking(o, at) {
    const r = await api(`/work-orders/${o.id}/candidates?limit=50&scheduled_at=${encodeURIComponent(iso(at))}`);
    return new Map(r.data.items.map((c, i) => [c.technician_id, { rank: i + 1, c }]));
  }

  /** The visit time an order is first offered at: its own, its window's start on this day, or 09:00. */
  function defaultMinute(o) {
    for (const t of [o.scheduled_at, o.window_start]) {
      if (t && minuteOf(t) >= FROM && minuteOf(t) < TO) return Math.round(minuteOf(t) / SNAP) * SNAP;
    }
    return 9 * 60;
  }

  /** Assign (or reassign) `o` to technician `techId` at minute `m` of the day. */
  async function assignTo(o, techId, m, { outsourcing = null, allowDouble = false } = {}) {
    const t = techs.find((x) => x.user_id === techId);
    refusal = null;
    const action = o.status === 'approved' ? 'assign' : MOVABLE.includes(o.status) ? 'reassign' : null;
    if (!action) { refusal = { techId, text: `工单${ORDER_STATUS[o.status] || o.status}，不能再改派。` }; draw(); return false; }
    if (t?.external && outsourcing === null) { askOutsourcing(o, techId, m, allowDouble); return false; }
    const body = { lead_id: techId, helper_ids: [], scheduled_at: iso(atMinute(m)) };
    if (outsourcing) body.outsourcing_reason = outsourcing;
    if (allowDouble) body.allow_double_booking = true;
    busyCall = true;
    try {
      if (action === 'reassign') {
        // keep the helpers (not the new lead)
        const cur = (await api(`/work-orders/${o.id}`)).data;
        body.helper_ids = (cur.technicians || []).filter((x) => x.role !== 'lead' && x.technician_id !== techId).map((x) => x.technician_id);
      }
      await api(`/work-orders/${o.id}/${action}`, { method: 'POST', body, ifMatch: o.version, idempotencyKey: newKey() });
      const msg = `${o.number} 已${action === 'assign' ? '派工' : '改派'}给 ${t?.display_name || ''}，${day} ${hhmm(m)}`;
      toast(msg, 'ok');
      status.textContent = msg;
      flash = o.id;
      selected = null;
      await reload(true);
      return true;
    } catch (e) {
      let retry = null;
      if (e instanceof ApiProblem && e.code === 'technician_busy') {
        retry = () => assignTo(o, techId, m, { outsourcing, allowDouble: true });
      }
      if (e instanceof ApiProblem && e.status === 412) {
        refusal = { techId, text: '工单已被他人修改，已刷新，请重新操作。' };
        await reload(true);
      } else {
        refusal = { techId, text: refusalText(e), retry };
        draw(); // the block goes back where it was
      }
      status.textContent = refusal.text;
      return false;
    } finally {
      busyCall = false;
      if (pendingReload) reload();
    }
  }

  /** An external contractor (外协): the reason of the manager's approval, asked in the row. */
  function askOutsourcing(o, techId, m, allowDouble) {
    draw();
    const r = grid.querySelector(`.plan-row[data-technician="${techId}"]`);
    if (!r) return;
    const input = h('input', { id: 'plan-outsourcing', maxlength: 500, placeholder: '例如：本中心技术员均已排满，客户要求当日修复' });
    const f = h('form', { class: 'plan-ask card', 'aria-label': '外协原因' },
      h('p', {}, `${o.number} 派给外协 ${hhmm(m)}：派外协需经理批准，请填写外协原因。`),
      field('外协原因', input),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary small' }, '确认派外协'),
        h('button', { type: 'button', class: 'small', onclick: () => draw() }, '取消')));
    f.addEventListener('submit', (ev) => { ev.preventDefault(); assignTo(o, techId, m, { outsourcing: input.value.trim(), allowDouble }); });
    f.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') draw(); });
    r.append(f);
    input.focus();
  }

  // ------------------------------------------------------------ the keyboard path

  function drawForm() {
    const o = selected ? byId.get(selected) : null;
    if (!o) {
      mount(form, h('p', { class: 'muted small' }, '选中一张工单（点击或回车）后，在此选择技术员和时间派工。'));
      return;
    }
    const techSel = h('select', { id: 'plan-tech', required: true },
      h('option', { value: '' }, '正在读取推荐…'));
    const when = h('input', { id: 'plan-time', type: 'time', min: hhmm(FROM), max: hhmm(TO - SNAP), step: SNAP * 60, value: hhmm(defaultMinute(o)), required: true });
    const err = h('p', { class: 'field-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, o.status === 'approved' ? '派工' : '改派');
    const f = h('form', { id: 'plan-form', class: 'card', 'aria-labelledby': 'plan-form-title' },
      h('h2', { id: 'plan-form-title' }, `${o.status === 'approved' ? '派工' : '改派'} ${o.number}`),
      h('p', { class: 'muted small' }, `${o.customer_name || ''} · ${o.site_address} · 期望 ${windowText(o)}`),
      field('技术员（按推荐排序）', techSel),
      field(`上门时间（${day}，北京时间）`, when),
      err,
      h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'small', onclick: () => { selected = null; draw(); } }, '取消选择')));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const [hh, mm] = (when.value || '').split(':').map(Number);
      const m = hh * 60 + mm;
      if (!techSel.value) { err.textContent = '请选择技术员'; techSel.focus(); return; }
      if (!(m >= FROM && m < TO)) { err.textContent = '请选择 07:00–22:00 之间的时间'; when.focus(); return; }
      submit.disabled = true;
      try { await assignTo(o, techSel.value, Math.round(m / SNAP) * SNAP); } finally { submit.disabled = false; }
    });
    f.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { selected = null; draw(); } });
    mount(form, f);
    ranking(o, atMinute(defaultMinute(o))).then((ranks) => {
      if (!techSel.isConnected) return;
      const ranked = techs.filter((t) => ranks.has(t.user_id)).sort((a, b) => ranks.get(a.user_id).rank - ranks.get(b.user_id).rank);
      const rest = techs.filter((t) => !ranks.has(t.user_id) && t.active);
      mount(techSel,
        h('option', { value: '' }, '请选择技术员'),
        ranked.map((t) => { const { rank, c } = ranks.get(t.user_id); return h('option', { value: t.user_id, selected: t.user_id === o.lead_technician_id }, `${rank}. ${t.display_name}${t.external ? '（外协）' : ''} — ${c.reasons.join('；')}`); }),
        rest.map((t) => h('option', { value: t.user_id }, `${t.display_name}（不具备此类工单的技能）`)));
    }).catch((e) => { mount(techSel, h('option', { value: '' }, '推荐读取失败')); err.textContent = refusalText(e); });
  }

  function select(id) {
    selected = selected === id ? null : id;
    refusal = null;
    draw();
    if (selected) document.getElementById('plan-tech')?.focus();
  }

  // ------------------------------------------------------------ dragging

  const minuteAt = (lane, clientX) => {
    const r = lane.getBoundingClientRect();
    const frac = Math.min(Math.max((clientX - r.left) / r.width, 0), 1);
    return Math.min(Math.max(Math.round((FROM + frac * SPAN) / SNAP) * SNAP, FROM), TO - SNAP);
  };

  function ghost(lane, m) {
    let g = lane.querySelector('.ghost');
    if (!g) { g = h('div', { class: 'ghost' }, h('span')); lane.append(g); }
    const techId = lane.dataset.technician;
    const clash = (rows.get(techId) || []).find((x) => x.id !== dragging?.order.id && Math.abs(minuteOf(x.scheduled_at) - m) < CLASH_MIN);
    g.style.left = pct(m);
    g.style.width = `calc(${pct(m + VISIT_MIN)} - ${pct(m)})`;
    g.classList.toggle('clash', !!clash);
    g.firstChild.textContent = clash ? `${hhmm(m)} 与 ${clash.number} 时间冲突` : hhmm(m);
  }

  /** The ranking's reasons on every row: `undefined` while reading, `null` when it failed. */
  function showReasons(ranks) {
    for (const r of grid.querySelectorAll('.plan-row[data-technician]')) {
      const rank = ranks?.get(r.dataset.technician);
      const text = ranks === undefined ? h('div', { class: 'reasons muted' }, '正在读取推荐理由…')
        : ranks === null ? h('div', { class: 'reasons muted' }, '推荐理由读取失败（仍可派工）')
          : rank ? h('div', { class: `reasons${rank.c.available ? '' : ' warn'}` }, `推荐第 ${rank.rank} · ${rank.c.reasons.join('；')}`)
            : h('div', { class: 'reasons bad' }, '不在推荐名单：不具备此类工单的技能或已停用');
      const old = r.querySelector('.tech-head .reasons');
      if (old) old.replaceWith(text); else r.querySelector('.tech-head')?.append(text);
      r.querySelector('.lane')?.classList.toggle('no-skill', !!ranks && !rank);
    }
  }

  wrap.addEventListener('dragstart', (ev) => {
    const el = ev.target.closest?.('[draggable="true"][data-order]');
    if (!el || busyCall) return;
    const o = byId.get(el.dataset.order);
    if (!o) return;
    ev.dataTransfer.setData('text/plain', o.id);
    ev.dataTransfer.effectAllowed = 'move';
    refusal = null;
    // the old refusal is hidden, not removed: the rows must not move under the pointer
    grid.querySelector('.plan-refusal')?.classList.add('stale');
    grid.querySelector('.plan-row.refused')?.classList.remove('refused');
    dragging = { order: o, ranks: null };
    document.body.classList.add('plan-dragging');
    // the rows are patched, never redrawn, while dragging (a redraw would drop the drag)
    showReasons(undefined);
    ranking(o, atMinute(defaultMinute(o))).then((ranks) => {
      if (dragging?.order.id !== o.id) return;
      dragging.ranks = ranks;
      showReasons(ranks);
    }).catch(() => { if (dragging?.order.id === o.id) showReasons(null); });
  });
  wrap.addEventListener('dragover', (ev) => {
    const lane = ev.target.closest?.('.lane[data-technician]');
    if (!lane || !dragging) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'move';
    for (const l of grid.querySelectorAll('.lane.over')) if (l !== lane) { l.classList.remove('over'); l.querySelector('.ghost')?.remove(); }
    lane.classList.add('over');
    ghost(lane, minuteAt(lane, ev.clientX));
  });
  wrap.addEventListener('drop', (ev) => {
    const lane = ev.target.closest?.('.lane[data-technician]');
    if (!lane || !dragging) return;
    ev.preventDefault();
    const o = dragging.order;
    const m = minuteAt(lane, ev.clientX);
    dragging = null;
    document.body.classList.remove('plan-dragging');
    // shown at once where it was dropped, while the API decides
    lane.querySelector('.ghost')?.classList.add('pending');
    assignTo(o, lane.dataset.technician, m);
  });
  wrap.addEventListener('dragend', () => {
    if (!dragging) return;
    dragging = null;
    document.body.classList.remove('plan-dragging');
    draw();
    if (pendingReload) reload();
  });
  wrap.addEventListener('click', (ev) => {
    const el = ev.target.closest?.('.plan-card[data-order], .block.movable[data-order]');
    if (el) select(el.dataset.order);
  });
  wrap.addEventListener('keydown', (ev) => {
    const el = ev.target.closest?.('.plan-card[data-order], .block[data-order]');
    if (!el || (ev.key !== 'Enter' && ev.key !== ' ')) return;
    ev.preventDefault();
    if (el.classList.contains('fixed')) { location.hash = `#/orders/${el.dataset.order}`; return; }
    select(el.dataset.order);
  });

  // ------------------------------------------------------------ live updates

  /** Reads the plan again and draws it; an event during a drag or a call waits for its end. */
  async function reload(force = false) {
    if (!force && (dragging || busyCall)) { pendingReload = true; return; }
    pendingReload = false;
    try { await load(); draw(); } catch (e) { status.textContent = `刷新失败：${explain(e)}`; }
  }
  let debounce = null;
  const onEvent = (ev) => {
    if (ev.detail?.kind !== 'order') return;
    clearTimeout(debounce);
    debounce = setTimeout(reload, 300);
  };
  document.addEventListener('dispatch-event', onEvent);
  ctx.onLeave(() => { document.removeEventListener('dispatch-event', onEvent); clearTimeout(debounce); document.body.classList.remove('plan-dragging'); });

  // ------------------------------------------------------------ the page

  await load();
  const dayInput = h('input', { type: 'date', id: 'plan-day', value: day, class: 'compact' });
  dayInput.addEventListener('change', () => { if (dayInput.value) ctx.go(`#/plan?day=${dayInput.value}`); });
  mount(ctx.root, wrap);
  mount(wrap,
    h('div', { class: 'pagehead' },
      h('h1', {}, day === today() ? `今日计划（${day}）` : `日计划（${day}）`),
      h('a', { class: 'button small', href: `#/plan?day=${addDays(day, -1)}` }, '← 前一天'),
      field('日期', dayInput),
      h('a', { class: 'button small', href: `#/plan?day=${addDays(day, 1)}` }, '后一天 →'),
      day !== today() ? h('a', { class: 'button small', href: '#/plan' }, '回到今天') : null,
      h('button', { type: 'button', class: 'small', onclick: () => reload() }, '刷新')),
    h('p', { class: 'muted small plan-legend' },
      h('span', { class: 'key block-key' }, '工单（按 1 小时显示）'),
      h('span', { class: 'key window-key' }, '客户期望时段'),
      h('span', { class: 'key travel-key' }, '路程'),
      `路程按直线（球面）距离、平均时速 ${TRAVEL_KMH} 公里估算：第一单从技术员今日最近上报位置（没有则从常驻地）出发，之后从上一单地点出发。${place ? `服务中心：${place.name}。` : ''}`),
    status,
    h('div', { class: 'plan' }, h('div', { class: 'plan-left' }, side, form), grid));
  draw();
}
