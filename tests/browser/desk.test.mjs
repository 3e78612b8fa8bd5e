// The desk in real Chromium: a dispatcher approves, rejects and assigns from the ranked
// candidates and watches the board change; finance confirms remittances (exact and
// short), downloads the reconciliation as XLSX and CSV; a manager resolves the
// discrepancy; a technician's (and finance's) token is refused the pages' data.
// Each test runs on its own app and database; the scene is set through the REST API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { desk, signIn, shot, Client, withApp, watch } from './harness.mjs';

const SIGNATURE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const READINESS = ['info_verified', 'tools', 'spare_parts', 'documents'];
const HOUR = 3600_000;
const at = (ms) => new Date(Date.now() + ms).toISOString();
const rand = () => Math.floor(Math.random() * 9000 + 1000);

/** The current minute in Beijing as `YYYY-MM-DDTHH:mm` (a datetime-local value). */
function beijingMinute(d = new Date()) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** Script errors of the pages opened through `deskPage` (each test asserts none). */

/** A new desk-sized page (1440×900, zh-CN, Beijing time) whose script errors are kept. */
async function deskPage(browser, base, ctx = null) {
  const page = await (ctx || await desk(browser, base)).newPage();
  watch(page);
  return page;
}

/** Runs `fn(app, browser)` on a fresh app and browser, always stopping both. */

/** The people of ZZ as API clients, the technicians' ids by username and a cash customer. */
async function people(base) {
  const [admin, mgr, agent, tech1, tech3] = await Promise.all(['admin', 'zz.manager', 'zz.agent1', 'zz.tech1', 'zz.tech3'].map((u) => Client.as(base, u)));
  const techs = (await mgr.get('/technicians?limit=50')).items;
  const techId = Object.fromEntries(techs.map((t) => [t.username, t.user_id]));
  const techName = Object.fromEntries(techs.map((t) => [t.user_id, t.display_name]));
  const customer = (await agent.get('/customers?payment_terms=cash&limit=1')).items[0];
  return { admin, mgr, agent, tech1, tech3, techId, techName, customer };
}

/** A submitted install order for one new vehicle (the agent takes it). */
async function installOrder(p, { hoursAhead = 1, urgency = 'normal', notes = '车队集中安装' } = {}) {
  return p.agent.ok('POST', '/work-orders/install', {
    customer_id: p.customer.id,
    site_address: '郑州市管城区航海东路物流园3号库',
    site_lat: 34.72, site_lng: 113.70,
    contact_name: '王喆', contact_phone: '13812345678',
    window_start: at(hoursAhead * HOUR), window_end: at((hoursAhead + 3) * HOUR),
    requested_at: at(-2 * HOUR),
    urgency, channel: 'phone', notes, submit: true,
    vehicles: [{ plate_no: `豫AT${rand()}`, driver: { name: '李堃', phone: '13912345678' } }],
  });
}

/** An order action with If-Match; returns the order afterwards. */
async function step(client, order, action, body = {}) {
  const r = await client.ok('POST', `/work-orders/${order.id}/${action}`, body, { ifMatch: order.version });
  return r && r.id === order.id && r.version ? r : client.get(`/work-orders/${order.id}`);
}

/**
 * The path to money in a technician's hands (tests/api/money.rs): a part at `fee`, an
 * install order approved and assigned to zz.tech1, on site, its one vehicle not done,
 * the part used, signed off, completed; the fee collected in cash and handed to finance.
 */
