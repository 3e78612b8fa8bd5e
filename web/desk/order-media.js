// The order page's records of the visit: where it is (the map), the printed order (PDF),
// the customer's signature, the parts used, photos (when the API has them) and the money
// (the charge and its payments with their receipts).
import { api, all, explain, ApiProblem } from '/lib/api.js';
import { h, mount } from '/lib/dom.js';
import { dateTime, yuan } from '/lib/fmt.js';
import { table, busy, download, personName, technicians, center, METHOD, kmText, km } from './util.js';
import { mapView } from './map.js';

const CHARGE_STATUS = { no_charge: '无需收费', open: '待收', paid: '已收', invoiced: '已入账单', waived: '已免收', written_off: '已核销' };
const TERMS = { cash: '现场收费', credit: '挂账（月结）' };

/** Object URLs made for this page, revoked when it is left. */
function urls(ctx) {
  const made = [];
  ctx.onLeave(() => made.forEach((u) => URL.revokeObjectURL(u)));
  return (blob) => { const u = URL.createObjectURL(blob); made.push(u); return u; };
}

/** The map of the order: its site, the lead technician's position and the center. */
export function mapSection(ctx, o) {
  const box = h('div', { id: 'order-map' }, h('p', { class: 'muted' }, '正在加载地图…'));
  const note = h('p', { class: 'muted small', id: 'order-map-note' });
  const section = h('section', { class: 'card order-map', 'aria-labelledby': 'o-map' }, h('h2', { id: 'o-map' }, '位置'), note, box);
  let view = null;
  ctx.onLeave(() => view?.destroy());
  (async () => {
    const [c, techs] = await Promise.all([center(o.center_id), technicians().catch(() => new Map())]);
    if (!ctx.alive() || !box.isConnected) return;
    const site = { lat: o.site_lat, lng: o.site_lng };
    const markers = [{ ...site, kind: 'site', label: o.number, title: o.site_address, data: { order: o.id } }];
    if (c) markers.push({ lat: c.lat, lng: c.lng, kind: 'center', label: c.name, title: c.name });
    const lines = [];
    for (const a of o.technicians || []) {
      const t = techs.get(a.technician_id);
      if (!t) continue;
      const live = t.last_lat !== null && t.last_lat !== undefined;
      const p = live ? { lat: t.last_lat, lng: t.last_lng } : { lat: t.home_lat, lng: t.home_lng };
      markers.push({ ...p, kind: live ? 'live' : 'home', label: t.display_name, data: { technician: t.user_id },
        title: `${t.display_name}：${live ? `最近上报 ${dateTime(t.last_seen_at)}` : '常驻地'}` });
      lines.push(`${t.display_name}${a.role === 'lead' ? '（主修）' : '（协助）'}距作业地点 ${kmText(km(p, site))}（${live ? '最近上报位置' : '常驻地'}）`);
    }
    note.textContent = [`作业地点：${o.site_address}`, ...lines].join('；');
    view = mapView(box, { center: c ? [c.lat, c.lng] : [site.lat, site.lng], markers, title: `${o.number} 作业地点地图`, centerName: c?.name, height: '320px' });
  })();
  return section;
}

