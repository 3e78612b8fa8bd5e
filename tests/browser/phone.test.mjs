// The phone app as a technician meets it (issue 14, items 11, 15, 16, 17, 18), on a
// 390×844 phone, each test on its own app and database; the scene is set through the REST
// API, the outcome checked through it.
//
//   1. 确认收款 while the GPS is slow: the button shows progress and takes no second tap
//   2. the next step sits in a bottom bar in view; errors in view; toasts clear of the bar;
//      secondary forms folded; tap targets ≥ 44 px
//   3. after an offline reload (requests failing, navigator.onLine true) the app says
//      offline, not 网络正常
//   4. an action queued offline carries the time it was tapped (`at`), sent 10 minutes later
//   5. 交款: the cash in hand handed to finance; a repair line shows the vehicle's terminal
//      and SIM card
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { startApp, launchBrowser, phone, signIn, Client } from './harness.mjs';

function luhnDigit(payload) {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
const imei = (n) => { const p = `35693804${String(n).padStart(6, '0')}`; return p + luhnDigit(p); };
const iccid = (n) => { const p = `8986039${String(n).padStart(11, '1')}`; return p + luhnDigit(p); };
const isoIn = (hours) => new Date(Date.now() + hours * 3600e3).toISOString();
const READINESS = ['info_verified', 'tools', 'spare_parts', 'documents'];
const CUSTOMER = '郑州顺风快运有限公司';

/** A repair order (out of warranty) of one vehicle with a terminal and SIM card, assigned to zz.tech1. */
async function repairScene(base) {
  const [admin, agent, mgr, tech] = await Promise.all(['admin', 'zz.agent1', 'zz.manager', 'zz.tech1'].map((u) => Client.as(base, u)));
  const techId = (await tech.get('/auth/me')).id;
  const centers = await admin.get('/centers');
  const zz = (centers.items || centers).find((c) => c.code === 'ZZ');
  const c = await agent.ok('POST', '/customers', {
    center_id: zz.id, name: CUSTOMER, tier: 'normal', address: '郑州市金水区花园路1号', lat: 34.77, lng: 113.66,
    payment_terms: 'cash', contacts: [{ name: '王师傅', phone: '13812345678', title: '车队长' }],
  });
  const v = await admin.ok('POST', '/vehicles', { customer_id: c.id, plate_no: '豫A8R301', drivers: [{ name: '李堃', phone: '13912345678' }] });
  const t = await admin.ok('POST', '/terminals', { imei: imei(21), model_code: 'GT06N', purchase_date: '2022-01-10', center_id: zz.id });
  const sim = await admin.ok('POST', '/sims', { iccid: iccid(21), msisdn: '1440000000021', center_id: zz.id });
  await admin.ok('POST', `/terminals/${t.id}/bind`, { vehicle_id: v.id, reason: '新车安装' });
  await admin.ok('POST', `/sims/${sim.id}/bind`, { terminal_id: t.id, reason: '装卡' });
  await admin.ok('POST', '/parts', { code: 'P-PWR', name: '电源线', unit_price_fen: 1250 });
  let o = await agent.ok('POST', '/work-orders/repair', {
    customer_id: c.id, site_address: '郑州市金水区花园路1号停车场', site_lat: 34.77, site_lng: 113.66,
    contact_name: '王师傅', contact_phone: '13812345678', channel: 'phone', urgency: 'normal',
    fault_symptoms: '终端不上线', requested_at: isoIn(-3), submit: true, vehicle_id: v.id,
  });
  o = await mgr.ok('POST', `/work-orders/${o.id}/approve`, { comment: '同意' }, { ifMatch: o.version });
  o = await mgr.ok('POST', `/work-orders/${o.id}/assign`, { lead_id: techId, scheduled_at: isoIn(1) }, { ifMatch: o.version });
  const s = { admin, agent, mgr, tech, techId, zz };
  const step = async (action, body = {}) => { o = await tech.ok('POST', `/work-orders/${o.id}/${action}`, body, { ifMatch: o.version }); return o; };
  return { s, terminal: t, sim, vehicle: v, order: () => o, step };
}

/** …taken by the technician through the API to `to`: ready, on_site or completed (¥25.00 due). */
async function advance(sc, to) {
  await sc.step('accept');
  await sc.step('readiness', { items: READINESS });
  if (to === 'ready') return sc.order();
  await sc.step('depart');
  await sc.step('arrive');
  if (to === 'on_site') return sc.order();
  await sc.step(`lines/${sc.order().lines[0].id}/repair`, { notes: '天线接头松动，已紧固' });
  await sc.step('parts', { part_code: 'P-PWR', quantity: 2 });
  await sc.step('sign-off', { signer_name: '王师傅' });
  return sc.step('complete');
}

let browser;
test.before(async () => { browser = await launchBrowser(); });
test.after(async () => { await browser?.close(); });

async function onPhone(f) {
  const app = await startApp();
  const ctx = await phone(browser, app.base);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await f(page, app, ctx);
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } catch (e) {
    const file = path.join(tmpdir(), `phone-failure-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    const shown = await page.locator('body').innerText().catch(() => '');
    e.message += `\n--- the page (${page.url()}; screenshot ${file}):\n${shown.slice(0, 2000)}\n--- page errors: ${errors.join(' | ')}`;
    throw e;
  } finally {
    await ctx.close();
    await app.stop();
  }
}

const status = (page, text) => page.locator('#status', { hasText: text }).waitFor({ timeout: 15000 });

async function openJob(page) {
  const card = page.getByRole('link', { name: new RegExp(`${CUSTOMER}.*辆车`, 's') });
  await card.waitFor();
  await card.click();
  await page.getByRole('heading', { level: 1, name: CUSTOMER }).waitFor();
}

/** the box of a locator, asserted on screen */
async function box(locator, what) {
  // a live event may redraw the screen just now: give the new one a moment
  let b = null;
  for (let i = 0; i < 20 && !b; i++) {
    b = await locator.boundingBox().catch(() => null);
    if (!b) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(b, `${what} is shown`);
  return b;
}

// ------------------------------------------------------------------ 1. a slow GPS

test('确认收款 while the GPS is slow shows progress, takes no second tap, and the receipt follows', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app) => {
    const sc = await repairScene(app.base);
    const o = await advance(sc, 'completed');
    assert.equal(o.charge.amount_fen, 2500);
    // the GPS answers only when the test says so
    await page.addInitScript(() => {
      const waiting = [];
      window.__gps = () => waiting.splice(0).forEach((f) => f());
      window.__gpsAsked = () => waiting.length;
      navigator.geolocation.getCurrentPosition = (ok) => {
        waiting.push(() => ok({ coords: { latitude: 34.7466, longitude: 113.6254, accuracy: 8 }, timestamp: Date.now() }));
      };
    });
    await signIn(page, 'zz.tech1');
    await openJob(page);
    await page.getByRole('link', { name: '收费 ¥25.00' }).click();
    await page.getByRole('heading', { name: '现场收费' }).waitFor();
    const pay = page.getByRole('button', { name: '确认收款' });
    await pay.click();
    await page.waitForFunction(() => window.__gpsAsked() > 0);
    // waiting for the position: the button says so and is disabled
    assert.equal(await pay.isDisabled(), true, 'disabled while waiting');
    assert.equal(await pay.getAttribute('aria-busy'), 'true');
    assert.match(await pay.innerText(), /正在/);
    // a second tap (as an impatient thumb does) goes nowhere
    await pay.click({ force: true });
    await pay.evaluate((b) => b.click());
    await page.evaluate(() => window.__gps());
    await page.getByRole('heading', { name: '收据' }).waitFor();
    await page.locator('#receipt-no').waitFor();
    const payments = (await sc.s.admin.get(`/payments?order_id=${o.id}`)).items;
    assert.equal(payments.length, 1, 'one payment');
    assert.equal(payments[0].amount_fen, 2500);
    assert.equal(payments[0].lat, 34.7466, 'with the position that came late');
    assert.equal(await page.getByText('未成功').count(), 0, 'no failure shown after a success');
    await page.getByRole('link', { name: '返回工单' }).click();
    await page.locator('#fee-state', { hasText: '已收清' }).waitFor();
  });
});

// ------------------------------------------------------------------ 2. the bottom bar

test('the next step rides in a bottom bar in view; errors in view; toasts clear of it; forms fold; targets ≥ 44 px', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app) => {
    const sc = await repairScene(app.base);
    await signIn(page, 'zz.tech1');
    await openJob(page);
    const bar = page.locator('#nextbar');
    const vh = page.viewportSize().height;
    const accept = bar.getByRole('button', { name: '接单' });
    const b0 = await box(accept, '接单 in the bar');
    assert.ok(b0.y + b0.height <= vh, `接单 on the screen (${b0.y}+${b0.height} ≤ ${vh})`);
    await accept.click();
    await status(page, '已接单');
    // the toast sits above the bar, not on its button
    const toast = page.locator('#toasts .toast').first();
    await toast.waitFor();
    const tb = await box(toast, 'the toast');
    const barBox = await box(bar, 'the bar');
    assert.ok(tb.y + tb.height <= barBox.y + 1, `toast (${tb.y}+${tb.height}) above the bar (${barBox.y})`);
    // the readiness check refused: the reason is on the screen, by the button
    await page.evaluate(() => window.scrollTo(0, 0));
    await bar.getByRole('button', { name: '确认就绪' }).click();
    const err = page.locator('#step-error');
    await err.filter({ hasText: '四项都核对后才能出发' }).waitFor();
    const eb = await box(err, 'the readiness error');
    assert.ok(eb.y >= 0 && eb.y + eb.height <= vh, `the error in view (${eb.y})`);
    for (const label of ['已核对客户和车辆信息', '工具齐全', '备件齐全', '单据齐全']) await page.getByLabel(label).check();
    await bar.getByRole('button', { name: '确认就绪' }).click();
    await status(page, '已就绪');
    await bar.getByRole('button', { name: '出发' }).click();
    await status(page, '在途');
    await bar.getByRole('button', { name: '到场' }).click();
    await status(page, '到场');
    // on site: the secondary forms are folded, the page short of the 2,200 px it was
    await page.locator('#fold-part').waitFor();
    assert.equal(await page.locator('#form-part').isVisible(), false, 'the parts form is folded');
    assert.equal(await page.locator('#form-va').isVisible(), false, 'the verbal approval form is folded');
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 2 * vh, `the on-site screen is ${height} px`);
    // every tap target is at least 44 px high (and the phone link as wide)
    const small = await page.evaluate(() => [...document.querySelectorAll('header a, #view a, #view button, #view summary, #view select, #view input:not([type=checkbox]):not([type=radio])')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ what: el.outerHTML.slice(0, 80), h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
      .filter((t) => t.h < 44 || t.w < 44));
    assert.deepEqual(small, [], 'tap targets under 44 px');
    const tel = await box(page.locator('a.tel'), 'the phone link');
    assert.ok(tel.height >= 44, `the phone link is ${tel.height} px high`);
    // the line, then the sign-off: the next step (完工) is on the screen without scrolling
    await page.getByRole('link', { name: '处理 豫A8R301' }).click();
    await page.getByLabel('处理说明').fill('天线接头松动，已紧固');
    await page.getByRole('button', { name: '保存修复' }).click();
    await page.locator('.vehicle', { hasText: '豫A8R301' }).getByText('已现场修复').waitFor();
    await bar.getByRole('link', { name: '客户签字' }).click();
    await page.getByLabel('签字人姓名').fill('王师傅');
    const pad = await box(page.getByRole('img', { name: /签名板/ }), 'the pad');
    await page.mouse.move(pad.x + 30, pad.y + 120);
    await page.mouse.down();
    for (const [x, y] of [[80, 60], [130, 140], [180, 70], [240, 130]]) await page.mouse.move(pad.x + x, pad.y + y, { steps: 5 });
    await page.mouse.up();
    await page.getByRole('button', { name: '确认签字' }).click();
    await page.getByText('客户已签字：王师傅').waitFor();
    const done = bar.getByRole('button', { name: '完工' });
    await page.waitForFunction(() => !document.querySelector('#nextbar button.primary')?.disabled);
    const db = await box(done, '完工');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'not scrolled');
    assert.ok(db.y + db.height <= vh && db.y > vh / 2, `完工 at the bottom of the screen (${db.y})`);
    await done.click();
    await status(page, '已完工');
    assert.equal((await sc.s.admin.get(`/work-orders/${sc.order().id}`)).status, 'completed');
  });
});

// ------------------------------------------------------------------ 3. offline after a reload

test('after a reload with requests failing the app says offline and waiting, not 网络正常', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app) => {
    const sc = await repairScene(app.base);
    await advance(sc, 'on_site');
    await signIn(page, 'zz.tech1');
    await openJob(page);
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 15000 });
    // a dead network that the browser does not know about: every API request fails
    await page.route('**/api/v1/**', (route) => route.abort('internetdisconnected'));
    assert.equal(await page.evaluate(() => navigator.onLine), true);
    await page.locator('#fold-part summary').click();
    await page.getByLabel('配件', { exact: true }).selectOption('P-PWR');
    await page.getByRole('button', { name: '添加配件' }).click();
    await page.locator('#sync', { hasText: '待同步 1 项' }).waitFor();
    await page.getByText('离线模式').waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: CUSTOMER }).waitFor();
    await page.locator('#sync', { hasText: '待同步 1 项' }).waitFor();
    await page.getByText('离线模式').waitFor();
    assert.equal(await page.locator('#net').innerText(), '离线');
    await page.locator('#sync').click();
    await page.getByRole('heading', { name: '同步', exact: true }).waitFor();
    await page.getByText('当前离线').waitFor();
    assert.equal(await page.getByText('网络正常').count(), 0, 'not 网络正常 while requests fail');
    // the network back: the queue goes out and the app says so
    await page.unroute('**/api/v1/**');
    await page.getByRole('button', { name: '立即同步' }).click();
    await page.getByText('全部已同步').waitFor({ timeout: 30000 });
    await page.getByText('网络正常').waitFor();
    assert.equal(await page.getByText('离线模式').count(), 0);
    const o = await sc.s.admin.get(`/work-orders/${sc.order().id}`);
    assert.deepEqual(o.parts.map((p) => [p.part_code, p.quantity]), [['P-PWR', 1]]);
  });
});

// ------------------------------------------------------------------ 4. the time of the tap

test('an action queued offline carries the time it was tapped, sent ten minutes later', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app, ctx) => {
    const sc = await repairScene(app.base);
    await advance(sc, 'ready');
    await page.clock.install();
    await signIn(page, 'zz.tech1');
    await openJob(page);
    await page.waitForFunction(() => navigator.serviceWorker?.controller, null, { timeout: 15000 });
    let sent = null;
    await page.route('**/api/v1/work-orders/*/depart', async (route) => {
      const body = route.request().postDataJSON();
      sent = { body, now: await page.evaluate(() => Date.now()).catch(() => null) };
      await route.continue();
    });
    await ctx.setOffline(true);
    await page.getByText('离线模式').waitFor();
    const t0 = await page.evaluate(() => Date.now());
    await page.locator('#nextbar').getByRole('button', { name: '出发' }).click();
    await page.locator('#sync', { hasText: '待同步 1 项' }).waitFor();
    const t1 = await page.evaluate(() => Date.now());
    await page.clock.fastForward('10:00');
    await ctx.setOffline(false);
    await page.locator('#sync').waitFor({ state: 'hidden', timeout: 30000 });
    assert.ok(sent, 'the departure was sent');
    const at = Date.parse(sent.body.at);
    assert.ok(at >= t0 - 1000 && at <= t1 + 1000, `at ${sent.body.at} is the tap (${new Date(t0).toISOString()}…${new Date(t1).toISOString()})`);
    assert.ok(sent.now === null || sent.now - at >= 600_000, 'sent ten minutes after the tap');
    assert.equal((await sc.s.admin.get(`/work-orders/${sc.order().id}`)).status, 'en_route');
    // the server keeps the time of the tap, and when it arrived
    const timeline = await sc.s.admin.get(`/work-orders/${sc.order().id}/timeline`);
    const ev = timeline.items.find((e) => e.action === 'depart');
    assert.ok(Math.abs(Date.parse(ev.at) - at) < 1000, `timeline at ${ev.at}`);
    assert.ok(Date.parse(ev.received_at) > at, `received ${ev.received_at}`);
  });
});

// ------------------------------------------------------------------ 5. 交款, and what is in the vehicle

test('a technician hands the cash collected to finance (交款) and sees the terminal and SIM in the vehicle', { timeout: 90_000 }, async () => {
  await onPhone(async (page, app) => {
    const sc = await repairScene(app.base);
    await advance(sc, 'on_site');
    await signIn(page, 'zz.tech1');
    await openJob(page);
    // the repair line names what is in the vehicle now
    await page.locator('.vehicle', { hasText: '豫A8R301' }).getByText(`终端 ${imei(21)}（GT06N）`).waitFor();
    await page.locator('.vehicle', { hasText: '豫A8R301' }).getByText(`SIM卡 ${iccid(21)}`).waitFor();
    // finish and collect through the API: the cash is in the technician's hands
    await sc.step(`lines/${sc.order().lines[0].id}/repair`, { notes: '天线接头松动，已紧固' });
    await sc.step('parts', { part_code: 'P-PWR', quantity: 2 });
    await sc.step('sign-off', { signer_name: '王师傅' });
    const o = await sc.step('complete');
    const p = await sc.s.tech.ok('POST', `/work-orders/${o.id}/payments`, { amount_fen: 2500, method: 'cash', payer_name: '王师傅' }, { idem: 'pay-1' });
    await page.goto('/app/#/');
    await page.getByRole('link', { name: '交款' }).click();
    await page.getByRole('heading', { level: 1, name: '交款', exact: true }).waitFor();
    await page.locator('#in-hand', { hasText: '¥25.00' }).waitFor();
    await page.getByText(`收据 ${p.receipt_no}`).waitFor();
    await page.locator('#remit-total', { hasText: '¥25.00' }).waitFor();
    await page.locator('#nextbar').getByRole('button', { name: '交款' }).click();
    await page.getByText('没有待交的款项').waitFor();
    await page.locator('.remittance', { hasText: '待财务确认' }).waitFor();
    const list = (await sc.s.mgr.get('/remittances?status=submitted')).items;
    assert.equal(list.length, 1);
    assert.equal(list[0].expected_fen, 2500);
    assert.equal(list[0].technician_id, sc.s.techId);
    const cash = await sc.s.tech.get(`/technicians/${sc.s.techId}/cash`);
    assert.equal(cash.unremitted.length, 0);
  });
});
