// The agent's repair call (#/call) and the customer archive (#/customers) in real Chromium:
// a call from a contact's phone number to a submitted order with the keyboard only; a bad
// input refused in place with nothing filed, then a draft saved; the archive showing the
// customer's vehicles, terminal, SIM, warranty and orders, and a contact edit saved (after a
// refused one). Each test runs on its own app and database (the demo registry); the state
// is checked through the REST API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desk, signIn, shot, Client, withApp, watch } from './harness.mjs';


/** zz.agent1 signed in on a desk-sized page (script errors kept). */
async function agentPage(app, browser) {
  const ctx = await desk(browser, app.base);
  const page = await ctx.newPage();
  watch(page);
  await signIn(page, 'zz.agent1');
  return page;
}

/** A demo customer of ZZ (by a part of its name) with its archive, as the agent reads it. */
async function scene(base, name) {
  const agent = await Client.as(base, 'zz.agent1');
  const c = (await agent.get(`/customers?q=${encodeURIComponent(name)}&limit=5`)).items[0];
  const archive = await agent.get(`/customers/${c.id}/archive`);
  return { agent, customer: c, archive };
}

const settled = (page) => page.waitForFunction(() => !document.querySelector('#view')?.hasAttribute('aria-busy'));
const focused = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

/** Presses Tab until the element `#id` has the focus (keyboard only; fails after 60). */
async function tabTo(page, id) {
  for (let i = 0; i < 60; i += 1) {
    if (await focused(page) === id) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id} (at ${await focused(page)})`);
}

/** Replaces the text of the focused input by typing. */
async function retype(page, text) {
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

const orderCount = async (agent, customerId) => (await agent.get(`/customers/${customerId}/archive`)).orders.length;

test('a repair call from a contact\'s phone number to a submitted order, keyboard only', async () => {
  await withApp(async (app, browser) => {
    const { agent, customer, archive } = await scene(app.base, '绿城渣土');
    assert.ok(archive.vehicles.length >= 2, 'a customer with a fleet');
    const phone = customer.contacts[0].phone;
    const page = await agentPage(app, browser);
    const started = Date.now();
    await page.goto('/desk/#/call');
    await settled(page);
    assert.equal(await focused(page), 'call-q', 'the lookup box has the focus');
    await page.keyboard.type(phone);
    await page.keyboard.press('Enter');
    // the customer opens at once (one match): its vehicles, terminals, SIMs and verdicts
    await page.locator('.call-vehicle').first().waitFor();
    const view = page.locator('#view');
    for (const v of archive.vehicles) {
      await view.locator('.call-vehicle .plate').getByText(v.plate_no, { exact: true }).waitFor();
      const t = v.terminals[0];
      await view.getByText(`IMEI ${t.imei}`).first().waitFor();
      await view.getByText(`ICCID ${t.sim.iccid}`).first().waitFor();
    }
    // several vehicles and a contact's number: the agent picks the vehicle (Space, ↓)
    assert.match(await focused(page), /^veh-/);
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowDown');
    const chosen = archive.vehicles[1];
    assert.equal(await focused(page), `veh-${chosen.id}`);
    assert.ok(await page.locator(`#veh-${chosen.id}`).isChecked());
    const verdict = chosen.terminals[0].warranty;
    await page.locator('#call-verdict').getByText(verdict.in_warranty ? `保修期内（至 ${verdict.ends_on}）` : `已过保（${verdict.ends_on} 到期）`).waitFor();
    // symptoms from the pick list and text; urgent; the contact is prefilled
    await tabTo(page, 'sym-0');
    await page.keyboard.press('Space');
    await tabTo(page, 'sym-6');
    await page.keyboard.press('Space');
    await tabTo(page, 'call-symptom-text');
    await page.keyboard.type('昨天起平台看不到位置');
    assert.equal(await page.locator('#call-contact-name').inputValue(), customer.contacts[0].name);
    assert.equal(await page.locator('#call-contact-phone').inputValue(), phone);
    await tabTo(page, 'call-urgency');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('#call-urgency').inputValue(), 'urgent');
    // the site: the customer's address is offered; the agent types the yard's address
    await tabTo(page, 'call-address');
    await retype(page, '郑州市惠济区天河路渣土车停车场');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'desk-call');
    await page.keyboard.press('Enter');
    await page.locator('.call-done').waitFor();
    const typedMs = Date.now() - started;
    const number = await page.locator('.call-done .order-no').textContent();
    assert.equal(await focused(page), 'call-open-order', 'the link to the order has the focus');
    const href = await page.locator('#call-open-order').getAttribute('href');
    const id = href.replace('#/orders/', '');
    const o = await agent.get(`/work-orders/${id}`);
    assert.equal(o.number, number);
    assert.equal(o.status, 'submitted');
    assert.equal(o.kind, 'repair');
    assert.equal(o.customer_id, customer.id);
    assert.equal(o.lines.length, 1);
    assert.equal(o.lines[0].vehicle_id, chosen.id);
    assert.equal(o.fault_symptoms, '不定位、线路松动；昨天起平台看不到位置');
    assert.equal(o.urgency, 'urgent');
    assert.equal(o.contact_phone, phone);
    assert.equal(o.site_address, '郑州市惠济区天河路渣土车停车场');
    assert.equal(o.site_lat, customer.lat);
    assert.equal(o.site_lng, customer.lng);
    assert.equal(o.terminal_id, chosen.terminals[0].id);
    assert.equal(o.warranty_in, verdict.in_warranty);
    assert.equal(o.warranty_ends_on, verdict.ends_on);
    // Enter on the link opens the order
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.hash === href);
    await page.getByText(number).first().waitFor();
    console.log(`repair call filed with the keyboard in ${typedMs} ms (browser automation, typing included)`);
  });
});