async function remittedFee(p, fee) {
  const code = `P-${rand()}`;
  await p.admin.ok('POST', '/parts', { code, name: '安装支架', unit_price_fen: fee });
  let o = await installOrder(p);
  o = await step(p.mgr, o, 'approve', { comment: '同意' });
  o = await step(p.mgr, o, 'assign', { lead_id: p.techId['zz.tech1'], scheduled_at: at(HOUR) });
  o = await step(p.tech1, o, 'accept');
  o = await step(p.tech1, o, 'readiness', { items: READINESS });
  o = await step(p.tech1, o, 'depart', { lat: 34.75, lng: 113.63 });
  o = await step(p.tech1, o, 'arrive', { lat: 34.7201, lng: 113.7003 });
  o = await step(p.tech1, o, `lines/${o.lines[0].id}/not-done`, { reason: '车辆未到场' });
  o = await step(p.tech1, o, 'parts', { part_code: code, quantity: 1 });
  o = await step(p.tech1, o, 'sign-off', { signer_name: '王喆', signature_image: SIGNATURE });
  o = await step(p.tech1, o, 'complete');
  assert.equal(o.fee_fen, fee);
  const pay = await p.tech1.ok('POST', `/work-orders/${o.id}/payments`, { amount_fen: fee, method: 'cash', payer_name: '王喆', lat: 34.72, lng: 113.70 }, { idem: crypto.randomUUID() });
  const remittance = await p.tech1.ok('POST', '/remittances', { notes: '当日收款' });
  assert.equal(remittance.expected_fen, fee);
  return { order: o, payment: pay, remittance };
}

/** Waits until the view has finished loading (the router clears aria-busy). */
const settled = (page) => page.waitForFunction(() => !document.querySelector('#view')?.hasAttribute('aria-busy'));

// ------------------------------------------------------------------ 1. the dispatcher

