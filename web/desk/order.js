// An order's page: its details and timeline; approve or reject; the ranked candidates
// with their reasons and distances, assign (or reassign) and schedule the visit; the parts,
// the money, the PDF, the signature, photos and the map (web/desk/order-media.js).
import { api, newKey, explain, ApiProblem } from '/lib/api.js';
import { h, mount, toast } from '/lib/dom.js';
import { dateTime, yuan, chinaDay, KIND, URGENCY, ORDER_STATUS } from '/lib/fmt.js';
import {
  guarded, customer, personName, technicians, table, field, busy, ACTION, CHANNEL, statusClass,
  toLocalInput, fromLocalInput, iso, kmText, missed, deadlineOf,
} from './util.js';
import { windowText } from './approval.js';
import { mapSection, documentsSection, partsSection, moneySection } from './order-media.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const LINE_STATUS = { pending: '待处理', done: '已完成', not_done: '未完成' };
const WORK = { install: '安装', terminal_swap: '换终端', sim_swap: '换SIM卡', repair: '维修', inspect: '检查' };

/** A comment with the ids in it replaced by people's names. */
async function humanize(text) {
  if (!text) return '';
  const ids = [...new Set(text.match(UUID) || [])];
  const names = await Promise.all(ids.map(personName));
  let out = text.replace(/^lead /, '主修 ').replace(/, helpers /, '，协助 ').replace(/; double-booked on purpose/, '；时间冲突已确认');
  ids.forEach((id, i) => { out = out.split(id).join(names[i]); });
  return out;
}

/** A line's 上线检测: passed with the first fix's time, or waiting with what it lacks. */
function firstReportCell(l) {
  const r = l.first_report;
  if (!r) return '—';
  if (r.status === 'passed') {
    return h('span', { class: 'badge ok', title: r.reported_iccid ? `ICCID ${r.reported_iccid}` : '' }, `已上线 ${dateTime(r.first_fix_at)}`);
  }
  return h('div', {}, h('span', { class: 'badge warn' }, '等待上线'),
    (r.missing || []).map((m) => h('div', { class: 'small muted' }, m.message)),
    r.platform_error ? h('div', { class: 'small bad-text' }, r.platform_error) : null);
}

/** Order actions of this page under way (a live redraw waits for them to be drawn). */
let acting = 0;

/** Calls an order action with the order's version and a fresh Idempotency-Key. */
async function act(order, action, body = {}) {
  acting++;
  try {
    const r = await api(`/work-orders/${order.id}/${action}`, { method: 'POST', body, ifMatch: order.version, idempotencyKey: newKey() });
    return r.data;
  } finally {
    // after the caller's continuation has started drawing the answer
    setTimeout(() => { acting--; }, 0);
  }
}

function defaultVisit(o) {
  if (o.scheduled_at) return new Date(o.scheduled_at);
  if (o.window_start && new Date(o.window_start).getTime() > Date.now()) return new Date(o.window_start);
  const t = new Date(Date.now() + 30 * 60000);
  t.setUTCMinutes(t.getUTCMinutes() < 30 ? 30 : 60, 0, 0);
  return t;
}

