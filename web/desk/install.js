// An install request (安装需求单): the customer, the site, the visit window and contact, and
// the vehicle list (安装车辆明细 with 司机信息) pasted from Excel or read from an XLSX/CSV
// file. Every row is checked here as the API checks it (plate, VIN check digit, phone,
// duplicates within the list) and marked in place with the reason in Chinese; the API
// checks again when the order is filed, and its refusals are marked on the same rows.
// One call files the order with all its vehicles (`POST /work-orders/install`): unknown
// plates become vehicles of the customer and every driver is recorded, all or nothing.
// The request carries an Idempotency-Key kept while the list is unchanged: when the answer
// is lost to the network, the next attempt sends the same key and the server answers the
// order it filed the first time instead of filing a second one.
import { api, newKey, explain, ApiProblem } from '/lib/api.js';
import { h, mount, toast, $, $$ } from '/lib/dom.js';
import { problemText } from '/lib/problems.js';
import { ORDER_STATUS } from '/lib/fmt.js';
import { checkPlate, checkVin, checkPhone, checkText } from '/lib/ids.js';
import { field, centerParam, toLocalInput, fromLocalInput, iso, CHANNEL } from './util.js';
import { parseDelimited, detectDelimiter, readFile, headerMap, saveText, toCsv } from './sheet.js';

/** The grid's columns: the API's field, the header, the names a pasted header may use. */
const COLS = [
  { key: 'plate', label: '车牌号', names: ['车牌号', '车牌', '车牌号码', '号牌号码', 'plate', 'plate_no', 'plateno'], api: 'plate_no' },
  { key: 'vin', label: '车架号', names: ['车架号', '车架号码', 'VIN', 'VIN码', '车辆识别代号', '车辆识别号'], api: 'vin' },
  { key: 'model', label: '车型', names: ['车型', '车辆型号', '品牌型号', '型号', 'model'], api: 'model' },
  { key: 'driver', label: '司机', names: ['司机', '司机姓名', '驾驶员', '驾驶员姓名', '姓名', 'driver', 'driver_name'], api: 'driver.name' },
  { key: 'phone', label: '电话', names: ['电话', '司机电话', '司机手机', '手机', '手机号', '手机号码', '联系电话', '驾驶员电话', 'phone', 'driver_phone'], api: 'driver.phone' },
];
const KEYS = COLS.map((c) => c.key);
const HEADER_NAMES = Object.fromEntries(COLS.map((c) => [c.key, c.names]));
const MAX_ROWS = 200;

const blankRow = () => ({ plate: '', vin: '', model: '', driver: '', phone: '', server: {} });
const isBlank = (r) => KEYS.every((k) => !String(r[k] || '').trim());

/** The rows of pasted/read cells as grid rows: by header when the first row is one
 *  (车牌号/车架号/车型/司机/电话 or English), else positionally from column `from`. */
export function rowsFromCells(table, from = 0) {
  if (!table.length) return [];
  const map = headerMap(table[0].cells, HEADER_NAMES);
  const isHeader = map && (map.plate !== undefined || Object.keys(map).length >= 2);
  const body = isHeader ? table.slice(1) : table;
  return body.map((r) => {
    const row = blankRow();
    row.source = r.line;
    if (isHeader) {
      for (const k of KEYS) if (map[k] !== undefined) row[k] = String(r.cells[map[k]] ?? '').trim();
    } else {
      KEYS.slice(from).forEach((k, i) => { row[k] = String(r.cells[i] ?? '').trim(); });
    }
    return row;
  });
}

/** Checks every row: `{ [field]: reason }` per row (empty rows: none), duplicates of
 *  plate and VIN within the list included; the API's own refusals (`row.server`) kept
 *  until the row is edited. */
