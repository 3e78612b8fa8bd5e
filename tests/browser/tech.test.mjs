// The technician's phone app (/app/) in headless Chromium on a 390×844 phone, each test on
// its own app and database; the scene is set and the outcome checked through the REST API.
//
//   1. an install job with three vehicles (one not done), sign-in to completion
//   2. a paid repair job (out of warranty, parts from the price list) to the receipt PDF
//   3. the same repair with the network cut after arrival (work and a reload offline),
//      restored before the sign-off: the same end state, no action twice
//   4. another technician's job: the API answers 404 and the page says so
//   5. a queued action that meets a changed order becomes a conflict, never dropped
//   6. a first visit draws the job list from the order list, before the jobs' full views
//   7. photos taken offline, uploaded once each after a reload
//   8. a SIM swap waits for the terminal's first report (上线检测), which a pushed
//      position passes; the desk shows it beside the photos, with the manager's release
//   plus unit checks of geo.js (WGS-84 → GCJ-02 → BD-09) and ids.js (IMEI/ICCID)
import test from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { tmpdir } from 'node:os';
import zlib from 'node:zlib';
import { startApp, launchBrowser, phone, desk, signIn, shot, Client, ROOT } from './harness.mjs';

// ------------------------------------------------------------------ test data

function luhnDigit(payload) {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
/** valid IMEIs and ICCIDs (19 digits: the demo's are 20) that the demo data does not use */
const imei = (n) => { const p = `35693803${String(n).padStart(6, '0')}`; return p + luhnDigit(p); };
const iccid = (n) => { const p = `8986039${String(n).padStart(11, '0')}`; return p + luhnDigit(p); };
const isoIn = (hours) => new Date(Date.now() + hours * 3600e3).toISOString();

async function people(base) {
  const [admin, agent, mgr, tech] = await Promise.all(['admin', 'zz.agent1', 'zz.manager', 'zz.tech1'].map((u) => Client.as(base, u)));
  const me = await tech.get('/auth/me');
  const centers = await admin.get('/centers');
  const zz = (centers.items || centers).find((c) => c.code === 'ZZ');
  return { admin, agent, mgr, tech, techId: me.id, zz };
}

async function customer(s, name) {
  return s.agent.ok('POST', '/customers', {
    center_id: s.zz.id, name, tier: 'normal', address: '郑州市金水区花园路1号', lat: 34.77, lng: 113.66,
    payment_terms: 'cash', contacts: [{ name: '刘明', phone: '13838012345', title: '车队长' }],
  });
}

/** manager approves and assigns the order to zz.tech1, the visit in an hour */
async function approveAndAssign(s, o, hours = 1) {
  o = await s.mgr.ok('POST', `/work-orders/${o.id}/approve`, { comment: '同意' }, { ifMatch: o.version });
  return s.mgr.ok('POST', `/work-orders/${o.id}/assign`, { lead_id: s.techId, scheduled_at: isoIn(hours) }, { ifMatch: o.version });
}

async function installScene(base, plates = ['豫A7C101', '豫A7C102', '豫A7C103']) {
  const s = await people(base);
  const c = await customer(s, '郑州畅通物流有限公司');
  for (const n of [1, 2]) {
    await s.admin.ok('POST', '/terminals', { imei: imei(n), model_code: 'GT06N', purchase_date: '2026-01-05', center_id: s.zz.id });
    await s.admin.ok('POST', '/sims', { iccid: iccid(n), msisdn: `1440${String(n).padStart(9, '0')}`, center_id: s.zz.id });
  }
  let o = await s.agent.ok('POST', '/work-orders/install', {
    customer_id: c.id, site_address: '郑州市管城区航海东路物流园3号库', site_lat: 34.72, site_lng: 113.70,
    contact_name: '刘明', contact_phone: '13838012345', window_start: isoIn(0.5), window_end: isoIn(4),
    requested_at: isoIn(-2), urgency: 'normal', channel: 'phone', notes: '车队集中安装', submit: true,
    vehicles: plates.map((p) => ({ plate_no: p, driver: { name: '李堃', phone: '13912345678' } })),
  });
  o = await approveAndAssign(s, o);
  return { s, order: o, customer: c };
}

async function repairScene(base) {
  const s = await people(base);
  const c = await customer(s, '郑州顺风快运有限公司');
  const v = await s.admin.ok('POST', '/vehicles', { customer_id: c.id, plate_no: '豫A8R201', drivers: [{ name: '李堃', phone: '13912345678' }] });
  const t = await s.admin.ok('POST', '/terminals', { imei: imei(11), model_code: 'GT06N', purchase_date: '2022-01-10', center_id: s.zz.id });
  const oldSim = await s.admin.ok('POST', '/sims', { iccid: iccid(11), msisdn: '1440000000011', center_id: s.zz.id });
  const newSim = await s.admin.ok('POST', '/sims', { iccid: iccid(12), msisdn: '1440000000012', center_id: s.zz.id });
  await s.admin.ok('POST', `/terminals/${t.id}/bind`, { vehicle_id: v.id, reason: '新车安装' });
  await s.admin.ok('POST', `/sims/${oldSim.id}/bind`, { terminal_id: t.id, reason: '装卡' });
  await s.admin.ok('POST', '/parts', { code: 'P-ANT', name: 'GPS天线', unit_price_fen: 3500 });
  await s.admin.ok('POST', '/parts', { code: 'P-PWR', name: '电源线', unit_price_fen: 1250 });
  let o = await s.agent.ok('POST', '/work-orders/repair', {
    customer_id: c.id, site_address: '郑州市金水区花园路1号停车场', site_lat: 34.77, site_lng: 113.66,
    contact_name: '王师傅', contact_phone: '13812345678', channel: 'phone', urgency: 'urgent',
    fault_symptoms: 'SIM卡无信号，终端不上线', requested_at: isoIn(-3), submit: true, vehicle_id: v.id,
  });
  assert.equal(o.warranty_in, false, 'bought in 2022: out of warranty');
  o = await approveAndAssign(s, o);
  return { s, order: o, customer: c, vehicle: v, terminal: t, oldSim, newSim };
}

// ------------------------------------------------------------------ page helpers

const status = (page, text) => page.locator('#status', { hasText: text }).waitFor({ timeout: 15000 });

async function openJob(page, customerName) {
  const card = page.getByRole('link', { name: new RegExp(customerName) });
  await card.waitFor();
  await card.click();
  await page.getByRole('heading', { level: 1, name: customerName }).waitFor();
}

/** accept, readiness, depart, arrive — as the technician taps them */
async function goOnSite(page) {
  await page.getByRole('button', { name: '接单' }).click();
  await status(page, '已接单');
  for (const label of ['已核对客户和车辆信息', '工具齐全', '备件齐全', '单据齐全']) await page.getByLabel(label).check();
  await page.getByRole('button', { name: '确认就绪' }).click();
  await status(page, '已就绪');
  await page.getByRole('button', { name: '出发' }).click();
  await status(page, '在途');
  await page.getByRole('button', { name: '到场' }).click();
  await status(page, '到场');
}

async function signOff(page, name) {
  await page.getByRole('link', { name: '客户签字' }).click();
  await page.getByRole('heading', { name: '客户签字验收' }).waitFor();
  await page.getByLabel('签字人姓名').fill(name);
  const pad = page.getByRole('img', { name: /签名板/ });
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + 30, box.y + 120);
  await page.mouse.down();
  for (const [x, y] of [[80, 60], [130, 140], [180, 70], [240, 130], [300, 80]]) await page.mouse.move(box.x + x, box.y + y, { steps: 6 });
  await page.mouse.up();
  await shot(page, 'phone-signoff');
  await page.getByRole('button', { name: '确认签字' }).click();
  await page.getByText(`客户已签字：${name}`).waitFor();
}

