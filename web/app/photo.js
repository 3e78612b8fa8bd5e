// Photos from the site: the camera's picture shrunk in the phone (long side ≤ 1600 px,
// JPEG ≤ 400 KB) with the time and position drawn on it (水印), before it waits in the
// queue like any action. The server keeps the time and position in the file as well.

export const KINDS = {
  before: '施工前车况', unit: '终端安装位置', wiring: '接线及ACC', sim_label: 'SIM卡及标签', plate: '车牌',
  site: '现场', paperwork: '单据',
};
export const LINE_KINDS = ['before', 'unit', 'wiring', 'sim_label', 'plate'];
export const ORDER_KINDS = ['site', 'paperwork'];

const LONG_SIDE = 1600;
const MAX_BYTES = 400 * 1024;

const two = (n) => String(n).padStart(2, '0');
const local = (d) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;

async function bitmapOf(file) {
  if (window.createImageBitmap) {
    try { return await createImageBitmap(file, { imageOrientation: 'from-image' }); } catch { /* fall back */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally { URL.revokeObjectURL(url); }
}

const toBlob = (canvas, quality) => new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));

/**
 * The picture as uploaded: shrunk, stamped with `takenAt` (a Date) and `pos` ({lat, lng}
 * or null) and `label`, as a JPEG Blob of at most 400 KB. Throws a Chinese message when
 * the file is not a picture the phone can read.
 */
export async function shrink(file, { takenAt = new Date(), pos = null, label = '' } = {}) {
  let img;
  try { img = await bitmapOf(file); } catch { throw new Error('无法读取这张照片，请重新拍摄'); }
  const w0 = img.width; const h0 = img.height;
  if (!w0 || !h0) throw new Error('无法读取这张照片，请重新拍摄');
  const scale = Math.min(1, LONG_SIDE / Math.max(w0, h0));
  const w = Math.max(1, Math.round(w0 * scale)); const h = Math.max(1, Math.round(h0 * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d');
  g.drawImage(img, 0, 0, w, h);
  // the stamp: time, position, what it shows
  const lines = [local(takenAt), pos ? `${pos.lat.toFixed(5)}, ${pos.lng.toFixed(5)}` : '位置未知', label].filter(Boolean);
  const size = Math.max(14, Math.round(Math.min(w, h) / 28));
  g.font = `${size}px sans-serif`;
  const pad = Math.round(size / 2);
  const boxW = Math.min(w, Math.max(...lines.map((t) => g.measureText(t).width)) + pad * 2);
  const boxH = lines.length * (size + 4) + pad * 2;
  g.fillStyle = 'rgba(0,0,0,0.55)';
  g.fillRect(0, h - boxH, boxW, boxH);
  g.fillStyle = '#fff';
  g.textBaseline = 'top';
  lines.forEach((t, i) => g.fillText(t, pad, h - boxH + pad + i * (size + 4)));
  let blob = null;
  for (const q of [0.85, 0.75, 0.65, 0.55, 0.45]) {
    blob = await toBlob(canvas, q);
    if (blob && blob.size <= MAX_BYTES) break;
  }
  if (!blob) throw new Error('照片处理失败，请重新拍摄');
  return blob;
}

/** The query of an upload: kind, line, time and position. */
export function uploadAction(kind, lineId, takenAt, pos) {
  const q = new URLSearchParams({ kind });
  if (lineId) q.set('line_id', lineId);
  q.set('taken_at', takenAt.toISOString());
  if (pos) { q.set('lat', pos.lat.toFixed(6)); q.set('lng', pos.lng.toFixed(6)); }
  return `photos?${q}`;
}
