// The customer archive (客户档案). #/customers: the center's customers with a filter box
// (name contains) and paging; #/customers/<id>: one page with the customer, contacts
// (editable: PATCH /customers/{id} with If-Match, the API's field errors next to the
// fields), vehicles with drivers, the terminal in each with its SIM and today's warranty
// verdict, orders, payments (roles that see money), complaints and other tickets, follow-ups.
import { api, all, ApiProblem, explain } from '/lib/api.js';
import { h, mount, press, toast } from '/lib/dom.js';
import { date, dateTime, yuan, number, KIND, ORDER_STATUS } from '/lib/fmt.js';
import { problemText } from '/lib/problems.js';
import { guarded, table, centerParam, CHANNEL, METHOD, TICKET_KIND, TICKET_STATUS, statusClass } from './util.js';
import { warrantyBadge } from './call.js';

const TIER = { key: '大客户', major: '重点客户', normal: '普通客户' };
const TERMS = { cash: '现结', credit: '月结（挂账）' };
const TERMINAL_STATUS = { in_stock: '在库', installed: '已安装', in_repair: '维修中', returned: '已退回', scrapped: '已报废' };
const SIM_STATUS = { in_stock: '在库', active: '正常', suspended: '停机', cancelled: '已注销' };
const CARRIER = { china_mobile: '中国移动', china_unicom: '中国联通', china_telecom: '中国电信' };
const PAYMENT_KIND = { collection: '收款', reversal: '冲正', adjustment: '调整', waiver: '减免', settlement: '结算' };
const FOLLOW_KIND = { completion: '完工回访', revisit: '定期回访' };
const PAGE = 25;

// ---------------------------------------------------------------- the list

/** The cursors of the pages before the current one, per filter (for 上一页). */
const back = new Map();

export async function list(ctx) {
  const q = (ctx.query.get('q') || '').trim();
  const cursor = ctx.query.get('cursor') || '';
  const what = '客户档案';
  const path = `/customers?limit=${PAGE}${q ? `&q=${encodeURIComponent(q)}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${centerParam()}`;
  const r = await guarded(api(path), what);
  if (!ctx.alive()) return;
  const { items, next_cursor: next } = r.data;
  const stack = back.get(q) || [];
  if (!cursor) stack.length = 0;
  back.set(q, stack);

  const filter = h('input', { id: 'cust-q', type: 'search', value: q, placeholder: '客户名称（包含即可）', autocomplete: 'off' });
  const form = h('form', { class: 'row filters', role: 'search', 'aria-label': '筛选客户' },
    h('div', { class: 'field' }, h('label', { for: 'cust-q' }, '客户名称'), filter),
    h('button', { type: 'submit' }, '筛选'),
    q ? h('a', { href: '#/customers', class: 'small' }, '清除筛选') : null);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = filter.value.trim();
    ctx.go(v ? `#/customers?q=${encodeURIComponent(v)}` : '#/customers');
  });
  const link = (c) => `#/customers?${new URLSearchParams({ ...(q ? { q } : {}), ...(c ? { cursor: c } : {}) })}`;
  const pager = h('nav', { class: 'row pager', 'aria-label': '翻页' },
    cursor ? h('a', { class: 'button small', href: link(stack.length ? stack[stack.length - 1] : ''), onclick: () => stack.pop() }, '上一页') : null,
    h('span', { class: 'muted small' }, `${!cursor || stack.length ? `第 ${stack.length + 1} 页 · ` : ''}本页 ${items.length} 位客户`),
    next ? h('a', { class: 'button small', href: link(next), onclick: () => stack.push(cursor) }, '下一页') : null);

  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '客户档案'), form),
    table('客户', ['客户', '等级', '结算方式', '地址', '主要联系人', ''], items.map((c) => {
      const p = c.contacts[0];
      return h('tr', {},
        h('td', {}, h('a', { href: `#/customers/${c.id}` }, c.name)),
        h('td', {}, h('span', { class: `badge ${c.tier === 'key' ? 'info' : ''}` }, TIER[c.tier] || c.tier)),
        h('td', {}, TERMS[c.payment_terms] || c.payment_terms),
        h('td', { class: 'addr' }, c.address),
        h('td', {}, p ? `${p.name} ${p.phone}` : '—'),
        h('td', {}, h('a', { href: `#/call?customer=${c.id}`, class: 'small' }, '来电报修')));
    }), q ? `没有名称包含“${q}”的客户` : '还没有客户'),
    pager);
  if (q) filter.focus();
}