export function checkRows(rows) {
  const plates = new Map();
  const vins = new Map();
  return rows.map((r, i) => {
    const out = {};
    if (isBlank(r)) return out;
    const plate = checkPlate(r.plate);
    if (!plate.ok) out.plate = plate.text;
    else if (plates.has(plate.value)) out.plate = `与第 ${plates.get(plate.value) + 1} 行车牌号重复`;
    else plates.set(plate.value, i);
    if (String(r.vin).trim()) {
      const vin = checkVin(r.vin);
      if (!vin.ok) out.vin = vin.text;
      else if (vins.has(vin.value)) out.vin = `与第 ${vins.get(vin.value) + 1} 行车架号重复`;
      else vins.set(vin.value, i);
    }
    const model = checkText(r.model, { max: 50, what: '车型' });
    if (!model.ok) out.model = model.text;
    if (String(r.driver).trim() || String(r.phone).trim()) {
      const name = checkText(r.driver, { max: 50, required: true, what: '司机姓名' });
      if (!name.ok) out.driver = String(r.phone).trim() ? `${name.text}（有电话就要有司机姓名）` : name.text;
      const phone = checkPhone(r.phone);
      if (!phone.ok) out.phone = phone.code === 'empty' ? '司机电话未填写（有司机就要有电话）' : phone.text;
    }
    for (const [k, text] of Object.entries(r.server || {})) if (!out[k]) out[k] = text;
    return out;
  });
}

/** A vehicle line as the API takes it (values normalised). */
function vehicleLine(r) {
  const line = { plate_no: checkPlate(r.plate).value };
  if (String(r.vin).trim()) line.vin = checkVin(r.vin).value;
  if (String(r.model).trim()) line.model = String(r.model).trim();
  if (String(r.driver).trim() || String(r.phone).trim()) line.driver = { name: String(r.driver).trim(), phone: checkPhone(r.phone).value };
  return line;
}

/** The API's words for a vehicle field, in Chinese. */
function apiReason(key, code, message) {
  if (code === 'duplicate') return key === 'plate' ? '车牌号在本单中重复' : '本单中重复';
  if (code === 'unknown') return '系统中没有这辆车（本客户）';
  const local = { plate: checkPlate, vin: checkVin, phone: checkPhone }[key];
  const label = COLS.find((c) => c.key === key).label;
  const generic = problemText(code, true);
  if (local) return `${label}${generic ? `：${generic}` : '不对'}（${message || code}）`;
  return `${label}：${generic || message || code}`;
}

const SITE_FIELDS = {
  site_address: '作业地址', site_lat: '纬度', site_lng: '经度', contact_name: '现场联系人', contact_phone: '联系电话',
  window_start: '期望上门（开始）', window_end: '期望上门（结束）', urgency: '紧急程度', channel: '来源渠道', notes: '备注', customer_id: '客户',
};

