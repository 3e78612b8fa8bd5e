// The full demo (`serve --demo`, issue 14 item 19): a newcomer signs in and finds a living
// day — orders in every state, a price list, tickets, a remittance waiting for finance —
// on the desk and on the phone.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, desk, phone, signIn, Client } from './harness.mjs';

let browser;
test.before(async () => { browser = await launchBrowser(); });
test.after(async () => { await browser?.close(); });

test('the full demo loads a living day that the desk and the phone show', { timeout: 120_000 }, async () => {
  const app = await startApp({ demo: 'full' });
  const errors = [];
  try {
    const admin = await Client.as(app.base, 'admin');
    const orders = (await admin.get('/work-orders?limit=200')).items;
    const states = new Set(orders.map((o) => o.status));
    for (const s of ['submitted', 'assigned', 'on_site', 'completed', 'closed']) assert.ok(states.has(s), `an order ${s}: ${[...states]}`);
    const parts = (await admin.get('/parts')).items;
    assert.ok(parts.length >= 5 && parts.every((p) => p.unit_price_fen > 0), 'a price list');
    assert.ok((await admin.get('/tickets')).items.length >= 2, 'tickets');
    const waiting = (await admin.get('/remittances?status=submitted')).items;
    assert.equal(waiting.length, 1, 'a remittance waiting for finance');
    const closed = orders.find((o) => o.status === 'closed');
    const paid = (await admin.get(`/payments?order_id=${closed.id}`)).items;
    assert.ok(paid.length === 1 && paid[0].method !== 'cash', 'the closed order was paid without cash to hand over');

    // the desk: the manager's approvals, finance's waiting remittance
    const d = await desk(browser, app.base);
    const page = await d.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, 'zz.manager');
    await page.waitForURL(/#\/approvals$/);
    await page.getByText('待审批 2').waitFor();
    await d.close();
    const f = await desk(browser, app.base);
    const fin = await f.newPage();
    fin.on('pageerror', (e) => errors.push(String(e)));
    await signIn(fin, 'zz.finance');
    await fin.waitForURL(/\/desk\/#\/finance$/);
    await fin.getByText('待确认交款 1 笔').waitFor();
    await f.close();

    // the phone: zz.tech1's day — the install scheduled today, the repair on site, the one done
    const p = await phone(browser, app.base);
    const tech = await p.newPage();
    tech.on('pageerror', (e) => errors.push(String(e)));
    await signIn(tech, 'zz.tech1');
    for (const s of ['已派工', '到场', '已完工']) await tech.locator('a.job', { hasText: s }).first().waitFor();
    await tech.getByRole('heading', { name: /^今天（\d+）$/ }).waitFor();
    await tech.getByRole('link', { name: '交款' }).click();
    await tech.locator('.remittance', { hasText: '待财务确认' }).waitFor();
    await p.close();
    assert.deepEqual(errors, []);
  } finally {
    await app.stop();
  }
});
