// The agent's tickets and follow-up calls in real Chromium: a complaint taken at the desk
// (customer picked from the filter box, urgency → the API's deadline as a countdown),
// handed over by agent A to agent B with a note, then replied to, resolved, the customer's
// notification recorded and closed by B — a refusal (closing before the customer was told)
// shown in place; the API's state checked after every step. Then a follow-up call with a
// low score that shows the complaint it opened, and a call where nobody answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desk, signIn, shot, Client, withApp, watch } from './harness.mjs';

const SIGNATURE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const READINESS = ['info_verified', 'tools', 'spare_parts', 'documents'];
const HOUR = 3600_000;
const at = (ms) => new Date(Date.now() + ms).toISOString();
const rand = () => Math.floor(Math.random() * 9000 + 1000);

async function deskPage(browser, base) {
  const page = await (await desk(browser, base)).newPage();
  watch(page);
  return page;
}
const settled = (page) => page.waitForFunction(() => !document.querySelector('#view')?.hasAttribute('aria-busy'));

/** Polls the API until `check(ticket)` holds (the page's write has landed). */
async function ticketWhere(client, id, check, what) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const t = await client.get(`/tickets/${id}`);
    if (check(t)) return t;
    if (Date.now() > deadline) assert.fail(`ticket never got ${what}: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a complaint from intake to close, handed over from agent A to agent B with a note', async () => {
  await withApp(async (app, browser) => {
    const [a, b, mgr] = await Promise.all(['zz.agent1', 'zz.agent2', 'zz.manager'].map((u) => Client.as(app.base, u)));
    const aMe = await a.get('/auth/me');
    const bMe = await b.get('/auth/me');
    const customer = (await a.get(`/customers?q=${encodeURIComponent('豫通客运')}&limit=1`)).items[0];
    assert.ok(customer, 'the demo customer');
    // an inquiry A took two days ago and never answered: its countdown is red
    const overdue = await a.ok('POST', '/tickets', { customer_id: customer.id, kind: 'inquiry', channel: 'letter', subject: '询问终端续费价格', description: '来函询问', received_at: at(-48 * HOUR) });

    // ---- A takes the complaint at the desk
    const pa = await deskPage(browser, app.base);
    await signIn(pa, 'zz.agent1');
    await pa.goto('/desk/#/tickets');
    await settled(pa);
    const list = pa.getByRole('table', { name: '诉求列表' });
    const overdueRow = list.locator(`tr[data-ticket="${overdue.id}"]`);
    await overdueRow.locator('.countdown.breached', { hasText: '已超时' }).waitFor();
    await pa.getByRole('button', { name: '受理新诉求' }).click();
    await pa.getByLabel('客户', { exact: true }).fill('豫通');
    await pa.getByRole('button', { name: new RegExp(customer.name) }).click();
    await pa.locator('#ti-customer-chosen', { hasText: customer.name }).waitFor();
    await pa.getByLabel('类型', { exact: true }).selectOption('complaint');
    await pa.getByLabel('渠道').selectOption('hotline');
    await pa.getByLabel('紧急程度').selectOption('urgent');
    await pa.locator('#ti-due', { hasText: '60 分钟' }).or(pa.locator('#ti-due', { hasText: '1 小时' })).waitFor();
    // a missing subject is refused in place before anything is sent
    await pa.getByLabel('详细描述').fill('客户来电：安装后三天定位不更新，司机无法查看轨迹');
    await pa.getByRole('button', { name: '受理', exact: true }).click();
    await pa.getByText('请填写主题').waitFor();
    assert.equal((await a.get('/tickets?kind=complaint')).items.length, 0);
    await pa.getByLabel('主题').fill('终端离线三天');
    await pa.getByLabel('主题').press('Enter');
    await pa.waitForURL(/#\/tickets\/[\w-]+$/);
    const id = pa.url().split('/').pop();
    let t = await a.get(`/tickets/${id}`);
    assert.equal(t.kind, 'complaint');
    assert.equal(t.urgency, 'urgent');
    assert.equal(t.status, 'open');
    assert.equal(t.owner_id, aMe.id);
    assert.equal(t.customer_id, customer.id);
    assert.equal(new Date(t.reply_due_at) - new Date(t.received_at), HOUR, 'urgent: the API gives one hour');
    await pa.getByRole('heading', { name: `投诉 ${t.number}` }).waitFor();
    const cd = pa.locator('#ticket-countdown');
    assert.match(await cd.innerText(), /^剩余 (59 分|1 小时)/);
    assert.ok(!(await cd.getAttribute('class')).includes('breached'));
    const before = await cd.innerText();
    await pa.waitForFunction((b4) => document.querySelector('#ticket-countdown')?.textContent !== b4, before, { timeout: 5000 });

    // ---- A hands it over to B with a note
    await pa.getByLabel('接手人').selectOption({ label: `${bMe.display_name}（客服专员）` });
    await pa.getByLabel('交接说明').fill('我下午外出培训，客户要求今天 17:00 前回电');
    await pa.getByRole('button', { name: '转交', exact: true }).click();
    await pa.locator('#ticket-owner', { hasText: bMe.display_name }).waitFor();
    await pa.locator('#not-owner').waitFor();
    t = await a.get(`/tickets/${id}`);
    assert.equal(t.owner_id, bMe.id);
    assert.equal(t.status, 'open', 'a handover keeps the state');
    const ev = t.events.at(-1);
    assert.equal(ev.action, 'handover');
    assert.match(ev.comment, /17:00 前回电/);
    await pa.locator('.timeline').getByText(`${aMe.display_name} → ${bMe.display_name}: 我下午外出培训`).waitFor();

    // ---- B finds it among their tickets, by deadline, and works it to the end
    const pb = await deskPage(browser, app.base);
    await signIn(pb, 'zz.agent2');
    await pb.goto('/desk/#/tickets');
    await settled(pb);
    const bList = pb.getByRole('table', { name: '诉求列表' });
    await bList.getByRole('link', { name: t.number }).waitFor();
    assert.equal(await bList.locator(`tr[data-ticket="${overdue.id}"]`).count(), 0, 'only B\'s own by default');
    await pb.getByLabel('查看范围').selectOption('all');
    await bList.locator(`tr[data-ticket="${overdue.id}"]`).waitFor();
    const order = await bList.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.ticket));
    assert.deepEqual(order, [overdue.id, id], 'the breached deadline first');
    await shot(pb, 'desk-tickets');
    await bList.getByRole('link', { name: t.number }).click();
    await pb.getByRole('heading', { name: `投诉 ${t.number}` }).waitFor();

    await pb.getByLabel('回复内容').fill('已致电客户，今天下午安排技师上门检查');
    await pb.getByRole('button', { name: '发送回复' }).click();
    await pb.locator('#ticket-status', { hasText: '已回复' }).waitFor();
    t = await ticketWhere(b, id, (x) => x.status === 'replied', 'replied');
    assert.ok(t.replied_at);
    assert.equal(t.breached, false);
    await pb.locator('#ticket-countdown', { hasText: '已按时回复' }).waitFor();

    await pb.getByLabel('处理结果').fill('技师更换SIM卡后终端恢复上线');
    await pb.getByRole('button', { name: '标记已解决' }).click();
    await pb.locator('#ticket-status', { hasText: '已解决' }).waitFor();
    t = await b.get(`/tickets/${id}`);
    assert.equal(t.status, 'resolved');
    assert.equal(t.resolution, '技师更换SIM卡后终端恢复上线');

    // closing before the customer was told: the API refuses, shown in place, nothing changes
    await pb.getByRole('button', { name: '关闭诉求' }).click();
    await pb.locator('[data-step="close"] .field-error', { hasText: '请先记录已告知客户处理结果' }).waitFor();
    const unchanged = await b.get(`/tickets/${id}`);
    assert.equal(unchanged.status, 'resolved');
    assert.equal(unchanged.version, t.version);

    await pb.getByLabel('告知方式与内容').fill('电话告知刘艳强，客户确认恢复正常');
    await pb.getByRole('button', { name: '记录已告知客户' }).click();
    await pb.getByText('已告知客户，可以关闭。').waitFor();
    t = await b.get(`/tickets/${id}`);
    assert.ok(t.customer_notified_at);
    assert.equal(t.customer_notice, '电话告知刘艳强，客户确认恢复正常');
    assert.equal(t.status, 'resolved');

    await pb.getByRole('button', { name: '关闭诉求' }).click();
    await pb.locator('#ticket-status', { hasText: '已关闭' }).waitFor();
    t = await mgr.get(`/tickets/${id}`);
    assert.equal(t.status, 'closed');
    assert.ok(t.closed_at);
    assert.deepEqual(t.events.map((e) => e.action), ['create', 'handover', 'reply', 'resolve', 'notify_customer', 'close']);
    assert.deepEqual(t.events.map((e) => e.actor_id), [aMe.id, aMe.id, bMe.id, bMe.id, bMe.id, bMe.id]);
    await pb.locator('.timeline').getByText('关闭').first().waitFor();

    // A's list (not closed, A's own) no longer has it
    await pa.goto('/desk/#/tickets');
    await settled(pa);
    await pa.getByRole('table', { name: '诉求列表' }).locator(`tr[data-ticket="${overdue.id}"]`).waitFor();
    assert.equal(await pa.locator(`tr[data-ticket="${id}"]`).count(), 0);
  });
});

/** An install order the agent took, done by zz.tech1 and completed (no charge). */
async function completedOrder(agent, mgr, tech, techId, customer) {
  const step = async (client, o, action, body = {}) => {
    const r = await client.ok('POST', `/work-orders/${o.id}/${action}`, body, { ifMatch: o.version });
    return r && r.id === o.id && r.version ? r : client.get(`/work-orders/${o.id}`);
  };
  let o = await agent.ok('POST', '/work-orders/install', {
    customer_id: customer.id, site_address: '郑州市管城区航海东路物流园3号库', site_lat: 34.72, site_lng: 113.70,
    contact_name: '王喆', contact_phone: '13812345678', window_start: at(HOUR), window_end: at(4 * HOUR),
    requested_at: at(-2 * HOUR), urgency: 'normal', channel: 'phone', notes: '车队集中安装', submit: true,
    vehicles: [{ plate_no: `豫AT${rand()}`, driver: { name: '李堃', phone: '13912345678' } }],
  });
  o = await step(mgr, o, 'approve', { comment: '同意' });
  o = await step(mgr, o, 'assign', { lead_id: techId, scheduled_at: at(HOUR) });
  o = await step(tech, o, 'accept');
  o = await step(tech, o, 'readiness', { items: READINESS });
  o = await step(tech, o, 'depart', { lat: 34.75, lng: 113.63 });
  o = await step(tech, o, 'arrive', { lat: 34.7201, lng: 113.7003 });
  o = await step(tech, o, `lines/${o.lines[0].id}/not-done`, { reason: '车辆未到场' });
  o = await step(tech, o, 'sign-off', { signer_name: '王喆', signature_image: SIGNATURE });
  o = await step(tech, o, 'complete');
  assert.equal(o.status, 'completed');
  return o;
}

test('a follow-up call with a low score shows the complaint it opened; an unanswered call is retried', async () => {
  await withApp(async (app, browser) => {
    const [agent, mgr, tech] = await Promise.all(['zz.agent1', 'zz.manager', 'zz.tech1'].map((u) => Client.as(app.base, u)));
    const me = await agent.get('/auth/me');
    const techs = (await mgr.get('/technicians?limit=50')).items;
    const t1 = techs.find((x) => x.username === 'zz.tech1');
    const customer = (await agent.get('/customers?payment_terms=cash&limit=1')).items[0];
    const unhappy = await completedOrder(agent, mgr, tech, t1.user_id, customer);
    const silent = await completedOrder(agent, mgr, tech, t1.user_id, customer);
    const calls = (await agent.get(`/follow-ups?status=open&assignee_id=${me.id}`)).items;
    const callOf = (o) => calls.find((c) => c.order_id === o.id);
    assert.ok(callOf(unhappy) && callOf(silent), 'both completed orders wait for the agent\'s call');

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.agent1');
    await page.goto('/desk/#/follow-ups');
    await settled(page);
    const card = page.locator(`article[data-follow-up="${callOf(unhappy).id}"]`);
    await card.getByRole('link', { name: unhappy.number }).waitFor();
    await card.getByText(unhappy.lines[0].plate_no).waitFor();
    await card.locator('dd', { hasText: t1.display_name }).first().waitFor();
    await card.getByText('无费用').waitFor();
    await shot(page, 'desk-followups');

    // nobody answers the second call: one attempt recorded, the call stays open
    const other = page.locator(`article[data-follow-up="${callOf(silent).id}"]`);
    await other.getByLabel('回访记录').fill('无人接听');
    await other.getByRole('button', { name: '联系不上' }).click();
    await other.getByText('已尝试联系 1 次').waitFor();
    const afterAttempt = await agent.get(`/follow-ups/${callOf(silent).id}`);
    assert.equal(afterAttempt.status, 'open');
    assert.equal(afterAttempt.version, callOf(silent).version + 1);

    // the unhappy customer: a score without choosing is refused in place; 2 opens a complaint
    await card.getByRole('button', { name: '保存回访结果' }).click();
    await card.getByText('请选择满意度（1–5 分）').waitFor();
    await card.getByText('2 分 不满意').click();
    await card.getByText('2 分将自动生成一条紧急投诉').waitFor();
    await card.getByLabel('回访记录').fill('技师迟到两小时，态度不好');
    await card.getByRole('button', { name: '保存回访结果' }).click();
    const link = card.locator('.complaint-link a');
    await link.waitFor();
    const fu = await agent.get(`/follow-ups/${callOf(unhappy).id}`);
    assert.equal(fu.status, 'done');
    assert.equal(fu.score, 2);
    assert.ok(fu.ticket_id, 'the call links the complaint');
    const complaint = await agent.get(`/tickets/${fu.ticket_id}`);
    assert.equal(complaint.kind, 'complaint');
    assert.equal(complaint.urgency, 'urgent');
    assert.equal(complaint.owner_id, me.id);
    assert.equal(complaint.order_id, unhappy.id);
    assert.match(complaint.description, /技师迟到两小时/);
    assert.match(await link.innerText(), new RegExp(complaint.number));
    await link.click();
    await page.waitForURL(new RegExp(`#/tickets/${fu.ticket_id}$`));
    await page.getByRole('heading', { name: `投诉 ${complaint.number}` }).waitFor();
    await page.getByText('回访不满意自动生成').waitFor();
    await page.getByRole('link', { name: unhappy.number }).waitFor();

    // the done call leaves the open list; "done" shows it with its complaint
    await page.goto('/desk/#/follow-ups?who=mine&status=done');
    await settled(page);
    await page.locator(`article[data-follow-up="${fu.id}"] .complaint-link`, { hasText: complaint.number }).waitFor();
  });
});
