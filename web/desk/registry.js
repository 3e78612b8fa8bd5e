// The registry (登记与导入): customers, vehicles, terminals and SIM cards, each a list with
// a filter and paging; terminals and SIM cards are also imported from a CSV (or XLSX)
// file. The file is read in the browser (UTF-8 with or without BOM, GBK, XLSX; Chinese
// or English headers), sent to the import endpoint as UTF-8 CSV, and the API's per-row
// report (all rows or none are imported) is shown as a table: the file's row, the column,
// the value and the reason in Chinese.
import { api, token, signOut, explain, ApiProblem, me } from '/lib/api.js';
import { h, mount, toast, $ } from '/lib/dom.js';
import { problemText } from '/lib/problems.js';
import { date, number } from '/lib/fmt.js';
import { checkImei } from '/lib/ids.js';
import { guarded, table, field, centerParam, centerId, center, customers, customerName } from './util.js';
import { readFile, headerMap, toCsv, saveText } from './sheet.js';

const TABS = [
  ['customers', '客户'], ['vehicles', '车辆'], ['terminals', 'GPS终端'], ['sims', 'SIM卡'],
];
const PAGE = 20;

const TIER = { key: '大客户', major: '重点客户', normal: '普通客户' };
const TERMS = { cash: '现场结算', credit: '月结' };
const T_STATUS = { in_stock: '在库', installed: '已安装', in_repair: '维修中', returned: '已返厂', scrapped: '已报废' };
const T_LOCATION = { warehouse: '仓库', technician: '技术员处', vehicle: '车辆上' };
const S_STATUS = { in_stock: '在库', active: '使用中', suspended: '停机', cancelled: '已注销' };
const CARRIER = { china_mobile: '中国移动', china_unicom: '中国联通', china_telecom: '中国电信', other: '其他' };
const opt = (map, value, all = '全部') => [h('option', { value: '' }, all), Object.entries(map).map(([k, v]) => h('option', { value: k, selected: k === value }, v))];
const badge = (text, cls = '') => h('span', { class: `badge ${cls}` }, text);

// ---------------------------------------------------------------- imports

/** What each import takes: the API's columns (required first), their Chinese names, the
 *  names a header may use, and how a cell is tidied before sending. */
const IMPORTS = {
  terminals: {
    path: '/terminals/import', what: '终端', unit: '台',
    required: ['imei', 'model_code', 'purchase_date'],
    columns: {
      imei: { label: 'IMEI', names: ['imei', 'IMEI号', '终端号', '终端IMEI', '设备号', '设备IMEI'] },
      model_code: { label: '型号', names: ['model_code', '型号', '终端型号', '型号代码', '设备型号'] },
      purchase_date: { label: '购买日期', names: ['purchase_date', '购买日期', '采购日期', '购入日期'] },
      warranty_months: { label: '保修月数', names: ['warranty_months', '保修月数', '保修期', '保修月', '保修期月'] },
      notes: { label: '备注', names: ['notes', '备注', '说明'] },
    },
    example: '865432104567895,GT06N,2025-03-01,12,一号库',
  },
  sims: {
    path: '/sims/import', what: 'SIM卡', unit: '张',
    required: ['iccid', 'msisdn'],
    columns: {
      iccid: { label: 'ICCID', names: ['iccid', 'ICCID号', 'SIM卡号', '卡号', 'ICCID码'] },
      msisdn: { label: '号码', names: ['msisdn', '号码', '手机号', '手机号码', '物联网号码', '卡号码', '接入号', 'SIM号码'] },
      carrier: { label: '运营商', names: ['carrier', '运营商'] },
      notes: { label: '备注', names: ['notes', '备注', '说明'] },
    },
    example: '89860012345678901238,14400012345,china_mobile,一号库',
  },
};

const CARRIER_IN = { 中国移动: 'china_mobile', 移动: 'china_mobile', 中国联通: 'china_unicom', 联通: 'china_unicom', 中国电信: 'china_telecom', 电信: 'china_telecom', 其他: 'other' };

