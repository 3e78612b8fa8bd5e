// The identifier rules of src/domain/ids.rs, in the browser: a page marks a bad value as
// it is typed or pasted, in Chinese, before the API (which checks again) is asked.
// Each `check…` answers `{ ok: true, value }` (the value normalised as the API stores it)
// or `{ ok: false, code, text }` (`code` as the API's `errors[].code`, `text` in Chinese).

const ok = (value) => ({ ok: true, value });
const bad = (code, text) => ({ ok: false, code, text });

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const SPECIAL = '挂学警港澳';
const PLATE_SEPARATORS = /[\s·•・.\-]/g;
const plateAlnum = (c) => /^[0-9A-HJ-NP-Z]$/.test(c);
const isNewEnergyMark = (c) => c === 'D' || c === 'F';

/** 车牌号: province, letter, 5 (ordinary) or 6 (new-energy) serial characters, or a special suffix. */
export function checkPlate(input) {
  const s = String(input ?? '').replace(PLATE_SEPARATORS, '').toUpperCase();
  if (!s) return bad('empty', '车牌号未填写');
  const chars = [...s];
  if (!PROVINCES.includes(chars[0])) return bad('prefix', '车牌号应以省份简称开头（如 豫、京、粤）');
  if (chars.length < 7 || chars.length > 8) return bad('length', `车牌号应为 7 位（新能源 8 位），现为 ${chars.length} 位`);
  if (!/^[A-Z]$/.test(chars[1])) return bad('format', '车牌号第二位应为字母（发牌机关代号）');
  const serial = chars.slice(2);
  const last = serial[serial.length - 1];
  let valid;
  if (serial.length === 6 && isNewEnergyMark(serial[0])) valid = plateAlnum(serial[1]) && serial.slice(2).every((c) => /\d/.test(c));
  else if (serial.length === 6) valid = isNewEnergyMark(last) && serial.slice(0, 5).every((c) => /\d/.test(c));
  else if (SPECIAL.includes(last)) valid = serial.slice(0, -1).every(plateAlnum);
  else valid = serial.every(plateAlnum);
  if (!valid) return bad('format', '车牌号格式不对：序号只能是字母和数字（不含 I、O），新能源车牌以 D/F 开头或结尾');
  return ok(s);
}

const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const VIN_VALUES = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };

/** 车架号 (VIN): 17 characters without I, O, Q; the 9th is the check digit (GB 16735). */
export function checkVin(input) {
  const s = String(input ?? '').trim().toUpperCase();
  if (!s) return bad('empty', '车架号未填写');
  const values = [...s].map((c) => (/\d/.test(c) ? Number(c) : VIN_VALUES[c]));
  if (values.some((v) => v === undefined)) return bad('format', '车架号只能含数字和字母（不含 I、O、Q），请核对');
  if (values.length !== 17) return bad('length', `车架号应为 17 位，现为 ${values.length} 位`);
  const r = values.reduce((a, v, i) => a + v * VIN_WEIGHTS[i], 0) % 11;
  if (s[8] !== (r === 10 ? 'X' : String(r))) return bad('checksum', '车架号校验位（第 9 位）对不上，请对照行驶证核对车架号');
  return ok(s);
}

function checkMobile(digits) {
  if (!/^\d+$/.test(digits)) return bad('not_digits', '手机号只能是数字');
  if (digits.length !== 11) return bad('length', `手机号应为 11 位，现为 ${digits.length} 位`);
  if (!/^1[3-9]/.test(digits)) return bad('prefix', '手机号应以 13–19 开头');
  return ok(digits);
}

/** A contact phone: mobile, landline `AREA-NUMBER[-EXT]` or a 400/800 number (Phone::parse). */
export function checkPhone(input) {
  const compact = String(input ?? '').replace(/\s/g, '');
  if (!compact) return bad('empty', '电话未填写');
  if (compact.startsWith('+86')) return checkMobile(compact.slice(3).replace(/-/g, ''));
  if (!/^[\d-]+$/.test(compact)) return bad('not_digits', '电话只能含数字和连字符“-”');
  const digits = compact.replace(/-/g, '');
  if (compact[0] === '1') return checkMobile(digits);
  if (compact[0] === '4' || compact[0] === '8') {
    if (digits.length !== 10) return bad('length', '400/800 服务号应为 10 位');
    if (!/^(400|800)/.test(digits)) return bad('prefix', '服务号应以 400 或 800 开头');
    return ok(digits);
  }
  if (compact[0] === '0') return landline(compact);
  return bad('format', '电话格式不对：请填 11 位手机号或带区号的固定电话');
}

const areaLen = (s) => (s.startsWith('01') || s.startsWith('02') ? 3 : 4);
function landline(s) {
  const parts = s.split('-');
  if (parts.some((p) => !p)) return bad('format', '固定电话的连字符位置不对，如 0371-12345678');
  let area; let number; let ext = null;
  const split = (full) => (full.length < areaLen(full) ? null : [full.slice(0, areaLen(full)), full.slice(areaLen(full))]);
  if (parts.length === 1) {
    const x = split(parts[0]); if (!x) return bad('length', '固定电话太短'); [area, number] = x;
  } else if (parts.length === 2 && parts[0].length <= 4) {
    [area, number] = parts;
  } else if (parts.length === 2) {
    const x = split(parts[0]); if (!x) return bad('length', '固定电话太短'); [area, number] = x; [, ext] = parts;
  } else if (parts.length === 3) {
    [area, number, ext] = parts;
  } else return bad('format', '固定电话的连字符太多');
  if (area.length !== areaLen(area) || area.startsWith('00')) return bad('format', '区号不对，如 010、021、0371');
  if (number.length < 7 || number.length > 8) return bad('length', '固定电话号码应为 7–8 位（不含区号）');
  if (number.startsWith('0')) return bad('format', '固定电话号码不能以 0 开头');
  if (ext !== null && ext.length > 6) return bad('length', '分机号最多 6 位');
  return ok(`${area}-${number}${ext !== null ? `-${ext}` : ''}`);
}

/** Whether `digits` (ASCII digits, check digit last) passes the Luhn check (IMEI, ICCID). */
export function luhnValid(digits) {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

/** IMEI: 15 digits, the last a Luhn check digit. */
export function checkImei(input) {
  const s = String(input ?? '').replace(/[\s-]/g, '');
  if (!s) return bad('empty', 'IMEI 未填写');
  if (!/^\d+$/.test(s)) return bad('not_digits', 'IMEI 只能是数字');
  if (s.length !== 15) return bad('length', `IMEI 应为 15 位，现为 ${s.length} 位`);
  if (!luhnValid(s)) return bad('checksum', 'IMEI 校验位（最后一位）对不上，请核对或扫码');
  return ok(s);
}

/** Short text (a name, a model): trimmed, required when `required`, at most `max` characters. */
export function checkText(input, { max = 50, required = false, what = '内容' } = {}) {
  const s = String(input ?? '').trim();
  if (!s) return required ? bad('required', `${what}未填写`) : ok('');
  if ([...s].length > max) return bad('too_long', `${what}最多 ${max} 个字`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return bad('invalid_characters', `${what}含有不允许的字符`);
  return ok(s);
}
