// Tickets (客户诉求): inquiries, complaints and suggestions (咨询/投诉/建议).
//   #/tickets?owner=mine|all&status=active|open|replied|resolved|closed|any&kind=&new=1
//   #/tickets/<id>
// Taking one: the customer (a filter box over the customer list), the order it is about,
// channel, urgency → the reply deadline the API computes, shown as a live countdown (red
// when breached). On the ticket: reply, hand over to a colleague with a note, resolve,
// record that the customer was told, close — each with If-Match; the API's refusals are
// shown in place, in Chinese. The list opens on "my tickets not yet closed", most urgent
// deadline first.
import { api, all, me, explain, ApiProblem } from '/lib/api.js';
import { h, mount, toast, onPress } from '/lib/dom.js';
import { dateTime, ORDER_STATUS, KIND } from '/lib/fmt.js';
import { guarded, table, field, centerId, centerParam, toLocalInput, fromLocalInput, TICKET_KIND, TICKET_STATUS } from './util.js';

export const CHANNELS = { hotline: '热线电话', letter: '来函', visit: '来访', online: '网上', email: '电子邮件' };
const URGENCIES = { normal: '普通', urgent: '紧急' };
const STEP = {
  create: '受理', reply: '回复客户', resolve: '处理完毕', notify_customer: '告知客户', close: '关闭',
  handover: '转交', breach: '超时未回复，已上报经理',
};
const ROLE_ZH = { agent: '客服专员', manager: '经理' };
const ACTIVE = 'open,replied,resolved';
const STATUS_FILTER = { active: '未关闭', open: '待回复', replied: '已回复', resolved: '已解决', closed: '已关闭', any: '全部' };

/** What a refusal of a ticket action says, in Chinese, for this page. */
function refusalText(e) {
  if (e instanceof ApiProblem) {
    if (e.code === 'invalid_transition') return '该诉求当前状态不允许此操作，请刷新后查看最新状态';
    if (e.code === 'version_mismatch') return '该诉求已被他人修改，页面已刷新为最新内容，请确认后重试';
    if (e.code === 'not_found') return '找不到该诉求，或不在您的权限范围内';
    const f = (e.problem.errors || [])[0];
    if (f?.field === 'to_user_id' && f.code === 'same_owner') return '对方已是负责人，请选择其他同事';
    if (f?.field === 'to_user_id') return '只能转交给本中心在职的客服专员或经理，请重新选择';
  }
  return explain(e);
}

// ---------------------------------------------------------------- the deadline

const pad = (n) => String(n).padStart(2, '0');
function span(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d) return `${d} 天 ${hh} 小时`;
  if (hh) return `${hh} 小时 ${pad(mm)} 分`;
  return `${mm} 分 ${pad(ss)} 秒`;
}

/** The reply deadline's state at `now`: its text and class. */
export function deadlineState(t, now = Date.now()) {
  const due = new Date(t.reply_due_at).getTime();
  if (t.replied_at) {
    const late = t.breached || new Date(t.replied_at).getTime() > due;
    return { text: late ? '已回复（超时）' : '已按时回复', cls: late ? 'late' : 'done', breached: late };
  }
  if (t.status === 'closed') return { text: '—', cls: 'done', breached: false };
  const left = due - now;
  if (left < 0 || t.breached) return { text: `已超时 ${span(left)}`, cls: 'breached', breached: true };
  return { text: `剩余 ${span(left)}`, cls: left < 15 * 60000 ? 'soon' : 'running', breached: false };
}

/** A live countdown element for a ticket (refreshed by `tickAll`). */
function countdown(t, attrs = {}) {
  const el = h('span', { ...attrs, class: `countdown ${attrs.class || ''}`, 'data-due': t.reply_due_at });
  el.ticket = t;
  paint(el);
  return el;
}
function paint(el) {
  const s = deadlineState(el.ticket);
  el.textContent = s.text;
  el.className = el.className.replace(/\b(running|soon|breached|done|late)\b/g, '').trim() + ` ${s.cls}`;
  el.title = `回复时限：${dateTime(el.ticket.reply_due_at)}`;
}
const tickAll = (root) => root.querySelectorAll('.countdown').forEach((el) => el.ticket && paint(el));

