// Finance: remittances waiting for confirmation (confirm with the counted amount),
// discrepancies (a manager resolves them), the reconciliation report with CSV/XLSX
// export, invoices (issue, record a transfer, PDF) and their aging.
import { api, all, newKey, explain, me } from '/lib/api.js';
import { h, mount, toast } from '/lib/dom.js';
import { dateTime, date, yuan, toFen, number, chinaDay } from '/lib/fmt.js';
import {
  guarded, table, field, busy, download, centerParam, today, monthStart, addDays, customers, customerName,
  rememberName, personName, METHOD,
} from './util.js';

const money = (fen, cls = '') => h('span', { class: `money ${cls}` }, yuan(fen));
const diffText = (fen) => (fen === 0 ? '无差异' : fen < 0 ? `短款 ${yuan(-fen)}` : `长款 ${yuan(fen)}`);

/** Technicians' names for finance, who may not read the technician list: the
 *  reconciliation report of the days involved names everyone with money on those days. */
async function techNames(days) {
  const list = days.filter(Boolean).sort();
  const names = new Map();
  if (!list.length) return names;
  let from = list[0];
  const to = list[list.length - 1];
  if (from < addDays(to, -730)) from = addDays(to, -730);
  try {
    const r = await api(`/reconciliation?from=${from}&to=${to}${centerParam()}`);
    for (const row of r.data.rows) {
      names.set(row.technician_id, row.technician_name);
      rememberName(row.technician_id, row.technician_name);
    }
  } catch { /* names stay short ids */ }
  return names;
}
const nameOf = (names, id) => names.get(id) || `#${id.slice(0, 8)}`;
const dayOf = (ts) => (ts ? chinaDay(new Date(ts)) : null);

// ---------------------------------------------------------------- remittances