export async function page(ctx) {
  const state = { customer: null, rows: [blankRow(), blankRow(), blankRow()], key: null, keyFor: null, filed: null };

  // ------------------------------------------------------------ customer pick
  const custInput = h('input', {
    id: 'i-customer', type: 'search', autocomplete: 'off', placeholder: '输入客户名称中的字查找',
    role: 'combobox', 'aria-expanded': 'false', 'aria-controls': 'i-customer-list', 'aria-autocomplete': 'list',
  });
  const custList = h('ul', { id: 'i-customer-list', role: 'listbox', class: 'pick-list', hidden: true, 'aria-label': '客户' });
  const custChosen = h('div', { class: 'chosen', 'aria-live': 'polite' });
  const custErr = h('div', { class: 'field-error', id: 'i-customer-err' });
  let found = [];
  let active = -1;
  let seq = 0;
  let timer = null;

  const showList = (items) => {
    found = items;
    active = items.length ? 0 : -1;
    mount(custList, items.length
      ? items.map((c, i) => h('li', {
        role: 'option', id: `i-cust-${i}`, 'aria-selected': i === active ? 'true' : 'false', dataset: { id: c.id },
        onmousedown: (e) => { e.preventDefault(); choose(c); },
      }, h('strong', {}, c.name), ' ', h('span', { class: 'muted small' }, [c.contacts?.[0]?.name, c.address].filter(Boolean).join(' · '))))
      : h('li', { class: 'muted', role: 'option', 'aria-disabled': 'true' }, '没有找到，换个字试试；新客户请先在“客户档案”中登记'));
    custList.hidden = false;
    custInput.setAttribute('aria-expanded', 'true');
    custInput.setAttribute('aria-activedescendant', active >= 0 ? `i-cust-${active}` : '');
  };
  const hideList = () => { custList.hidden = true; custInput.setAttribute('aria-expanded', 'false'); custInput.removeAttribute('aria-activedescendant'); };
  const moveActive = (d) => {
    if (!found.length) return;
    active = (active + d + found.length) % found.length;
    $$('[role=option]', custList).forEach((li, i) => li.setAttribute('aria-selected', i === active ? 'true' : 'false'));
    custInput.setAttribute('aria-activedescendant', `i-cust-${active}`);
  };
  const lookUp = async () => {
    const q = custInput.value.trim();
    const mine = ++seq;
    try {
      const r = await api(`/customers?limit=8${q ? `&q=${encodeURIComponent(q)}` : ''}${centerParam()}`);
      if (mine === seq && ctx.alive()) showList(r.data.items);
    } catch (e) {
      if (mine === seq) custErr.textContent = explain(e);
    }
  };
  custInput.addEventListener('input', () => {
    clearTimeout(timer);
    if (state.customer && custInput.value !== state.customer.name) {
      // typing again drops the customer picked before
      state.customer = null;
      mount(custChosen);
    }
    timer = setTimeout(lookUp, 180);
  });
  custInput.addEventListener('focus', () => { if (!state.customer) lookUp(); });
  custInput.addEventListener('blur', () => setTimeout(hideList, 150));
  custInput.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); if (custList.hidden) lookUp(); else moveActive(1); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); moveActive(-1); }
    else if (e.key === 'Escape') hideList();
    else if (e.key === 'Enter') {
      e.preventDefault();
      if (!custList.hidden && found[active]) choose(found[active]);
    }
  });

  function choose(c) {
    clearTimeout(timer);
    seq++; // an answer still on its way must not reopen the list
    state.customer = c;
    custErr.textContent = '';
    custInput.removeAttribute('aria-invalid');
    custInput.value = c.name;
    hideList();
    const contact = c.contacts?.[0];
    mount(custChosen, h('div', { class: 'card tight' },
      h('strong', {}, c.name), ' ',
      h('span', { class: 'badge' }, { key: '大客户', major: '重点客户', normal: '普通客户' }[c.tier] || c.tier), ' ',
      h('span', { class: 'badge' }, c.payment_terms === 'credit' ? `月结 ${c.credit_days || ''} 天` : '现场结算'),
      h('div', { class: 'muted small' }, [c.address, contact && `${contact.name} ${contact.phone}`].filter(Boolean).join(' · ')),
      h('a', { href: `#/customers/${c.id}`, class: 'small' }, '查看客户档案')));
    // the site and contact default to the customer's (each only when still empty)
    if (!addr.value.trim() && c.address) addr.value = c.address;
    if (!lat.value && c.lat !== null && c.lat !== undefined) lat.value = c.lat;
    if (!lng.value && c.lng !== null && c.lng !== undefined) lng.value = c.lng;
    if (contact && !cName.value.trim()) cName.value = contact.name;
    if (contact && !cPhone.value.trim()) cPhone.value = contact.phone;
    if (!win.start.value) {
      // tomorrow 09:00–12:00 Beijing time, a typical install appointment
      const tomorrow = toLocalInput(Date.now() + 86400000).slice(0, 10);
      win.start.value = `${tomorrow}T09:00`;
      win.end.value = `${tomorrow}T12:00`;
    }
  }

  // ------------------------------------------------------------ site, window, contact
  const addr = h('input', { name: 'site_address', maxlength: 200, autocomplete: 'off', placeholder: '省市区 + 街道门牌，如 郑州市管城区航海东路物流园3号库' });
  const lat = h('input', { name: 'site_lat', inputmode: 'decimal', placeholder: '34.7466' });
  const lng = h('input', { name: 'site_lng', inputmode: 'decimal', placeholder: '113.6254' });
  const cName = h('input', { name: 'contact_name', maxlength: 50, autocomplete: 'off' });
  const cPhone = h('input', { name: 'contact_phone', inputmode: 'tel', autocomplete: 'off' });
  const win = {
    start: h('input', { name: 'window_start', type: 'datetime-local' }),
    end: h('input', { name: 'window_end', type: 'datetime-local' }),
  };
  const urgency = h('select', { name: 'urgency' }, h('option', { value: 'normal' }, '普通'), h('option', { value: 'urgent' }, '紧急'));
  const channel = h('select', { name: 'channel' }, ['phone', 'letter', 'walk_in', 'online'].map((c) => h('option', { value: c }, CHANNEL[c])));
  const notes = h('textarea', { name: 'notes', maxlength: 2000, rows: 2, placeholder: '如：车队集中在3号库，需提前一天电话预约' });
  const siteErr = {};
  const withErr = (name, label, control, hint) => {
    siteErr[name] = h('div', { class: 'field-error', id: `i-${name}-err` });
    control.setAttribute('aria-describedby', `i-${name}-err`);
    const f = field(label, control, hint);
    f.append(siteErr[name]);
    return f;
  };

  // ------------------------------------------------------------ the vehicle grid
  const tbody = h('tbody');
  const summary = h('p', { class: 'grid-summary', 'aria-live': 'polite' });
  const pasteBox = h('textarea', {
    id: 'i-paste', rows: 3, class: 'paste-box',
    placeholder: '在 Excel 中选中车辆行（车牌号、车架号、车型、司机、电话）复制，在这里粘贴（Ctrl+V）。有没有表头都可以。',
  });
  const fileInput = h('input', { id: 'i-file', type: 'file', accept: '.xlsx,.xls,.csv,.txt,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const fileNote = h('div', { class: 'muted small', 'aria-live': 'polite' });

  function renderGrid() {
    mount(tbody, state.rows.map((r, i) => h('tr', { dataset: { row: i } },
      h('th', { scope: 'row', class: 'num' }, String(i + 1)),
      COLS.map((c) => h('td', {}, h('input', {
        class: `cell cell-${c.key}`, value: r[c.key], 'aria-label': `第 ${i + 1} 行 ${c.label}`, autocomplete: 'off',
        spellcheck: 'false', dataset: { row: i, key: c.key },
      }))),
      h('td', { class: 'problem', id: `i-row-${i}-problem` }),
      h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `删除第 ${i + 1} 行`, dataset: { remove: i } }, '删除')))));
    validate();
  }

  /** Re-checks every row and marks cells and the row's problem text; answers the count. */
  function validate() {
    const problems = checkRows(state.rows);
    let badRows = 0;
    let filled = 0;
    problems.forEach((p, i) => {
      const tr = tbody.children[i];
      if (!tr) return;
      const any = Object.keys(p).length > 0;
      if (!isBlank(state.rows[i])) filled++;
      if (any) badRows++;
      tr.classList.toggle('bad', any);
      for (const c of COLS) {
        const input = $(`input[data-key="${c.key}"]`, tr);
        if (p[c.key]) {
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', `i-row-${i}-problem`);
          input.title = p[c.key];
        } else {
          input.removeAttribute('aria-invalid');
          input.removeAttribute('aria-describedby');
          input.removeAttribute('title');
        }
      }
      const cell = tr.querySelector('td.problem');
      const texts = COLS.filter((c) => p[c.key]).map((c) => p[c.key]);
      cell.textContent = texts.join('；');
    });
    summary.replaceChildren(
      h('span', {}, `共 ${filled} 辆车`),
      badRows ? h('span', { class: 'bad-text' }, ` · ${badRows} 行有问题，请在表中直接修改（标红的格子）`) : filled ? h('span', { class: 'ok-text' }, ' · 全部检查通过') : '',
      filled > MAX_ROWS ? h('span', { class: 'bad-text' }, ` · 一张单最多 ${MAX_ROWS} 辆车，请分成几张单`) : '');
    return { badRows, filled, problems };
  }

  /** Puts rows into the grid: from row `at` on (overwriting), or into the blank rows at
   *  the end and after them. */
  function addRows(rows, at = null) {
    if (!rows.length) return 0;
    if (at === null) {
      // fill from the first row after the last non-blank one
      let last = state.rows.length - 1;
      while (last >= 0 && isBlank(state.rows[last])) last--;
      at = last + 1;
    }
    rows.forEach((r, j) => {
      if (at + j < state.rows.length) state.rows[at + j] = r; else state.rows.push(r);
    });
    if (!isBlank(state.rows[state.rows.length - 1])) state.rows.push(blankRow());
    state.filed = null;
    renderGrid();
    return rows.length;
  }

  function pasteText(text, at = null, fromKey = 0) {
    const table = parseDelimited(text.replace(/\r\n?/g, '\n'), detectDelimiter(text));
    const rows = rowsFromCells(table, fromKey);
    if (at !== null && fromKey > 0) {
      // a block pasted into a later column keeps the row's cells to the left
      rows.forEach((r, j) => { const old = state.rows[at + j]; if (old) KEYS.slice(0, fromKey).forEach((k) => { if (!r[k]) r[k] = old[k]; }); });
    }
    const n = addRows(rows, at);
    if (n) toast(`已添加 ${n} 行车辆，请检查标红的格子`, 'ok');
    return n;
  }

  tbody.addEventListener('input', (e) => {
    const t = e.target;
    if (!t.dataset.key) return;
    const r = state.rows[Number(t.dataset.row)];
    r[t.dataset.key] = t.value;
    r.server = {};
    state.filed = null;
    validate();
  });
  tbody.addEventListener('paste', (e) => {
    const t = e.target;
    if (!t.dataset.key) return;
    const text = e.clipboardData?.getData('text/plain') || '';
    if (!/[\t\n]/.test(text.trim())) return; // one value: an ordinary paste into the cell
    e.preventDefault();
    pasteText(text, Number(t.dataset.row), KEYS.indexOf(t.dataset.key));
  });
  tbody.addEventListener('keydown', (e) => {
    const t = e.target;
    if (!t.dataset.key || e.key !== 'Enter') return;
    // Enter moves down the column like a spreadsheet (a new row at the end)
    e.preventDefault();
    const i = Number(t.dataset.row) + (e.shiftKey ? -1 : 1);
    if (i < 0) return;
    if (i >= state.rows.length) { state.rows.push(blankRow()); renderGrid(); }
    $(`input[data-row="${i}"][data-key="${t.dataset.key}"]`, tbody)?.focus();
  });
  tbody.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-remove]');
    if (!b) return;
    const i = Number(b.dataset.remove);
    state.rows.splice(i, 1);
    if (!state.rows.length) state.rows.push(blankRow());
    renderGrid();
    const next = $(`input[data-row="${Math.min(i, state.rows.length - 1)}"][data-key="plate"]`, tbody);
    next?.focus();
  });
  pasteBox.addEventListener('paste', (e) => {
    const text = e.clipboardData?.getData('text/plain') || '';
    if (!text.trim()) return;
    e.preventDefault();
    pasteText(text);
  });
  const addPasted = () => {
    if (!pasteBox.value.trim()) { toast('请先把 Excel 中复制的行粘贴到框里', 'error'); pasteBox.focus(); return; }
    if (pasteText(pasteBox.value)) pasteBox.value = '';
  };
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    fileNote.textContent = `正在读取 ${file.name}…`;
    try {
      const got = await readFile(file);
      const rows = rowsFromCells(got.rows);
      if (!rows.length) { fileNote.textContent = `${file.name} 中没有车辆行，请检查文件`; return; }
      addRows(rows);
      fileNote.textContent = `已从 ${file.name}${got.sheet ? `（工作表“${got.sheet}”）` : ''} 读取 ${rows.length} 行${got.encoding && got.encoding !== 'UTF-8' ? `（${got.encoding} 编码）` : ''}，请检查标红的格子。`;
    } catch (e) {
      fileNote.textContent = `读取失败：${e.message}`;
    } finally {
      fileInput.value = '';
    }
  });

  // ------------------------------------------------------------ filing
  const outcome = h('div', { id: 'i-outcome', 'aria-live': 'assertive' });
  const submitBtn = h('button', { type: 'submit', class: 'primary', dataset: { submit: '1' } }, '提交审批');
  const draftBtn = h('button', { type: 'button', dataset: { submit: '0' } }, '保存草稿');

  function clearSiteErrors() {
    for (const [k, el] of Object.entries(siteErr)) { el.textContent = ''; $(`[name="${k}"]`, form)?.removeAttribute('aria-invalid'); }
    custErr.textContent = '';
  }
  function siteError(name, text) {
    if (name === 'customer_id') { custErr.textContent = text; custInput.setAttribute('aria-invalid', 'true'); return custInput; }
    const el = siteErr[name];
    const control = $(`[name="${name}"]`, form);
    if (el) el.textContent = text;
    control?.setAttribute('aria-invalid', 'true');
    return control;
  }

  /** The request body, or null after marking what is missing or wrong (focus on the first). */
  function collect(submit) {
    clearSiteErrors();
    const wrong = [];
    if (!state.customer) wrong.push(siteError('customer_id', '请先选择客户'));
    const a = checkText(addr.value, { max: 200, required: true, what: '作业地址' });
    if (!a.ok) wrong.push(siteError('site_address', a.text));
    const la = Number(lat.value);
    const ln = Number(lng.value);
    if (lat.value.trim() === '' || !Number.isFinite(la) || la < -90 || la > 90) wrong.push(siteError('site_lat', '请填写纬度（-90 到 90，如 34.7466）'));
    if (lng.value.trim() === '' || !Number.isFinite(ln) || ln < -180 || ln > 180) wrong.push(siteError('site_lng', '请填写经度（-180 到 180，如 113.6254）'));
    const n = checkText(cName.value, { max: 50, required: true, what: '现场联系人' });
    if (!n.ok) wrong.push(siteError('contact_name', n.text));
    const p = checkPhone(cPhone.value);
    if (!p.ok) wrong.push(siteError('contact_phone', p.text));
    const ws = fromLocalInput(win.start.value);
    const we = fromLocalInput(win.end.value);
    if (win.start.value && !ws) wrong.push(siteError('window_start', '时间格式不对'));
    if (win.end.value && !we) wrong.push(siteError('window_end', '时间格式不对'));
    if (ws && we && we <= ws) wrong.push(siteError('window_end', '结束时间要晚于开始时间'));
    const { badRows, filled } = validate();
    let firstBad = null;
    if (!filled) {
      summary.replaceChildren(h('span', { class: 'bad-text' }, '请至少填写一辆车（可从 Excel 粘贴）'));
      firstBad = $('input[data-key="plate"]', tbody);
    } else if (badRows) {
      firstBad = $('input[aria-invalid="true"]', tbody);
    }
    if (filled > MAX_ROWS) firstBad = firstBad || $('input', tbody);
    if (wrong.length || firstBad) {
      (wrong[0] || firstBad)?.focus();
      const parts = [];
      if (wrong.length) parts.push(`单据信息有 ${wrong.length} 处要补充或修改`);
      if (badRows) parts.push(`车辆明细有 ${badRows} 行有问题`);
      if (!filled) parts.push('还没有车辆');
      mount(outcome, h('p', { class: 'banner bad', role: 'alert' }, `还不能${submit ? '提交' : '保存'}：${parts.join('，')}。标红处已写明原因。`));
      return null;
    }
    const lines = state.rows.map((r, i) => ({ r, i })).filter(({ r }) => !isBlank(r));
    const body = {
      customer_id: state.customer.id,
      site_address: a.value, site_lat: la, site_lng: ln,
      contact_name: n.value, contact_phone: p.value,
      urgency: urgency.value, channel: channel.value, submit,
      vehicles: lines.map(({ r }) => vehicleLine(r)),
    };
    if (ws) body.window_start = iso(ws);
    if (we) body.window_end = iso(we);
    if (notes.value.trim()) body.notes = notes.value.trim();
    return { body, rowOf: lines.map(({ i }) => i) };
  }

  /** Marks the API's refusal where it belongs: a vehicle field on its row, a form field
   *  on the form; answers whether anything was marked. */
  async function markRefusal(e, rowOf, body) {
    let marked = false;
    for (const f of e.problem?.errors || []) {
      const m = /^vehicles\[(\d+)\](?:\.(.+))?$/.exec(f.field || '');
      if (m) {
        const row = state.rows[rowOf[Number(m[1])]];
        if (!row) continue;
        const key = { plate_no: 'plate', vin: 'vin', model: 'model', 'driver.name': 'driver', 'driver.phone': 'phone', vehicle_id: 'plate' }[m[2] || 'plate_no'] || 'plate';
        row.server = { ...row.server, [key]: apiReason(key, f.code, f.message) };
        marked = true;
      } else if (SITE_FIELDS[f.field]) {
        siteError(f.field, `${SITE_FIELDS[f.field]}：${problemText(f.code, true) || f.message}`);
        marked = true;
      }
    }
    if (e.code === 'duplicate_plate_no') {
      // "<plate> is registered to another customer": mark that row
      const plate = (e.problem?.detail || '').split(' ')[0];
      const j = body.vehicles.findIndex((v) => v.plate_no === plate);
      if (j >= 0) {
        state.rows[rowOf[j]].server = { plate: '该车牌已登记在其他客户名下，请核对车牌或客户' };
        marked = true;
      }
    }
    if (e.code === 'duplicate' && e.problem?.field === 'vin') {
      // a VIN of a new vehicle is already registered: find which among the visible ones
      const withVin = body.vehicles.map((v, j) => ({ v, j })).filter(({ v }) => v.vin);
      const hits = await Promise.all(withVin.map(({ v }) => api(`/vehicles?limit=5&q=${encodeURIComponent(v.vin)}${centerParam()}`).then((r) => r.data.items).catch(() => [])));
      withVin.forEach(({ v, j }, k) => {
        const other = hits[k].find((x) => x.vin === v.vin && x.plate_no !== v.plate_no);
        if (other) { state.rows[rowOf[j]].server = { vin: `该车架号已登记在车辆 ${other.plate_no} 上，请核对` }; marked = true; }
      });
    }
    validate();
    return marked;
  }

  async function file(submit, button) {
    const got = collect(submit);
    if (!got) return;
    const { body, rowOf } = got;
    // the same request sent again carries the same key: the server files it once and
    // answers a retry with the first answer (Idempotent-Replayed)
    const fingerprint = JSON.stringify(body);
    if (state.keyFor !== fingerprint) { state.key = newKey(); state.keyFor = fingerprint; }
    const buttons = [submitBtn, draftBtn];
    buttons.forEach((b) => { b.disabled = true; });
    const label = button.textContent;
    button.textContent = submit ? '正在提交…' : '正在保存…';
    button.setAttribute('aria-busy', 'true');
    try {
      const r = await api('/work-orders/install', { method: 'POST', body, idempotencyKey: state.key });
      filed(r.data, body, r.headers.get('Idempotent-Replayed') === 'true');
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 0) {
        mount(outcome, h('div', { class: 'banner bad', role: 'alert' },
          h('p', {}, '网络中断，不知道这张单是否已经建好。表中内容保持不动。'),
          h('p', {}, '网络恢复后再点一次“', label, '”：如果刚才已经建好，系统会直接显示那张单，不会重复建单。')));
      } else if (e instanceof ApiProblem && e.status === 403) {
        mount(outcome, h('p', { class: 'banner bad', role: 'alert' }, `没有建单的权限：${explain(e)}`));
      } else {
        const marked = e instanceof ApiProblem && await markRefusal(e, rowOf, body);
        mount(outcome, h('p', { class: 'banner bad', role: 'alert' },
          `系统没有接受这张单，什么都没有保存：${explain(e)}`, marked ? '。标红处已写明原因，改好后再提交。' : ''));
        (marked ? $('[aria-invalid="true"]', ctx.root) : null)?.focus();
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      button.textContent = label;
      button.removeAttribute('aria-busy');
    }
  }

  function filed(order, body, recovered = false) {
    state.filed = order;
    const drivers = order.lines.filter((l) => l.driver_id).length;
    mount(outcome, h('div', { class: 'card filed', role: 'status' },
      h('h2', {}, order.status === 'draft' ? '已保存为草稿' : '已提交审批'),
      recovered ? h('p', { class: 'ok-text' }, '这张单在网络中断前已经建好，没有重复建单。') : null,
      h('p', {}, '工单 ', h('a', { href: `#/orders/${order.id}` }, h('strong', {}, order.number)), `（${ORDER_STATUS[order.status] || order.status}）`,
        `：${order.lines.length} 辆车，${drivers} 位司机已登记。`,
        order.status === 'draft' ? '草稿不会进入审批，需要时在工单页提交。' : '调度审批后安排技术员。'),
      h('table', { class: 'compact-table' },
        h('caption', { class: 'sr-only' }, '已建单的车辆'),
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, '车牌号'), h('th', {}, '司机'))),
        h('tbody', {}, order.lines.map((l, i) => h('tr', {}, h('td', {}, String(i + 1)), h('td', {}, l.plate_no),
          h('td', {}, body.vehicles[i]?.driver ? `${body.vehicles[i].driver.name} ${body.vehicles[i].driver.phone}` : '—'))))),
      h('div', { class: 'row' },
        h('a', { class: 'button primary', href: `#/orders/${order.id}` }, '打开工单'),
        h('button', { type: 'button', onclick: () => ctx.go('#/install', { replace: true }) }, '再建一张安装单'))));
    $('h2', outcome)?.setAttribute('tabindex', '-1');
    $('h2', outcome)?.focus();
    toast(`${order.number} ${order.status === 'draft' ? '已保存为草稿' : '已提交审批'}`, 'ok');
  }

  const template = () => saveText('安装车辆明细模板.csv', toCsv([
    COLS.map((c) => c.label),
    ['豫A12345', 'LSVAM4187C2184847', '解放J6', '张师傅', '13812345678'],
  ]));

  const form = h('form', { class: 'install', novalidate: true, 'aria-labelledby': 'i-title' },
    h('section', { class: 'card', 'aria-labelledby': 'i-cust-h' },
      h('h2', { id: 'i-cust-h' }, '1. 客户'),
      h('div', { class: 'field pick' }, h('label', { for: 'i-customer' }, '客户'), custInput, custList, custErr),
      custChosen),
    h('section', { class: 'card', 'aria-labelledby': 'i-site-h' },
      h('h2', { id: 'i-site-h' }, '2. 作业地点与时间'),
      h('div', { class: 'grid2' },
        withErr('site_address', '作业地址', addr),
        h('div', { class: 'row top' }, withErr('site_lat', '纬度', lat), withErr('site_lng', '经度', lng)),
        withErr('contact_name', '现场联系人', cName),
        withErr('contact_phone', '联系电话', cPhone),
        withErr('window_start', '期望上门（开始）', win.start),
        withErr('window_end', '期望上门（结束）', win.end),
        h('div', { class: 'row top' }, withErr('urgency', '紧急程度', urgency), withErr('channel', '来源渠道', channel)),
        withErr('notes', '备注', notes)),
      h('p', { class: 'muted small' }, '地址和坐标默认取客户登记的地址；车队在别处时请改成实际作业地点。时间按北京时间。')),
    h('section', { class: 'card', 'aria-labelledby': 'i-veh-h' },
      h('h2', { id: 'i-veh-h' }, '3. 安装车辆明细与司机信息'),
      h('div', { class: 'intake-sources' },
        h('div', { class: 'field grow' }, h('label', { for: 'i-paste' }, '从 Excel 粘贴'), pasteBox,
          h('div', { class: 'row' }, h('button', { type: 'button', class: 'small', onclick: addPasted }, '添加到明细'),
            h('span', { class: 'muted small' }, '列顺序：车牌号、车架号、车型、司机、电话；带表头时按表头识别。'))),
        h('div', { class: 'field' }, h('label', { for: 'i-file' }, '或上传 Excel / CSV 文件'), fileInput, fileNote,
          h('button', { type: 'button', class: 'small', onclick: template }, '下载模板（CSV）'))),
      summary,
      h('div', { class: 'scrollx' }, h('table', { class: 'grid', id: 'i-grid' },
        h('caption', { class: 'sr-only' }, '安装车辆明细'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, '#'), COLS.map((c) => h('th', { scope: 'col' }, c.label)), h('th', { scope: 'col' }, '问题'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, '操作')))),
        tbody)),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'small', onclick: () => { state.rows.push(blankRow()); renderGrid(); $(`input[data-row="${state.rows.length - 1}"][data-key="plate"]`, tbody)?.focus(); } }, '添加一行'),
        h('button', { type: 'button', class: 'small', onclick: () => { if (confirm('清空车辆明细中的所有行？')) { state.rows = [blankRow(), blankRow(), blankRow()]; renderGrid(); } } }, '清空明细')),
      h('p', { class: 'muted small' }, '车架号可不填；填了就必须是 17 位且校验位正确。已登记的车牌沿用原车辆，新车牌登记到该客户名下。')),
    h('div', { class: 'row actions' }, submitBtn, draftBtn, h('span', { class: 'muted small' }, '提交后进入调度审批；草稿只保存不审批。')),
    outcome);
  form.addEventListener('submit', (e) => { e.preventDefault(); file(true, submitBtn); });
  draftBtn.addEventListener('click', () => file(false, draftBtn));

  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', { id: 'i-title' }, '安装需求单'),
      h('span', { class: 'muted' }, '客户的安装需求：车辆明细可从 Excel 粘贴或上传')),
    form);
  renderGrid();
  custInput.focus();
}
