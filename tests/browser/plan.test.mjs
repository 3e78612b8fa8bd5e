// The dispatcher's day plan, the map and the order page's records, in real Chromium:
// a drag that assigns (checked through the API), drags refused for a double booking and a
// missing skill (the API's words in the row, nothing changed), the keyboard path; the map
// over tiles from a tiny local tile server (GCJ-02, markers converted) and its fallback to
// the plot when the tiles fail; the order page's PDF, signature, parts and payments.
// Plus the WGS-84 ↔ GCJ-02 conversion against published pairs (no browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { desk, signIn, shot, Client, withApp, watch } from './harness.mjs';
import { wgsToGcj, gcjToWgs, haversineKm, travelMinutes } from '../../web/desk/geo.js';

/** A drawn signature (the sign-off takes SVG, PNG or JPEG data URLs). */
const SIGNATURE_SVG = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIzMjAiIGhlaWdodD0iMTEwIiB2aWV3Qm94PSIwIDAgMzIwIDExMCI+PHBhdGggZD0iTTEyIDgwIEMgMzAgMjAsIDQ4IDIwLCA1MiA3MCBTIDgwIDEwMCwgOTYgNDAgQyAxMDQgMTgsIDExOCAzMCwgMTEyIDYyIEMgMTA4IDg0LCAxMzAgODgsIDE0NiA1MiBDIDE1NiAzMCwgMTY4IDM2LCAxNzAgNjYgQyAxNzIgODgsIDE5NiA4NCwgMjA2IDQ4IEMgMjEyIDI4LCAyMzIgMjYsIDIzNiA1OCBDIDI0MCA4NCwgMjYyIDg2LCAzMDAgNDAiIGZpbGw9Im5vbmUiIHN0cm9rZT0iIzFkMjMzMCIgc3Ryb2tlLXdpZHRoPSIzIiBzdHJva2UtbGluZWNhcD0icm91bmQiLz48L3N2Zz4=';
const READINESS = ['info_verified', 'tools', 'spare_parts', 'documents'];
const HOUR = 3600_000;
const rand = () => Math.floor(Math.random() * 9000 + 1000);