/** The printed order (PDF) embedded on request, the signature image, photos. */
export function documentsSection(ctx, o) {
  const blobUrl = urls(ctx);
  const pdfBox = h('div', { id: 'order-pdf' });
  const pdfBtn = h('button', { type: 'button', id: 'show-pdf' }, o.kind === 'install' ? '显示安装任务派工单（PDF）' : '显示维修服务单（PDF）');
  pdfBtn.addEventListener('click', () => busy(pdfBtn, async () => {
    mount(pdfBox, h('p', { class: 'muted' }, '正在生成 PDF…'));
    try {
      const r = await api(`/work-orders/${o.id}/pdf`, { raw: true });
      const u = blobUrl(r.data);
      mount(pdfBox,
        h('iframe', { class: 'pdf-frame', src: u, title: `${o.number} PDF` }),
        h('p', {}, h('a', { href: u, download: `${o.number}.pdf`, id: 'pdf-download' }, `下载 ${o.number}.pdf`), '（打印请在 PDF 中选择打印）'));
      pdfBtn.textContent = '重新生成 PDF';
    } catch (e) {
      mount(pdfBox, h('p', { class: 'banner bad', role: 'alert' }, explain(e)));
    }
  }));

  const sig = h('div', { id: 'order-signature' });
  if (o.has_signature) {
    mount(sig, h('p', { class: 'muted' }, '正在读取签字…'));
    api(`/work-orders/${o.id}/signature`, { raw: true }).then((r) => {
      mount(sig,
        h('img', { class: 'signature', src: blobUrl(r.data), alt: `客户签字：${o.signoff_name || ''}` }),
        h('p', { class: 'muted small' }, `签字人 ${o.signoff_name || '—'}，${dateTime(o.signoff_at)}`));
    }).catch((e) => mount(sig, h('p', { class: 'banner bad' }, `签字图片读取失败：${explain(e)}`)));
  } else if (o.signoff_name) {
    mount(sig, h('p', {}, `签字人 ${o.signoff_name}，${dateTime(o.signoff_at)}（未留签字图片）`));
  } else {
    mount(sig, h('p', { class: 'muted' }, '客户尚未签字。'));
  }

  // photos: thumbnails (fetched with the token, as the signature), the full picture on a click
  const KINDS = { before: '施工前车况', unit: '终端安装位置', wiring: '接线及ACC', sim_label: 'SIM卡及标签', plate: '车牌', site: '现场', paperwork: '单据' };
  const plate = (lineId) => (o.lines || []).find((l) => l.id === lineId)?.plate_no || '';
  const photos = Array.isArray(o.photos) ? o.photos : [];
  const photoBox = h('div', { class: 'photos', id: 'order-photos' });
  const missing = o.photos_missing || [];
  if (missing.length) {
    photoBox.append(h('p', { class: 'banner warn', id: 'photos-missing' }, `还缺 ${missing.length} 张必拍照片（完工前需补拍，或由经理豁免）：`,
      missing.map((m) => `${m.line_id ? `${plate(m.line_id)} ` : ''}${KINDS[m.kind] || m.kind}`).join('、')));
  }
  if (o.photo_waiver) photoBox.append(h('p', { class: 'muted' }, `照片已豁免：${o.photo_waiver.reason}（${dateTime(o.photo_waiver.waived_at)}）`));
  if (!photos.length) photoBox.append(h('p', { class: 'muted' }, '暂无现场照片。'));
  for (const p of photos) {
    const caption = [p.line_id ? plate(p.line_id) : '本单', KINDS[p.kind] || p.kind].join(' ');
    const img = h('img', { alt: `现场照片：${caption}`, loading: 'lazy' });
    const link = h('a', { href: '#', title: '查看原图' }, img);
    link.addEventListener('click', async (ev) => {
      ev.preventDefault();
      try { window.open(blobUrl((await api(`/work-orders/${o.id}/photos/${p.id}`, { raw: true })).data), '_blank', 'noopener'); } catch (e) { alert(explain(e)); }
    });
    const fig = h('figure', {}, link, h('figcaption', { class: 'small muted' }, [caption, p.taken_at ? dateTime(p.taken_at) : ''].filter(Boolean).join(' · ')));
    photoBox.append(fig);
    api(`/work-orders/${o.id}/photos/${p.id}?size=thumb`, { raw: true }).then((r) => { img.src = blobUrl(r.data); }).catch(() => { fig.append(h('span', { class: 'bad-text small' }, '图片读取失败')); });
  }

  return h('section', { class: 'card order-media', 'aria-labelledby': 'o-docs' },
    h('h2', { id: 'o-docs' }, '客户签字、工单文件与照片'),
    h('h3', {}, '客户签字'), sig,
    h('h3', {}, '工单 PDF'), h('div', { class: 'row' }, pdfBtn), pdfBox,
    h('h3', {}, `现场照片${photos.length ? `（${photos.length}）` : ''}`), photoBox);
}

