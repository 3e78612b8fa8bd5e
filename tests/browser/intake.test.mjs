// The agent's intake pages in real Chromium: an install request pasted from Excel with a
// bad row (wrong VIN check digit) corrected in the grid, then a plate the API refuses
// (another customer's) corrected too, then filed — the order has every vehicle and
// driver; an XLSX file (made here with the vendored SheetJS) read into the grid and saved
// as a draft; a terminal CSV import with a bad row showing the per-row error table, then
// imported once corrected. Each test runs on its own app and database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { desk, signIn, shot, Client, ROOT, withApp, watch } from './harness.mjs';

const XLSX = createRequire(import.meta.url)(path.join(ROOT, 'web/vendor/sheetjs/xlsx.mini.min.js'));


async function deskPage(browser, base) {
  const page = await (await desk(browser, base)).newPage();
  watch(page);
  return page;
}

// ---------------------------------------------------------------- valid identifiers

const VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const VIN_V = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };
/** A VIN with its check digit (position 9) computed from the other 16 characters. */
function vin(body16) {
  const s = body16.slice(0, 8) + '0' + body16.slice(8);
  const r = [...s].reduce((a, c, i) => a + (/\d/.test(c) ? Number(c) : VIN_V[c]) * VIN_W[i], 0) % 11;
  return s.slice(0, 8) + (r === 10 ? 'X' : String(r)) + s.slice(9);
}
/** The same VIN with a wrong check digit. */
const badVin = (v) => v.slice(0, 8) + (v[8] === '1' ? '2' : '1') + v.slice(9);