export async function remittances(ctx) {
  const what = '交款记录';
  const body = h('div');
  const load = async () => {
    const [waiting, confirmed] = await Promise.all([
      guarded(all(`/remittances?limit=200&status=submitted${centerParam()}`), what),
      guarded(all(`/remittances?limit=200&status=confirmed${centerParam()}`), what),
    ]);
    waiting.sort((a, b) => a.submitted_at.localeCompare(b.submitted_at));
    const recent = confirmed.sort((a, b) => (b.confirmed_at || '').localeCompare(a.confirmed_at || '')).slice(0, 20);
    const names = await techNames([...waiting, ...recent].flatMap((r) => [r.submitted_day, r.confirmed_day]));
    if (!ctx.alive()) return;
    mount(body,
      h('section', { 'aria-labelledby': 'r-wait' },
        h('h2', { id: 'r-wait' }, `待确认交款（${waiting.length}）`),
        h('p', { class: 'muted small' }, '清点技术员交来的现金及凭证后，填写实点金额并确认。金额不符时会生成差异记录，由经理处理。'),
        table('待确认交款', ['交款时间', '技术员', '应交金额', '交款备注', '实点金额（元）', '财务备注', '操作'],
          waiting.map((r) => waitingRow(r, nameOf(names, r.technician_id), load)), '没有待确认的交款')),
      h('section', { 'aria-labelledby': 'r-done' },
        h('h2', { id: 'r-done' }, '最近已确认'),
        table('最近已确认的交款', ['确认时间', '技术员', '应交金额', '实点金额', '差异', '备注'], recent.map((r) => h('tr', { dataset: { remittance: r.id } },
          h('td', {}, dateTime(r.confirmed_at)), h('td', {}, nameOf(names, r.technician_id)),
          h('td', { class: 'num' }, money(r.expected_fen)), h('td', { class: 'num' }, money(r.received_fen)),
          h('td', {}, (r.received_fen - r.expected_fen) === 0 ? h('span', { class: 'badge ok' }, '无差异') : h('span', { class: 'badge bad' }, diffText(r.received_fen - r.expected_fen))),
          h('td', {}, r.notes || ''))), '暂无')));
  };

  function waitingRow(r, name, reload) {
    const counted = h('input', { inputmode: 'decimal', class: 'compact amount', 'aria-label': `${name} 交款 ${yuan(r.expected_fen)} 的实点金额`, placeholder: '点钞后填写', autocomplete: 'off' });
    const notes = h('input', { class: 'compact', 'aria-label': `${name} 交款的财务备注`, maxlength: 500 });
    const hint = h('div', { class: 'small', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', class: 'primary small' }, '确认收款');
    let armed = false;
    const update = () => {
      armed = false;
      btn.textContent = '确认收款';
      const fen = toFen(counted.value);
      counted.removeAttribute('aria-invalid');
      if (!counted.value.trim()) { hint.textContent = ''; return; }
      if (fen === null) { hint.textContent = '请输入金额，如 128.00'; hint.className = 'small field-error'; counted.setAttribute('aria-invalid', 'true'); return; }
      const d = fen - r.expected_fen;
      hint.textContent = d === 0 ? '与应交金额一致' : `${diffText(d)}，确认后将生成差异记录`;
      hint.className = `small ${d === 0 ? 'ok-text' : 'field-error'}`;
    };
    counted.addEventListener('input', update);
    btn.addEventListener('click', () => busy(btn, async () => {
      const fen = toFen(counted.value);
      if (fen === null) { update(); hint.textContent = '请输入实点金额，如 128.00'; hint.className = 'small field-error'; counted.focus(); return; }
      if (fen !== r.expected_fen && !armed) {
        armed = true;
        btn.textContent = '确认并记录差异';
        hint.textContent = `实点 ${yuan(fen)} 与应交 ${yuan(r.expected_fen)} 不符（${diffText(fen - r.expected_fen)}）。再次点击“确认并记录差异”。`;
        hint.className = 'small field-error';
        return;
      }
      const bodyIn = { received_fen: fen };
      if (notes.value.trim()) bodyIn.notes = notes.value.trim();
      try {
        const res = await api(`/remittances/${r.id}/confirm`, { method: 'POST', body: bodyIn, ifMatch: r.version });
        const d = res.data.discrepancy;
        toast(d ? `已确认 ${name} 交款 ${yuan(fen)}，${diffText(d.amount_fen)}，已生成差异记录` : `已确认 ${name} 交款 ${yuan(fen)}`, d ? 'info' : 'ok');
      } catch (e) {
        toast(e.status === 412 || e.code === 'remittance_confirmed' ? '该交款已被他人处理，列表已刷新' : explain(e), 'error');
      }
      await reload();
      ctx.refreshStrip();
    }));
    const detailBox = h('div', { class: 'small' });
    const more = h('details', {}, h('summary', {}, '明细'), detailBox);
    more.addEventListener('toggle', async () => {
      if (!more.open || detailBox.childElementCount) return;
      try {
        const v = (await api(`/remittances/${r.id}`)).data;
        mount(detailBox, h('ul', { class: 'plain' }, v.payments.map((p) => h('li', {}, `${p.receipt_no || '—'} · ${dateTime(p.paid_at)} · ${METHOD[p.method] || p.method} · ${p.payer_name} · `, money(p.amount_fen)))));
      } catch (e) { mount(detailBox, explain(e)); }
    });
    return h('tr', { dataset: { remittance: r.id } },
      h('td', {}, dateTime(r.submitted_at)),
      h('td', {}, name),
      h('td', { class: 'num' }, money(r.expected_fen), more),
      h('td', {}, r.notes || ''),
      h('td', {}, counted, hint),
      h('td', {}, notes),
      h('td', {}, btn));
  }

  mount(ctx.root, h('div', { class: 'pagehead' }, h('h1', {}, '交款确认')), body);
  await load();
}

// ---------------------------------------------------------------- discrepancies

export async function discrepancies(ctx) {
  const what = '差异记录';
  const status = ['open', 'resolved', 'all'].includes(ctx.query.get('status')) ? ctx.query.get('status') : 'open';
  const canResolve = ['manager', 'admin'].includes(me()?.role);
  const body = h('div');
  const load = async () => {
    const list = await guarded(all(`/discrepancies?limit=200${status === 'all' ? '' : `&status=${status}`}${centerParam()}`), what);
    list.sort((a, b) => b.created_at.localeCompare(a.created_at));
    const [names, rems] = await Promise.all([
      techNames(list.map((d) => dayOf(d.created_at))),
      Promise.all(list.map((d) => api(`/remittances/${d.remittance_id}`).then((r) => r.data).catch(() => null))),
    ]);
    await Promise.all(list.filter((d) => d.resolved_by).map(async (d) => { d.resolverName = await personName(d.resolved_by); }));
    if (!ctx.alive()) return;
    const rows = list.map((d, i) => {
      const r = rems[i];
      const name = nameOf(names, d.technician_id);
      let action = '—';
      if (d.status === 'open' && canResolve) {
        const text = h('input', { class: 'compact', 'aria-label': `${name} ${diffText(d.amount_fen)} 的处理说明`, maxlength: 500, placeholder: '如：技术员已补交' });
        const btn = h('button', { type: 'button', class: 'primary small' }, '标记已处理');
        btn.addEventListener('click', () => busy(btn, async () => {
          if (!text.value.trim()) { toast('请填写处理说明', 'error'); text.focus(); return; }
          try {
            await api(`/discrepancies/${d.id}/resolve`, { method: 'POST', body: { resolution: text.value.trim() }, ifMatch: d.version });
            toast(`已处理：${name} ${diffText(d.amount_fen)}`, 'ok');
          } catch (e) {
            toast(e.status === 412 || e.code === 'discrepancy_resolved' ? '该差异已被他人处理，列表已刷新' : explain(e), 'error');
          }
          await load();
          ctx.refreshStrip();
        }));
        action = h('div', { class: 'row' }, text, btn);
      } else if (d.status === 'open') {
        action = h('span', { class: 'muted' }, '待经理处理');
      }
      return h('tr', { dataset: { discrepancy: d.id } },
        h('td', {}, dateTime(d.created_at)),
        h('td', {}, name),
        h('td', { class: 'num' }, h('span', { class: `badge ${d.amount_fen < 0 ? 'bad' : 'warn'}` }, diffText(d.amount_fen))),
        h('td', { class: 'num' }, r ? [money(r.expected_fen), ' / ', money(r.received_fen)] : '—'),
        h('td', {}, r ? dateTime(r.submitted_at) : '—'),
        h('td', {}, h('span', { class: `badge ${d.status === 'open' ? 'bad' : 'ok'}` }, d.status === 'open' ? '未处理' : '已处理')),
        h('td', {}, d.resolution ? `${d.resolution}（${d.resolverName || ''} ${dateTime(d.resolved_at)}）` : ''),
        h('td', {}, action));
    });
    mount(body, table('差异记录', ['发现时间', '技术员', '差异', '应交 / 实点', '交款时间', '状态', '处理结果', '操作'], rows, status === 'open' ? '没有未处理的差异' : '暂无'));
  };
  const pick = h('select', { id: 'disc-status', class: 'compact' },
    [['open', '未处理'], ['resolved', '已处理'], ['all', '全部']].map(([v, l]) => h('option', { value: v, selected: v === status }, l)));
  pick.addEventListener('change', () => ctx.go(`#/finance/discrepancies?status=${pick.value}`));
  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '差异处理'), field('状态', pick)),
    canResolve ? null : h('p', { class: 'muted' }, '交款实点金额与应交不符时产生差异，由经理核实后处理。'),
    body);
  await load();
}

