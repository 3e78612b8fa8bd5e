// What the desk's pages share: refusals, Beijing-time inputs, name look-ups (people,
// customers) with small caches, tables, downloads of authenticated files, SVG.
import { api, all, me, ApiProblem, explain } from '/lib/api.js';
import { h, toast } from '/lib/dom.js';
import { refusal } from '/lib/session.js';
import { chinaDay } from '/lib/fmt.js';

/** Thrown by a view when the API refuses the signed-in role (403): the router shows it. */
export class Refused extends Error {
  constructor(what) { super(what); this.what = what; }
}

/** `await guarded(promise, what)`: a 403 becomes `Refused(what)`; other errors pass. */
export async function guarded(p, what) {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiProblem && e.status === 403) throw new Refused(what);
    throw e;
  }
}

/** The refusal block: the role, what was refused, and where that role belongs. */
export function refusalBlock(what) {
  const user = me();
  const where = user?.role === 'technician'
    ? h('p', {}, '技术员请使用手机端：', h('a', { href: '/app/' }, '打开技术员手机端'))
    : user?.role === 'finance'
      ? h('p', {}, h('a', { href: '#/finance' }, '前往财务页面'))
      : null;
  return h('div', { class: 'refusal', role: 'alert' },
    h('h2', {}, '无权访问'),
    h('p', { class: 'banner bad' }, refusal(user, what)),
    where);
}

/** An error in a view: the API's words in Chinese. */
export function errorBlock(e) {
  return h('div', { class: 'banner bad', role: 'alert' }, '加载失败：', explain(e));
}

// ---------------------------------------------------------------- time in Beijing

const TZ = 'Asia/Shanghai';
const partsOf = (when) => Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
}).formatToParts(when).map((x) => [x.type, x.value]));

/** `YYYY-MM-DDTHH:mm` of a moment in Beijing, for `<input type=datetime-local>`. */
export function toLocalInput(when) {
  const p = partsOf(new Date(when));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
/** The moment of a `datetime-local` value read as Beijing time (null when empty/bad). */
export function fromLocalInput(v) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v || '')) return null;
  const d = new Date(`${v}:00+08:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}
/** [start, end) of a Beijing day `YYYY-MM-DD` as Dates. */
export function dayBounds(day) {
  const start = new Date(`${day}T00:00:00+08:00`);
  return [start, new Date(start.getTime() + 86400000)];
}
export const today = () => chinaDay(new Date());
export function addDays(day, n) {
  const [s] = dayBounds(day);
  return chinaDay(new Date(s.getTime() + n * 86400000 + 3600000));
}
/** The first day of the month of a Beijing day. */
export const monthStart = (day) => `${day.slice(0, 8)}01`;
/** ISO without milliseconds, for query strings. */
export const iso = (d) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---------------------------------------------------------------- centers

/** The center the desk looks at: an admin's choice, everyone else's own. */
export function centerId() {
  const u = me();
  if (u?.role === 'admin') return localStorage.getItem('dispatch.desk.center') || u.center_id;
  return u?.center_id;
}
export function setCenterId(id) { localStorage.setItem('dispatch.desk.center', id); }
/** `&center_id=…` for lists when an admin picked a center (others are scoped anyway). */
export function centerParam(sep = '&') {
  const u = me();
  return u?.role === 'admin' && centerId() ? `${sep}center_id=${encodeURIComponent(centerId())}` : '';
}
const centers = new Map();
export async function center(id) {
  if (!centers.has(id)) centers.set(id, api(`/centers/${id}`).then((r) => r.data).catch(() => null));
  return centers.get(id);
}

// ---------------------------------------------------------------- names

let techCache = null;
let techAt = 0;
/** The center's technicians (id → technician), fresh every 20 s. Refusals propagate. */
export async function technicians(fresh = false) {
  if (fresh || !techCache || Date.now() - techAt > 20000) {
    const list = await all(`/technicians?limit=200${centerParam()}`);
    techCache = new Map(list.map((t) => [t.user_id, t]));
    techAt = Date.now();
  }
  return techCache;
}

const userNames = new Map();
/** A person's display name: technicians from their list, others from /users when the
 *  role may read it; the short id otherwise. Never throws. */
export async function personName(id) {
  if (!id) return '—';
  if (userNames.has(id)) return userNames.get(id);
  let name = null;
  try { name = (await technicians()).get(id)?.display_name; } catch { /* not this role's */ }
  if (!name) {
    try { name = (await api(`/users/${id}`)).data.display_name; } catch { /* not this role's */ }
  }
  if (!name && id === me()?.id) name = me().display_name;
  name = name || `#${id.slice(0, 8)}`;
  userNames.set(id, name);
  return name;
}
export function rememberName(id, name) { if (id && name) userNames.set(id, name); }