// ---------------------------------------------------------------- the list

function listQuery(query) {
  return {
    owner: query.get('owner') === 'all' ? 'all' : 'mine',
    status: STATUS_FILTER[query.get('status')] ? query.get('status') : 'active',
    kind: TICKET_KIND[query.get('kind')] ? query.get('kind') : '',
  };
}

/** Open first, then by deadline (the most urgent first). */
export function byDeadline(a, b) {
  const rank = (t) => (t.status === 'closed' ? 2 : t.replied_at ? 1 : 0);
  return rank(a) - rank(b) || new Date(a.reply_due_at) - new Date(b.reply_due_at) || a.number.localeCompare(b.number);
}

export async function list(ctx) {
  const user = me();
  const f = listQuery(ctx.query);
  const params = [];
  if (f.status !== 'any') params.push(`status=${f.status === 'active' ? ACTIVE : f.status}`);
  if (f.kind) params.push(`kind=${f.kind}`);
  if (f.owner === 'mine') params.push(`owner_id=${encodeURIComponent(user.id)}`);
  const load = () => guarded(all(`/tickets?limit=200&${params.join('&')}${centerParam()}`, 1000), '客户诉求');
  let rows = await load();
  if (!ctx.alive()) return;

  const setQuery = (patch) => {
    const q = new URLSearchParams({ owner: f.owner, status: f.status, kind: f.kind, ...patch });
    if (!q.get('kind')) q.delete('kind');
    ctx.go(`#/tickets?${q}`, { replace: true });
  };
  const select = (id, label, options, value, key) => {
    const s = h('select', { id, class: 'compact' }, Object.entries(options).map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
    s.addEventListener('change', () => setQuery({ [key]: s.value }));
    return field(label, s);
  };
  const tbody = h('tbody');
  const intake = h('div', { id: 'intake' });
  const render = () => {
    const sorted = [...rows].sort(byDeadline);
    mount(tbody, sorted.length ? sorted.map((t) => h('tr', { 'data-ticket': t.id, class: deadlineState(t).breached ? 'breached-row' : null },
      h('td', {}, h('a', { href: `#/tickets/${t.id}` }, t.number)),
      h('td', {}, TICKET_KIND[t.kind] || t.kind),
      h('td', {}, t.urgency === 'urgent' ? h('span', { class: 'badge urgent' }, '紧急') : '普通'),
      h('td', {}, t.customer_name || '—'),
      h('td', { class: 'subject' }, t.subject),
      h('td', {}, t.owner_name || '—'),
      h('td', {}, h('span', { class: `badge ${t.status === 'closed' ? 'ok' : t.status === 'resolved' ? 'info' : ''}` }, TICKET_STATUS[t.status] || t.status)),
      h('td', {}, countdown(t)),
      h('td', {}, dateTime(t.received_at))))
      : h('tr', { class: 'empty' }, h('td', { colspan: 9, class: 'muted' }, f.owner === 'mine' ? '您名下没有符合条件的诉求。可切换为“全部坐席”查看。' : '没有符合条件的诉求。')));
  };
  render();
  const newButton = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'aria-controls': 'intake' }, '受理新诉求');
  const openIntake = async () => {
    newButton.setAttribute('aria-expanded', 'true');
    newButton.hidden = true;
    await intakeForm(ctx, intake, () => { mount(intake); newButton.hidden = false; newButton.setAttribute('aria-expanded', 'false'); newButton.focus(); });
  };
  newButton.addEventListener('click', openIntake);

  mount(ctx.root,
    h('div', { class: 'pagehead' },
      h('h1', {}, '客户诉求'),
      h('span', { class: 'muted' }, '咨询 · 投诉 · 建议（首问负责）'),
      newButton),
    intake,
    h('div', { class: 'pagehead filters', role: 'search', 'aria-label': '筛选诉求' },
      select('tf-owner', '查看范围', { mine: '我负责的', all: '全部坐席' }, f.owner, 'owner'),
      select('tf-status', '状态筛选', STATUS_FILTER, f.status, 'status'),
      select('tf-kind', '类型筛选', { '': '全部类型', ...TICKET_KIND }, f.kind, 'kind'),
      h('span', { class: 'muted small', id: 'ticket-count' }, `共 ${rows.length} 条，按回复时限排序`)),
    h('div', { class: 'card scrollx' },
      h('table', { id: 'ticket-list' },
        h('caption', { class: 'sr-only' }, '诉求列表'),
        h('thead', {}, h('tr', {}, ['编号', '类型', '紧急', '客户', '主题', '负责人', '状态', '回复时限', '受理时间'].map((x) => h('th', { scope: 'col' }, x)))),
        tbody)));
  ctx.every(1000, () => tickAll(tbody));
  if (ctx.query.get('new') === '1') await openIntake();

  // live: a changed ticket re-reads the list (pages work without events too)
  let pending = null;
  const onEvent = (ev) => {
    if (ev.detail?.kind !== 'ticket' || pending) return;
    pending = setTimeout(async () => {
      pending = null;
      try { rows = await load(); } catch { return; }
      if (ctx.alive()) { render(); document.getElementById('ticket-count').textContent = `共 ${rows.length} 条，按回复时限排序`; }
    }, 300);
  };
  document.addEventListener('dispatch-event', onEvent);
  ctx.onLeave(() => { document.removeEventListener('dispatch-event', onEvent); clearTimeout(pending); });
}