function luhnDigit(payload) {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
const imei = (body14) => body14 + luhnDigit(body14);

/** Dispatches a real paste (clipboardData with text/plain) on the element. */
async function paste(locator, text) {
  await locator.evaluate((el, t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
}

const cell = (page, row, label) => page.getByLabel(`第 ${row} 行 ${label}`, { exact: true });

/** Picks the customer in the install page's combobox by typing part of its name. */
async function pickCustomer(page, customer) {
  const box = page.getByRole('combobox', { name: '客户' });
  await box.fill(customer.name.slice(0, 4));
  await page.getByRole('option', { name: new RegExp(customer.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first().click();
  await page.getByRole('link', { name: '查看客户档案' }).waitFor();
}

test('an install request pasted from Excel: a bad VIN and another customer\'s plate corrected in the grid, then filed with every vehicle and driver', async () => {
  await withApp(async (app, browser) => {
    const agent = await Client.as(app.base, 'zz.agent1');
    const list = (await agent.get('/customers?limit=50')).items;
    const customer = list.find((c) => c.lat !== null) || list[0];
    const others = (await agent.get('/vehicles?limit=200')).items.filter((v) => v.customer_id !== customer.id);
    const taken = others[0].plate_no;

    const vins = ['LSVAM4187C218484', 'LFV2A21K5D300012', 'LGBF5AE06HR00012', 'LZZ5BLSJ7JW00034'].map(vin);
    const rows = [
      ['豫KQ1001', vins[0], '解放J6P', '王建国', '13803710001'],
      ['豫KQ1002', vins[1], '东风天龙', '李卫东', '13803710002'],
      ['豫KQ1003', badVin(vins[2]), '陕汽德龙', '张志强', '13803710003'],
      [taken, vins[3], '重汽豪沃', '赵永刚', '0371-65551234'],
    ];
    const tsv = ['车牌号\t车架号\t车型\t司机\t电话', ...rows.map((r) => r.join('\t'))].join('\r\n') + '\r\n';

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.agent1');
    await page.goto('/desk/#/install');
    await page.getByRole('heading', { name: '安装需求单' }).waitFor();
    await pickCustomer(page, customer);
    assert.equal(await page.getByLabel('作业地址').inputValue(), customer.address, 'the site defaults to the customer\'s address');

    await paste(page.getByLabel('从 Excel 粘贴'), tsv);
    assert.equal(await cell(page, 1, '车牌号').inputValue(), '豫KQ1001');
    assert.equal(await cell(page, 4, '电话').inputValue(), '0371-65551234');
    // row 3: the VIN's check digit is wrong, marked in place
    await page.locator('#i-grid tr.bad').first().waitFor();
    assert.equal(await cell(page, 3, '车架号').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#i-row-2-problem').textContent(), /车架号校验位/);
    assert.equal(await page.locator('#i-grid tr.bad').count(), 1, 'only the bad row is marked');
    assert.match(await page.locator('.grid-summary').textContent(), /共 4 辆车.*1 行有问题/);
    await page.evaluate(() => document.querySelector('#toasts')?.replaceChildren());
    await page.locator('#i-veh-h').evaluate((el) => el.scrollIntoView());
    await shot(page, 'desk-install');

    // filing is refused in the browser while a row is bad: nothing reaches the API
    await page.getByRole('button', { name: '提交审批' }).click();
    await page.getByRole('alert').filter({ hasText: '还不能提交' }).waitFor();
    assert.equal((await agent.get(`/work-orders?limit=50&customer_id=${customer.id}&kind=install`)).items.length, 0);

    // corrected in the grid
    await cell(page, 3, '车架号').fill(vins[2]);
    assert.equal(await page.locator('#i-grid tr.bad').count(), 0);
    assert.equal(await cell(page, 3, '车架号').getAttribute('aria-invalid'), null);

    // the API refuses the plate registered to another customer: marked on its row
    await page.getByRole('button', { name: '提交审批' }).click();
    await page.getByRole('alert').filter({ hasText: '系统没有接受这张单' }).waitFor();
    assert.match(await page.locator('#i-row-3-problem').textContent(), /其他客户/);
    assert.equal(await cell(page, 4, '车牌号').getAttribute('aria-invalid'), 'true');
    await cell(page, 4, '车牌号').fill('豫KQ1004');

    await page.getByRole('button', { name: '提交审批' }).click();
    const filed = page.locator('#i-outcome .filed');
    await filed.getByRole('heading', { name: '已提交审批' }).waitFor();
    const href = await filed.getByRole('link', { name: '打开工单' }).getAttribute('href');
    const orderId = href.split('/').pop();

    // the order has every vehicle (new ones registered to the customer) and every driver
    const order = await agent.get(`/work-orders/${orderId}`);
    assert.equal(order.status, 'submitted');
    assert.equal(order.kind, 'install');
    assert.equal(order.customer_id, customer.id);
    const want = rows.map((r, i) => ({ plate: i === 3 ? '豫KQ1004' : r[0], vin: i === 2 ? vins[2] : r[1], model: r[2], driver: r[3], phone: r[4] }));
    assert.deepEqual(order.lines.map((l) => l.plate_no), want.map((w) => w.plate));
    for (const [i, line] of order.lines.entries()) {
      assert.ok(line.driver_id, `line ${i + 1} has its driver`);
      const v = await agent.get(`/vehicles/${line.vehicle_id}`);
      assert.equal(v.customer_id, customer.id);
      assert.equal(v.vin, want[i].vin);
      assert.equal(v.model, want[i].model);
      const d = v.drivers.find((x) => x.id === line.driver_id);
      assert.equal(d.name, want[i].driver);
      assert.equal(d.phone, want[i].phone);
    }
    // the one order, nothing more (the refused attempts left nothing behind)
    assert.equal((await agent.get(`/work-orders?limit=50&customer_id=${customer.id}&kind=install`)).items.length, 1);
    assert.equal((await agent.get(`/vehicles?limit=50&q=${encodeURIComponent('KQ10')}`)).items.length, 4);
  });
});

test('an install request read from an uploaded XLSX file (and a GBK CSV) is saved as a draft, once though its answer was lost', async () => {
  await withApp(async (app, browser, dir) => {
    const agent = await Client.as(app.base, 'zz.agent1');
    const customer = (await agent.get('/customers?limit=1')).items[0];
    const sheet = [
      ['序号', '车牌号', '司机姓名', '手机号', '车型', 'VIN'],
      [1, '豫KX2001', '孙海涛', 13903712001, '福田欧曼', vin('LVBV4JBB8DE00011')],
      [2, '豫KX2002', '周立新', 13903712002, '江淮格尔发', ''],
      [3, '豫KD20031', '', '', '比亚迪 T5', vin('LC0C74C44N000123')],
    ];
    const wb = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(sheet), '安装车辆');
    const file = path.join(dir, '车辆明细.xlsx');
    writeFileSync(file, XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }));

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.agent1');
    await page.goto('/desk/#/install');
    await pickCustomer(page, customer);
    await page.getByLabel('或上传 Excel / CSV 文件').setInputFiles(file);
    await page.getByText('已从 车辆明细.xlsx（工作表“安装车辆”） 读取 3 行').waitFor();
    // columns found by their headers, whatever their order; the phone number cell read as text
    assert.equal(await cell(page, 1, '车牌号').inputValue(), '豫KX2001');
    assert.equal(await cell(page, 1, '电话').inputValue(), '13903712001');
    assert.equal(await cell(page, 3, '车型').inputValue(), '比亚迪 T5');
    assert.equal(await page.locator('#i-grid tr.bad').count(), 0);
    assert.match(await page.locator('.grid-summary').textContent(), /共 3 辆车 · 全部检查通过/);

    // a CSV saved by Excel on a Chinese Windows (GBK) adds its row after them
    const gbk = path.join(dir, '补充车辆.csv');
    writeFileSync(gbk, Buffer.from('b3b5c5c6bac52ccbbebbfa2cb5e7bbb00d0ad4a54b58323030342ccdf5c7bf2c31333930333731323030340d0a', 'hex'));
    await page.getByLabel('或上传 Excel / CSV 文件').setInputFiles(gbk);
    await page.getByText('已从 补充车辆.csv 读取 1 行（GBK 编码）').waitFor();
    assert.equal(await cell(page, 4, '车牌号').inputValue(), '豫KX2004');
    assert.equal(await cell(page, 4, '司机').inputValue(), '王强');
    assert.match(await page.locator('.grid-summary').textContent(), /共 4 辆车 · 全部检查通过/);

    // the order reaches the server but its answer is lost on the way back
    const lose = async (route) => { await route.fetch(); await route.abort('failed'); };
    await page.route('**/api/v1/work-orders/install', lose);
    await page.getByRole('button', { name: '保存草稿' }).click();
    await page.getByRole('alert').filter({ hasText: '网络中断' }).waitFor();
    await page.unroute('**/api/v1/work-orders/install', lose);
    // the next attempt finds it instead of filing it twice
    await page.getByRole('button', { name: '保存草稿' }).click();
    const filed = page.locator('#i-outcome .filed');
    await filed.getByRole('heading', { name: '已保存为草稿' }).waitFor();
    await filed.getByText('没有重复建单').waitFor();
    assert.equal((await agent.get(`/work-orders?limit=50&customer_id=${customer.id}&kind=install`)).items.length, 1);
    const orderId = (await filed.getByRole('link', { name: '打开工单' }).getAttribute('href')).split('/').pop();
    const order = await agent.get(`/work-orders/${orderId}`);
    assert.equal(order.status, 'draft');
    assert.deepEqual(order.lines.map((l) => l.plate_no), ['豫KX2001', '豫KX2002', '豫KD20031', '豫KX2004']);
    assert.deepEqual(order.lines.map((l) => !!l.driver_id), [true, true, false, true]);
  });
});

test('a terminal CSV import with a bad row shows the per-row error table; corrected, it imports every row', async () => {
  await withApp(async (app, browser, dir) => {
    const mgr = await Client.as(app.base, 'zz.manager');
    const good = ['86543210000011', '86543210000022', '86543210000033'].map(imei);
    const wrong = good[1].slice(0, 14) + String((Number(good[1][14]) + 1) % 10);
    const csv = (second) => '\ufeffIMEI,型号,购买日期,保修月数,备注\r\n'
      + `${good[0]},GT06N,2025-03-01,12,一号库\r\n`
      + `${second},JM-VL03,2025/3/2,,一号库\r\n`
      + `${good[2]},BSJ-A6,2025-03-03,18,\r\n`;
    const bad = path.join(dir, 'terminals-bad.csv');
    const fixed = path.join(dir, 'terminals.csv');
    writeFileSync(bad, csv(wrong));
    writeFileSync(fixed, csv(good[1]));

    const page = await deskPage(browser, app.base);
    await signIn(page, 'zz.manager');
    await page.goto('/desk/#/registry?tab=terminals');
    await page.getByRole('heading', { name: '批量导入终端' }).waitFor();
    await page.getByLabel('选择终端文件').setInputFiles(bad);
    await page.getByRole('button', { name: '上传并导入' }).click();
    await page.getByRole('alert').filter({ hasText: '没有导入任何一行' }).waitFor();
    const errors = page.getByRole('table', { name: '导入问题' });
    const cells = await errors.locator('tbody tr').first().locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 3), ['第 3 行', 'IMEI', wrong]);
    assert.match(cells[3], /校验位/);
    assert.equal(await errors.locator('tbody tr').count(), 1);
    await page.evaluate(() => document.querySelector('#toasts')?.replaceChildren());
    await shot(page, 'desk-registry');
    assert.equal((await mgr.get(`/terminals?limit=10&imei=${good[0]}`)).items.length, 0, 'all or nothing');

    await page.getByLabel('选择终端文件').setInputFiles(fixed);
    await page.getByRole('button', { name: '上传并导入' }).click();
    await page.locator('p.banner.ok').filter({ hasText: '已导入 3 台终端' }).waitFor();
    const got = (await mgr.get('/terminals?limit=10&imei=865432100000')).items;
    assert.deepEqual(got.map((t) => t.imei).sort(), [...good].sort());
    assert.equal(got.find((t) => t.imei === good[1]).purchase_date, '2025-03-02');
    assert.equal(got.find((t) => t.imei === good[1]).warranty_months, 24, 'the model\'s warranty when the cell is empty');

    // the list filters by IMEI prefix
    await page.getByLabel('IMEI 开头').fill('865432100000');
    await page.getByRole('button', { name: '筛选' }).click();
    await page.getByRole('table', { name: 'GPS终端列表' }).getByText(good[2]).waitFor();
    assert.equal(await page.getByRole('table', { name: 'GPS终端列表' }).locator('tbody tr').count(), 3);
  });
});