/** opens a folded form (<details id>) of the job screen */
// opens a fold; a redraw by a live event (the previous action's) right after keeps it open,
// but one in flight may replace it: open it again until it stays
const unfold = async (page, id) => {
  for (let i = 0; i < 5; i++) {
    await page.locator(`#${id}`).evaluate((d) => { d.open = true; });
    await page.waitForTimeout(300);
    if (await page.locator(`#${id}`).evaluate((d) => d.open)) return;
  }
};

function countBy(list) {
  const m = {};
  for (const x of list) m[x] = (m[x] || 0) + 1;
  return m;
}

// ------------------------------------------------------------------ the browser

let browser;
test.before(async () => { browser = await launchBrowser(); });
test.after(async () => { await browser?.close(); });

/** Runs `f(page, app)` on a fresh app and phone; closes both whatever happens. */
async function onPhone(f, opts = {}) {
  const app = await startApp(opts);
  const ctx = await phone(browser, app.base);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await f(page, app, ctx);
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } catch (e) {
    // what the phone showed, for the failure report
    const file = path.join(tmpdir(), `tech-failure-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    const shown = await page.locator('body').innerText().catch(() => '');
    e.message += `\n--- the page (${page.url()}; screenshot ${file}):\n${shown.slice(0, 2000)}\n--- page errors: ${errors.join(' | ')}`;
    throw e;
  } finally {
    await ctx.close();
    await app.stop();
  }
}

// ------------------------------------------------------------------ 0. unit checks

const moduleOf = (file) => import(pathToFileURL(path.join(ROOT, 'web/app', file)).href);

test('geo.js converts WGS-84 to GCJ-02 and BD-09 as the reference implementations do', async () => {
  const g = await moduleOf('geo.js');
  const near = (got, want, what) => {
    assert.ok(Math.abs(got.lat - want[0]) < 1e-9 && Math.abs(got.lng - want[1]) < 1e-9, `${what}: ${JSON.stringify(got)} vs ${want}`);
  };
  // eviltransform's test vectors (wgsLat, wgsLng → gcjLat, gcjLng)
  near(g.wgs84ToGcj02(31.1774276, 121.5272106), [31.17530398364597, 121.531541859215], 'Shanghai');
  near(g.wgs84ToGcj02(22.543847, 113.912316), [22.540796131694766, 113.9171764808363], 'Shenzhen');
  near(g.wgs84ToGcj02(39.911954, 116.377817), [39.91334545536069, 116.38404722455657], 'Beijing');
  // coordtransform's (wandergis) README values at (116.404, 39.915)
  near(g.wgs84ToGcj02(39.915, 116.404), [39.91640428150164, 116.41024449916938], 'wgs84→gcj02');
  near(g.gcj02ToBd09(39.915, 116.404), [39.92133699351021, 116.41036949371029], 'gcj02→bd09');
  near(g.wgs84ToBd09(39.915, 116.404), [39.922699552216216, 116.41662724378733], 'wgs84→bd09');
  // outside China nothing moves (Denver)
  near(g.wgs84ToGcj02(39.7392, -104.9903), [39.7392, -104.9903], 'Denver');
  // the links carry the converted coordinates
  const site = { lat: 39.915, lng: 116.404, name: '天安门', address: '北京' };
  assert.match(g.amapUrl(site), /to=116\.410244,39\.916404,/);
  assert.match(g.amapUrl(site), /coordinate=gaode/);
  assert.match(g.baiduUrl(site), /location=39\.922700%2C116\.416627/);
  assert.match(g.baiduUrl(site), /coord_type=bd09ll/);
});

test('ids.js checks IMEI and ICCID as the API does', async () => {
  const ids = await moduleOf('ids.js');
  for (const ok of ['490154203237518', '356938035643809', ' 352099001761481 ', imei(1)]) assert.equal(ids.imeiProblem(ok), null, ok);
  for (const [bad, says] of [['', '请输入'], ['49015420323751', '15 位'], ['4901542032375180', '15 位'], ['49015420323751A', '数字'],
    ['4901-5420323751', '数字'], ['４９０１５４２０３２３７５１８', '数字'], ['490154203237519', '校验位'], ['356938035643808', '校验位']]) {
    assert.match(ids.imeiProblem(bad) || '', new RegExp(says), bad);
  }
  for (const ok of [iccid(1), '89860001053054219364']) assert.equal(ids.iccidProblem(ok), null, ok);
  const withLuhn = (p) => p + luhnDigit(p);
  assert.equal(ids.iccidProblem(withLuhn('898611123456789012')), null);
  for (const [bad, says] of [['', '请输入'], [withLuhn('123456789012345678'), '89 开头'], [withLuhn('89860012345678'), '19 或 20'],
    [withLuhn('898600123456789012345'), '19 或 20'], ['8986000105305421936x', '数字'], ['89860001053054219365', '校验位']]) {
    assert.match(ids.iccidProblem(bad) || '', new RegExp(says), bad);
  }
  assert.equal(ids.carrierOf('89860001053054219364'), '中国移动');
  assert.equal(ids.pickNumber(`IMEI:${imei(3)} SN:123`, ids.imeiProblem), imei(3));
});

// ------------------------------------------------------------------ 1. install

test('a technician completes an install job of three vehicles, one not done', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app) => {
    const { s, order } = await installScene(app.base);
    await signIn(page, 'zz.tech1');
    assert.equal(new URL(page.url()).pathname, '/app/');
    // the card is whole once its job's view is in (the list alone lacks the vehicle count)
    const card = page.getByRole('link', { name: /郑州畅通物流有限公司.*辆车/s });
    await card.waitFor();
    const text = await card.innerText();
    for (const part of ['郑州市管城区航海东路物流园3号库', '安装', '已派工', order.number, '3 辆车']) assert.ok(text.includes(part), `${part} in ${text}`);
    await shot(page, 'phone-jobs');
    await openJob(page, '郑州畅通物流有限公司');
    // the navigation links carry GCJ-02 / BD-09 coordinates of the site (34.72, 113.70)
    const amap = await page.getByRole('link', { name: '高德地图导航' }).getAttribute('href');
    const baidu = await page.getByRole('link', { name: '百度地图导航' }).getAttribute('href');
    assert.match(amap, /^https:\/\/uri\.amap\.com\/navigation\?to=113\.70\d+,34\.71\d+,/);
    assert.match(baidu, /^https:\/\/api\.map\.baidu\.com\/marker\?location=34\.72\d+%2C113\.71\d+/);
    await shot(page, 'phone-job');
    await goOnSite(page);

    const [p1, p2, p3] = order.lines.map((l) => l.plate_no);
    // vehicle 1: a mistyped IMEI is caught on the phone, then the right numbers go in
    await page.getByRole('link', { name: `处理 ${p1}` }).click();
    const imeiBox = page.getByLabel('终端 IMEI');
    const wrong = imei(1).slice(0, 14) + ((Number(imei(1)[14]) + 1) % 10);
    await imeiBox.fill(wrong);
    await page.getByText('IMEI 校验位不正确').waitFor();
    await page.getByLabel('SIM卡 ICCID').fill(iccid(1).slice(0, 12));
    await page.getByRole('button', { name: '保存安装' }).click();
    await page.getByText('ICCID 应为 19 或 20 位数字（现在 12 位）').waitFor();
    assert.equal((await s.tech.get(`/work-orders/${order.id}`)).lines[0].status, 'pending', 'nothing sent while invalid');
    await imeiBox.fill(imei(1));
    await page.getByLabel('SIM卡 ICCID').fill(iccid(1));
    await shot(page, 'phone-line');
    await page.getByRole('button', { name: '保存安装' }).click();
    await page.locator('.vehicle', { hasText: p1 }).getByText('已安装').waitFor();
    // vehicle 2
    await page.getByRole('link', { name: `处理 ${p2}` }).click();
    await page.getByLabel('终端 IMEI').fill(imei(2));
    await page.getByLabel('SIM卡 ICCID').fill(iccid(2));
    await page.getByRole('button', { name: '保存安装' }).click();
    await page.locator('.vehicle', { hasText: p2 }).getByText('已安装').waitFor();
    // vehicle 3 is away
    await page.getByRole('link', { name: `处理 ${p3}` }).click();
    await page.getByLabel('未完成原因').fill('车辆外出未到场');
    await page.getByRole('button', { name: '标记未完成' }).click();
    await page.locator('.vehicle', { hasText: p3 }).getByText('未完成：车辆外出未到场').waitFor();

    assert.ok(await page.getByRole('button', { name: '完工' }).isDisabled(), 'not before the sign-off');
    await signOff(page, '刘明');
    await page.getByRole('button', { name: '完工' }).click();
    await status(page, '已完工');
    await page.locator('#fee-state', { hasText: '无需收费' }).waitFor();
    assert.equal(await page.locator('#sync').isHidden(), true, 'nothing waits to sync');

    // the database, through the API
    const o = await s.admin.get(`/work-orders/${order.id}`);
    assert.equal(o.status, 'completed');
    assert.equal(o.signoff_name, '刘明');
    assert.equal(o.has_signature, true, 'the signature image was sent');
    assert.equal(o.fee_fen, 0);
    assert.deepEqual(o.lines.map((l) => l.status), ['done', 'done', 'not_done']);
    assert.deepEqual(o.lines.map((l) => l.work), [['install'], ['install'], []]);
    assert.equal(o.lines[2].not_done_reason, '车辆外出未到场');
    assert.ok(o.arrived_lat && o.arrived_lng, 'arrival carries the phone position');
    for (const [i, n] of [[0, 1], [1, 2]]) {
      const t = await s.admin.get(`/terminals/${o.lines[i].terminal_id}`);
      assert.equal(t.imei, imei(n));
      assert.equal(t.status, 'installed');
      assert.equal(t.vehicle_id, o.lines[i].vehicle_id, `terminal ${n} in vehicle ${i + 1}`);
      const sim = await s.admin.get(`/sims/${o.lines[i].sim_id}`);
      assert.equal(sim.iccid, iccid(n));
      assert.equal(sim.terminal_id, t.id, `SIM ${n} in terminal ${n}`);
      assert.equal(sim.status, 'active');
    }
    const third = await s.admin.get(`/binding-events?vehicle_id=${o.lines[2].vehicle_id}`);
    assert.equal(third.items.length, 0, 'nothing bound to the vehicle not done');
  });
});

// ------------------------------------------------------------------ 2 and 3. repair

/** the timeline of the repair, online or not: every act once, in the order taken */
const REPAIR_ACTIONS = ['create', 'submit', 'approve', 'assign', 'accept', 'readiness', 'depart', 'arrive',
  'sim_swap', 'verbal_approval', 'part_used', 'part_used', 'sign_off', 'complete', 'payment'];

/**
 * The paid repair from sign-in to the receipt. With `offline`, the network is cut after
 * arrival; the line work, a verbal approval and two parts are queued on the phone, the
 * page is reloaded offline, and the network comes back before the sign-off.
 */
async function repairJob(page, app, ctx, { offline }) {
  const sc = await repairScene(app.base);
  const { s, order } = sc;
  await signIn(page, 'zz.tech1');
  await openJob(page, '郑州顺风快运有限公司');
  await page.getByText('已过保修期').waitFor();
  await goOnSite(page);

  if (offline) {
    // the shell is in the service worker's cache before the garage
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 15000 });
    await ctx.setOffline(true);
    await page.getByText('离线模式').waitFor();
  }
  // the SIM swap on the one vehicle
  await page.getByRole('link', { name: '处理 豫A8R201' }).click();
  await page.getByLabel('新SIM卡 ICCID').fill(iccid(12));
  await page.getByRole('button', { name: '保存更换SIM卡' }).click();
  await page.locator('.vehicle', { hasText: '豫A8R201' }).getByText('已更换SIM卡').waitFor();
  // parts ran short: a verbal approval, then the parts (one under that approval)
  await unfold(page, 'fold-va');
  await page.getByLabel('请示内容').fill('天线备件不足，同意使用备用天线');
  await page.getByRole('button', { name: '记录口头请示' }).click();
  await page.locator('#view').getByText('待经理确认').waitFor();
  await unfold(page, 'fold-part');
  await page.getByLabel('配件', { exact: true }).selectOption('P-ANT');
  await page.getByLabel('数量').fill('1');
  await page.getByLabel('用于车辆').selectOption({ label: '豫A8R201' });
  await page.getByLabel('依据口头请示').selectOption({ label: '天线备件不足，同意使用备用天线' });
  await page.getByRole('button', { name: '添加配件' }).click();
  await page.locator('#view').getByText('GPS天线 × 1').waitFor();
  await unfold(page, 'fold-part');
  await page.getByLabel('配件', { exact: true }).selectOption('P-PWR');
  await page.getByLabel('数量').fill('2');
  await page.getByRole('button', { name: '添加配件' }).click();
  await page.locator('#view').getByText('电源线 × 2').waitFor();

  if (offline) {
    const indicator = page.locator('#sync');
    await indicator.filter({ hasText: '待同步 4 项' }).waitFor();
    assert.equal((await s.admin.get(`/work-orders/${order.id}`)).status, 'on_site');
    assert.equal((await s.admin.get(`/work-orders/${order.id}`)).parts.length, 0, 'nothing reached the server');
    // a reload without network: the shell from the service worker, the job from the phone
    const res = await page.reload();
    assert.ok(res.fromServiceWorker(), 'the page came from the service worker');
    await page.getByRole('heading', { level: 1, name: '郑州顺风快运有限公司' }).waitFor();
    await indicator.filter({ hasText: '待同步 4 项' }).waitFor();
    await page.locator('#view').getByText('电源线 × 2').waitFor();
    await page.locator('.vehicle', { hasText: '豫A8R201' }).getByText('待同步').waitFor();
    await indicator.click();
    await page.getByRole('heading', { name: '同步', exact: true }).waitFor();
    for (const label of ['豫A8R201 更换SIM卡', '口头请示', '配件 GPS天线 × 1', '配件 电源线 × 2']) await page.getByText(label).first().waitFor();
    await shot(page, 'phone-offline-queue');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: '郑州顺风快运有限公司' }).waitFor();
    // the garage's exit: the queue goes out in order
    await ctx.setOffline(false);
    await indicator.waitFor({ state: 'hidden', timeout: 30000 });
    await page.getByText('离线模式').waitFor({ state: 'detached' });
    const o = await s.admin.get(`/work-orders/${order.id}`);
    assert.equal(o.parts.length, 2);
    assert.ok(o.parts.find((p) => p.part_code === 'P-ANT').verbal_approval_id, 'the part names its verbal approval');
  }

  await signOff(page, '王师傅');
  await page.getByRole('button', { name: '完工' }).click();
  await status(page, '已完工');
  await page.locator('#fee-state', { hasText: '待收 ¥60.00' }).waitFor();
  await page.getByRole('link', { name: '收费 ¥60.00' }).click();
  await page.getByRole('heading', { name: '现场收费' }).waitFor();
  assert.equal(await page.getByLabel('收款金额（元）').inputValue(), '60.00');
  await page.getByLabel('微信支付').check();
  const pdf = page.waitForResponse((r) => /\/api\/v1\/payments\/[^/]+\/receipt\.pdf$/.test(new URL(r.url()).pathname));
  await page.getByRole('button', { name: '确认收款' }).click();
  await page.getByRole('heading', { name: '收据' }).waitFor();
  const res = await pdf;
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^application\/pdf/);
  // the bytes the page got (Chromium may not keep a consumed body for the driver: the same
  // request again, with the technician's token)
  const again = await fetch(res.url(), { headers: { Authorization: `Bearer ${s.tech.token}` } });
  assert.equal(again.headers.get('content-type'), res.headers()['content-type']);
  const bytes = Buffer.from(await again.arrayBuffer());
  assert.ok(bytes.length > 1000, `a real PDF (${bytes.length} bytes)`);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  await page.getByRole('link', { name: '打开收据 PDF' }).waitFor();
  assert.match(await page.getByRole('link', { name: '打开收据 PDF' }).getAttribute('href'), /^blob:/);
  await page.getByText(/PDF \d+ KB/).waitFor();
  await shot(page, 'phone-receipt');

  // the database
  const o = await s.admin.get(`/work-orders/${order.id}`);
  const payments = (await s.admin.get(`/payments?order_id=${order.id}`)).items;
  const events = (await s.admin.get(`/work-orders/${order.id}/timeline`)).items;
  const receiptNo = (await page.locator('#receipt-no').innerText()).trim();
  return { s, sc, o, payments, events, receiptNo };
}

function assertRepairEnd({ sc, o, payments, events, receiptNo }) {
  assert.equal(o.status, 'completed');
  assert.equal(o.parts_total_fen, 6000);
  assert.equal(o.fee_fen, 6000, 'out of warranty: parts only');
  assert.equal(o.charge.status, 'paid');
  assert.equal(o.charge.paid_fen, 6000);
  assert.equal(o.lines.length, 1);
  assert.equal(o.lines[0].status, 'done');
  assert.deepEqual(o.lines[0].work, ['sim_swap']);
  assert.equal(o.lines[0].old_sim_id, sc.oldSim.id);
  assert.equal(o.lines[0].sim_id, sc.newSim.id);
  assert.deepEqual(o.parts.map((p) => [p.part_code, p.quantity, p.amount_fen]).sort(), [['P-ANT', 1, 3500], ['P-PWR', 2, 2500]]);
  assert.equal(o.verbal_approvals.length, 1);
  assert.equal(o.has_signature, true);
  assert.equal(payments.length, 1, 'paid once');
  assert.equal(payments[0].amount_fen, 6000);
  assert.equal(payments[0].method, 'wechat');
  assert.equal(payments[0].receipt_no, receiptNo);
  const actions = events.map((e) => e.action);
  const counts = countBy(actions);
  for (const [a, n] of Object.entries(counts)) {
    assert.equal(n, a === 'part_used' ? 2 : 1, `${a} recorded ${n} times: ${actions.join(', ')}`);
  }
  assert.deepEqual(actions, REPAIR_ACTIONS);
}

test('a technician does a paid repair job from sign-in to the receipt PDF', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app, ctx) => {
    assertRepairEnd(await repairJob(page, app, ctx, { offline: false }));
  });
});

test('the same repair with the network cut after arrival ends in the same state, nothing twice', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app, ctx) => {
    assertRepairEnd(await repairJob(page, app, ctx, { offline: true }));
  });
});

// ------------------------------------------------------------------ 4. someone else's job

test("a technician cannot see another technician's job", { timeout: 60_000 }, async () => {
  await onPhone(async (page, app) => {
    const { order } = await installScene(app.base, ['豫A7C301']);
    const other = await Client.as(app.base, 'zz.tech2');
    const r = await other.call('GET', `/work-orders/${order.id}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'not_found');
    assert.equal((await other.get('/work-orders')).items.length, 0);

    await signIn(page, 'zz.tech2');
    await page.getByText('今天和近期没有派给您的工单').waitFor();
    await page.goto(`/app/#/job/${order.id}`);
    await page.getByRole('heading', { name: '无法查看此工单' }).waitFor();
    await page.getByText('没有派给您').waitFor();
    await page.getByText('404').waitFor();
    await shot(page, 'phone-not-yours');
  });
});