test('a dispatcher approves, rejects, assigns the top candidate with a schedule and sees the board change', async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    const target = await installOrder(p, { urgency: 'urgent', notes: '客户急需，优先安装' });
    const refused = await installOrder(p, { hoursAhead: 30 });
    // an order whose appointment passed three hours ago without the technician arriving
    let late = await installOrder(p, { hoursAhead: -8 });
    late = await step(p.mgr, late, 'approve');
    late = await step(p.mgr, late, 'assign', { lead_id: p.techId['zz.tech3'], scheduled_at: at(-5 * HOUR) });
    // a complaint waiting for its reply, and a live position of zz.tech1
    const complaint = await p.agent.ok('POST', '/tickets', { customer_id: p.customer.id, kind: 'complaint', channel: 'hotline', urgency: 'urgent', subject: '安装师傅迟到', description: '客户来电：约定时间未到' });
    await p.tech1.ok('POST', '/technicians/me/position', { lat: 34.7230, lng: 113.6950 });
    // an inquiry taken two days ago and never answered: past its reply deadline
    const overdue = await p.agent.ok('POST', '/tickets', { customer_id: p.customer.id, kind: 'inquiry', channel: 'letter', subject: '询问终端续费', description: '来函询问', received_at: at(-48 * HOUR) });

    const ctx = await desk(browser, app.base);
    const page = await deskPage(browser, app.base, ctx);
    await signIn(page, 'zz.manager');
    assert.match(new URL(page.url()).pathname, /^\/desk\/$/);

    // the approval queue: both submitted orders, the urgent one first
    await page.waitForURL(/#\/approvals$/);
    const queue = page.getByRole('table', { name: '待审批工单' });
    await queue.getByRole('link', { name: target.number, exact: true }).waitFor();
    await queue.getByRole('link', { name: refused.number, exact: true }).waitFor();
    const numbers = await queue.locator('tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(numbers, [target.number, refused.number], 'urgent first');
    await page.getByText('待审批 2').waitFor();
    await shot(page, 'desk-approval-queue');

    // a second window keeps today's board open, refreshing every 5 s
    const watcher = await deskPage(browser, app.base, ctx);
    await watcher.goto('/desk/#/board');
    await settled(watcher);
    await watcher.getByLabel('自动刷新').selectOption('5');
    await page.bringToFront(); // the watcher stays open behind, as a second screen would
    await watcher.locator('#refreshed-at', { hasText: '更新于' }).waitFor();
    assert.equal(await watcher.getByRole('link', { name: target.number, exact: true }).count(), 0);

    // reject one with a reason
    await queue.getByRole('link', { name: refused.number, exact: true }).click();
    await page.getByRole('heading', { name: `安装工单 ${refused.number}` }).waitFor();
    await page.getByRole('button', { name: '驳回' }).click();
    await page.getByText('请填写驳回原因').waitFor();
    await page.getByLabel('驳回原因').fill('车辆信息不全，请补充车架号');
    await page.getByRole('button', { name: '驳回' }).click();
    await page.locator('#order-status', { hasText: '已驳回' }).waitFor();
    await page.getByText('车辆信息不全，请补充车架号').first().waitFor();

    // approve the other; its candidates come up ranked with reasons and distances
    await page.getByRole('link', { name: '← 审批队列' }).click();
    await page.getByRole('table', { name: '待审批工单' }).getByRole('link', { name: target.number, exact: true }).click();
    await page.getByRole('heading', { name: `安装工单 ${target.number}` }).waitFor();
    await page.getByLabel('审批意见').fill('同意，今日安排');
    await page.getByRole('button', { name: '审批通过' }).click();
    await page.locator('#order-status', { hasText: '已审批' }).waitFor();
    const candidates = page.getByRole('table', { name: '候选技术员（按推荐排序）' });
    await candidates.waitFor();
    const first = candidates.locator('tbody tr').first();
    const topId = await first.getAttribute('data-technician');
    const topName = await first.locator('label').innerText();
    assert.equal(topId, p.techId['zz.tech1'], 'the technician reporting from next to the site ranks first');
    assert.match(await first.innerText(), /公里/);
    assert.match(await first.locator('.reasons').innerText(), /距离/);
    const visit = beijingMinute();
    // a new time ranks again (bookings at that time)
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('/candidates?') && r.url().includes(encodeURIComponent(new Date(`${visit}:00+08:00`).toISOString().replace('.000Z', 'Z')))),
      page.getByLabel('上门时间（北京时间）').fill(visit),
    ]);
    await candidates.locator('tbody tr').first().waitFor();
    await shot(page, 'desk-order-candidates');
    await page.getByRole('radio', { name: `主修：${topName}` }).check();
    await page.getByRole('button', { name: '确认派工' }).click();
    await page.locator('#order-status', { hasText: '已派工' }).waitFor();
    await page.locator('.timeline').getByText('派工').first().waitFor();
    await page.locator('.timeline').getByText(`主修 ${topName}`).waitFor();

    // the board: the order under that technician, with its state; the open window sees it too
    await page.getByRole('link', { name: /看板中查看/ }).click();
    const row = page.locator('tr', { has: page.getByRole('rowheader', { name: topName }) });
    const job = row.locator('li.job', { has: page.getByRole('link', { name: target.number, exact: true }) });
    await job.getByText('已派工').waitFor();
    assert.equal(await job.locator('time').innerText(), visit.slice(11));
    await shot(page, 'desk-board');
    const watchedRow = watcher.locator('tr', { has: watcher.getByRole('rowheader', { name: topName }) });
    await watchedRow.getByRole('link', { name: target.number, exact: true }).waitFor({ timeout: 15000 });

    // deadline breaches and open complaints
    await page.getByRole('link', { name: '超时与投诉' }).click();
    await page.getByRole('table', { name: '预约超时工单' }).getByRole('link', { name: late.number, exact: true }).waitFor();
    await page.getByRole('table', { name: '未结投诉' }).getByText(complaint.number).waitFor();
    await page.getByRole('table', { name: '超时工单' }).locator('tr', { hasText: overdue.number }).getByText('已超时').waitFor();
    await shot(page, 'desk-alerts');

    // positions: zz.tech1 live, the others at home
    await page.getByRole('link', { name: '技术员位置' }).click();
    const plot = page.getByRole('img', { name: /技术员位置/ });
    await plot.waitFor();
    await plot.locator(`g.tech.live[data-technician="${p.techId['zz.tech1']}"]`).waitFor();
    assert.equal(await plot.locator('g.tech').count(), Object.keys(p.techId).filter((u) => u.startsWith('zz.')).length);
    await page.getByRole('table', { name: '技术员位置' }).locator('tr', { hasText: topName }).getByText('实时').waitFor();
    await shot(page, 'desk-positions');

    // through the API
    const o = await p.mgr.get(`/work-orders/${target.id}`);
    assert.equal(o.status, 'assigned');
    assert.equal(o.lead_technician_id, topId);
    assert.equal(new Date(o.scheduled_at).getTime(), new Date(`${visit}:00+08:00`).getTime());
    const mgrId = (await p.mgr.get('/auth/me')).id;
    assert.equal(o.approved_by, mgrId);
    const tl = (await p.mgr.get(`/work-orders/${target.id}/timeline`)).items;
    const approve = tl.find((e) => e.action === 'approve');
    assert.equal(approve.actor_id, mgrId);
    assert.equal(approve.comment, '同意，今日安排');
    assert.ok(tl.some((e) => e.action === 'assign' && e.to_status === 'assigned'));
    const r = await p.mgr.get(`/work-orders/${refused.id}`);
    assert.equal(r.status, 'rejected');
    assert.equal(r.reject_reason, '车辆信息不全，请补充车架号');
  });
});