// ---------------------------------------------------------------- taking a ticket

/** Puts the API's field errors next to their fields; answers whether any was placed. */
function placeFieldErrors(form, e) {
  let placed = false;
  for (const fe of e?.problem?.errors || []) {
    const slot = form.querySelector(`[data-error-for="${fe.field}"]`);
    if (!slot) continue;
    slot.textContent = fe.field === 'customer_id' ? '请从筛选结果中选择客户'
      : fe.field === 'order_id' ? '该工单不属于此客户，请重新选择'
        : explain(new ApiProblem(422, { code: fe.code, errors: [] })) || fe.message;
    const input = form.querySelector(`[name="${fe.field}"]`);
    input?.setAttribute('aria-invalid', 'true');
    placed = true;
  }
  return placed;
}

async function intakeForm(ctx, box, onCancel) {
  const settings = await api(`/centers/${centerId()}/feedback-settings`).then((r) => r.data).catch(() => null);
  let chosen = null;
  const err = (name) => h('p', { class: 'field-error', 'data-error-for': name, role: 'alert' });
  const custInput = h('input', { type: 'search', id: 'ti-customer', name: 'customer_id', autocomplete: 'off', placeholder: '输入客户名称、简拼筛选', 'aria-controls': 'ti-customer-results', 'aria-describedby': 'ti-customer-chosen' });
  const results = h('ul', { id: 'ti-customer-results', class: 'picklist', 'aria-label': '客户筛选结果' });
  const chosenText = h('div', { id: 'ti-customer-chosen', class: 'muted small', 'aria-live': 'polite' }, '尚未选择客户');
  const orderSel = h('select', { id: 'ti-order', name: 'order_id', disabled: true }, h('option', { value: '' }, '（不关联工单）'));
  const kindSel = h('select', { id: 'ti-kind', name: 'kind' }, Object.entries(TICKET_KIND).map(([v, t]) => h('option', { value: v, selected: v === 'complaint' }, t)));
  const channelSel = h('select', { id: 'ti-channel', name: 'channel' }, Object.entries(CHANNELS).map(([v, t]) => h('option', { value: v }, t)));
  const urgencySel = h('select', { id: 'ti-urgency', name: 'urgency' }, Object.entries(URGENCIES).map(([v, t]) => h('option', { value: v }, t)));
  const received = h('input', { type: 'datetime-local', id: 'ti-received', name: 'received_at', value: toLocalInput(new Date()) });
  const subject = h('input', { id: 'ti-subject', name: 'subject', maxlength: 200, required: true, placeholder: '一句话说明，例如：终端离线三天' });
  const description = h('textarea', { id: 'ti-description', name: 'description', rows: 3, maxlength: 2000, required: true, placeholder: '客户原话、车牌、联系人、期望的处理方式' });
  const duePreview = h('p', { class: 'muted small', id: 'ti-due', 'aria-live': 'polite' });
  const banner = h('p', { class: 'field-error', role: 'alert', id: 'ti-error' });

  const preview = () => {
    if (!settings) { mount(duePreview, '受理后由系统按本中心设置计算回复时限'); return; }
    const min = urgencySel.value === 'urgent' ? settings.urgent_reply_minutes : settings.normal_reply_minutes;
    const from = fromLocalInput(received.value) || new Date();
    const text = min % 60 ? `${min} 分钟` : `${min / 60} 小时`;
    mount(duePreview, `按本中心设置：${URGENCIES[urgencySel.value]}诉求须在 ${text} 内回复（约 ${dateTime(new Date(from.getTime() + min * 60000))} 前），受理后以系统计算为准`);
  };
  urgencySel.addEventListener('change', preview);
  received.addEventListener('change', preview);
  preview();

  const pick = async (c) => {
    chosen = c;
    custInput.value = c.name;
    custInput.removeAttribute('aria-invalid');
    box.querySelector('[data-error-for="customer_id"]').textContent = '';
    mount(results);
    mount(chosenText, '已选择：', h('strong', {}, c.name), c.tier === 'key' ? h('span', { class: 'badge warn' }, '大客户') : null,
      c.contacts?.[0] ? ` · ${c.contacts[0].name} ${c.contacts[0].phone || ''}` : '');
    mount(orderSel, h('option', { value: '' }, '（不关联工单）'));
    orderSel.disabled = false;
    try {
      const orders = (await api(`/work-orders?customer_id=${c.id}&limit=30`)).data.items;
      orders.sort((a, b) => String(b.number).localeCompare(String(a.number)));
      for (const o of orders) orderSel.append(h('option', { value: o.id }, `${o.number} · ${KIND[o.kind] || o.kind} · ${ORDER_STATUS[o.status] || o.status}`));
    } catch { /* the order is optional */ }
    kindSel.focus();
  };
  let seqNo = 0;
  let timer = null;
  const search = async () => {
    const q = custInput.value.trim();
    const mine = ++seqNo;
    if (chosen && q === chosen.name) return;
    chosen = null;
    mount(chosenText, '尚未选择客户');
    orderSel.disabled = true;
    if (!q) { mount(results); return; }
    let found = [];
    try { found = (await api(`/customers?q=${encodeURIComponent(q)}&limit=8${centerParam()}`)).data.items; } catch (e) { mount(results, h('li', { class: 'muted' }, refusalText(e))); return; }
    if (mine !== seqNo) return;
    mount(results, found.length ? found.map((c) => h('li', {}, h('button', { type: 'button', class: 'pick', onclick: () => pick(c) },
      h('strong', {}, c.name), h('span', { class: 'muted small' }, ` ${c.contacts?.[0]?.name || ''} ${c.contacts?.[0]?.phone || ''}`))))
      : h('li', { class: 'muted' }, '没有找到该客户，请换个关键字；新客户请先在“客户档案”中登记'));
  };
  custInput.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 200); });
  custInput.addEventListener('keydown', async (ev) => {
    if (ev.key === 'Enter' && !chosen) {
      ev.preventDefault();
      clearTimeout(timer);
      await search();
      results.querySelector('button.pick')?.click();
    } else if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      results.querySelector('button.pick')?.focus();
    }
  });
  results.addEventListener('keydown', (ev) => {
    const items = [...results.querySelectorAll('button.pick')];
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' && i >= 0) { ev.preventDefault(); (items[i + 1] || items[i]).focus(); }
    if (ev.key === 'ArrowUp' && i >= 0) { ev.preventDefault(); (i ? items[i - 1] : custInput).focus(); }
  });

  const submit = h('button', { type: 'submit', class: 'primary' }, '受理');
  const form = h('form', { class: 'card intake', 'aria-labelledby': 'ti-head', novalidate: true },
    h('h2', { id: 'ti-head' }, '受理诉求'),
    h('div', { class: 'grid2' },
      h('div', { class: 'field' }, h('label', { for: 'ti-customer' }, '客户'), custInput, results, chosenText, err('customer_id')),
      h('div', {}, field('关联工单（可不选）', orderSel), err('order_id'))),
    h('div', { class: 'grid4' },
      h('div', {}, field('类型', kindSel), err('kind')),
      h('div', {}, field('渠道', channelSel), err('channel')),
      h('div', {}, field('紧急程度', urgencySel), err('urgency')),
      h('div', {}, field('受理时间（北京时间）', received), err('received_at'))),
    duePreview,
    h('div', {}, field('主题', subject), err('subject')),
    h('div', {}, field('详细描述', description), err('description')),
    banner,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', onclick: onCancel }, '取消')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    form.querySelectorAll('.field-error').forEach((x) => { x.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((x) => x.removeAttribute('aria-invalid'));
    const missing = [];
    if (!chosen) missing.push(['customer_id', '请从筛选结果中选择客户', custInput]);
    if (!subject.value.trim()) missing.push(['subject', '请填写主题', subject]);
    if (!description.value.trim()) missing.push(['description', '请填写详细描述', description]);
    if (missing.length) {
      for (const [name, text, input] of missing) {
        form.querySelector(`[data-error-for="${name}"]`).textContent = text;
        input.setAttribute('aria-invalid', 'true');
      }
      missing[0][2].focus();
      return;
    }
    const body = {
      customer_id: chosen.id, kind: kindSel.value, channel: channelSel.value, urgency: urgencySel.value,
      subject: subject.value.trim(), description: description.value.trim(),
    };
    if (orderSel.value) body.order_id = orderSel.value;
    const at = fromLocalInput(received.value);
    if (at) body.received_at = at.toISOString();
    await onPress(async () => {
      try {
        const t = (await api('/tickets', { method: 'POST', body })).data;
        toast(`已受理：${t.number}`, 'ok');
        ctx.refreshStrip();
        ctx.go(`#/tickets/${t.id}`);
      } catch (e) {
        if (!placeFieldErrors(form, e)) banner.textContent = refusalText(e);
        else banner.textContent = '填写有误，请按提示修改';
      }
    }, '正在受理…')({ currentTarget: submit });
  });
  mount(box, form);
  custInput.focus();
}