const customerCache = new Map();
/** A customer (cached per page load); null when not readable. */
export function customer(id) {
  if (!id) return Promise.resolve(null);
  if (!customerCache.has(id)) customerCache.set(id, api(`/customers/${id}`).then((r) => r.data).catch(() => null));
  return customerCache.get(id);
}
export async function customers(ids) {
  const uniq = [...new Set(ids.filter(Boolean))];
  const got = await Promise.all(uniq.map(customer));
  return new Map(uniq.map((id, i) => [id, got[i]]));
}
export const customerName = (map, id) => map.get(id)?.name || '—';

// ---------------------------------------------------------------- labels

export const TICKET_KIND = { complaint: '投诉', inquiry: '咨询', suggestion: '建议' };
export const TICKET_STATUS = { open: '待回复', replied: '已回复', resolved: '已解决', closed: '已关闭' };
export const CHANNEL = { phone: '电话', letter: '来函', walk_in: '来访', online: '网上', hotline: '热线' };
export const METHOD = { cash: '现金', wechat: '微信支付', alipay: '支付宝', bank_transfer: '银行转账', pos: 'POS刷卡' };
export const ACTION = {
  create: '创建', submit: '提交审批', approve: '审批通过', reject: '驳回', assign: '派工', reassign: '改派',
  accept: '接单', decline: '拒单', check_ready: '出发前核对', readiness: '出发前核对', depart: '出发', arrive: '到场',
  hold: '暂停', resume: '恢复', complete: '完工', close: '关闭', cancel: '取消', sign_off: '客户签字', 'sign-off': '客户签字',
  install: '安装终端', terminal_swap: '更换终端', sim_swap: '更换SIM卡', repair: '维修', not_done: '未完成',
  part_used: '使用配件', verbal_approval: '口头请示', verbal_approval_confirmed: '确认口头请示', payment: '收费',
};
export function statusClass(s) {
  if (['completed', 'closed'].includes(s)) return 'ok';
  if (['en_route', 'on_site'].includes(s)) return 'warn';
  if (['on_hold', 'cancelled', 'rejected'].includes(s)) return 'bad';
  if (s === 'submitted') return 'info';
  return '';
}

/** When an order's technician counts as late: the window's end, or 2 h after the visit. */
export function deadlineOf(o) {
  if (o.window_end) return new Date(o.window_end);
  if (o.scheduled_at) return new Date(new Date(o.scheduled_at).getTime() + 2 * 3600000);
  return null;
}
const OPEN = ['submitted', 'approved', 'assigned', 'accepted', 'ready', 'en_route'];
export const OPEN_BEFORE_ARRIVAL = OPEN;
/** The appointment passed without the technician arriving. */
export function missed(o, now = Date.now()) {
  const d = deadlineOf(o);
  return !!d && d.getTime() < now && !o.arrived_at && OPEN.includes(o.status);
}

// ---------------------------------------------------------------- building blocks

/** A table with a caption (for the accessible name), headers and rows; an empty row
 *  saying `empty` when there are none. */
export function table(caption, headers, rows, empty = '暂无数据') {
  return h('table', {},
    h('caption', { class: 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => (typeof x === 'string' ? h('th', { scope: 'col' }, x) : x)))),
    h('tbody', {}, rows.length ? rows : h('tr', { class: 'empty' }, h('td', { colspan: headers.length, class: 'muted' }, empty))));
}

/** A labelled field: `field('驳回原因', input)` → label + control with ids joined. */
let seq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++seq}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('div', { class: 'muted small' }, hint) : null);
}

/** Runs `fn` with the button disabled; a problem becomes a toast. Returns fn's result. */
export async function busy(button, fn) {
  const was = button.disabled;
  button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    toast(explain(e), 'error');
    return undefined;
  } finally {
    button.disabled = was;
  }
}

/** A file the API serves (CSV, XLSX, PDF): fetched with the token, saved through a blob
 *  link. Returns the link (kept visible so the file can be saved again). */
export async function download(path, fallbackName) {
  const r = await api(path, { raw: true });
  const cd = r.headers.get('Content-Disposition') || '';
  const m = cd.match(/filename\*=UTF-8''([^;]+)/i) || cd.match(/filename="?([^";]+)"?/i);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(r.data);
  const a = h('a', { href: url, download: name, class: 'download-link' }, `已下载：${name}（${Math.max(1, Math.round(r.data.size / 1024))} KB）`);
  a.click();
  return a;
}

const SVG = 'http://www.w3.org/2000/svg';
/** `s('circle', {cx, cy, r})`: an SVG element. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Great-circle distance in km. */
export function km(a, b) {
  const R = 6371.0088;
  const rad = (x) => (x * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(x));
}
export const kmText = (x) => (x === null || x === undefined ? '—' : `${new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 1 }).format(x)} 公里`);

export { toast };
