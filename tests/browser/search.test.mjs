// Find anything, in real Chromium, keyboard only: `/` focuses the top bar's box; each key
// (order number, plate with and without its province character, contact's and driver's
// phone, pinyin initials, IMEI, ICCID, MSISDN, receipt number) finds its object in the
// dropdown, grouped by kind; ↓ and Enter open its page; Enter with nothing picked opens
// #/search?q=; Escape closes the list. The scene is set through the REST API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, desk, signIn, shot, Client } from './harness.mjs';

const SIGNATURE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const READINESS = ['info_verified', 'tools', 'spare_parts', 'documents'];
const HOUR = 3600_000;
const at = (ms) => new Date(Date.now() + ms).toISOString();
const digits = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');

function luhn(payload) {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A customer with a vehicle, its driver, a fitted terminal and SIM, and a collected order. */
async function scene(base) {
  const [admin, mgr, agent, tech1] = await Promise.all(['admin', 'zz.manager', 'zz.agent1', 'zz.tech1'].map((u) => Client.as(base, u)));
  const me = await agent.get('/auth/me');
  const center = me.center_id;
  const tail = `5${digits(4)}`;
  const plate = `豫Q${tail}`;
  const contactPhone = `138${digits(3)}${tail}`;
  const driverPhone = `139000${tail}`;
  const imeiBody = `86145299${digits(6)}`;
  const imei = imeiBody + luhn(imeiBody);
  const iccidBody = `8986002${digits(12)}`;
  const iccid = iccidBody + luhn(iccidBody);
  const msisdn = `1440${digits(4)}${tail}`;
  const customer = await admin.ok('POST', '/customers', {
    center_id: center, name: '郑州鹏程顺达速运', tier: 'major', address: '郑州市管城区航海东路物流园3号库',
    lat: 34.72, lng: 113.70, payment_terms: 'cash',
    contacts: [{ name: '王先生', phone: contactPhone, title: '车队长' }],
  });
  const vehicle = await admin.ok('POST', '/vehicles', { customer_id: customer.id, plate_no: plate, drivers: [{ name: '李师傅', phone: driverPhone }] });
  const terminal = await admin.ok('POST', '/terminals', { imei, model_code: 'GT06N', purchase_date: '2025-06-01', center_id: center });
  const sim = await admin.ok('POST', '/sims', { iccid, msisdn, center_id: center });
  await admin.ok('POST', `/terminals/${terminal.id}/bind`, { vehicle_id: vehicle.id, reason: '新车安装' });
  await admin.ok('POST', `/sims/${sim.id}/bind`, { terminal_id: terminal.id, reason: '装卡' });

  // an order, done and paid in cash: its number and receipt number
  const techs = (await mgr.get('/technicians?limit=50')).items;
  const lead = techs.find((t) => t.username === 'zz.tech1').user_id;
  const code = `P-${digits(5)}`;
  await admin.ok('POST', '/parts', { code, name: '安装支架', unit_price_fen: 8000 });
  let o = await agent.ok('POST', '/work-orders/install', {
    customer_id: customer.id, site_address: '郑州市管城区航海东路物流园3号库', site_lat: 34.72, site_lng: 113.70,
    contact_name: '王先生', contact_phone: contactPhone,
    window_start: at(HOUR), window_end: at(4 * HOUR), requested_at: at(-2 * HOUR),
    urgency: 'normal', channel: 'phone', submit: true,
    vehicles: [{ plate_no: `豫QT${digits(4)}`, driver: { name: '李师傅', phone: driverPhone } }],
  });
  const step = async (client, action, body = {}) => {
    const r = await client.ok('POST', `/work-orders/${o.id}/${action}`, body, { ifMatch: o.version });
    o = r && r.id === o.id && r.version ? r : await client.get(`/work-orders/${o.id}`);
  };
  await step(mgr, 'approve', { comment: '同意' });
  await step(mgr, 'assign', { lead_id: lead, scheduled_at: at(HOUR) });
  await step(tech1, 'accept');
  await step(tech1, 'readiness', { items: READINESS });
  await step(tech1, 'depart', { lat: 34.75, lng: 113.63 });
  await step(tech1, 'arrive', { lat: 34.7201, lng: 113.7003 });
  await step(tech1, `lines/${o.lines[0].id}/not-done`, { reason: '车辆未到场' });
  await step(tech1, 'parts', { part_code: code, quantity: 1 });
  await step(tech1, 'sign-off', { signer_name: '王先生', signature_image: SIGNATURE });
  await step(tech1, 'complete');
  const payment = await tech1.ok('POST', `/work-orders/${o.id}/payments`, { amount_fen: 8000, method: 'cash', payer_name: '王先生', lat: 34.72, lng: 113.70 }, { idem: crypto.randomUUID() });
  return { customer, vehicle, terminal, sim, order: o, payment, plate, tail, contactPhone, driverPhone, imei, iccid, msisdn };
}

/**
 * Keyboard only: `/` from the page, type `text`, wait for the dropdown to show `id` (of
 * `kind`), walk to it with ↓, Enter; the desk opens `hash`. Answers the option's text.
 */
async function findAndOpen(page, text, kind, id, hash) {
  await page.locator('#view').focus(); // away from the box: `/` must bring it back
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'find-q', '`/` focuses the search box');
  await page.keyboard.type(text);
  // the answer to the whole text (an earlier one, to a part of it, may come first)
  await page.waitForFunction((t) => document.getElementById('find-list')?.dataset.q === t, text.trim());
  const option = page.locator(`#find-list [role=option][data-kind="${kind}"][data-id="${id}"]`);
  await option.waitFor();
  const label = await page.locator('#find-list').evaluate((list, kindAndId) => {
    const opts = [...list.querySelectorAll('[role=option]')];
    const i = opts.findIndex((o) => o.dataset.kind === kindAndId[0] && o.dataset.id === kindAndId[1]);
    return { index: i, group: opts[i].closest('[role=group]').getAttribute('aria-label') };
  }, [kind, id]);
  for (let i = 0; i <= label.index; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await option.getAttribute('aria-selected'), 'true', `${text}: the arrows pick the ${kind}`);
  const optionText = await option.innerText();
  await page.keyboard.press('Enter');
  await page.waitForFunction((h) => location.hash === h, hash);
  assert.equal(await page.locator('#find-list').isHidden(), true, 'the list closes once an item opens');
  return { text: optionText, group: label.group };
}