// ---------------------------------------------------------------- one ticket

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
function humanize(text, names) {
  if (!text) return '';
  return text.replace(UUID, (id) => names[id] || `#${id.slice(0, 8)}`)
    .replace(/^reply deadline passed; escalated to the managers$/, '回复时限已过，已通知经理');
}

export async function detail(ctx) {
  const [id] = ctx.params;
  const user = me();
  const what = '客户诉求';
  let t = await guarded(api(`/tickets/${id}`), what).then((r) => r.data);
  let targets = null;
  if (!ctx.alive()) return;
  const notice = h('div', { id: 'ticket-notice' });

  const reload = async (fresh) => {
    t = fresh || (await api(`/tickets/${id}`)).data;
    targets = null;
    if (ctx.alive()) await render();
    ctx.refreshStrip();
  };

  /** A step with If-Match; a refusal is written into `out`; success re-renders. */
  const step = (action, body, out, done) => async () => {
    out.textContent = '';
    try {
      const r = await api(`/tickets/${t.id}/${action}`, { method: 'POST', body, ifMatch: t.version });
      toast(done, 'ok');
      await reload(r.data);
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        await reload();
        document.querySelector(`[data-step="${action}"] .field-error`)?.replaceChildren(refusalText(e));
        return;
      }
      out.textContent = refusalText(e);
      out.closest('section')?.querySelector('textarea, select')?.focus();
    }
  };

  /** A card with a text and a button for one step. */
  const textStep = ({ action, title, label, placeholder, button, done, key = 'text', max = 2000, danger = false }) => {
    const text = h('textarea', { id: `ts-${action}`, rows: 3, maxlength: max, placeholder });
    const out = h('p', { class: 'field-error', role: 'alert' });
    const btn = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, button);
    const form = h('form', { 'data-step': action, class: 'card', 'aria-labelledby': `th-${action}` },
      h('h2', { id: `th-${action}` }, title), field(label, text), out, h('div', { class: 'row' }, btn));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) { out.textContent = `请填写${label}`; text.setAttribute('aria-invalid', 'true'); text.focus(); return; }
      text.removeAttribute('aria-invalid');
      onPress(step(action, { [key]: text.value.trim() }, out, done))({ currentTarget: btn });
    });
    text.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit(); });
    return form;
  };

  const handoverCard = async () => {
    if (!targets) targets = await api(`/tickets/${t.id}/handover-targets`).then((r) => r.data).catch(() => []);
    const sel = h('select', { id: 'ts-handover-to' }, h('option', { value: '' }, '请选择同事'),
      targets.map((p) => h('option', { value: p.id }, `${p.display_name}（${ROLE_ZH[p.role] || p.role}）`)));
    const note = h('textarea', { id: 'ts-handover-note', rows: 2, maxlength: 1000, placeholder: '接手人需要知道的：客户诉求、已做的、约定的回电时间' });
    const out = h('p', { class: 'field-error', role: 'alert' });
    const btn = h('button', { type: 'submit' }, '转交');
    const form = h('form', { 'data-step': 'handover', class: 'card', 'aria-labelledby': 'th-handover' },
      h('h2', { id: 'th-handover' }, '转交给同事'),
      field('接手人', sel), field('交接说明', note), out, h('div', { class: 'row' }, btn));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!sel.value) { out.textContent = '请选择接手人'; sel.focus(); return; }
      if (!note.value.trim()) { out.textContent = '请填写交接说明'; note.focus(); return; }
      const name = sel.selectedOptions[0].textContent;
      onPress(step('handover', { to_user_id: sel.value, note: note.value.trim() }, out, `已转交给 ${name}`))({ currentTarget: btn });
    });
    return form;
  };

  const actions = async () => {
    if (t.status === 'closed') return [h('section', { class: 'card' }, h('h2', {}, '已关闭'), h('p', { class: 'muted' }, `于 ${dateTime(t.closed_at)} 关闭，无需再处理。`))];
    const mayAct = t.owner_id === user.id || ['manager', 'admin'].includes(user.role);
    if (!mayAct) {
      return [h('section', { class: 'card', id: 'not-owner' }, h('h2', {}, '由他人负责'),
        h('p', {}, `此诉求由 ${t.owner_name || '同事'} 负责（首问负责），您可以查看。需要接手时，请联系负责人转交，或请经理处理。`))];
    }
    const out = [];
    if (['open', 'replied'].includes(t.status)) {
      out.push(textStep({ action: 'reply', title: t.status === 'open' ? '回复客户' : '补充回复', label: '回复内容', placeholder: '已告诉客户的答复或安排', button: '发送回复', done: '已记录回复' }));
      out.push(textStep({ action: 'resolve', title: '处理完毕', label: '处理结果', placeholder: '做了什么、结果如何', button: '标记已解决', done: '已标记为已解决' }));
    }
    if (t.status === 'resolved') {
      out.push(textStep({ action: 'customer-notified', title: '告知客户处理结果', label: '告知方式与内容', placeholder: '例如：电话告知王先生，客户表示满意', button: '记录已告知客户', done: '已记录告知客户', max: 500 }));
      const closeOut = h('p', { class: 'field-error', role: 'alert' });
      const closeBtn = h('button', { type: 'button', class: 'primary' }, '关闭诉求');
      closeBtn.addEventListener('click', onPress(step('close', {}, closeOut, '诉求已关闭')));
      out.push(h('section', { class: 'card', 'data-step': 'close', 'aria-labelledby': 'th-close' }, h('h2', { id: 'th-close' }, '关闭'),
        h('p', { class: 'muted small' }, t.customer_notified_at ? '已告知客户，可以关闭。' : '关闭前须先记录已告知客户处理结果。'),
        closeOut, h('div', { class: 'row' }, closeBtn)));
    }
    out.push(await handoverCard());
    return out;
  };

  async function render() {
    const names = t.names || {};
    const kind = TICKET_KIND[t.kind] || t.kind;
    const info = [
      ['客户', h('a', { href: `#/customers/${t.customer_id}` }, t.customer_name || '客户档案')],
      ['关联工单', t.order_id ? h('a', { href: `#/orders/${t.order_id}` }, t.order_number || '查看工单') : '—'],
      ['渠道', CHANNELS[t.channel] || t.channel],
      ['紧急程度', URGENCIES[t.urgency] || t.urgency],
      ['受理时间', dateTime(t.received_at)],
      ['回复时限', h('span', {}, dateTime(t.reply_due_at), ' · ', countdown(t, { id: 'ticket-countdown' }))],
      ['当前负责人', h('strong', { id: 'ticket-owner' }, t.owner_name || '—')],
      ['首问受理人', names[t.created_by] || '—'],
      ['主题', t.subject],
      ['详细描述', h('div', { class: 'prewrap' }, t.description)],
      t.reply ? ['最近回复', h('div', { class: 'prewrap' }, t.reply)] : null,
      t.resolution ? ['处理结果', h('div', { class: 'prewrap' }, t.resolution)] : null,
      t.customer_notified_at ? ['告知客户', `${dateTime(t.customer_notified_at)}：${t.customer_notice}`] : null,
      t.follow_up_id ? ['来源', '回访不满意自动生成'] : null,
    ].filter(Boolean);
    const timeline = h('ol', { class: 'timeline', 'aria-label': '诉求时间线' }, t.events.map((e) => h('li', {},
      h('time', { datetime: e.at }, dateTime(e.at)),
      h('span', { class: 'who' }, e.actor_id ? names[e.actor_id] || '—' : '系统'),
      h('strong', {}, STEP[e.action] || e.action),
      e.from_status && e.to_status ? h('span', { class: 'muted' }, `${TICKET_STATUS[e.from_status] || e.from_status} → ${TICKET_STATUS[e.to_status] || e.to_status}`) : null,
      e.comment && e.action !== 'create' ? h('div', { class: 'comment' }, humanize(e.comment, names)) : null)));
    const side = await actions();
    if (!ctx.alive()) return;
    const st = deadlineState(t);
    mount(ctx.root,
      h('div', { class: 'pagehead' },
        h('a', { href: '#/tickets', class: 'back' }, '← 客户诉求'),
        h('h1', {}, `${kind} ${t.number}`),
        h('span', { class: `badge big ${t.status === 'closed' ? 'ok' : t.status === 'resolved' ? 'info' : ''}`, id: 'ticket-status' }, TICKET_STATUS[t.status] || t.status),
        t.urgency === 'urgent' ? h('span', { class: 'badge urgent' }, '紧急') : null,
        st.breached ? h('span', { class: 'badge bad' }, '超时') : null),
      notice,
      h('div', { class: 'columns' },
        h('div', { class: 'col-main' },
          h('section', { class: 'card', 'aria-labelledby': 't-info' }, h('h2', { id: 't-info' }, '诉求信息'),
            h('dl', { class: 'facts' }, info.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
          h('section', { class: 'card', 'aria-labelledby': 't-tl' }, h('h2', { id: 't-tl' }, '处理记录'), timeline)),
        h('div', { class: 'col-side ticket-actions' }, side)));
  }
  await render();
  ctx.every(1000, () => tickAll(ctx.root));

  // live: someone else changed this ticket → say so (a reload would drop what is typed)
  const onEvent = (ev) => {
    const d = ev.detail;
    if (d?.kind !== 'ticket' || d.id !== t.id || d.version <= t.version) return;
    mount(notice, h('p', { class: 'banner', role: 'status' }, '该诉求刚被他人更新。',
      h('button', { type: 'button', class: 'small', onclick: () => { mount(notice); reload(); } }, '刷新查看')));
  };
  document.addEventListener('dispatch-event', onEvent);
  ctx.onLeave(() => document.removeEventListener('dispatch-event', onEvent));
}
