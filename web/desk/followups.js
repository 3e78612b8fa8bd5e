// Follow-up calls (回访): the agent's call list (open calls, the earliest due first), each
// with its order's summary (number, kind, vehicles, technician, completed when, amount);
// record the satisfaction score 1–5 and notes (If-Match), or a failed attempt to reach
// the customer (after the center's number of attempts the call is done, unreachable).
// A low score opens a complaint: the call links to it (#/tickets/<id>).
//   #/follow-ups?who=mine|all&status=open|done
import { api, all, me, explain, ApiProblem } from '/lib/api.js';
import { h, mount, toast, onPress } from '/lib/dom.js';
import { dateTime, yuan, KIND, ORDER_STATUS } from '/lib/fmt.js';
import { guarded, field, centerParam } from './util.js';

const SCORE = { 1: '很不满意', 2: '不满意', 3: '一般', 4: '满意', 5: '很满意' };
const FU_KIND = { completion: '完工回访', revisit: '定期回访' };
const LOW = 2;
const CHARGE = { open: '待收', paid: '已收', invoiced: '已入账单', waived: '已免收', written_off: '已核销', no_charge: '无费用' };

function refusalText(e) {
  if (e instanceof ApiProblem) {
    if (e.code === 'version_mismatch') return '该回访已被他人更新，已刷新为最新内容，请确认后重试';
    if (e.code === 'follow_up_done') return '该回访已完成（可能已由同事记录），已刷新';
    const f = (e.problem.errors || [])[0];
    if (f?.field === 'score') return '请选择 1 到 5 分的满意度';
  }
  return explain(e);
}

/** The order a call follows (the list's `order` brief), in one line of facts. */
function orderFacts(o) {
  if (!o) return [['工单', '定期回访（无关联工单）']];
  const plates = o.plates || [];
  const amount = o.amount_fen;
  return [
    ['工单', h('span', {}, h('a', { href: `#/orders/${o.id}` }, o.number), ` · ${KIND[o.kind] || o.kind} · ${ORDER_STATUS[o.status] || o.status}`)],
    ['车辆', plates.length ? (plates.length > 4 ? `${plates.slice(0, 4).join('、')} 等 ${plates.length} 辆` : plates.join('、')) : '—'],
    ['技术员', o.lead_technician_name || '—'],
    ['完工时间', dateTime(o.completed_at)],
    ['金额', amount === null || amount === undefined ? '—' : amount === 0 ? '无费用'
      : h('span', {}, h('span', { class: 'money' }, yuan(amount)), o.charge_status ? ` · ${CHARGE[o.charge_status] || o.charge_status}` : '')],
  ];
}

