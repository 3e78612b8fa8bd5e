// Live updates in real Chromium (GET /api/v1/events): a dispatcher's approval queue shows
// an order an agent just filed within 2 s, with a toast and a tone that can be muted (and
// stays muted); a technician's phone shows a new assignment without pulling; on
// PostgreSQL the same across two app instances on one database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desk, phone, signIn, shot, Client, withApps, watch } from './harness.mjs';

const HOUR = 3600_000;
const at = (ms) => new Date(Date.now() + ms).toISOString();
const rand = () => Math.floor(Math.random() * 9000 + 1000);
const PG = !!process.env.DISPATCH_TEST_DATABASE_URL;

async function page(ctx) {
  const p = await ctx.newPage();
  watch(p);
  return p;
}

/** A submitted install order for one new vehicle, filed by the agent. */
async function fileOrder(agent) {
  const customer = (await agent.get('/customers?limit=1')).items[0];
  return agent.ok('POST', '/work-orders/install', {
    customer_id: customer.id,
    site_address: '郑州市管城区航海东路物流园3号库',
    site_lat: 34.72, site_lng: 113.70,
    contact_name: '王喆', contact_phone: '13812345678',
    window_start: at(HOUR), window_end: at(4 * HOUR),
    requested_at: at(-HOUR),
    urgency: 'normal', channel: 'phone', notes: '实时推送测试', submit: true,
    vehicles: [{ plate_no: `豫AL${rand()}`, driver: { name: '李堃', phone: '13912345678' } }],
  });
}

/** The manager's desk on the approval queue, its event stream open, events recorded. */
async function approvalsDesk(browser, base) {
  const p = await page(await desk(browser, base));
  await signIn(p, 'zz.manager');
  await p.goto('/desk/#/approvals');
  await p.getByRole('heading', { name: '审批队列' }).waitFor();
  await p.waitForFunction(() => document.documentElement.dataset.live === 'open', null, { timeout: 10_000 });
  await p.evaluate(() => {
    window.seen = [];
    document.addEventListener('dispatch-event', (ev) => window.seen.push(ev.detail));
  });
  return p;
}

/** Files an order through `agent` and waits for its row in the queue: ms from filing. */
async function arrives(p, agent) {
  const t0 = Date.now();
  const order = await fileOrder(agent);
  await p.locator(`tr[data-order="${order.id}"]`).waitFor({ timeout: 2000 });
  return { order, ms: Date.now() - t0 };
}

test('a new order shows in the approval queue within 2 s, with a toast and a tone that can be muted', async () => {
  await withApps(1, async ([app], browser) => {
    const agent = await Client.as(app.base, 'zz.agent1');
    const p = await approvalsDesk(browser, app.base);

    const { order, ms } = await arrives(p, agent);
    console.log(`order filed → shown in the queue after ${ms} ms`);
    assert.ok(ms < 2000, `${ms} ms`);
    await p.getByRole('status').getByText(`新工单待审批：${order.number}`).waitFor({ timeout: 2000 });
    await p.getByRole('heading', { name: '待审批（1）' }).waitFor();
    await p.locator('.strip a', { hasText: '待审批' }).filter({ hasText: '1' }).first().waitFor({ timeout: 2000 });
    const seen = await p.evaluate(() => window.seen);
    assert.ok(seen.some((d) => d.kind === 'order' && d.id === order.id && d.status === 'submitted'
      && d.action === 'create' && d.event_id), JSON.stringify(seen));
    const beeped = await p.evaluate(() => document.documentElement.dataset.lastBeep);
    assert.ok(beeped, 'the tone was played');
    await shot(p, 'desk-live-new-order');

    // muted: the next order still shows, silently; the choice outlives a reload
    const toggle = p.locator('#sound-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await p.reload();
    await p.waitForFunction(() => document.documentElement.dataset.live === 'open', null, { timeout: 10_000 });
    assert.equal(await p.locator('#sound-toggle').getAttribute('aria-pressed'), 'false');
    const second = await arrives(p, agent);
    assert.ok(second.ms < 2000, `${second.ms} ms`);
    await p.getByRole('status').getByText(`新工单待审批：${second.order.number}`).waitFor({ timeout: 2000 });
    assert.equal(await p.evaluate(() => document.documentElement.dataset.lastBeep), undefined, 'no tone when muted');
  });
});

test('a technician\'s phone shows a new assignment without pulling', async () => {
  await withApps(1, async ([app], browser) => {
    const [agent, mgr] = await Promise.all(['zz.agent1', 'zz.manager'].map((u) => Client.as(app.base, u)));
    const techs = (await mgr.get('/technicians?limit=50')).items;
    const tech1 = techs.find((t) => t.username === 'zz.tech1').user_id;
    const p = await page(await phone(browser, app.base));
    await signIn(p, 'zz.tech1');
    await p.getByRole('heading', { name: '我的工单' }).waitFor();
    await p.waitForFunction(() => document.documentElement.dataset.live === 'open', null, { timeout: 15_000 });

    let o = await fileOrder(agent);
    o = await mgr.ok('POST', `/work-orders/${o.id}/approve`, {}, { ifMatch: o.version });
    const t0 = Date.now();
    await mgr.ok('POST', `/work-orders/${o.id}/assign`, { lead_id: tech1, scheduled_at: at(2 * HOUR) }, { ifMatch: o.version });
    await p.locator('a.card.job', { hasText: o.number }).waitFor({ timeout: 5000 });
    console.log(`assigned → on the phone after ${Date.now() - t0} ms`);
    await p.getByRole('status').getByText(`新派工单：${o.number}`).waitFor({ timeout: 3000 });
  });
});

test('across two app instances on one PostgreSQL database the queue still shows a new order within 2 s', { skip: !PG && 'PostgreSQL only' }, async () => {
  await withApps(2, async ([a, b], browser) => {
    const agent = await Client.as(a.base, 'zz.agent1'); // files through instance A
    const p = await approvalsDesk(browser, b.base); // watches instance B
    const { ms } = await arrives(p, agent);
    console.log(`order filed on A → shown on B after ${ms} ms`);
    assert.ok(ms < 2000, `${ms} ms`);
  });
});