/** A Beijing day `YYYY-MM-DD`, `n` days from today. */
function beijingDay(n = 0) {
  const d = new Date(Date.now() + n * 86400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
/** The ISO instant of `HH:MM` Beijing time on `day`. */
const bj = (day, hm) => new Date(`${day}T${hm}:00+08:00`).toISOString();

async function deskPage(browser, base) {
  const page = await (await desk(browser, base)).newPage();
  watch(page);
  return page;
}
const settled = (page) => page.waitForFunction(() => !document.querySelector('#view')?.hasAttribute('aria-busy'));

async function people(base) {
  const [admin, mgr, agent, tech1] = await Promise.all(['admin', 'zz.manager', 'zz.agent1', 'zz.tech1'].map((u) => Client.as(base, u)));
  const techs = (await mgr.get('/technicians?limit=50')).items;
  const techId = Object.fromEntries(techs.map((t) => [t.username, t.user_id]));
  const techName = Object.fromEntries(techs.map((t) => [t.username, t.display_name]));
  const customer = (await agent.get('/customers?payment_terms=cash&limit=1')).items[0];
  return { admin, mgr, agent, tech1, techId, techName, customer };
}

/** An approved install order with a window on `day` from `from` to `to` (Beijing). */
async function approvedOrder(p, day, from, to, site = [34.72, 113.70]) {
  const o = await p.agent.ok('POST', '/work-orders/install', {
    customer_id: p.customer.id,
    site_address: '郑州市管城区航海东路物流园3号库',
    site_lat: site[0], site_lng: site[1],
    contact_name: '王喆', contact_phone: '13812345678',
    window_start: bj(day, from), window_end: bj(day, to),
    requested_at: new Date(Date.now() - 2 * HOUR).toISOString(),
    urgency: 'normal', channel: 'phone', submit: true,
    vehicles: [{ plate_no: `豫AT${rand()}`, driver: { name: '李堃', phone: '13912345678' } }],
  });
  return step(p.mgr, o, 'approve', { comment: '同意' });
}
async function step(client, order, action, body = {}) {
  const r = await client.ok('POST', `/work-orders/${order.id}/${action}`, body, { ifMatch: order.version });
  return r && r.id === order.id && r.version ? r : client.get(`/work-orders/${order.id}`);
}

/** The point of `lane` at Beijing `HH:MM` on the 07:00–22:00 axis (page coordinates). */
async function laneAt(lane, hm) {
  const box = await lane.boundingBox();
  const [hh, mm] = hm.split(':').map(Number);
  const frac = (hh * 60 + mm - 420) / 900;
  return { x: box.x + box.width * frac + 2, y: box.y + box.height / 2 };
}

/** Drags `source` onto `lane` at `hm` with the mouse (HTML5 drag and drop in Chromium);
 *  `whileOver(page)` runs before the drop. */
async function drag(page, source, lane, hm, whileOver) {
  // the plan redraws when a live event arrives (the previous assignment's): wait it out
  for (let i = 0; ; i++) {
    try { await lane.scrollIntoViewIfNeeded({ timeout: 2000 }); break; } catch (e) {
      if (i >= 5) throw e;
      await page.waitForTimeout(200);
    }
  }
  await page.waitForTimeout(300);
  const s = await source.boundingBox();
  await page.mouse.move(s.x + s.width / 2, s.y + s.height / 2);
  await page.mouse.down();
  const to = await laneAt(lane, hm);
  await page.mouse.move(to.x - 30, to.y, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  if (whileOver) await whileOver(page);
  await page.mouse.up();
}

// ------------------------------------------------------------------ coordinates

test('WGS-84 → GCJ-02 matches the published pairs, and back', () => {
  // (wgs lat, wgs lng, gcj lat, gcj lng): Shanghai, Shenzhen, Beijing (eviltransform's tests)
  for (const [wl, wg, gl, gg] of [
    [31.1774276, 121.5272106, 31.17530398364597, 121.531541859215],
    [22.543847, 113.912316, 22.540796131694766, 113.9171764808363],
    [39.911954, 116.377817, 39.91334545536069, 116.38404722455657],
  ]) {
    const g = wgsToGcj({ lat: wl, lng: wg });
    assert.ok(Math.abs(g.lat - gl) < 1e-9 && Math.abs(g.lng - gg) < 1e-9, `${wl},${wg} → ${g.lat},${g.lng}`);
    const w = gcjToWgs({ lat: gl, lng: gg });
    assert.ok(Math.abs(w.lat - wl) < 1e-8 && Math.abs(w.lng - wg) < 1e-8, `back: ${w.lat},${w.lng}`);
  }
  // outside China nothing moves
  assert.deepEqual(wgsToGcj({ lat: 48.8566, lng: 2.3522 }), { lat: 48.8566, lng: 2.3522 });
  // the offset in Zhengzhou is a few hundred metres
  const zz = { lat: 34.7466, lng: 113.6254 };
  const off = haversineKm(zz, wgsToGcj(zz));
  assert.ok(off > 0.2 && off < 0.8, `offset ${off} km`);
  assert.equal(travelMinutes(0), 0);
  assert.equal(travelMinutes(10), 25); // 10 km at 25 km/h = 24 min → 25
});

// ------------------------------------------------------------------ the day plan

test('day plan: a drag assigns; a double booking, a missing skill and a contractor without a reason are refused in place; the keyboard assigns', { timeout: 120_000 }, async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    const day = beijingDay(1);
    const a = await approvedOrder(p, day, '13:00', '16:00');
    const c = await approvedOrder(p, day, '09:00', '12:00');
    const k = await approvedOrder(p, day, '18:00', '20:00', [34.80, 113.66]);
    // zz.tech1 is booked at 10:00
    let b = await approvedOrder(p, day, '09:00', '11:00', [34.75, 113.62]);
    b = await step(p.mgr, b, 'assign', { lead_id: p.techId['zz.tech1'], scheduled_at: bj(day, '10:00') });

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.manager');
    await page.goto(`/desk/#/plan?day=${day}`);
    await settled(page);
    await page.getByRole('heading', { name: `日计划（${day}）` }).waitFor();
    const lane = (u) => page.locator(`.lane[data-technician="${p.techId[u]}"]`);
    const card = (o) => page.locator(`.plan-card[data-order="${o.id}"]`);
    // zz.tech1's booked order is a block at 10:00 with its travel before it
    await lane('zz.tech1').locator(`.block[data-order="${b.id}"]`, { hasText: '10:00' }).waitFor();
    assert.match(await lane('zz.tech1').locator(`.travel[data-travel="${b.id}"]`).getAttribute('title'), /平均时速 25 公里/);
    assert.equal(await page.locator('.plan-card').count(), 3);

    // 1. drag A onto zz.tech3 at 14:00: the ranking's reasons show on the rows while dragging
    await drag(page, card(a), lane('zz.tech3'), '14:00', async () => {
      const reasons = page.locator(`.plan-row[data-technician="${p.techId['zz.tech3']}"] .reasons`);
      await reasons.filter({ hasText: '推荐第' }).waitFor();
      assert.match(await reasons.innerText(), /距离/);
      await page.locator(`.plan-row[data-technician="${p.techId['zz.tech4']}"] .reasons`, { hasText: '不具备' }).waitFor();
      await lane('zz.tech3').locator('.ghost', { hasText: '14:00' }).waitFor();
    });
    await lane('zz.tech3').locator(`.block[data-order="${a.id}"]`, { hasText: '14:00' }).waitFor();
    const got = await p.mgr.get(`/work-orders/${a.id}`);
    assert.equal(got.status, 'assigned');
    assert.equal(got.lead_technician_id, p.techId['zz.tech3']);
    assert.equal(new Date(got.scheduled_at).toISOString(), bj(day, '14:00'));
    assert.equal(got.version, a.version + 1);
    await page.getByRole('status').filter({ hasText: `${a.number} 已派工` }).first().waitFor();

    // 2. drag C onto zz.tech1 at 10:30: booked → refused in the row with the API's words
    const before = await p.mgr.get(`/work-orders/${c.id}`);
    await drag(page, card(c), lane('zz.tech1'), '10:30');
    const refusal = page.locator(`.plan-row[data-technician="${p.techId['zz.tech1']}"] .plan-refusal`);
    await refusal.getByText('该技师该时段已有工单，请另选技师或时间').waitFor();
    await refusal.getByRole('button', { name: '仍然派工' }).waitFor();
    await card(c).waitFor(); // back in the waiting list
    assert.equal(await lane('zz.tech1').locator(`.block[data-order="${c.id}"]`).count(), 0);
    await shot(page, 'desk-plan');
    // 3. and onto zz.tech4, who does not install
    await drag(page, card(c), lane('zz.tech4'), '10:00');
    await page.locator(`.plan-row[data-technician="${p.techId['zz.tech4']}"] .plan-refusal`).getByText(/不具备此类工单的技能/).waitFor();
    // 4. and onto the contractor zz.tech5 without the outsourcing reason
    await drag(page, card(c), lane('zz.tech5'), '15:00');
    const ask = page.getByRole('form', { name: '外协原因' });
    await ask.getByText(/派外协需经理批准/).waitFor();
    await ask.getByRole('button', { name: '确认派外协' }).click();
    await page.locator(`.plan-row[data-technician="${p.techId['zz.tech5']}"] .plan-refusal`).getByText(/派外协须填写外协原因/).waitFor();
    const after = await p.mgr.get(`/work-orders/${c.id}`);
    assert.equal(after.status, 'approved');
    assert.equal(after.version, before.version);
    assert.equal(after.lead_technician_id, null);

    // 5. the keyboard: focus K's card, Enter, pick zz.tech2 and 19:00, Enter
    await card(k).focus();
    await page.keyboard.press('Enter');
    const tech = page.getByLabel('技术员（按推荐排序）');
    await tech.locator('option', { hasText: p.techName['zz.tech2'] }).first().waitFor({ state: 'attached' });
    await tech.selectOption(p.techId['zz.tech2']);
    await page.getByLabel(/上门时间/).fill('19:00');
    await page.getByLabel(/上门时间/).press('Enter');
    await lane('zz.tech2').locator(`.block[data-order="${k.id}"]`, { hasText: '19:00' }).waitFor();
    const kk = await p.mgr.get(`/work-orders/${k.id}`);
    assert.equal(kk.lead_technician_id, p.techId['zz.tech2']);
    assert.equal(new Date(kk.scheduled_at).toISOString(), bj(day, '19:00'));
  });
});