// ---------------------------------------------------------------- reconciliation

const RECON_COLS = [
  ['owed_fen', '应收'], ['collected_fen', '实收'], ['cash_fen', '现金'], ['wechat_fen', '微信支付'], ['alipay_fen', '支付宝'],
  ['bank_transfer_fen', '银行转账'], ['pos_fen', 'POS刷卡'], ['remitted_fen', '已交款'], ['confirmed_fen', '财务确认'],
  ['discrepancy_fen', '差异'], ['outstanding_fen', '手中现金'],
];

export async function reconciliation(ctx) {
  const what = '对账表';
  const t = today();
  const okDay = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || '');
  const from = okDay(ctx.query.get('from')) ? ctx.query.get('from') : monthStart(t);
  const to = okDay(ctx.query.get('to')) ? ctx.query.get('to') : t;
  const rep = (await guarded(api(`/reconciliation?from=${from}&to=${to}${centerParam()}`), what)).data;
  if (!ctx.alive()) return;
  const fromIn = h('input', { type: 'date', id: 'recon-from', value: from, class: 'compact' });
  const toIn = h('input', { type: 'date', id: 'recon-to', value: to, class: 'compact' });
  const form = h('form', { class: 'row filters' }, field('起始日期', fromIn), field('截止日期', toIn), h('button', { type: 'submit', class: 'small' }, '查询'));
  form.addEventListener('submit', (e) => { e.preventDefault(); ctx.go(`#/finance/reconciliation?from=${fromIn.value}&to=${toIn.value}`); });
  const downloads = h('div', { class: 'downloads', 'aria-live': 'polite' });
  const exporter = (fmt, label) => {
    const b = h('button', { type: 'button', class: 'small' }, label);
    b.addEventListener('click', () => busy(b, async () => {
      const a = await download(`/reconciliation?from=${from}&to=${to}&format=${fmt}${centerParam()}`, `reconciliation-${from}-${to}.${fmt}`);
      downloads.prepend(h('div', {}, a));
    }));
    return b;
  };
  const rows = rep.rows.map((r) => h('tr', { dataset: { technician: r.technician_id } },
    h('td', {}, r.day), h('td', {}, r.center_name), h('th', { scope: 'row' }, r.technician_name),
    RECON_COLS.map(([k]) => h('td', { class: `num${k === 'discrepancy_fen' && r[k] ? ' bad-text' : ''}` }, money(r[k])))));
  const totals = rep.rows.length ? h('tr', { class: 'totals' }, h('td', {}, '合计'), h('td'), h('th', { scope: 'row' }, `${number(new Set(rep.rows.map((r) => r.technician_id)).size)} 人`),
    RECON_COLS.map(([k]) => h('td', { class: 'num' }, k in rep.totals ? money(rep.totals[k]) : ''))) : null;
  const tbl = table(`对账表 ${from} 至 ${to}`, ['日期', '服务站', '技术员', ...RECON_COLS.map(([, l]) => l)], rows, '该期间没有收付款记录');
  if (totals) tbl.append(h('tfoot', {}, totals));
  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '对账表'), form,
      h('div', { class: 'row' }, exporter('csv', '导出 CSV'), exporter('xlsx', '导出 Excel（XLSX）'))),
    downloads,
    rep.open_discrepancies ? h('p', { class: 'banner bad' }, `尚有 ${number(rep.open_discrepancies)} 条差异未处理。`, h('a', { href: '#/finance/discrepancies' }, '查看差异')) : null,
    h('p', { class: 'muted small' }, `${rep.from} 至 ${rep.to}，按日、技术员汇总（北京时间）。手中现金为当日结束时技术员尚未交款的金额。`),
    h('div', { class: 'scrollx' }, tbl));
}