// ---------------------------------------------------------------- one customer

export async function detail(ctx) {
  const [id] = ctx.params;
  const what = '客户档案';
  const [archive, tickets, followUps] = await Promise.all([
    guarded(api(`/customers/${id}/archive`), what).then((r) => r.data),
    all(`/tickets?customer_id=${encodeURIComponent(id)}&limit=100`, 200).catch(() => null),
    all(`/follow-ups?customer_id=${encodeURIComponent(id)}&limit=100`, 200).catch(() => null),
  ]);
  if (!ctx.alive()) return;
  const c = archive.customer;
  document.title = `${c.name} · 客户档案 · 派工系统`;
  const money = ['admin', 'manager', 'finance'].includes(ctx.user.role);
  const seesEquipment = ['admin', 'manager', 'agent'].includes(ctx.user.role);

  const contacts = contactsEditor(ctx, c);

  const vehicleRows = archive.vehicles.map((v) => {
    const ts = v.terminals.length ? v.terminals : [null];
    return ts.map((t, i) => h('tr', { dataset: { plate: v.plate_no } },
      i === 0 ? [
        h('th', { scope: 'row', rowspan: ts.length }, v.plate_no),
        h('td', { rowspan: ts.length }, [v.model, v.vin ? `VIN ${v.vin}` : null].filter(Boolean).join(' · ') || '—'),
        h('td', { rowspan: ts.length }, v.drivers.length ? v.drivers.map((d) => h('div', {}, `${d.name} ${d.phone}`)) : '—'),
      ] : null,
      t ? [
        h('td', {}, h('div', {}, `${t.model_code} · ${TERMINAL_STATUS[t.status] || t.status}`), h('div', { class: 'mono' }, `IMEI ${t.imei}`)),
        h('td', {}, warrantyBadge(t.warranty), h('div', { class: 'small muted' }, `${date(t.purchase_date)} 购买 · 至 ${t.warranty.ends_on}`)),
        h('td', {}, t.sim ? [h('div', {}, `${t.sim.msisdn} · ${CARRIER[t.sim.carrier] || t.sim.carrier} · ${SIM_STATUS[t.sim.status] || t.sim.status}`), h('div', { class: 'mono small' }, `ICCID ${t.sim.iccid}`)] : '—'),
      ] : h('td', { colspan: 3, class: 'muted' }, seesEquipment ? '未安装终端' : '—')));
  });

  const orders = table('工单', ['工单号', '类型', '状态', '受理时间', '地点', '故障现象 / 备注', '费用'], archive.orders.map((o) => h('tr', {},
    h('td', {}, h('a', { href: `#/orders/${o.id}` }, o.number)),
    h('td', {}, KIND[o.kind] || o.kind),
    h('td', {}, h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status)),
    h('td', {}, dateTime(o.requested_at)),
    h('td', { class: 'addr' }, o.site_address),
    h('td', {}, o.fault_symptoms || o.notes || '—'),
    h('td', { class: 'num money' }, o.fee_fen === null || o.fee_fen === undefined ? '—' : yuan(o.fee_fen)))), '没有工单');

  const payments = money
    ? table('收款记录', ['时间', '类型', '金额', '方式', '付款人', '收据号', '工单'], archive.payments.map((p) => {
      const order = archive.orders.find((o) => o.id === p.order_id);
      return h('tr', {},
        h('td', {}, dateTime(p.paid_at)),
        h('td', {}, PAYMENT_KIND[p.kind] || p.kind),
        h('td', { class: 'num money' }, yuan(p.amount_fen)),
        h('td', {}, METHOD[p.method] || p.method),
        h('td', {}, p.payer_name),
        h('td', {}, p.receipt_no || '—'),
        h('td', {}, p.order_id ? h('a', { href: `#/orders/${p.order_id}` }, order?.number || '工单') : '—'));
    }), '没有收款记录')
    : h('p', { class: 'muted' }, '收款记录由财务和经理查看；如需了解欠费情况请联系财务。');

  const ticketTable = tickets === null ? h('p', { class: 'muted' }, '您的角色不能查看客户诉求。')
    : table('投诉与诉求', ['编号', '类型', '事由', '渠道', '状态', '受理时间', '回复期限'], tickets.map((t) => h('tr', {},
      h('td', {}, h('a', { href: `#/tickets/${t.id}` }, t.number)),
      h('td', {}, TICKET_KIND[t.kind] || t.kind),
      h('td', {}, t.subject),
      h('td', {}, CHANNEL[t.channel] || t.channel),
      h('td', {}, h('span', { class: `badge ${['resolved', 'closed'].includes(t.status) ? 'ok' : t.breached ? 'bad' : 'warn'}` }, TICKET_STATUS[t.status] || t.status)),
      h('td', {}, dateTime(t.received_at)),
      h('td', { class: t.breached ? 'bad-text' : '' }, `${dateTime(t.reply_due_at)}${t.breached ? '（已超时）' : ''}`))), '没有投诉、咨询或建议');

  const followTable = followUps === null ? h('p', { class: 'muted' }, '您的角色不能查看回访。')
    : table('回访', ['类型', '状态', '应回访', '完成', '满意度', '意见', '工单'], followUps.map((f) => {
      const order = archive.orders.find((o) => o.id === f.order_id);
      return h('tr', {},
        h('td', {}, FOLLOW_KIND[f.kind] || f.kind),
        h('td', {}, f.status === 'done' ? (f.unreachable ? '联系不上' : '已完成') : '待回访'),
        h('td', {}, dateTime(f.due_at)),
        h('td', {}, dateTime(f.done_at)),
        h('td', { class: f.score !== null && f.score <= 2 ? 'bad-text' : '' }, f.score ? `${f.score} 分` : '—'),
        h('td', {}, f.comment || '—', f.ticket_id ? [' ', h('a', { href: `#/tickets/${f.ticket_id}` }, '（已转投诉）')] : null),
        h('td', {}, f.order_id ? h('a', { href: `#/orders/${f.order_id}` }, order?.number || '工单') : '—'));
    }), '没有回访记录');

  const section = (idName, title, ...content) => h('section', { class: 'card', 'aria-labelledby': idName }, h('h2', { id: idName }, title), content);

  mount(ctx.root,
    h('div', { class: 'pagehead' },
      h('a', { href: '#/customers', class: 'back' }, '← 客户档案'),
      h('h1', {}, c.name),
      h('span', { class: `badge big ${c.tier === 'key' ? 'info' : ''}` }, TIER[c.tier] || c.tier),
      h('a', { class: 'button primary', href: `#/call?customer=${c.id}` }, '来电报修')),
    h('div', { class: 'columns archive-columns' },
      h('div', {},
        section('arc-vehicles', `车辆、终端与SIM卡（${number(archive.vehicle_count)} 辆 / ${number(archive.terminal_count)} 台终端）`,
          h('div', { class: 'scrollx' }, table('车辆、终端与SIM卡', ['车牌', '车型 / 车架号', '司机', '终端', '保修', 'SIM卡'], vehicleRows.flat(), '没有登记车辆'))),
        section('arc-orders', `工单（${number(archive.orders.length)}）`, h('div', { class: 'scrollx' }, orders)),
        section('arc-tickets', `投诉与诉求（${tickets ? number(tickets.length) : '—'}）`, ticketTable),
        section('arc-follow', `回访（${followUps ? number(followUps.length) : '—'}）`, followTable),
        section('arc-payments', '收款记录', payments)),
      h('aside', { class: 'col-side' },
        section('arc-basic', '基本信息',
          h('dl', { class: 'facts' },
            h('dt', {}, '地址'), h('dd', {}, c.address),
            h('dt', {}, '坐标'), h('dd', {}, c.lat !== null && c.lat !== undefined ? `${c.lat}, ${c.lng}` : '—'),
            h('dt', {}, '结算方式'), h('dd', {}, `${TERMS[c.payment_terms] || c.payment_terms}${c.credit_days ? `（${c.credit_days} 天）` : ''}`),
            h('dt', {}, '备注'), h('dd', {}, c.notes || '—'),
            h('dt', {}, '建档'), h('dd', {}, date(c.created_at)))),
        contacts)));
}