// ------------------------------------------------------------------ 5. a conflict on replay

test('an action queued offline that meets a changed order is shown as a conflict, never dropped', { timeout: 60_000 }, async () => {
  await onPhone(async (page, app, ctx) => {
    const { s, order } = await repairScene(app.base);
    await signIn(page, 'zz.tech1');
    await openJob(page, '郑州顺风快运有限公司');
    await goOnSite(page);
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 15000 });
    await ctx.setOffline(true);
    await page.getByText('离线模式').waitFor();
    await unfold(page, 'fold-part');
    await page.getByLabel('配件', { exact: true }).selectOption('P-PWR');
    await page.getByRole('button', { name: '添加配件' }).click();
    const indicator = page.locator('#sync');
    await indicator.filter({ hasText: '待同步 1 项' }).waitFor();
    // meanwhile the manager puts the order on hold: its version moves on
    const now = await s.mgr.get(`/work-orders/${order.id}`);
    await s.mgr.ok('POST', `/work-orders/${order.id}/hold`, { reason: '等待客户确认费用' }, { ifMatch: now.version });
    await ctx.setOffline(false);
    await indicator.filter({ hasText: '同步冲突 1 项' }).waitFor({ timeout: 30000 });
    const box = page.locator('.conflict-box', { hasText: '同步冲突：「配件 电源线 × 1」未能提交' });
    await box.waitFor();
    await box.getByText(`工单已在别处被修改（服务器版本 ${now.version + 1}）`).waitFor();
    await page.getByText('有 1 项操作同步冲突').waitFor();
    assert.equal((await s.admin.get(`/work-orders/${order.id}`)).parts.length, 0, 'refused, not applied');
    // the sync page lists it with what failed; the technician sends it again against the
    // order as it is now (parts may be recorded on hold)
    await indicator.click();
    const listed = page.locator('.conflict-box', { hasText: '「配件 电源线 × 1」' });
    await listed.getByText('手机所知版本').waitFor();
    await shot(page, 'phone-sync-conflict');
    await listed.getByRole('button', { name: '按最新数据重试' }).click();
    await indicator.waitFor({ state: 'hidden', timeout: 15000 });
    await page.getByText('全部已同步').waitFor();
    await page.goBack();
    await status(page, '暂停');
    const o = await s.admin.get(`/work-orders/${order.id}`);
    assert.deepEqual(o.parts.map((p) => [p.part_code, p.quantity]), [['P-PWR', 1]]);
    const used = (await s.admin.get(`/work-orders/${order.id}/timeline`)).items.filter((e) => e.action === 'part_used');
    assert.equal(used.length, 1);
  });
});