// ------------------------------------------------------------------ 2. finance confirms

test('finance confirms a remittance with the counted amount and downloads the reconciliation XLSX', async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    const { remittance } = await remittedFee(p, 12800);
    const techName = p.techName[p.techId['zz.tech1']];

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.finance');
    await page.waitForURL(/\/desk\/#\/finance$/);
    const waiting = page.getByRole('table', { name: '待确认交款' });
    const row = waiting.locator(`tr[data-remittance="${remittance.id}"]`);
    await row.getByText(techName).waitFor();
    await row.getByText('¥128.00').first().waitFor();
    await page.getByText('待确认交款 1 笔').waitFor();
    await shot(page, 'desk-finance-remittances');

    const counted = row.getByLabel(/实点金额/);
    await counted.fill('128');
    await row.getByText('与应交金额一致').waitFor();
    await row.getByRole('button', { name: '确认收款' }).click();
    // it leaves the waiting list and shows among the confirmed, without a difference
    await waiting.getByText('没有待确认的交款').waitFor();
    const done = page.getByRole('table', { name: '最近已确认的交款' }).locator(`tr[data-remittance="${remittance.id}"]`);
    await done.getByText('无差异').waitFor();
    await page.getByText('待确认交款 0 笔').waitFor();

    // the reconciliation: the technician's day, and the XLSX (and CSV) behind the token
    await page.getByRole('link', { name: '对账表' }).click();
    const recon = page.getByRole('table', { name: /^对账表/ });
    const line = recon.locator(`tr[data-technician="${p.techId['zz.tech1']}"]`);
    await line.getByRole('rowheader', { name: techName }).waitFor();
    const cells = await line.locator('td').allInnerTexts();
    assert.equal(cells[2], '¥128.00', 'owed'); // 日期, 服务站, then 应收 (the name is the row header)
    assert.equal(cells[3], '¥128.00', 'collected');
    assert.equal(cells[10], '¥128.00', 'confirmed');
    assert.equal(cells[12], '¥0.00', 'cash in hand');
    await shot(page, 'desk-reconciliation');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 Excel（XLSX）' }).click()]);
    assert.match(xlsx.suggestedFilename(), /^reconciliation-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const bytes = readFileSync(await xlsx.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'an XLSX is a zip');
    assert.ok(bytes.length > 3000, `a real workbook (${bytes.length} bytes)`);
    assert.ok(bytes.includes(Buffer.from('xl/worksheets/')), 'with a worksheet');
    await page.getByText(/已下载：reconciliation-.*\.xlsx/).waitFor();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 CSV' }).click()]);
    const text = readFileSync(await csv.path(), 'utf8');
    assert.ok(text.startsWith('\uFEFF日期,'), 'UTF-8 BOM and Chinese headers');
    assert.ok(text.includes(techName) && text.includes('128.00'));

    const r = await (await Client.as(app.base, 'zz.finance')).get(`/remittances/${remittance.id}`);
    assert.equal(r.status, 'confirmed');
    assert.equal(r.received_fen, 12800);
    assert.equal(r.discrepancy, null);
  });
});

// ------------------------------------------------------------------ 3. a short count