// ------------------------------------------------------------------ the map

/** A 256×256 PNG tile: a light ground with a grid (drawn by hand: no image library). */
function tilePng() {
  const W = 256;
  const raw = Buffer.alloc((W * 3 + 1) * W);
  for (let y = 0; y < W; y++) {
    raw[y * (W * 3 + 1)] = 0;
    for (let x = 0; x < W; x++) {
      const line = x % 64 === 0 || y % 64 === 0;
      const o = y * (W * 3 + 1) + 1 + x * 3;
      raw[o] = line ? 200 : 232; raw[o + 1] = line ? 212 : 240; raw[o + 2] = line ? 200 : 226;
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(W, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A tile server on 127.0.0.1: `/tiles/{z}/{x}/{y}.png`; `broken = true` answers 500. */
async function tileServer() {
  const png = tilePng();
  const srv = { requests: [], broken: false };
  srv.server = http.createServer((req, res) => {
    const m = req.url.match(/^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/);
    if (m) srv.requests.push(m.slice(1).map(Number));
    if (!m || srv.broken) { res.writeHead(srv.broken ? 500 : 404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
    res.end(png);
  });
  await new Promise((r) => srv.server.listen(0, '127.0.0.1', r));
  srv.port = srv.server.address().port;
  srv.close = () => new Promise((r) => srv.server.close(r));
  return srv;
}

/** The slippy-map tile holding a point at zoom `z`. */
function tileOf({ lat, lng }, z) {
  const n = 2 ** z;
  const x = Math.floor(((lng + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [x, y];
}

test('the map: tiles from the configured host (GCJ-02), markers placed, the plot when the tiles fail', { timeout: 120_000 }, async () => {
  const tiles = await tileServer();
  try {
    await withApp(async (app, browser) => {
      const p = await people(app.base);
      await p.tech1.ok('POST', '/technicians/me/position', { lat: 34.7230, lng: 113.6950 });
      // the pages allow images from the tile host, and only it besides their own
      const csp = (await fetch(`${app.base}/desk/`)).headers.get('content-security-policy');
      assert.match(csp, new RegExp(`img-src 'self' data: blob: http://127\\.0\\.0\\.1:${tiles.port};`));
      const cfg = await p.agent.get('/map-config');
      assert.equal(cfg.datum, 'gcj02');
      assert.equal((await new Client(app.base).call('GET', '/map-config')).status, 401);

      const page = await deskPage(browser, app.base);
      await signIn(page, 'zz.manager');
      await page.goto('/desk/#/positions');
      await settled(page);
      const map = page.locator('.mapview[data-map="map"][data-tiles="loaded"]');
      await map.waitFor();
      const techs = Object.keys(p.techId).filter((u) => u.startsWith('zz.'));
      await map.locator(`.mk-live[data-technician="${p.techId['zz.tech1']}"]`).waitFor();
      assert.equal(await map.locator('.mk-live, .mk-home').count(), techs.length);
      assert.equal(await map.locator('.mk-center').count(), 1);
      // the tiles asked for cover zz.tech1's position converted to GCJ-02
      const z = Math.max(...tiles.requests.map((r) => r[0]));
      const want = tileOf(wgsToGcj({ lat: 34.7230, lng: 113.6950 }), z);
      assert.ok(tiles.requests.some(([tz, x, y]) => tz === z && x === want[0] && y === want[1]), `tile ${z}/${want} among ${JSON.stringify(tiles.requests.slice(0, 20))}`);
      // the marker sits where Leaflet puts that GCJ-02 point
      const placed = await page.evaluate(async (id) => {
        const el = document.querySelector(`.mk-live[data-technician="${id}"]`).closest('.leaflet-marker-icon');
        return !!el && el.style.transform.includes('translate3d');
      }, p.techId['zz.tech1']);
      assert.ok(placed);
      await shot(page, 'desk-map');

      // the tiles fail: the plot instead, with the technicians on it
      tiles.broken = true;
      await page.reload();
      await settled(page);
      const plot = page.getByRole('img', { name: /技术员位置/ });
      await plot.waitFor();
      await plot.locator(`g.tech.live[data-technician="${p.techId['zz.tech1']}"]`).waitFor();
      assert.equal(await plot.locator('g.tech').count(), techs.length);
      await page.getByText('地图底图加载失败，已改用简图。').waitFor();
    }, { env: { DISPATCH_MAP_TILES: `http://127.0.0.1:${tiles.port}/tiles/{z}/{x}/{y}.png`, DISPATCH_MAP_DATUM: 'gcj02', DISPATCH_MAP_ATTRIBUTION: '测试底图' } });
  } finally {
    await tiles.close();
  }
});

test('no tile URL: the plot on the positions page and the order page', { timeout: 60_000 }, async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    assert.equal((await p.mgr.get('/map-config')).tiles, null);
    const day = beijingDay(1);
    const o = await approvedOrder(p, day, '09:00', '12:00');
    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.manager');
    await page.goto(`/desk/#/orders/${o.id}`);
    await settled(page);
    const box = page.locator('#order-map .mapview[data-map="plot"]');
    await box.waitFor();
    await box.locator(`g.site[data-order="${o.id}"]`).waitFor();
    await box.locator('g.center').waitFor();
    await page.getByText('未配置地图底图，显示简图。').waitFor();
  });
});

// ------------------------------------------------------------------ the order page

test('the order page: the PDF, the signature, the parts and the payments with the receipt', { timeout: 120_000 }, async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    const fee = 8800;
    const code = `P-${rand()}`;
    await p.admin.ok('POST', '/parts', { code, name: '安装支架', unit_price_fen: fee });
    const day = beijingDay(0);
    let o = await approvedOrder(p, day, '00:00', '23:00');
    o = await step(p.mgr, o, 'assign', { lead_id: p.techId['zz.tech1'], scheduled_at: new Date(Date.now() + HOUR).toISOString() });
    o = await step(p.tech1, o, 'accept');
    o = await step(p.tech1, o, 'readiness', { items: READINESS });
    o = await step(p.tech1, o, 'depart', { lat: 34.75, lng: 113.63 });
    o = await step(p.tech1, o, 'arrive', { lat: 34.7201, lng: 113.7003 });
    o = await step(p.tech1, o, `lines/${o.lines[0].id}/not-done`, { reason: '车辆未到场' });
    o = await step(p.tech1, o, 'parts', { part_code: code, quantity: 1 });
    o = await step(p.tech1, o, 'sign-off', { signer_name: '王喆', signature_image: SIGNATURE_SVG });
    o = await step(p.tech1, o, 'complete');
    const pay = await p.tech1.ok('POST', `/work-orders/${o.id}/payments`, { amount_fen: fee, method: 'cash', payer_name: '王喆', lat: 34.72, lng: 113.70 }, { idem: crypto.randomUUID() });

    // the signature through the API: the image, scoped like the order
    const sig = await fetch(`${app.base}/api/v1/work-orders/${o.id}/signature`, { headers: { Authorization: `Bearer ${p.mgr.token}` } });
    assert.equal(sig.status, 200);
    assert.equal(sig.headers.get('content-type'), 'image/svg+xml');
    assert.match(sig.headers.get('content-security-policy'), /default-src 'none'/);
    const bjMgr = await Client.as(app.base, 'bj.manager');
    assert.equal((await bjMgr.call('GET', `/work-orders/${o.id}/signature`)).status, 404);

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.manager');
    await page.goto(`/desk/#/orders/${o.id}`);
    await settled(page);
    await page.getByRole('table', { name: '使用配件' }).getByText('安装支架').waitFor();
    await page.getByRole('table', { name: '收款记录' }).getByRole('button', { name: `收据 ${pay.receipt_no}` }).waitFor();
    const img = page.getByRole('img', { name: '客户签字：王喆' });
    await img.waitFor();
    assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0));
    await page.getByRole('button', { name: /显示安装任务派工单/ }).click();
    await page.locator('#order-pdf iframe.pdf-frame, #order-pdf .banner').first().waitFor();
    if (await page.locator('#order-pdf iframe').count()) {
      assert.match(await page.locator('#order-pdf iframe').getAttribute('src'), /^blob:/);
      await page.getByRole('link', { name: `下载 ${o.number}.pdf` }).waitFor();
    }
    await page.getByText('暂无现场照片。').waitFor();
    await page.locator('#o-docs').evaluate((el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -110); });
    await page.waitForTimeout(500);
    await shot(page, 'desk-order');
  });
});