// ------------------------------------------------------------------ 6. the first visit

test('a first visit draws the job list (with the customers) from the order list, then each job as its view comes', { timeout: 60_000 }, async () => {
  await onPhone(async (page, app) => {
    const { order } = await installScene(app.base);
    const lists = [];
    page.on('request', (r) => { if (/\/api\/v1\/work-orders\?status=/.test(r.url())) lists.push(r.url()); });
    // the jobs' full views are held back until the list has been looked at
    let release;
    const held = new Promise((r) => { release = r; });
    await page.route(/\/api\/v1\/work-orders\/[^/?]+$/, async (route) => { await held; await route.continue(); });
    await signIn(page, 'zz.tech1');
    const card = page.getByRole('link', { name: /物流园3号库/ });
    await card.waitFor();
    let text = await card.innerText();
    // the order list names the customer: the card is whole but for its vehicles
    for (const part of ['郑州畅通物流有限公司', '郑州市管城区航海东路物流园3号库', '安装', '已派工', order.number, '正在下载详情']) {
      assert.ok(text.includes(part), `${part} in ${text}`);
    }
    assert.ok(!text.includes('辆车'), 'the vehicles come with the full view');
    release();
    const whole = page.getByRole('link', { name: /郑州畅通物流有限公司.*3 辆车/s });
    await whole.waitFor();
    text = await whole.innerText();
    assert.ok(!text.includes('正在下载详情'), `the card filled in: ${text}`);
    await page.getByText(/更新于/).waitFor();
    assert.equal(lists.length, 1, `the job list asked for once (boot.js's answer is the one used): ${lists.join(' ')}`);
  });
});