/** The contacts, editable in place: rows of name, phone, title, e-mail; saved together. */
function contactsEditor(ctx, customer) {
  let version = customer.version;
  let rows = customer.contacts.map((x) => ({ ...x }));
  const box = h('section', { class: 'card', 'aria-labelledby': 'arc-contacts' });
  const render = (problems = new Map(), banner = null) => {
    const inputs = [];
    const errorOf = (f) => problems.get(f);
    const input = (i, key, label, attrs = {}) => {
      const f = `contacts[${i}].${key}`;
      const el = h('input', { id: `ct-${i}-${key}`, value: rows[i][key] || '', autocomplete: 'off', 'aria-invalid': errorOf(f) ? 'true' : null, 'aria-describedby': errorOf(f) ? `ct-${i}-${key}-err` : null, ...attrs });
      el.addEventListener('input', () => { rows[i][key] = el.value; });
      inputs.push([f, el]);
      return h('div', { class: 'field' }, h('label', { for: el.id }, label), el,
        h('div', { class: 'field-error', id: `ct-${i}-${key}-err` }, errorOf(f) || ''));
    };
    const form = h('form', { class: 'contacts-form', 'aria-label': '编辑联系人', novalidate: true },
      rows.map((_, i) => h('fieldset', { class: 'contact-row' },
        h('legend', {}, i === 0 ? '主要联系人' : `联系人 ${i + 1}`),
        h('div', { class: 'contact-grid' },
          input(i, 'name', '姓名'),
          input(i, 'phone', '电话', { inputmode: 'tel' }),
          input(i, 'title', '职务'),
          input(i, 'email', '邮箱', { type: 'email' })),
        rows.length > 1 ? h('button', { type: 'button', class: 'small danger', onclick: () => { rows.splice(i, 1); render(); } }, `删除联系人 ${rows[i].name || i + 1}`) : null)),
      problems.get('contacts') ? h('div', { class: 'field-error' }, problems.get('contacts')) : null,
      banner,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary', id: 'contacts-save' }, '保存联系人'),
        rows.length < 20 ? h('button', { type: 'button', class: 'small', onclick: () => { rows.push({ name: '', phone: '', title: '', email: '' }); render(); box.querySelector(`#ct-${rows.length - 1}-name`)?.focus(); } }, '添加联系人') : null));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      press(form.querySelector('#contacts-save'), () => save(), '正在保存…');
    });
    mount(box, h('h2', { id: 'arc-contacts' }, '联系人'), form);
    const bad = inputs.find(([f]) => problems.has(f));
    if (bad) bad[1].focus();
  };
  async function save() {
    const body = {
      contacts: rows.map((x) => ({
        name: x.name || '',
        phone: x.phone || '',
        ...(x.title && x.title.trim() ? { title: x.title } : {}),
        ...(x.email && x.email.trim() ? { email: x.email } : {}),
      })),
    };
    try {
      const r = await api(`/customers/${customer.id}`, { method: 'PATCH', body, ifMatch: version });
      version = r.data.version;
      rows = r.data.contacts.map((x) => ({ ...x }));
      render(new Map(), h('p', { class: 'banner ok', role: 'status' }, '联系人已保存'));
      toast('联系人已保存', 'ok');
    } catch (e) {
      if (e instanceof ApiProblem && e.problem.errors?.length) {
        const problems = new Map(e.problem.errors.map((f) => [f.field, problemText(f.code, true) || f.message]));
        render(problems, h('p', { class: 'banner bad', role: 'alert' }, `${problemText(e.code) || '填写有误'}，联系人未保存，请按提示修改。`));
      } else {
        render(new Map(), h('p', { class: 'banner bad', role: 'alert' }, `${explain(e)}（联系人未保存）`));
      }
    }
  }
  render();
  void ctx;
  return box;
}