test('a short count opens a discrepancy that the manager resolves in the page', async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    const { remittance } = await remittedFee(p, 8000);
    const techName = p.techName[p.techId['zz.tech1']];

    const fin = await deskPage(browser, app.base);
    await signIn(fin, 'zz.finance');
    const row = fin.getByRole('table', { name: '待确认交款' }).locator(`tr[data-remittance="${remittance.id}"]`);
    await row.getByLabel(/实点金额/).fill('75.00');
    await row.getByText('短款 ¥5.00，确认后将生成差异记录').waitFor();
    await row.getByRole('button', { name: '确认收款' }).click();
    // a difference asks once more before it is recorded
    await row.getByRole('button', { name: '确认并记录差异' }).click();
    await fin.getByRole('table', { name: '最近已确认的交款' }).getByText('短款 ¥5.00').waitFor();
    await fin.getByText('未结差异 1').waitFor();
    await fin.getByRole('link', { name: '差异处理' }).click();
    const finRow = fin.getByRole('table', { name: '差异记录' }).locator('tbody tr').first();
    await finRow.getByText('待经理处理').waitFor();
    await finRow.getByText(techName).waitFor();

    const mgr = await deskPage(browser, app.base);
    await signIn(mgr, 'zz.manager');
    await mgr.goto('/desk/#/finance/discrepancies');
    const table = mgr.getByRole('table', { name: '差异记录' });
    const open = table.locator('tbody tr').first();
    await open.getByText('短款 ¥5.00').waitFor();
    await open.getByText('¥80.00').waitFor();
    await open.getByText('¥75.00').waitFor();
    await shot(mgr, 'desk-discrepancies');
    await open.getByLabel(/处理说明/).fill('技术员已补交5元');
    await open.getByRole('button', { name: '标记已处理' }).click();
    await table.getByText('没有未处理的差异').waitFor();
    await mgr.getByText('未结差异 0').waitFor();
    await mgr.getByLabel('状态').selectOption('resolved');
    await mgr.getByRole('table', { name: '差异记录' }).getByText(/技术员已补交5元/).waitFor();

    const f = await Client.as(app.base, 'zz.finance');
    const list = (await f.get('/discrepancies?status=resolved')).items;
    assert.equal(list.length, 1);
    assert.equal(list[0].amount_fen, -500);
    assert.equal(list[0].resolution, '技术员已补交5元');
    assert.equal(list[0].resolved_by, (await p.mgr.get('/auth/me')).id);
    assert.equal(list[0].remittance_id, remittance.id);
  });
});

// ------------------------------------------------------------------ 4. refusals

test("a technician's token gets the refusal on the desk and finance pages, and no data", async () => {
  await withApp(async (app, browser) => {
    const p = await people(app.base);
    // data the technician must not see through the desk: an order of their own, a remittance
    const { order } = await remittedFee(p, 5000);
    await installOrder(p);

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.tech1');
    const answers = [];
    page.on('response', (r) => { if (r.url().includes('/api/v1/')) answers.push([new URL(r.url()).pathname, r.status()]); });
    for (const hash of ['#/approvals', '#/board', `#/orders/${order.id}`, '#/positions', '#/finance', '#/finance/reconciliation', '#/finance/invoices']) {
      await page.goto('about:blank');
      answers.length = 0;
      await page.goto(`/desk/${hash}`);
      const alert = page.getByRole('alert').filter({ hasText: '无权查看' });
      await alert.waitFor();
      const text = await alert.innerText();
      assert.match(text, /技术员/);
      assert.match(text, /403/);
      assert.equal(await page.locator('#view table').count(), 0, `${hash}: no table`);
      assert.equal(await page.locator('#strip *').count(), 0, `${hash}: no counts`);
      assert.ok(!(await page.locator('#view').innerText()).includes(order.number), `${hash}: not even their own order`);
      assert.ok(answers.some(([, s]) => s === 403), `${hash}: the API refused (${JSON.stringify(answers)})`);
      if (hash === '#/approvals') await shot(page, 'desk-refusal');
    }
    await page.getByRole('link', { name: '打开技术员手机端' }).waitFor();

    // finance opening the dispatcher's board is refused the same way
    const fin = await deskPage(browser, app.base);
    await signIn(fin, 'zz.finance');
    await fin.goto('/desk/#/approvals');
    await settled(fin);
    await fin.getByRole('alert').filter({ hasText: /财务.*无权查看调度台的数据/ }).waitFor();
    assert.equal(await fin.locator('#view table').count(), 0);
  });
});