// ---------------------------------------------------------------- invoices and aging

const BUCKETS = [['current_fen', '未到期'], ['days_1_30_fen', '逾期1-30天'], ['days_31_60_fen', '逾期31-60天'], ['days_61_90_fen', '逾期61-90天'], ['over_90_fen', '逾期90天以上'], ['total_fen', '合计']];

export async function invoices(ctx) {
  const what = '账单与账龄';
  const t = today();
  const asOf = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('as_of') || '') ? ctx.query.get('as_of') : t;
  const openOnly = ctx.query.get('open') !== '0';
  const isFinance = ['finance', 'admin'].includes(me()?.role);
  const [list, aging] = await Promise.all([
    guarded(all(`/invoices?limit=200${openOnly ? '&open=true' : ''}${centerParam()}`), what),
    guarded(api(`/invoices/aging?as_of=${asOf}${centerParam()}`), what).then((r) => r.data),
  ]);
  list.sort((a, b) => b.issue_date.localeCompare(a.issue_date) || b.number.localeCompare(a.number));
  const names = await customers(list.map((i) => i.customer_id));
  if (!ctx.alive()) return;
  const q = (o) => `#/finance/invoices?as_of=${o.asOf ?? asOf}&open=${(o.openOnly ?? openOnly) ? 1 : 0}`;

  const invRows = list.map((inv) => {
    const balance = inv.total_fen - inv.paid_fen;
    const overdue = balance > 0 && inv.due_date < t;
    const pdf = h('button', { type: 'button', class: 'small' }, 'PDF');
    pdf.addEventListener('click', () => busy(pdf, async () => { await download(`/invoices/${inv.id}/pdf`, `${inv.number}.pdf`); }));
    let pay = null;
    if (isFinance && balance > 0) {
      const amount = h('input', { inputmode: 'decimal', class: 'compact amount', 'aria-label': `${inv.number} 回款金额（元）`, placeholder: (balance / 100).toFixed(2) });
      const payer = h('input', { class: 'compact', 'aria-label': `${inv.number} 付款单位`, value: customerName(names, inv.customer_id) });
      const ref = h('input', { class: 'compact', 'aria-label': `${inv.number} 银行流水号`, placeholder: '银行流水号' });
      const go = h('button', { type: 'button', class: 'primary small' }, '登记回款');
      go.addEventListener('click', () => busy(go, async () => {
        const fen = toFen(amount.value);
        if (!fen) { toast('请输入回款金额', 'error'); amount.focus(); return; }
        const bodyIn = { amount_fen: fen, payer_name: payer.value.trim() || customerName(names, inv.customer_id) };
        if (ref.value.trim()) bodyIn.notes = ref.value.trim();
        await api(`/invoices/${inv.id}/payments`, { method: 'POST', body: bodyIn, idempotencyKey: newKey() });
        toast(`${inv.number} 已登记回款 ${yuan(fen)}`, 'ok');
        ctx.go(q({}), { replace: true });
      }));
      pay = h('details', {}, h('summary', {}, '登记回款'), h('div', { class: 'stack' }, amount, payer, ref, go));
    }
    return h('tr', { dataset: { invoice: inv.id } },
      h('td', {}, inv.number), h('td', {}, customerName(names, inv.customer_id)),
      h('td', {}, `${inv.period_start} 至 ${inv.period_end}`), h('td', {}, inv.issue_date), h('td', {}, inv.due_date),
      h('td', { class: 'num' }, money(inv.total_fen)), h('td', { class: 'num' }, money(inv.paid_fen)), h('td', { class: 'num' }, money(balance)),
      h('td', {}, h('span', { class: `badge ${balance <= 0 ? 'ok' : overdue ? 'bad' : 'warn'}` }, balance <= 0 ? '已结清' : overdue ? '已逾期' : '未结清')),
      h('td', {}, h('div', { class: 'row' }, pdf, pay)));
  });

  const agingRows = aging.customers.map((l) => h('tr', {},
    h('th', { scope: 'row' }, l.customer_name), BUCKETS.map(([k]) => h('td', { class: 'num' }, money(l[k]))), h('td', { class: 'num' }, number(l.invoices))));
  const agingTbl = table(`账龄（截至 ${aging.as_of}）`, ['客户', ...BUCKETS.map(([, l]) => l), '账单数'], agingRows, '没有未结清的账单');
  if (aging.customers.length) agingTbl.append(h('tfoot', {}, h('tr', { class: 'totals' }, h('th', { scope: 'row' }, '合计'), BUCKETS.map(([k]) => h('td', { class: 'num' }, money(aging.totals[k]))), h('td', { class: 'num' }, number(aging.totals.invoices)))));

  const asOfIn = h('input', { type: 'date', id: 'aging-as-of', value: asOf, class: 'compact' });
  asOfIn.addEventListener('change', () => { if (asOfIn.value) ctx.go(q({ asOf: asOfIn.value })); });
  const openBox = h('input', { type: 'checkbox', id: 'inv-open', checked: openOnly });
  openBox.addEventListener('change', () => ctx.go(q({ openOnly: openBox.checked })));
  const downloads = h('div', { class: 'downloads', 'aria-live': 'polite' });
  const exporter = (fmt, label) => {
    const b = h('button', { type: 'button', class: 'small' }, label);
    b.addEventListener('click', () => busy(b, async () => downloads.prepend(h('div', {}, await download(`/invoices/aging?as_of=${asOf}&format=${fmt}${centerParam()}`, `aging-${asOf}.${fmt}`)))));
    return b;
  };

  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '账单与账龄')),
    isFinance ? await issueForm(ctx, q) : null,
    h('section', { 'aria-labelledby': 'inv-h' },
      h('div', { class: 'row' }, h('h2', { id: 'inv-h' }, `账单（${list.length}）`),
        h('div', { class: 'row check' }, openBox, h('label', { for: 'inv-open' }, '只看未结清'))),
      h('div', { class: 'scrollx' }, table('账单', ['账单号', '客户', '账期', '开具日期', '到期日', '金额', '已收', '余额', '状态', '操作'], invRows, openOnly ? '没有未结清的账单' : '暂无账单'))),
    h('section', { 'aria-labelledby': 'aging-h' },
      h('div', { class: 'row' }, h('h2', { id: 'aging-h' }, '账龄分析'), field('截至日期', asOfIn), exporter('csv', '导出 CSV'), exporter('xlsx', '导出 Excel（XLSX）')),
      downloads,
      h('div', { class: 'scrollx' }, agingTbl)));
}