export async function list(ctx) {
  const user = me();
  const who = ctx.query.get('who') === 'all' ? 'all' : 'mine';
  const status = ctx.query.get('status') === 'done' ? 'done' : 'open';
  const mine = who === 'mine' ? `&assignee_id=${encodeURIComponent(user.id)}` : '';
  const rows = await guarded(all(`/follow-ups?limit=200&status=${status}${mine}${centerParam()}`, 1000), '回访');
  if (!ctx.alive()) return;
  rows.sort((a, b) => (status === 'open'
    ? new Date(a.due_at) - new Date(b.due_at)
    : new Date(b.done_at || 0) - new Date(a.done_at || 0)) || a.id.localeCompare(b.id));
  const shown = rows.slice(0, 60);

  const setQuery = (patch) => ctx.go(`#/follow-ups?${new URLSearchParams({ who, status, ...patch })}`, { replace: true });
  const sel = (id, label, options, value, key) => {
    const s = h('select', { id, class: 'compact' }, Object.entries(options).map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
    s.addEventListener('change', () => setQuery({ [key]: s.value }));
    return field(label, s);
  };
  const now = Date.now();
  const overdue = rows.filter((f) => f.status === 'open' && new Date(f.due_at).getTime() < now).length;
  const cards = await Promise.all(shown.map((f) => callCard(ctx, f, f.order)));
  if (!ctx.alive()) return;
  mount(ctx.root,
    h('div', { class: 'pagehead' },
      h('h1', {}, '回访'),
      h('span', { class: 'muted' }, status === 'open' ? `待回访 ${rows.length} 个${overdue ? `，其中 ${overdue} 个已到期` : ''}，按到期时间排序` : `已完成 ${rows.length} 个`)),
    h('div', { class: 'pagehead filters', role: 'search', 'aria-label': '筛选回访' },
      sel('fu-who', '回访人', { mine: '我的回访', all: '全部坐席' }, who, 'who'),
      sel('fu-status', '状态', { open: '待回访', done: '已完成' }, status, 'status')),
    h('div', { class: 'calls', role: 'list', 'aria-label': '回访列表' },
      cards.length ? cards : h('p', { class: 'card muted' }, status === 'open' ? '没有待回访的客户。工单完工后，回访会自动出现在受理人的列表里。' : '还没有完成的回访。')),
    rows.length > shown.length ? h('p', { class: 'muted small' }, `仅显示前 ${shown.length} 个，请先处理到期的回访。`) : null);
}

async function callCard(ctx, f0, order) {
  let f = f0;
  const card = h('article', { class: 'card call', role: 'listitem', 'data-follow-up': f.id, 'aria-labelledby': `fu-h-${f.id}` });
  const facts = orderFacts(order);
  const complaintLink = async (ticketId, note) => {
    const t = await api(`/tickets/${ticketId}`).then((r) => r.data).catch(() => null);
    return h('p', { class: 'banner bad complaint-link' }, note || '', '已自动生成投诉：',
      h('a', { href: `#/tickets/${ticketId}` }, t ? `${t.number}（${t.subject}）` : '查看投诉'),
      t ? ` · 负责人 ${t.owner_name || '—'}，须于 ${dateTime(t.reply_due_at)} 前回复客户` : '');
  };

  const render = async (extra = null) => {
    const due = new Date(f.due_at);
    const late = f.status === 'open' && due.getTime() < Date.now();
    const head = h('div', { class: 'call-head' },
      h('h2', { id: `fu-h-${f.id}` }, `${f.customer_name || order?.customer_name || '客户'}`),
      h('span', { class: 'badge' }, FU_KIND[f.kind] || f.kind),
      f.status === 'open'
        ? h('span', { class: `badge ${late ? 'bad' : ''}` }, late ? `已到期（${dateTime(f.due_at)}）` : `${dateTime(f.due_at)} 前回访`)
        : h('span', { class: `badge ${f.unreachable ? 'warn' : 'ok'}` }, f.unreachable ? '联系不上，已结束' : `已回访 · ${dateTime(f.done_at)}`),
      f.attempts ? h('span', { class: 'muted small' }, `已尝试联系 ${f.attempts} 次`) : null,
      f.status === 'open' && !f.assignee_id ? h('span', { class: 'muted small' }, '未指定回访人') : null);
    const contact = order ? h('p', { class: 'muted small' }, `联系人：${order.contact_name || '—'} ${order.contact_phone || ''}`) : null;
    const summary = h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const parts = [head, contact, summary];
    if (f.status === 'done') {
      if (f.score) parts.push(h('p', { class: 'score-line' }, '满意度：', h('strong', {}, `${f.score} 分（${SCORE[f.score]}）`), f.comment ? ` · ${f.comment}` : ''));
      if (f.ticket_id) parts.push(await complaintLink(f.ticket_id, extra));
      else if (extra) parts.push(h('p', { class: 'banner ok' }, extra));
    } else {
      parts.push(recordForm());
      if (extra) parts.push(h('p', { class: 'banner', role: 'status' }, extra));
    }
    mount(card, parts);
  };

  const recordForm = () => {
    const name = `score-${f.id}`;
    const radios = [1, 2, 3, 4, 5].map((n) => {
      const id = `${name}-${n}`;
      return h('span', { class: `score s${n}` }, h('input', { type: 'radio', name, id, value: String(n) }),
        h('label', { for: id }, `${n} 分 ${SCORE[n]}`));
    });
    const comment = h('textarea', { id: `fu-c-${f.id}`, rows: 2, maxlength: 2000, placeholder: '客户原话；不满意时写清原因，会带入投诉' });
    const lowHint = h('p', { class: 'muted small', 'aria-live': 'polite' });
    const out = h('p', { class: 'field-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary' }, '保存回访结果');
    const miss = h('button', { type: 'button' }, '联系不上');
    const form = h('form', { class: 'record', 'aria-label': `回访结果：${f.customer_name || ''}` },
      h('fieldset', { class: 'scores' }, h('legend', {}, '满意度'), radios),
      lowHint,
      field('回访记录', comment),
      out,
      h('div', { class: 'row' }, save, miss, h('span', { class: 'muted small' }, '联系不上时可填写原因（无人接听、关机、空号）后点“联系不上”')));
    form.addEventListener('change', () => {
      const v = Number(new FormData(form).get(name));
      lowHint.textContent = v && v <= LOW ? `${v} 分将自动生成一条紧急投诉，由您负责跟进。` : '';
    });
    const reload = async (why) => {
      try { f = { ...f, ...(await api(`/follow-ups/${f.id}`)).data }; } catch { /* keep what we have */ }
      await render(why);
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const score = Number(new FormData(form).get(name));
      if (!score) { out.textContent = '请选择满意度（1–5 分）'; form.querySelector('input[type=radio]').focus(); return; }
      onPress(async () => {
        out.textContent = '';
        try {
          const body = { score };
          if (comment.value.trim()) body.comment = comment.value.trim();
          const r = (await api(`/follow-ups/${f.id}/record`, { method: 'POST', body, ifMatch: f.version })).data;
          f = { ...f, ...r.follow_up };
          toast(r.complaint ? `已保存；已生成投诉 ${r.complaint.number}` : '回访结果已保存', 'ok');
          await render(r.complaint ? `满意度 ${score} 分。` : '回访结果已保存。');
          ctx.refreshStrip();
        } catch (e) {
          if (e instanceof ApiProblem && ['version_mismatch', 'follow_up_done'].includes(e.code)) { await reload(refusalText(e)); return; }
          out.textContent = refusalText(e);
        }
      }, '正在保存…')({ currentTarget: save });
    });
    miss.addEventListener('click', onPress(async () => {
      out.textContent = '';
      try {
        const body = comment.value.trim() ? { note: comment.value.trim() } : {};
        const r = (await api(`/follow-ups/${f.id}/unreachable`, { method: 'POST', body, ifMatch: f.version })).data;
        f = { ...f, ...r.follow_up, attempts: r.attempts.length };
        const msg = r.follow_up.status === 'done'
          ? `已尝试 ${r.attempts.length} 次仍联系不上，本次回访结束。`
          : `已记录第 ${r.attempts.length} 次联系不上（共可尝试 ${r.attempts_allowed} 次），请稍后再拨。`;
        toast(msg, 'ok');
        await render(msg);
      } catch (e) {
        if (e instanceof ApiProblem && ['version_mismatch', 'follow_up_done'].includes(e.code)) { await reload(refusalText(e)); return; }
        out.textContent = refusalText(e);
      }
    }, '正在记录…'));
    return form;
  };
  await render();
  return card;
}