// ------------------------------------------------------------------ 8. photos from the site

/** A `w` × `h` PNG (a gradient), as a file the camera might hand over. */
function pngFile(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * (w * 3 + 1) + 1 + x * 3;
      raw[i] = (x * 255 / w) | 0; raw[i + 1] = (y * 255 / h) | 0; raw[i + 2] = 128;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('photos taken offline wait on the phone through a reload and are uploaded once each', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app, ctx) => {
    const { s, order } = await repairScene(app.base);
    // the center wants the installed unit of every vehicle and the site
    await s.mgr.ok('PUT', `/centers/${s.zz.id}/proof-rules`, { install_photos: [], repair_photos: ['unit', 'site'] });
    await signIn(page, 'zz.tech1');
    await openJob(page, '郑州顺风快运有限公司');
    await goOnSite(page);
    await page.locator('#photos-missing', { hasText: '还缺 2 张必拍照片' }).waitFor();
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 15000 });
    await ctx.setOffline(true);
    await page.getByText('离线模式').waitFor();
    const line = order.lines[0].id;
    await page.locator(`input[data-photo="${line}:unit"]`).setInputFiles({ name: 'unit.png', mimeType: 'image/png', buffer: pngFile(2400, 1800) });
    await page.getByText('1 张照片保存在手机上，待上传').waitFor();
    await page.locator('input[data-photo="order:site"]').setInputFiles({ name: 'site.png', mimeType: 'image/png', buffer: pngFile(800, 600) });
    await page.getByText('2 张照片保存在手机上，待上传').waitFor();
    await page.locator('#photos-missing').waitFor({ state: 'detached' });
    const indicator = page.locator('#sync');
    await indicator.filter({ hasText: '待同步 2 项' }).waitFor();
    assert.equal((await s.admin.get(`/work-orders/${order.id}/photos`)).length, 0, 'nothing reached the server');
    // a reload in the garage: the pictures are still on the phone
    await page.reload();
    await page.getByRole('heading', { level: 1, name: '郑州顺风快运有限公司' }).waitFor();
    await page.getByText('2 张照片保存在手机上，待上传').waitFor();
    await ctx.setOffline(false);
    await indicator.waitFor({ state: 'hidden', timeout: 30000 });
    const photos = await s.admin.get(`/work-orders/${order.id}/photos`);
    assert.deepEqual(photos.map((p) => [p.kind, p.line_id]).sort(), [['site', null], ['unit', line]]);
    const unit = photos.find((p) => p.kind === 'unit');
    assert.ok(Math.max(unit.width, unit.height) <= 1600, `shrunk in the phone: ${unit.width}×${unit.height}`);
    assert.ok(unit.bytes <= 400 * 1024, `${unit.bytes} bytes`);
    assert.ok(unit.taken_at, 'the time it was taken');
    const added = (await s.admin.get(`/work-orders/${order.id}/timeline`)).items.filter((e) => e.action === 'photo_added');
    assert.equal(added.length, 2, 'each uploaded once');
    assert.deepEqual((await s.admin.get(`/work-orders/${order.id}`)).photos_missing, []);
    await unfold(page, 'fold-photos');
    await page.getByText('终端安装位置 ✓').first().waitFor();
    await page.getByRole('heading', { name: '现场照片' }).evaluate((el) => el.scrollIntoView());
    await shot(page, 'phone-photos');
  });
});