export async function detail(ctx) {
  const [id] = ctx.params;
  const what = '工单详情';
  const load = async () => {
    const [o, tl] = await Promise.all([
      guarded(api(`/work-orders/${id}`), what).then((r) => r.data),
      guarded(api(`/work-orders/${id}/timeline`), what).then((r) => r.data.items),
    ]);
    return { o, tl };
  };
  let state = await load();
  let rendering = 0;
  const rerender = async (o) => {
    rendering++;
    try {
      state = o ? { o, tl: (await api(`/work-orders/${id}/timeline`)).data.items } : await load();
      if (ctx.alive()) await render();
      ctx.refreshStrip();
    } finally {
      rendering--;
    }
  };

  async function render() {
    const { o, tl } = state;
    const [cust, lead, crew, events] = await Promise.all([
      customer(o.customer_id),
      personName(o.lead_technician_id),
      Promise.all((o.technicians || []).map(async (t) => `${await personName(t.technician_id)}（${t.role === 'lead' ? '主修' : '协助'}）`)),
      Promise.all(tl.map(async (e) => ({ ...e, who: await personName(e.actor_id), text: await humanize(e.comment) }))),
    ]);
    if (!ctx.alive()) return;
    const late = missed(o);
    const info = [
      ['客户', cust ? `${cust.name}` : '—'],
      ['联系人', `${o.contact_name} ${o.contact_phone}`],
      ['作业地址', o.site_address],
      ['期望上门时间', windowText(o)],
      ['受理时间', `${dateTime(o.requested_at)}（${CHANNEL[o.channel] || o.channel}）`],
      ['紧急程度', URGENCY[o.urgency] || o.urgency],
      o.kind === 'repair' ? ['产品型号', o.product_model || '—'] : null,
      o.kind === 'repair' ? ['故障现象', o.fault_symptoms || '—'] : null,
      o.kind === 'repair' ? ['保修', o.warranty_in === true ? `保修期内（至 ${o.warranty_ends_on}）` : o.warranty_in === false ? `已过保（${o.warranty_ends_on || '—'} 到期）` : '—'] : null,
      ['主修技术员', o.lead_technician_id ? lead : '未派工'],
      ['派工人员', crew.length ? crew.join('、') : '—'],
      ['预约上门', o.scheduled_at ? dateTime(o.scheduled_at) : '—'],
      o.reject_reason ? ['驳回原因', o.reject_reason] : null,
      o.cancel_reason ? ['取消原因', o.cancel_reason] : null,
      o.outsourcing_reason ? ['外协原因', o.outsourcing_reason] : null,
      o.arrived_at ? ['到场时间', dateTime(o.arrived_at)] : null,
      o.completed_at ? ['完工时间', dateTime(o.completed_at)] : null,
      o.fee_fen !== null && o.fee_fen !== undefined ? ['应收费用', yuan(o.fee_fen)] : null,
      o.charge ? ['收费状态', { open: '待收', paid: '已收', invoiced: '已入账单', waived: '已免收' }[o.charge.status] || o.charge.status] : null,
      o.notes ? ['备注', o.notes] : null,
    ].filter(Boolean);
    const lines = (o.lines || []).map((l) => h('tr', {},
      h('td', {}, String(l.position)), h('td', {}, l.plate_no),
      h('td', {}, h('span', { class: `badge ${l.status === 'done' ? 'ok' : l.status === 'not_done' ? 'bad' : ''}` }, LINE_STATUS[l.status] || l.status)),
      h('td', {}, (l.work || []).map((w) => WORK[w] || w).join('、') || '—'),
      h('td', {}, l.not_done_reason || ''),
      h('td', {}, firstReportCell(l))));
    const timeline = h('ol', { class: 'timeline', 'aria-label': '工单时间线' }, events.map((e) => h('li', {},
      h('time', { datetime: e.at }, dateTime(e.at)),
      h('span', { class: 'who' }, e.who),
      h('strong', {}, ACTION[e.action] || e.action),
      e.from_status && e.to_status && e.from_status !== e.to_status ? h('span', { class: 'muted' }, `${ORDER_STATUS[e.from_status] || e.from_status} → ${ORDER_STATUS[e.to_status] || e.to_status}`) : null,
      e.text ? h('div', { class: 'comment' }, e.text) : null)));

    mount(ctx.root,
      h('div', { class: 'pagehead' },
        h('a', { href: '#/approvals', class: 'back' }, '← 审批队列'),
        h('h1', {}, `${KIND[o.kind] || o.kind}工单 ${o.number}`),
        h('span', { class: `badge big ${statusClass(o.status)}`, id: 'order-status' }, ORDER_STATUS[o.status] || o.status),
        o.urgency === 'urgent' ? h('span', { class: 'badge urgent' }, '紧急') : null,
        late ? h('span', { class: 'badge bad' }, `预约超时（应于 ${dateTime(deadlineOf(o))} 前到场）`) : null),
      h('div', { class: 'columns' },
        h('div', { class: 'col-main' },
          h('section', { class: 'card', 'aria-labelledby': 'o-info' }, h('h2', { id: 'o-info' }, '工单信息'),
            h('dl', { class: 'facts' }, info.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
          h('section', { class: 'card', 'aria-labelledby': 'o-lines' }, h('h2', { id: 'o-lines' }, o.kind === 'install' ? `安装车辆明细（${lines.length}）` : '车辆'),
            table('车辆明细', ['序号', '车牌号', '状态', '作业', '未完成原因', '上线检测'], lines, '无车辆')),
          partsSection(o),
          moneySection(ctx, o),
          documentsSection(ctx, o),
          mapSection(ctx, o),
          h('section', { class: 'card', 'aria-labelledby': 'o-tl' }, h('h2', { id: 'o-tl' }, '时间线'), timeline)),
        h('div', { class: 'col-side' }, actions(o))));
    if (assignable(o)) await loadCandidates(o);
  }

  /**
   * A manager's (or an admin's) releases before completion: the photos still missing, and
   * terminals that have not reported yet (上线检测), each with the reason.
   */
  function waivers(o) {
    if (!['manager', 'admin'].includes(ctx.user.role) || ['completed', 'closed', 'cancelled'].includes(o.status)) return [];
    const waiting = (o.lines || []).filter((l) => l.first_report && l.first_report.status !== 'passed');
    const out = [];
    for (const [action, id, title, needed, done, hint] of [
      ['waive-photos', 'waive-photos', '照片豁免', (o.photos_missing || []).length > 0, o.photo_waiver,
        `还缺 ${(o.photos_missing || []).length} 张必拍照片。确实无法补拍时，写明原因后放行完工。`],
      ['waive-first-report', 'waive-report', '上线检测放行', waiting.length > 0, o.first_report_waiver,
        `${waiting.map((l) => l.plate_no).join('、')} 的终端尚未上线。中心要求上线才能完工时，确实无法等待的，写明原因后放行。`],
    ]) {
      if (!needed || done) continue;
      const reason = h('input', { id: `${id}-reason`, maxlength: 200, placeholder: '如：车辆在地下车库，客户确认出库后自检' });
      const btn = h('button', { type: 'button', class: 'small' }, '放行');
      btn.addEventListener('click', () => busy(btn, async () => {
        if (!reason.value.trim()) { toast('请填写放行原因', 'error'); reason.focus(); return; }
        await rerender(await act(o, action, { reason: reason.value.trim() }));
        toast(`${o.number} ${title}已记录`, 'ok');
      }));
      out.push(h('details', { class: 'card', id: `${id}-card` }, h('summary', {}, title),
        h('p', { class: 'muted small' }, hint), field('放行原因', reason), h('div', { class: 'row' }, btn)));
    }
    return out;
  }

  const assignable = (o) => o.allowed_actions.includes('assign') || o.allowed_actions.includes('reassign');

  function actions(o) {
    const allowed = o.allowed_actions || [];
    const out = [];
    if (allowed.includes('approve')) {
      const comment = h('textarea', { id: 'approve-comment', rows: 2, placeholder: '可不填' });
      const btn = h('button', { type: 'button', class: 'primary' }, '审批通过');
      btn.addEventListener('click', () => busy(btn, async () => {
        const body = comment.value.trim() ? { comment: comment.value.trim() } : {};
        const next = await act(o, 'approve', body);
        toast(`${o.number} 已审批通过`, 'ok');
        await rerender(next);
      }));
      out.push(h('section', { class: 'card', 'aria-labelledby': 'a-approve' }, h('h2', { id: 'a-approve' }, '审批'), field('审批意见', comment), h('div', { class: 'row' }, btn)));
    }
    if (allowed.includes('reject')) {
      const reason = h('textarea', { id: 'reject-reason', rows: 2, maxlength: 500 });
      const err = h('p', { class: 'field-error', role: 'alert' });
      const btn = h('button', { type: 'button', class: 'danger' }, '驳回');
      btn.addEventListener('click', () => busy(btn, async () => {
        err.textContent = '';
        if (!reason.value.trim()) { err.textContent = '请填写驳回原因'; reason.setAttribute('aria-invalid', 'true'); reason.focus(); return; }
        const next = await act(o, 'reject', { reason: reason.value.trim() });
        toast(`${o.number} 已驳回`, 'ok');
        await rerender(next);
      }));
      out.push(h('section', { class: 'card', 'aria-labelledby': 'a-reject' }, h('h2', { id: 'a-reject' }, '驳回'), field('驳回原因', reason), err, h('div', { class: 'row' }, btn)));
    }
    if (assignable(o)) {
      out.push(h('section', { class: 'card', id: 'assign-card', 'aria-labelledby': 'a-assign' },
        h('h2', { id: 'a-assign' }, allowed.includes('reassign') ? '改派' : '派工与预约'),
        h('div', { id: 'assign-body' }, h('p', { class: 'muted' }, '正在计算候选技术员…'))));
    }
    for (const [action, label, note] of [['resume', '恢复工单', '工单恢复到暂停前的状态。'], ['close', '关闭工单', '已完工且费用已结清的工单可关闭。']]) {
      if (!allowed.includes(action)) continue;
      const btn = h('button', { type: 'button', class: 'primary' }, label);
      btn.addEventListener('click', () => busy(btn, async () => {
        const next = await act(o, action);
        toast(`${o.number} ${label.replace('工单', '')}完成`, 'ok');
        await rerender(next);
      }));
      out.push(h('section', { class: 'card' }, h('p', { class: 'muted small' }, note), h('div', { class: 'row' }, btn)));
    }
    if (allowed.includes('hold')) {
      const reason = h('input', { id: 'hold-reason', maxlength: 500 });
      const btn = h('button', { type: 'button', class: 'small' }, '暂停工单');
      btn.addEventListener('click', () => busy(btn, async () => {
        if (!reason.value.trim()) { toast('请填写暂停原因', 'error'); reason.focus(); return; }
        await rerender(await act(o, 'hold', { reason: reason.value.trim() }));
      }));
      out.push(h('details', { class: 'card' }, h('summary', {}, '暂停工单'), field('暂停原因', reason), h('div', { class: 'row' }, btn)));
    }
    if (allowed.includes('cancel')) {
      const reason = h('input', { id: 'cancel-reason', maxlength: 500 });
      const btn = h('button', { type: 'button', class: 'danger small' }, '取消工单');
      btn.addEventListener('click', () => busy(btn, async () => {
        if (!reason.value.trim()) { toast('请填写取消原因', 'error'); reason.focus(); return; }
        if (!window.confirm(`确定取消工单 ${o.number}？`)) return;
        await rerender(await act(o, 'cancel', { reason: reason.value.trim() }));
      }));
      out.push(h('details', { class: 'card' }, h('summary', {}, '取消工单'), field('取消原因', reason), h('div', { class: 'row' }, btn)));
    }
    out.push(...waivers(o));
    if (!out.length) out.push(h('p', { class: 'muted card' }, '当前状态下您没有可执行的操作。'));
    return out;
  }

  async function loadCandidates(o) {
    const box = document.getElementById('assign-body');
    const reassign = o.allowed_actions.includes('reassign');
    const when = h('input', { id: 'visit-at', type: 'datetime-local', value: toLocalInput(defaultVisit(o)), required: true });
    const list = h('div', { id: 'candidates', 'aria-live': 'polite' });
    const outsourcing = h('textarea', { id: 'outsourcing-reason', rows: 2 });
    const outsourcingField = field('外协原因（派外协需经理批准）', outsourcing);
    outsourcingField.hidden = true;
    const double = h('input', { type: 'checkbox', id: 'allow-double' });
    const doubleField = h('div', { class: 'row check' }, double, h('label', { for: 'allow-double' }, '该技术员此时段已有安排，仍然派工'));
    doubleField.hidden = true;
    const err = h('p', { class: 'field-error', role: 'alert' });
    const submit = h('button', { type: 'button', class: 'primary' }, reassign ? '确认改派' : '确认派工');
    let items = [];

    const chosen = () => list.querySelector('input[name="lead"]:checked')?.value;
    const syncExternal = () => {
      const ids = [chosen(), ...[...list.querySelectorAll('input[name="helper"]:checked')].map((x) => x.value)];
      outsourcingField.hidden = !items.some((c) => c.external && ids.includes(c.technician_id));
    };

    async function fetchCandidates() {
      const at = fromLocalInput(when.value);
      if (!at) { mount(list, h('p', { class: 'field-error' }, '请选择上门时间')); return; }
      mount(list, h('p', { class: 'muted' }, '正在计算候选技术员…'));
      try {
        const r = await api(`/work-orders/${o.id}/candidates?limit=10&scheduled_at=${encodeURIComponent(iso(at))}`);
        items = r.data.items;
      } catch (e) {
        mount(list, h('p', { class: 'banner bad' }, explain(e)));
        return;
      }
      if (!ctx.alive()) return;
      const rows = items.map((c, i) => h('tr', { class: c.available ? '' : 'busy', dataset: { technician: c.technician_id } },
        h('td', {}, h('input', { type: 'radio', name: 'lead', value: c.technician_id, id: `lead-${i}`, checked: c.technician_id === o.lead_technician_id, 'aria-label': `主修：${c.name}` })),
        h('td', { class: 'num' }, String(i + 1)),
        h('td', {}, h('label', { for: `lead-${i}`, class: 'plain' }, c.name), c.external ? h('span', { class: 'badge warn' }, '外协') : null),
        h('td', { class: 'num' }, c.score.toFixed(1)),
        h('td', { class: 'num' }, kmText(c.distance_km)),
        h('td', { class: 'num' }, String(c.jobs_today)),
        h('td', {}, h('span', { class: `badge ${c.available ? 'ok' : 'bad'}` }, c.available ? '空闲' : '已有安排')),
        h('td', { class: 'reasons' }, c.reasons.join('；')),
        h('td', {}, h('input', { type: 'checkbox', name: 'helper', value: c.technician_id, 'aria-label': `协助：${c.name}` }))));
      mount(list, table('候选技术员（按推荐排序）', ['主修', '排名', '技术员', '评分', '距离', '当日单数', '该时段', '推荐理由', '协助'], rows, '没有具备该技能的技术员'));
      list.querySelectorAll('input').forEach((x) => x.addEventListener('change', syncExternal));
      syncExternal();
    }

    when.addEventListener('change', fetchCandidates);
    submit.addEventListener('click', () => busy(submit, async () => {
      err.textContent = '';
      const at = fromLocalInput(when.value);
      const lead = chosen();
      if (!at) { err.textContent = '请选择上门时间'; return; }
      if (!lead) { err.textContent = '请选择一名主修技术员'; return; }
      const helpers = [...list.querySelectorAll('input[name="helper"]:checked')].map((x) => x.value).filter((x) => x !== lead);
      const body = { lead_id: lead, helper_ids: helpers, scheduled_at: iso(at) };
      if (!outsourcingField.hidden) {
        if (!outsourcing.value.trim()) { err.textContent = '派外协需填写外协原因'; outsourcing.focus(); return; }
        body.outsourcing_reason = outsourcing.value.trim();
      }
      if (double.checked) body.allow_double_booking = true;
      try {
        const next = await act(o, reassign ? 'reassign' : 'assign', body);
        const day = chinaDay(at);
        toast(`${o.number} 已派工：${items.find((c) => c.technician_id === lead)?.name || ''}，${dateTime(at)}`, 'ok');
        await rerender(next);
        const card = document.querySelector('.col-side');
        card?.prepend(h('p', { class: 'banner ok', role: 'status' }, '派工完成。', h('a', { href: `#/board?day=${day}&highlight=${o.id}` }, `在 ${day} 看板中查看`)));
      } catch (e) {
        if (e instanceof ApiProblem && e.code === 'technician_busy') {
          doubleField.hidden = false;
          err.textContent = '该技术员在此时间前后两小时内已有安排。可改时间、换人，或勾选“仍然派工”。';
        } else if (e instanceof ApiProblem && e.status === 412) {
          err.textContent = '工单已被他人修改，已刷新，请重新操作。';
          await rerender();
        } else {
          err.textContent = explain(e);
        }
      }
    }));
    mount(box,
      field('上门时间（北京时间）', when, o.window_start ? `客户期望：${windowText(o)}` : null),
      list, outsourcingField, doubleField, err, h('div', { class: 'row' }, submit));
    // technicians' names for the timeline come from the same list
    technicians().catch(() => {});
    await fetchCandidates();
  }

  await render();
  // live: a change of this order (an act, or its terminal's first report) redraws the page,
  // but not under the hands of someone typing in it: then once they leave the field
  let soon = null;
  let owed = false;
  let heard = null;
  const editing = () => ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement?.tagName) && ctx.root.contains(document.activeElement);
  const refresh = (owedBefore = false) => {
    if (!ctx.alive()) return;
    // the page's own act is still being drawn: look again once it is
    if (acting || rendering) { soon = setTimeout(() => refresh(owedBefore), 200); return; }
    // the page's own acts are drawn already, and an event of an older version (one that
    // arrives after the page moved on) says nothing new; a report does not move the version
    if (!owedBefore && heard && heard.version <= state.o.version && heard.action !== 'first_report') return;
    if (editing()) { owed = true; return; }
    owed = false;
    heard = null;
    rerender().catch(() => { /* the next event or a reload */ });
  };
  const onEvent = (ev) => {
    if (ev.detail?.kind !== 'order' || ev.detail.id !== id) return;
    // the newest version heard (a report's event keeps its action)
    if (!heard || ev.detail.version > heard.version || ev.detail.action === 'first_report') heard = ev.detail;
    clearTimeout(soon);
    soon = setTimeout(() => refresh(), 150);
  };
  const onBlur = () => { if (owed) setTimeout(() => refresh(true), 0); };
  document.addEventListener('dispatch-event', onEvent);
  ctx.root.addEventListener('focusout', onBlur);
  ctx.onLeave(() => {
    clearTimeout(soon);
    document.removeEventListener('dispatch-event', onEvent);
    ctx.root.removeEventListener('focusout', onBlur);
  });
}
