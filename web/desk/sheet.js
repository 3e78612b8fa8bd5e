// Tables from outside: text pasted from Excel (tab-separated), CSV files (UTF-8 with or
// without BOM, or GBK as older Excel saves them) and XLSX files (read in the browser with
// the vendored SheetJS, loaded only when such a file is picked). Every row keeps the line
// (CSV) or row number (Excel) it came from, so a problem can be shown where the person
// will look for it.

/** Splits delimited text into rows of cells: quotes ("a ""b""", fields over several
 *  lines) as Excel writes them. Answers `[{ line, cells }]`, `line` counted from 1 where the
 *  row starts; rows whose cells are all empty are left out. */
export function parseDelimited(text, delim = detectDelimiter(text)) {
  const rows = [];
  let cells = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let atCellStart = true;
  const endRow = () => {
    cells.push(cell);
    if (cells.some((c) => c.trim() !== '')) rows.push({ line: start, cells });
    cells = []; cell = ''; atCellStart = true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && atCellStart) { quoted = true; atCellStart = false; continue; }
    if (c === delim) { cells.push(cell); cell = ''; atCellStart = true; continue; }
    if (c === '\r') continue;
    if (c === '\n') { endRow(); line++; start = line; continue; }
    cell += c;
    atCellStart = false;
  }
  if (cell !== '' || cells.length) endRow();
  return rows;
}

/** Tab when the first line has one (Excel's clipboard), else a comma. */
export function detectDelimiter(text) {
  const first = text.split('\n', 1)[0];
  if (first.includes('\t')) return '\t';
  if (!first.includes(',') && first.includes('，')) return '，';
  return ',';
}

/** The text of a file's bytes: UTF-8 (a BOM is dropped), else GBK/GB18030 (Excel's
 *  "CSV" on a Chinese Windows). Answers `{ text, encoding }`. */
export function decode(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'UTF-8' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'UTF-16' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'GBK' };
  }
}

let xlsxLoading = null;
/** SheetJS (`window.XLSX`), loaded once from /vendor. */
export function loadXlsx() {
  if (window.XLSX) return Promise.resolve(window.XLSX);
  if (!xlsxLoading) {
    xlsxLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/vendor/sheetjs/xlsx.mini.min.js';
      s.onload = () => resolve(window.XLSX);
      s.onerror = () => { xlsxLoading = null; reject(new Error('无法加载 Excel 读取组件，请刷新页面后重试')); };
      document.head.append(s);
    });
  }
  return xlsxLoading;
}

const isExcel = (file) => /\.(xlsx|xlsm|xls)$/i.test(file.name)
  || /spreadsheetml|ms-excel\.sheet/.test(file.type || '');

/** Reads a picked file into rows `[{ line, cells }]` (line: the CSV line or Excel row).
 *  Answers `{ rows, kind: 'xlsx'|'csv', encoding?, sheet? }`; throws with a Chinese
 *  message when the file cannot be read. */
export async function readFile(file) {
  const buffer = await file.arrayBuffer();
  if (isExcel(file)) {
    const XLSX = await loadXlsx();
    let wb;
    try {
      wb = XLSX.read(buffer, { type: 'array', cellDates: true, dense: false });
    } catch {
      throw new Error('无法读取这个 Excel 文件，请确认是 .xlsx 格式（可在 Excel 中另存为 .xlsx 或 CSV）');
    }
    const name = wb.SheetNames[0];
    const ws = wb.Sheets[name];
    if (!ws || !ws['!ref']) return { rows: [], kind: 'xlsx', sheet: name };
    const range = XLSX.utils.decode_range(ws['!ref']);
    const rows = [];
    for (let r = range.s.r; r <= range.e.r; r++) {
      const cells = [];
      for (let c = range.s.c; c <= range.e.c; c++) cells.push(cellText(XLSX, ws[XLSX.utils.encode_cell({ r, c })]));
      if (cells.some((x) => x.trim() !== '')) rows.push({ line: r + 1, cells });
    }
    return { rows, kind: 'xlsx', sheet: name };
  }
  const { text, encoding } = decode(buffer);
  return { rows: parseDelimited(text), kind: 'csv', encoding };
}

/** A cell as the person sees it: dates as YYYY-MM-DD, long numbers without exponent. */
function cellText(XLSX, cell) {
  if (!cell || cell.v === undefined || cell.v === null) return '';
  if (cell.v instanceof Date) {
    const d = cell.v;
    // SheetJS gives local midnight of the cell's date
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }
  if (typeof cell.v === 'number') {
    if (Number.isInteger(cell.v)) return BigInt(Math.round(cell.v)).toString();
    return cell.w !== undefined ? String(cell.w) : String(cell.v);
  }
  return String(cell.w !== undefined && typeof cell.v !== 'string' ? cell.w : cell.v);
}

/** One CSV field, quoted when it must be. */
const csvField = (v) => {
  const s = String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
/** CSV text of rows of cells, one line each. */
export const toCsv = (rows) => rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';

/** Offers `text` as a file to save (UTF-8 with BOM, so Excel opens Chinese correctly). */
export function saveText(name, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob(['\ufeff', text], { type }));
  const a = document.createElement('a');
  a.href = url; a.download = name; a.className = 'download-link';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** The column of each known field in a header row: `{ field: index }`, or null when the
 *  row is not a header (fewer than one name recognised). `names`: field → accepted names
 *  (compared without spaces, case-insensitively). */
export function headerMap(cells, names) {
  const norm = (s) => String(s).replace(/[\s_（）()*：:]/g, '').toLowerCase();
  const map = {};
  cells.forEach((c, i) => {
    const n = norm(c);
    if (!n) return;
    for (const [field, accepted] of Object.entries(names)) {
      if (map[field] === undefined && accepted.some((a) => norm(a) === n)) { map[field] = i; break; }
    }
  });
  return Object.keys(map).length ? map : null;
}