/** Parts used, at their recorded prices. */
export function partsSection(o) {
  const parts = o.parts || [];
  const total = parts.reduce((a, p) => a + p.amount_fen, 0);
  const rows = parts.map((p) => h('tr', {},
    h('td', {}, p.part_name), h('td', {}, p.part_code), h('td', { class: 'num' }, String(p.quantity)),
    h('td', { class: 'num money' }, yuan(p.unit_price_fen)), h('td', { class: 'num money' }, yuan(p.amount_fen)),
    h('td', {}, p.verbal_approval_id ? h('span', { class: 'badge warn' }, '口头请示') : ''),
    h('td', {}, dateTime(p.recorded_at))));
  const t = table('使用配件', ['配件', '编码', '数量', '单价', '金额', '', '登记时间'], rows, '未使用配件');
  if (parts.length) {
    t.append(h('tfoot', {}, h('tr', { class: 'totals' }, h('td', { colspan: 4 }, '合计'), h('td', { class: 'num money' }, yuan(total)), h('td', { colspan: 2 }))));
  }
  return h('section', { class: 'card', 'aria-labelledby': 'o-parts', id: 'order-parts' }, h('h2', { id: 'o-parts' }, `使用配件（${parts.length}）`), t);
}

/** The charge and its payments (collections and reversals) with their receipts. */
export function moneySection(ctx, o) {
  const body = h('div', { id: 'order-payments' }, h('p', { class: 'muted' }, '正在读取收款…'));
  const ch = o.charge;
  const facts = ch ? h('dl', { class: 'facts' },
    h('dt', {}, '应收'), h('dd', { class: 'money' }, yuan(ch.amount_fen)),
    h('dt', {}, '减免/核销'), h('dd', { class: 'money' }, yuan(ch.adjusted_fen)),
    h('dt', {}, '已收'), h('dd', { class: 'money' }, yuan(ch.paid_fen)),
    h('dt', {}, '结算方式'), h('dd', {}, TERMS[ch.terms] || ch.terms),
    h('dt', {}, '状态'), h('dd', {}, CHARGE_STATUS[ch.status] || ch.status))
    : h('p', { class: 'muted' }, '工单完工后生成收费记录。');
  (async () => {
    let items;
    try {
      items = await all(`/payments?order_id=${encodeURIComponent(o.id)}&limit=200`);
    } catch (e) {
      mount(body, h('p', { class: 'muted' }, e instanceof ApiProblem && e.status === 403 ? '您的角色不能查看收款明细。' : `收款读取失败：${explain(e)}`));
      return;
    }
    const names = new Map(await Promise.all([...new Set(items.map((p) => p.collector_id))].map(async (id) => [id, await personName(id)])));
    if (!ctx.alive() || !body.isConnected) return;
    const rows = items.map((p) => {
      const receipt = p.receipt_no && p.kind !== 'reversal'
        ? h('button', { type: 'button', class: 'small', onclick: (ev) => busy(ev.currentTarget, async () => { ev.currentTarget.after(await download(`/payments/${p.id}/receipt.pdf`, `${p.receipt_no}.pdf`)); }) }, `收据 ${p.receipt_no}`)
        : (p.receipt_no || '—');
      return h('tr', { dataset: { payment: p.id } },
        h('td', {}, dateTime(p.paid_at)),
        h('td', {}, p.kind === 'reversal' ? h('span', { class: 'badge bad' }, '冲正') : '收款'),
        h('td', { class: 'num money' }, yuan(p.amount_fen)),
        h('td', {}, METHOD[p.method] || p.method),
        h('td', {}, p.payer_name),
        h('td', {}, names.get(p.collector_id) || '—'),
        h('td', {}, receipt));
    });
    mount(body, table('收款记录', ['时间', '类型', '金额', '方式', '付款人', '收款人', '收据'], rows, '暂无收款记录'));
  })();
  return h('section', { class: 'card', 'aria-labelledby': 'o-money' }, h('h2', { id: 'o-money' }, '费用与收款'), facts, body);
}