test("a swapped SIM card waits for the terminal's first report, which the platform's push passes", { timeout: 90_000 }, async () => {
  const secret = 'browser-push-secret-0123';
  await onPhone(async (page, app) => {
    const { s, order } = await repairScene(app.base);
    await s.mgr.ok('PUT', `/centers/${s.zz.id}/proof-rules`, { install_photos: [], repair_photos: [], report_required: true });
    await signIn(page, 'zz.tech1');
    await openJob(page, '郑州顺风快运有限公司');
    await goOnSite(page);
    await page.getByRole('link', { name: '处理 豫A8R201' }).click();
    await page.getByLabel('新SIM卡 ICCID').fill(iccid(12));
    await page.getByRole('button', { name: '保存更换SIM卡' }).click();
    const vehicle = page.locator('.vehicle', { hasText: '豫A8R201' });
    await vehicle.getByText('已更换SIM卡').waitFor();
    await vehicle.getByText('上线检测：等待终端上线').waitFor();
    await vehicle.getByText('尚未收到有效定位').waitFor();
    // a picture of the unit, online
    await page.locator(`input[data-photo="${order.lines[0].id}:unit"]`).setInputFiles({ name: 'unit.png', mimeType: 'image/png', buffer: pngFile(1600, 1200) });
    let view;
    for (let i = 0; i < 100; i++) {
      view = await s.admin.get(`/work-orders/${order.id}`);
      if (view.photos.length) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.equal(view.lines[0].first_report.status, 'waiting');
    assert.equal(view.photos.length, 1);

    // the desk: the line waits, the photo is there, the manager may release it
    const dctx = await desk(browser, app.base);
    try {
      const d = await dctx.newPage();
      await signIn(d, 'zz.manager');
      await d.goto(`/desk/#/orders/${order.id}`);
      await d.getByRole('cell', { name: /等待上线/ }).waitFor();
      await d.getByText('上线检测放行').waitFor();
      await d.locator('#order-photos img[src^="blob:"]').first().waitFor();
      await d.locator('#o-lines').evaluate((el) => el.scrollIntoView());
      await shot(d, 'desk-order-first-report');

      // the platform forwards the terminal's first position with the new card
      const now = new Date().toISOString();
      const r = await fetch(`${app.base}/api/v1/tracking/traccar/positions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
        body: JSON.stringify({
          position: { deviceId: 7, protocol: 'huabao', serverTime: now, deviceTime: now, fixTime: now, outdated: false, valid: true,
            latitude: 34.7466, longitude: 113.6253, attributes: { iccid: iccid(12), ignition: true } },
          device: { id: 7, uniqueId: '00000001440000000012', name: '豫A8R201', status: 'online' },
        }),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { matched: 1 });
      // the phone hears of it through the live stream
      await vehicle.getByText(/上线检测：已通过/).waitFor({ timeout: 15000 });
      await vehicle.evaluate((el) => el.scrollIntoView());
      await shot(page, 'phone-first-report');
      await d.getByRole('cell', { name: /已上线/ }).waitFor({ timeout: 15000 });
      assert.equal(await d.getByText('上线检测放行').count(), 0, 'nothing left to release');
    } finally {
      await dctx.close();
    }
  }, { env: { DISPATCH_TRACKING_PUSH_SECRET: secret } });
});