test('a bad input is refused in place and nothing is filed; then a draft is saved', async () => {
  await withApp(async (app, browser) => {
    const { agent, customer, archive } = await scene(app.base, '速达城市配送');
    assert.equal(archive.vehicles.length, 1);
    const v = archive.vehicles[0];
    const page = await agentPage(app, browser);
    const before = await orderCount(agent, customer.id);
    // the driver's number: the one vehicle and the driver as contact
    await page.goto(`/desk/#/call?q=${encodeURIComponent(v.drivers[0].phone)}`);
    await page.locator('.call-vehicle').first().waitFor();
    assert.ok(await page.locator(`#veh-${v.id}`).isChecked());
    assert.equal(await page.locator('#call-contact-name').inputValue(), v.drivers[0].name);
    assert.equal(await focused(page), 'sym-0', 'the one vehicle is chosen; the symptoms are next');
    // no symptom: refused in place before sending
    await page.keyboard.press('Enter');
    await page.locator('#err-fault_symptoms').getByText('请勾选故障现象或填写补充说明').waitFor();
    assert.equal(await focused(page), 'call-symptom-text');
    await page.keyboard.type('终端指示灯不亮');
    // a phone number the API refuses: its words next to the field
    await tabTo(page, 'call-contact-phone');
    await retype(page, '12345');
    await page.keyboard.press('Enter');
    const err = page.locator('#err-contact_phone');
    await err.filter({ hasText: /\S/ }).waitFor();
    assert.notEqual((await err.textContent()).trim(), '');
    assert.doesNotMatch(await err.textContent(), /[a-z]{4,}/, 'in Chinese');
    assert.equal(await page.locator('#call-contact-phone').getAttribute('aria-invalid'), 'true');
    assert.equal(await focused(page), 'call-contact-phone');
    await page.locator('#call-form-error').getByText('未保存').waitFor();
    assert.equal(await orderCount(agent, customer.id), before, 'nothing filed');
    // corrected, saved as a draft (the button, by keyboard)
    await retype(page, '13912345678');
    await tabTo(page, 'call-draft');
    await page.keyboard.press('Enter');
    await page.locator('.call-done').getByText('已保存草稿').waitFor();
    const id = (await page.locator('#call-open-order').getAttribute('href')).replace('#/orders/', '');
    const o = await agent.get(`/work-orders/${id}`);
    assert.equal(o.status, 'draft');
    assert.equal(o.lines[0].vehicle_id, v.id);
    assert.equal(o.fault_symptoms, '终端指示灯不亮');
    assert.equal(o.contact_phone, '13912345678');
    assert.equal(await orderCount(agent, customer.id), before + 1);
  });
});

test('the archive shows vehicles, terminals, SIMs and orders; a contact edit is refused, then saved', async () => {
  await withApp(async (app, browser) => {
    const { agent, customer, archive } = await scene(app.base, '金盾出租');
    const v = archive.vehicles[0];
    const order = await agent.ok('POST', '/work-orders/repair', {
      customer_id: customer.id, vehicle_id: v.id, site_address: customer.address, site_lat: customer.lat, site_lng: customer.lng,
      contact_name: customer.contacts[0].name, contact_phone: customer.contacts[0].phone, fault_symptoms: '不上线', submit: true,
    });
    const page = await agentPage(app, browser);
    await page.goto('/desk/#/customers');
    await settled(page);
    await page.getByLabel('客户名称').fill('金盾');
    await page.getByLabel('客户名称').press('Enter');
    await page.getByRole('link', { name: customer.name }).click();
    await page.getByRole('heading', { name: customer.name }).waitFor();
    const vehicles = page.locator('section[aria-labelledby="arc-vehicles"]');
    for (const x of archive.vehicles) {
      await vehicles.getByText(x.plate_no, { exact: true }).first().waitFor();
      await vehicles.getByText(`IMEI ${x.terminals[0].imei}`).first().waitFor();
      await vehicles.getByText(`ICCID ${x.terminals[0].sim.iccid}`).first().waitFor();
      await vehicles.getByText(x.drivers[0].phone, { exact: false }).first().waitFor();
    }
    await page.locator('section[aria-labelledby="arc-orders"]').getByRole('link', { name: order.number }).waitFor();
    await shot(page, 'desk-archive');
    // a bad phone: the API's words next to the field, nothing saved
    const phone = page.locator('#ct-0-phone');
    await phone.fill('12');
    await page.getByRole('button', { name: '保存联系人' }).click();
    const err = page.locator('#ct-0-phone-err');
    await err.filter({ hasText: /\S/ }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), 'true');
    assert.equal((await agent.get(`/customers/${customer.id}`)).contacts[0].phone, customer.contacts[0].phone);
    // corrected: saved with If-Match, and a second contact added
    await phone.fill('13700001111');
    await page.getByRole('button', { name: '添加联系人' }).click();
    const last = customer.contacts.length;
    await page.locator(`#ct-${last}-name`).fill('赵调度');
    await page.locator(`#ct-${last}-phone`).fill('0371-66668888');
    await page.locator(`#ct-${last}-title`).press('Enter');
    await page.locator('section[aria-labelledby="arc-contacts"]').getByText('联系人已保存').waitFor();
    const after = await agent.get(`/customers/${customer.id}`);
    assert.equal(after.version, customer.version + 1);
    assert.equal(after.contacts[0].phone, '13700001111');
    assert.equal(after.contacts[0].name, customer.contacts[0].name);
    assert.deepEqual(after.contacts.at(-1), { name: '赵调度', phone: '0371-66668888', email: null, title: null });
    assert.equal(after.contacts.length, customer.contacts.length + 1);
  });
});
