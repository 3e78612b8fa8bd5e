// zh-CN formatting: money from integer fen, times in Beijing time.
const TZ = 'Asia/Shanghai';
const money = new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY' });
const num = new Intl.NumberFormat('zh-CN');
const dt = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
const d = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const hm = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false });

/** ¥1,234.50 from 123450 fen (exact: integer arithmetic, no float rounding of fen) */
export function yuan(fen) {
  if (fen === null || fen === undefined) return '—';
  const neg = fen < 0;
  const a = Math.abs(fen);
  const s = money.format(Math.trunc(a / 100)).replace(/\.00$/, '') + '.' + String(a % 100).padStart(2, '0');
  return (neg ? '-' : '') + s;
}
/** fen from a typed "12.5" / "12.50" / "¥12" (null when not a money amount) */
export function toFen(text) {
  const m = String(text).trim().replace(/[¥,，\s]/g, '').match(/^(\d{1,9})(?:\.(\d{1,2}))?$/);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}
export const number = (n) => (n === null || n === undefined ? '—' : num.format(n));
export const dateTime = (iso) => (iso ? dt.format(new Date(iso)) : '—');
export const date = (iso) => (iso ? d.format(new Date(iso)) : '—');
export const time = (iso) => (iso ? hm.format(new Date(iso)) : '—');
/** YYYY-MM-DD of a moment in Beijing */
export function chinaDay(when = new Date()) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(when).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}
export const percent = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} 分钟` : `${Math.floor(m / 60)} 小时 ${m % 60} 分`;
}

export const ORDER_STATUS = {
  draft: '草稿', submitted: '待审批', approved: '已审批', rejected: '已驳回', assigned: '已派工',
  accepted: '已接单', ready: '已就绪', en_route: '在途', on_site: '到场', on_hold: '暂停',
  completed: '已完工', closed: '已关闭', cancelled: '已取消',
};
export const KIND = { install: '安装', repair: '维修' };
export const URGENCY = { urgent: '紧急', normal: '普通' };
