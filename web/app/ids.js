// IMEI and ICCID checks, exactly as the API's (src/domain/ids.rs): trimmed, ASCII digits
// only, the length, ICCID's "89" prefix, then the Luhn check digit. Each answers null
// when the number is good, else the Chinese sentence to show under the field.

// The Luhn check is the desk's (web/lib/ids.js), one copy for both.
import { luhnValid } from '../lib/ids.js';

export { luhnValid };

const DIGITS = /^[0-9]+$/;

/** The Luhn check digit to append to `payload` (for tests and scanners). */
export function luhnDigit(payload) {
  for (let d = 0; d < 10; d++) if (luhnValid(payload + d)) return d;
  return 0;
}

export function imeiProblem(input) {
  const s = String(input ?? '').trim();
  if (!s) return '请输入 IMEI';
  if (!DIGITS.test(s)) return 'IMEI 只能是数字';
  if (s.length !== 15) return `IMEI 应为 15 位数字（现在 ${s.length} 位）`;
  if (!luhnValid(s)) return 'IMEI 校验位不正确，请核对';
  return null;
}

export function iccidProblem(input) {
  const s = String(input ?? '').trim();
  if (!s) return '请输入 ICCID';
  if (!DIGITS.test(s)) return 'ICCID 只能是数字';
  if (!s.startsWith('89')) return 'ICCID 应以 89 开头';
  if (s.length !== 19 && s.length !== 20) return `ICCID 应为 19 或 20 位数字（现在 ${s.length} 位）`;
  if (!luhnValid(s)) return 'ICCID 校验位不正确，请核对';
  return null;
}

/** 中国移动 / 中国联通 / 中国电信 from the issuer prefix, or '' */
export function carrierOf(iccid) {
  const p = String(iccid).slice(0, 6);
  if (['898600', '898602', '898604', '898607'].includes(p)) return '中国移动';
  if (['898601', '898606', '898609'].includes(p)) return '中国联通';
  if (['898603', '898611'].includes(p)) return '中国电信';
  return '';
}

/** The first run of digits in scanned text that passes `problem` (labels say "IMEI:…"). */
export function pickNumber(text, problem) {
  for (const m of String(text).matchAll(/[0-9]{15,20}/g)) if (!problem(m[0])) return m[0];
  return null;
}