async function run() {
  const app = await startApp();
  const browser = await launchBrowser();
  const errors = [];
  try {
    const s = await scene(app.base);
    const page = await (await desk(browser, app.base)).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, 'zz.agent1');
    await page.waitForFunction(() => !document.querySelector('#view')?.hasAttribute('aria-busy'));

    const archive = `#/customers/${s.customer.id}`;
    const orderPage = `#/orders/${s.order.id}`;
    const cases = [
      ['order number', s.order.number, 'order', s.order.id, orderPage, '工单'],
      ['order number, start', s.order.number.slice(0, 10).toLowerCase(), 'order', s.order.id, orderPage, '工单'],
      ['plate', s.plate, 'vehicle', s.vehicle.id, archive, '车辆'],
      ['plate with province, partial', s.plate.slice(0, 5), 'vehicle', s.vehicle.id, archive, '车辆'],
      ['plate without province', s.plate.slice(1), 'vehicle', s.vehicle.id, archive, '车辆'],
      ['plate, last digits', s.tail, 'vehicle', s.vehicle.id, archive, '车辆'],
      ['contact phone', s.contactPhone, 'customer', s.customer.id, archive, '客户'],
      ['driver phone', s.driverPhone, 'vehicle', s.vehicle.id, archive, '车辆'],
      ['pinyin initials', 'zzpcsd', 'customer', s.customer.id, archive, '客户'],
      ['IMEI', s.imei, 'terminal', s.terminal.id, archive, '终端'],
      ['IMEI, last 6', s.imei.slice(-6), 'terminal', s.terminal.id, archive, '终端'],
      ['ICCID', s.iccid, 'sim', s.sim.id, archive, 'SIM 卡'],
      ['MSISDN', s.msisdn, 'sim', s.sim.id, archive, 'SIM 卡'],
      ['MSISDN, last 4', s.msisdn.slice(-4), 'sim', s.sim.id, archive, 'SIM 卡'],
      ['receipt number', s.payment.receipt_no, 'payment', s.payment.id, orderPage, '收款'],
    ];
    for (const [what, text, kind, id, hash, group] of cases) {
      const found = await findAndOpen(page, text, kind, id, hash);
      assert.equal(found.group, group, `${what}: grouped under ${group}`);
    }

    // one text, several kinds: the groups in their fixed order; the screenshot
    await page.locator('#view').focus();
    await page.keyboard.press('/');
    await page.keyboard.type(s.tail);
    await page.waitForFunction((t) => document.getElementById('find-list')?.dataset.q === t, s.tail);
    await page.locator(`#find-list [data-kind="customer"][data-id="${s.customer.id}"]`).waitFor();
    await page.locator(`#find-list [data-kind="vehicle"][data-id="${s.vehicle.id}"]`).waitFor();
    await page.locator(`#find-list [data-kind="sim"][data-id="${s.sim.id}"]`).waitFor();
    const groups = await page.locator('#find-list [role=group]').evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label')));
    const order = ['工单', '客户', '车辆', '终端', 'SIM 卡', '收款'];
    assert.deepEqual(groups, [...groups].sort((a, b) => order.indexOf(a) - order.indexOf(b)), 'groups in the fixed order');
    await page.keyboard.press('ArrowDown');
    await shot(page, 'desk-search');

    // Escape closes the list; Enter with nothing picked opens the full results page
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#find-list').isHidden(), true);
    await page.keyboard.press('Enter');
    await page.waitForFunction((h) => location.hash === h, `#/search?q=${s.tail}`);
    await page.getByRole('heading', { name: `查找“${s.tail}”` }).waitFor();
    const section = page.getByRole('region', { name: '车辆' });
    await section.getByRole('link', { name: s.plate }).waitFor();
    // `/` is a character like any other while typing in a field
    await page.keyboard.press('/');
    await page.keyboard.type('豫Q');
    await page.keyboard.press('/');
    assert.equal(await page.locator('#find-q').inputValue(), '豫Q/');
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, [], 'no script errors');
  } catch (e) {
    console.error(app.log().split('\n').slice(-30).join('\n'));
    throw e;
  } finally {
    await browser.close();
    await app.stop();
  }
}

test('the search box finds each key and opens its page, keyboard only', run);
