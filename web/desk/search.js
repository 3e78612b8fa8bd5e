// Find anything: the search box in the top bar (keyboard: `/`) and the #/search?q= page.
// One text → GET /api/v1/search → results grouped by kind (工单, 客户, 车辆, 终端, SIM 卡,
// 收款). The box answers as you type (debounced; an answer to an older text is dropped),
// in a list you walk with ↑/↓, open with Enter and close with Escape; Enter with nothing
// picked opens the full page. Each result opens its page: an order (or a payment's order),
// or the customer's archive (customers, vehicles, terminals and SIMs).
import { api, explain } from '/lib/api.js';
import { h, mount } from '/lib/dom.js';
import { centerParam } from './util.js';

const DEBOUNCE_MS = 150;
const MATCH = {
  order_no: '单号', name: '名称', initials: '拼音首字母', contact_phone: '联系人电话', driver_phone: '司机电话',
  plate: '车牌', vin: '车架号', imei: 'IMEI', iccid: 'ICCID', msisdn: '卡号', receipt_no: '收据号',
};

/** The desk page an item opens, or null (a terminal or SIM in no vehicle has none). */
export function hrefOf(item) {
  if (item.kind === 'order' || item.kind === 'payment') return item.order_id ? `#/orders/${item.order_id}` : null;
  return item.customer_id ? `#/customers/${item.customer_id}` : null;
}

async function find(q, limit) {
  const r = await api(`/search?q=${encodeURIComponent(q)}&limit=${limit}${centerParam()}`);
  return r.data;
}

/** Whether a key press lands in something the user types into. */
function typing(el) {
  if (!el) return false;
  const tag = el.tagName;
  return el.isContentEditable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

/** Mounts the search box into `el` (keyboard: `/`). */
export function box(el, go) {
  if (!el) return;
  const listId = 'find-list';
  const input = h('input', {
    type: 'search', id: 'find-q', autocomplete: 'off', spellcheck: 'false',
    placeholder: '查找：单号 车牌 电话 客户 IMEI 卡号（按 / ）',
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
  });
  const list = h('div', { id: listId, class: 'find-list', role: 'listbox', 'aria-label': '查找结果', hidden: true });
  const status = h('span', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  mount(el, h('label', { for: 'find-q', class: 'sr-only' }, '查找'), input, list, status);

  let timer = null;
  let asked = 0; // the number of the latest request; older answers are dropped
  let options = []; // [{ el, item }]
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const open = () => {
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const highlight = (i) => {
    options.forEach((o, j) => o.el.setAttribute('aria-selected', j === i ? 'true' : 'false'));
    active = i;
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', options[i].el.id);
      options[i].el.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const openItem = (item) => {
    const href = hrefOf(item);
    if (!href) return;
    close();
    input.blur();
    go(href);
  };
  const openPage = () => {
    const q = input.value.trim();
    if (!q) return;
    close();
    input.blur();
    go(`#/search?q=${encodeURIComponent(q)}`);
  };

  const show = (data) => {
    // a newer answer keeps the item the user had picked, if it is still there
    const picked = active >= 0 ? options[active].item : null;
    options = [];
    active = -1;
    list.dataset.q = data.q;
    const groups = data.groups || [];
    if (!groups.length) {
      mount(list, h('p', { class: 'find-empty' }, `没有找到“${data.q}”，请换个关键词（单号、车牌、电话、客户名或拼音首字母）`));
      status.textContent = '没有找到';
      open();
      return;
    }
    let n = 0;
    mount(list, groups.map((g) => h('div', { role: 'group', 'aria-label': g.label, class: 'find-group' },
      h('div', { class: 'find-head', 'aria-hidden': 'true' }, g.label),
      g.items.map((item) => {
        const i = n++;
        const href = hrefOf(item);
        const opt = h('div', {
          role: 'option', id: `find-opt-${i}`, class: 'find-opt', 'aria-selected': 'false',
          'aria-disabled': href ? null : 'true', dataset: { kind: item.kind, id: item.id },
          onmousedown: (e) => e.preventDefault(),
          onclick: () => openItem(item),
          onmousemove: () => { if (active !== i) highlight(i); },
        },
        h('span', { class: 'find-title' }, item.title),
        h('span', { class: 'find-match' }, MATCH[item.match] || item.match),
        h('span', { class: 'find-sub' }, item.subtitle || '', href ? '' : ' · 未装车，无档案可开'));
        options.push({ el: opt, item });
        return opt;
      }))));
    list.append(h('div', { class: 'find-foot', 'aria-hidden': 'true' }, '↑↓ 选择 · Enter 打开 · Esc 关闭'));
    status.textContent = `找到 ${n} 项`;
    open();
    if (picked) {
      const again = options.findIndex((o) => o.item.kind === picked.kind && o.item.id === picked.id);
      if (again >= 0) highlight(again);
    }
  };

  const ask = () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { close(); mount(list); return; }
    find(q, 5).then((data) => {
      if (mine !== asked || document.activeElement !== input) return; // stale, or left
      show(data);
    }).catch((e) => {
      if (mine !== asked) return;
      mount(list, h('p', { class: 'find-empty', role: 'alert' }, explain(e)));
      open();
    });
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  });
  input.addEventListener('focus', () => { if (input.value.trim() && options.length) open(); });
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.hidden) { if (options.length) open(); else { ask(); return; } }
      if (!options.length) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      const next = active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length;
      highlight(next);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (!list.hidden && active >= 0) openItem(options[active].item);
      else openPage();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (!list.hidden) close();
      else { input.value = ''; input.blur(); }
    }
  });

  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    e.preventDefault();
    input.focus();
    input.select();
  });
}

/** #/search?q=: every group, up to 20 of each. */
export async function results(ctx) {
  const q = (ctx.query.get('q') || '').trim();
  const boxInput = document.getElementById('find-q');
  if (boxInput && q) boxInput.value = q;
  if (!q) {
    mount(ctx.root, h('h1', {}, '查找'), h('p', { class: 'muted' }, '在顶部查找框输入单号、车牌、电话、客户名（或拼音首字母）、IMEI、ICCID、卡号或收据号，按 Enter。快捷键：/'));
    return;
  }
  const data = await find(q, 20);
  if (!ctx.alive()) return;
  const groups = data.groups || [];
  const total = groups.reduce((n, g) => n + g.items.length, 0);
  mount(ctx.root,
    h('h1', {}, `查找“${data.q}”`),
    h('p', { class: 'muted', role: 'status' }, total ? `找到 ${total} 项（每类最多 20 项）` : '没有找到。请检查号码，或换个关键词：单号、车牌（可不带省份）、电话后四位、客户名或拼音首字母。'),
    groups.map((g) => h('section', { class: 'find-section', 'aria-label': g.label },
      h('h2', {}, `${g.label}（${g.items.length}）`),
      h('ul', { class: 'find-results' }, g.items.map((item) => {
        const href = hrefOf(item);
        return h('li', { dataset: { kind: item.kind, id: item.id } },
          href ? h('a', { href, class: 'find-title' }, item.title) : h('span', { class: 'find-title' }, item.title),
          h('span', { class: 'find-match' }, MATCH[item.match] || item.match),
          h('span', { class: 'find-sub' }, item.subtitle || '', href ? '' : ' · 未装车，无档案可开'));
      })))));
}