/** A cell as the API takes it: dates as YYYY-MM-DD, carriers and model names as codes. */
function tidy(col, v, models) {
  let s = String(v ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (col === 'purchase_date') {
    const m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(s);
    if (m) s = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
  }
  if (col === 'carrier' && CARRIER_IN[s]) s = CARRIER_IN[s];
  if (col === 'model_code' && s && !models.some((m) => m.code === s)) {
    const byName = models.find((m) => m.name === s || m.code.toLowerCase() === s.toLowerCase());
    if (byName) s = byName.code;
  }
  if (['imei', 'iccid', 'msisdn'].includes(col)) s = s.replace(/[\s-]/g, '');
  return s;
}

/** The file's rows as the API's CSV: `{ csv, sources, missing }` where `sources[k]` is the
 *  file row sent as line k + 2 (the header being line 1), `missing` the required columns
 *  the header lacks. */
export function prepareImport(kind, rows, models = []) {
  const spec = IMPORTS[kind];
  if (!rows.length) return { csv: '', sources: [], missing: [], empty: true };
  const names = Object.fromEntries(Object.entries(spec.columns).map(([k, c]) => [k, [k, c.label, ...c.names]]));
  const map = headerMap(rows[0].cells, names) || {};
  const missing = spec.required.filter((c) => map[c] === undefined);
  const cols = Object.keys(spec.columns).filter((c) => map[c] !== undefined);
  const body = rows.slice(1);
  const out = [cols, ...body.map((r) => cols.map((c) => tidy(c, r.cells[map[c]], models)))];
  return { csv: toCsv(out), sources: body.map((r, k) => ({ line: r.line, values: Object.fromEntries(cols.map((c, j) => [c, out[k + 1][j]])) })), missing, cols, empty: !body.length };
}

const ID_TEXT = {
  iccid: { empty: 'ICCID 未填写', not_digits: 'ICCID 只能是数字', prefix: 'ICCID 应以 89 开头', length: 'ICCID 应为 19 或 20 位', checksum: 'ICCID 校验位（最后一位）对不上，请核对' },
  msisdn: { empty: '号码未填写', not_digits: '号码只能是数字', length: '号码应为 11 位手机号或 13 位物联网号码', prefix: '号码开头不对：手机号以 13–19 开头，物联网号码以 1440、1441、1064、1065、1410 或 1400 开头' },
};

/** One API error of an import, in Chinese. `lineOf(serverLine)` gives the file's row. */
function reason(kind, col, code, message, value, lineOf, models) {
  const dup = /line (\d+)/.exec(message || '');
  if (code === 'duplicate') return dup ? `与文件第 ${lineOf(Number(dup[1]))} 行重复` : '系统中已登记，不能重复导入';
  if (col === 'imei') {
    const local = checkImei(value);
    return local.ok ? (problemText(code, true) || message) : local.text;
  }
  if (ID_TEXT[col]?.[code]) return ID_TEXT[col][code];
  if (col === 'model_code' && code === 'unknown') return `没有这个终端型号，可用：${models.map((m) => m.code).join('、') || '（请先由管理员登记型号）'}`;
  if (col === 'purchase_date') return code === 'format' ? '日期应写成 2025-03-01' : '购买日期应在 2000-01-01 到今天之间';
  if (col === 'warranty_months') return code === 'format' ? '保修月数应为整数，如 12' : '保修月数应在 0 到 120 之间';
  if (col === 'carrier') return '运营商应为 中国移动、中国联通、中国电信 或 其他';
  if (col === 'notes' && code === 'too_long') return '备注最多 2000 字';
  return problemText(code, true) || message || code;
}

/** Sends CSV text to an import endpoint; answers `{ status, data }`, throws ApiProblem. */
async function postCsv(path, text) {
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token()}`, 'Content-Type': 'text/csv; charset=utf-8', Accept: 'application/json' },
      body: text,
    });
  } catch {
    throw new ApiProblem(0, { title: '网络不可用', detail: '无法连接服务器，请检查网络' });
  }
  if (res.status === 401) { signOut(); throw new ApiProblem(401, {}); }
  let data = null;
  try { data = await res.json(); } catch { /* no body */ }
  if (!res.ok) throw new ApiProblem(res.status, data);
  return { status: res.status, data };
}

function importCard(kind, models, onDone) {
  const spec = IMPORTS[kind];
  const user = me();
  const may = user && ['admin', 'manager'].includes(user.role);
  const head = h('h2', { id: `imp-${kind}` }, `批量导入${spec.what}`);
  if (!may) {
    return h('section', { class: 'card import', 'aria-labelledby': `imp-${kind}` }, head,
      h('p', { class: 'muted' }, `批量导入${spec.what}需要经理或管理员权限；需要入库时请联系本中心经理。`));
  }
  const input = h('input', { type: 'file', id: `imp-${kind}-file`, accept: '.csv,.txt,.xlsx,.xls,text/csv' });
  const out = h('div', { class: 'import-result', 'aria-live': 'polite' });
  const cols = Object.entries(spec.columns);
  const template = () => saveText(`${spec.what}导入模板.csv`, toCsv([Object.keys(spec.columns)]));
  const go = h('button', { type: 'button', class: 'primary' }, '上传并导入');
  go.addEventListener('click', async () => {
    const file = input.files?.[0];
    if (!file) { mount(out, h('p', { class: 'banner bad', role: 'alert' }, '请先选择要导入的文件')); input.focus(); return; }
    go.disabled = true;
    const label = go.textContent;
    go.textContent = '正在导入…';
    try {
      let got;
      try { got = await readFile(file); } catch (e) { mount(out, h('p', { class: 'banner bad', role: 'alert' }, `读取失败：${e.message}`)); return; }
      const prep = prepareImport(kind, got.rows, models);
      if (prep.missing.length) {
        mount(out, h('p', { class: 'banner bad', role: 'alert' }, `文件第一行缺少这些列：${prep.missing.map((c) => spec.columns[c].label).join('、')}。请按模板的表头填写（中文或英文列名都可以）。`));
        return;
      }
      if (prep.empty) { mount(out, h('p', { class: 'banner bad', role: 'alert' }, problemText('csv_empty'))); return; }
      const lineOf = (serverLine) => prep.sources[serverLine - 2]?.line ?? serverLine;
      try {
        const r = await postCsv(`${spec.path}${centerParam('?')}`, prep.csv);
        const where = user.role === 'admin' ? (await center(centerId()))?.name : null;
        mount(out, h('p', { class: 'banner ok', role: 'status' }, `已导入 ${number(r.data.imported)} ${spec.unit}${spec.what}${where ? `到 ${where}` : ''}（文件 ${file.name}）。`));
        toast(`已导入 ${r.data.imported} ${spec.unit}${spec.what}`, 'ok');
        input.value = '';
        onDone();
      } catch (e) {
        if (!(e instanceof ApiProblem)) throw e;
        const errors = e.problem?.errors || [];
        if (e.code !== 'validation_failed' || !errors.length) {
          mount(out, h('p', { class: 'banner bad', role: 'alert' }, `没有导入：${explain(e)}`));
          return;
        }
        const rows = errors.map((f) => {
          const m = /^line (\d+): (\w+)$/.exec(f.field || '');
          const serverLine = m ? Number(m[1]) : 0;
          const col = m ? m[2] : f.field;
          const src = prep.sources[serverLine - 2];
          const value = src?.values?.[col] ?? '';
          return { line: src?.line ?? serverLine, col, value, text: reason(kind, col, f.code, f.message, value, lineOf, models) };
        }).sort((a, b) => a.line - b.line);
        const badLines = new Set(rows.map((r) => r.line)).size;
        mount(out,
          h('p', { class: 'banner bad', role: 'alert' }, `没有导入任何一行：文件中 ${badLines} 行有问题（共 ${rows.length} 处）。请按下表改好文件后重新上传；其余 ${prep.sources.length - badLines} 行没有问题。`),
          table('导入问题', ['行号', '列', '值', '原因'], rows.map((r) => h('tr', { class: 'import-error' },
            h('td', { class: 'num' }, `第 ${r.line} 行`),
            h('td', {}, spec.columns[r.col]?.label || r.col),
            h('td', {}, h('code', {}, r.value || '（空）')),
            h('td', { class: 'bad-text' }, r.text)))));
      }
    } finally {
      go.disabled = false;
      go.textContent = label;
    }
  });
  return h('section', { class: 'card import', 'aria-labelledby': `imp-${kind}` }, head,
    h('p', { class: 'muted small' }, `一次最多 5000 行；全部正确才导入，有一行不对就一行都不导入，并列出每一处问题。文件可以是 Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码）；第一行是表头，列名可用中文或英文：`,
      cols.map(([k, c], i) => [i ? '、' : '', h('code', {}, k), `（${c.label}${spec.required.includes(k) ? '，必填' : ''}）`])),
    h('p', { class: 'muted small' }, '示例行：', h('code', {}, spec.example), kind === 'terminals' && models.length ? `　型号可用：${models.map((m) => `${m.code}（${m.name}，保修 ${m.warranty_months} 个月）`).join('、')}` : ''),
    h('div', { class: 'row' }, field(`选择${spec.what}文件`, input), go, h('button', { type: 'button', class: 'small', onclick: template }, '下载模板（CSV）')),
    out);
}

// ---------------------------------------------------------------- lists

const LISTS = {
  customers: {
    what: '客户',
    filters: (q) => [
      field('名称包含', h('input', { name: 'q', value: q.get('q') || '', type: 'search', autocomplete: 'off' })),
      field('等级', h('select', { name: 'tier' }, opt(TIER, q.get('tier')))),
      field('结算方式', h('select', { name: 'payment_terms' }, opt(TERMS, q.get('payment_terms')))),
    ],
    path: '/customers',
    head: ['名称', '等级', '结算方式', '主要联系人', '电话', '地址'],
    rows: async (items) => items.map((c) => h('tr', { dataset: { id: c.id } },
      h('td', {}, h('a', { href: `#/customers/${c.id}` }, c.name)),
      h('td', {}, badge(TIER[c.tier] || c.tier, c.tier === 'key' ? 'warn' : '')),
      h('td', {}, c.payment_terms === 'credit' ? `月结 ${c.credit_days ?? ''} 天` : TERMS[c.payment_terms] || c.payment_terms),
      h('td', {}, c.contacts?.[0]?.name || '—'),
      h('td', {}, c.contacts?.[0]?.phone || '—'),
      h('td', { class: 'addr' }, c.address || '—'))),
  },
  vehicles: {
    what: '车辆',
    filters: (q) => [field('车牌号或车架号包含', h('input', { name: 'q', value: q.get('q') || '', type: 'search', autocomplete: 'off', placeholder: '如 A12 或 LSV' }))],
    path: '/vehicles',
    head: ['车牌号', '车架号', '车型', '客户', '登记日期'],
    rows: async (items) => {
      const names = await customers(items.map((v) => v.customer_id));
      return items.map((v) => h('tr', { dataset: { id: v.id } },
        h('td', {}, h('strong', {}, v.plate_no)),
        h('td', {}, v.vin ? h('code', {}, v.vin) : '—'),
        h('td', {}, v.model || '—'),
        h('td', {}, h('a', { href: `#/customers/${v.customer_id}` }, customerName(names, v.customer_id))),
        h('td', {}, date(v.created_at))));
    },
  },
  terminals: {
    what: 'GPS终端',
    filters: (q, models) => [
      field('IMEI 开头', h('input', { name: 'imei', value: q.get('imei') || '', inputmode: 'numeric', autocomplete: 'off' })),
      field('型号', h('select', { name: 'model_code' }, h('option', { value: '' }, '全部'), models.map((m) => h('option', { value: m.code, selected: m.code === q.get('model_code') }, m.code)))),
      field('状态', h('select', { name: 'status' }, opt(T_STATUS, q.get('status')))),
      field('位置', h('select', { name: 'location' }, opt(T_LOCATION, q.get('location')))),
    ],
    path: '/terminals',
    head: ['IMEI', '型号', '购买日期', '保修', '状态', '位置', '备注'],
    rows: async (items) => items.map((t) => h('tr', { dataset: { id: t.id } },
      h('td', {}, h('code', {}, t.imei)),
      h('td', {}, t.model_code),
      h('td', {}, t.purchase_date),
      h('td', { class: 'num' }, `${t.warranty_months} 个月`),
      h('td', {}, badge(T_STATUS[t.status] || t.status, t.status === 'installed' ? 'ok' : t.status === 'in_repair' ? 'warn' : t.status === 'scrapped' ? 'bad' : '')),
      h('td', {}, T_LOCATION[t.location] || t.location),
      h('td', {}, t.fault_tag ? badge(`返修：${t.fault_tag}`, 'warn') : t.notes || ''))),
  },
  sims: {
    what: 'SIM卡',
    filters: (q) => [
      field('ICCID 开头', h('input', { name: 'iccid', value: q.get('iccid') || '', inputmode: 'numeric', autocomplete: 'off' })),
      field('号码开头', h('input', { name: 'msisdn', value: q.get('msisdn') || '', inputmode: 'numeric', autocomplete: 'off' })),
      field('运营商', h('select', { name: 'carrier' }, opt(CARRIER, q.get('carrier')))),
      field('状态', h('select', { name: 'status' }, opt(S_STATUS, q.get('status')))),
      field('是否装在终端中', h('select', { name: 'bound' }, opt({ true: '已装入终端', false: '未装' }, q.get('bound')))),
    ],
    path: '/sims',
    head: ['ICCID', '号码', '运营商', '状态', '终端', '备注'],
    rows: async (items) => items.map((s) => h('tr', { dataset: { id: s.id } },
      h('td', {}, h('code', {}, s.iccid)),
      h('td', {}, s.msisdn),
      h('td', {}, CARRIER[s.carrier] || s.carrier),
      h('td', {}, badge(S_STATUS[s.status] || s.status, s.status === 'active' ? 'ok' : s.status === 'cancelled' ? 'bad' : '')),
      h('td', {}, s.terminal_id ? '已装入终端' : '未装'),
      h('td', {}, s.notes || ''))),
  },
};