/** Issue an invoice to a credit customer for a period (finance). */
async function issueForm(ctx, q) {
  let credit = [];
  try { credit = await all(`/customers?limit=200&payment_terms=credit${centerParam()}`); } catch { return null; }
  const t = today();
  const cust = h('select', { id: 'inv-customer', class: 'compact' }, h('option', { value: '' }, '请选择月结客户'), credit.map((c) => h('option', { value: c.id }, c.name)));
  const start = h('input', { type: 'date', id: 'inv-start', value: monthStart(addDays(monthStart(t), -1)), class: 'compact' });
  const end = h('input', { type: 'date', id: 'inv-end', value: addDays(monthStart(t), -1), class: 'compact' });
  const btn = h('button', { type: 'submit', class: 'primary small' }, '开具账单');
  const form = h('form', { class: 'row filters' }, field('客户', cust), field('账期起', start), field('账期止', end), btn);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, async () => {
      if (!cust.value) { toast('请选择客户', 'error'); return; }
      const r = await api('/invoices', { method: 'POST', body: { customer_id: cust.value, period_start: start.value, period_end: end.value } });
      toast(`已开具账单 ${r.data.number}，金额 ${yuan(r.data.total_fen)}`, 'ok');
      ctx.go(q({}), { replace: true });
    });
  });
  return h('details', { class: 'card' }, h('summary', {}, '开具账单（月结客户）'), form);
}