export async function page(ctx) {
  const tab = LISTS[ctx.query.get('tab')] ? ctx.query.get('tab') : 'customers';
  const spec = LISTS[tab];
  const what = `${spec.what}登记`;
  let models = [];
  if (tab === 'terminals') {
    models = (await guarded(api('/terminal-models'), what)).data || [];
  }

  const listBox = h('div', { class: 'scrollx' });
  const pager = h('div', { class: 'row pager' });
  const status = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const cursors = [null];
  let pageNo = 0;

  const params = () => {
    const p = new URLSearchParams();
    for (const [k, v] of ctx.query) if (k !== 'tab' && v) p.set(k, v);
    return p;
  };
  const load = async () => {
    const p = params();
    p.set('limit', String(PAGE));
    if (cursors[pageNo]) p.set('cursor', cursors[pageNo]);
    listBox.setAttribute('aria-busy', 'true');
    try {
      const r = await guarded(api(`${spec.path}?${p}${centerParam()}`), what);
      if (!ctx.alive()) return;
      const items = r.data.items || [];
      cursors[pageNo + 1] = r.data.next_cursor || null;
      const filtered = [...params().keys()].length > 0;
      mount(listBox, table(`${spec.what}列表`, spec.head, await spec.rows(items), filtered ? `没有符合条件的${spec.what}，请放宽筛选条件` : `还没有登记${spec.what}`));
      status.textContent = `第 ${pageNo + 1} 页，本页 ${items.length} 条`;
      mount(pager,
        h('button', { type: 'button', class: 'small', disabled: pageNo === 0, onclick: () => { pageNo--; load(); } }, '上一页'),
        h('button', { type: 'button', class: 'small', disabled: !r.data.next_cursor, onclick: () => { pageNo++; load(); } }, '下一页'),
        status);
    } finally {
      listBox.removeAttribute('aria-busy');
    }
  };

  const filterForm = h('form', { class: 'filters row', role: 'search', 'aria-label': `筛选${spec.what}` },
    spec.filters(ctx.query, models),
    h('button', { type: 'submit', class: 'small' }, '筛选'),
    [...params().keys()].length ? h('a', { class: 'button small', href: `#/registry?tab=${tab}` }, '清除筛选') : null);
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams({ tab });
    for (const [k, v] of new FormData(filterForm)) if (String(v).trim()) p.set(k, String(v).trim());
    ctx.go(`#/registry?${p}`, { replace: true });
  });

  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '登记与导入'), h('span', { class: 'muted' }, '客户、车辆、终端与 SIM 卡的登记信息')),
    h('nav', { class: 'tabs', 'aria-label': '登记类别' },
      TABS.map(([k, label]) => h('a', { href: `#/registry?tab=${k}`, class: 'tab', 'aria-current': k === tab ? 'page' : null }, label))),
    IMPORTS[tab] ? importCard(tab, models, () => { cursors.length = 1; pageNo = 0; load().catch(() => {}); }) : null,
    h('section', { 'aria-labelledby': 'reg-list' },
      h('h2', { id: 'reg-list' }, `${spec.what}列表`),
      filterForm, listBox, pager));
  await load();
}
