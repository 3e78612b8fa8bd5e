// A repair call (维修来电): the caller's phone number or a plate → the customer, the
// vehicle(s), the terminal in each with its SIM and today's warranty verdict (computed by
// the server, GET /customers/{id}/archive), the customer's recent orders and open
// complaints; the fault from a pick list plus text, urgency, contact (prefilled from the
// matched contact or driver), site (a previous site, an address, coordinates, a map pick
// when the desk has a map); saved as a draft or submitted (POST /work-orders/repair).
// Keyboard: the lookup box has the focus; Enter looks up; a single match opens at once and
// the focus moves to the symptoms; Enter in any text field submits; every control is
// reachable with Tab.
import { api, newKey, ApiProblem, explain } from '/lib/api.js';
import { h, mount, press } from '/lib/dom.js';
import { date, dateTime, KIND, ORDER_STATUS, URGENCY } from '/lib/fmt.js';
import { problemText } from '/lib/problems.js';
import { guarded, table, CHANNEL, TICKET_KIND, TICKET_STATUS, statusClass } from './util.js';

/** Common faults of a GPS terminal (故障现象), in the order agents hear them. */
export const SYMPTOMS = ['不定位', '不上线', '设备离线', '断电/电源故障', 'SIM卡异常', '天线损坏', '线路松动', '其他'];
const CHANNELS = ['phone', 'letter', 'walk_in', 'online'];
const TERMINAL_STATUS = { in_stock: '在库', installed: '已安装', in_repair: '维修中', returned: '已退回', scrapped: '已报废' };
const SIM_STATUS = { in_stock: '在库', active: '正常', suspended: '停机', cancelled: '已注销' };
const CARRIER = { china_mobile: '中国移动', china_unicom: '中国联通', china_telecom: '中国电信' };
const MATCH = {
  order_no: '工单号', name: '名称', initials: '拼音首字母', contact_phone: '联系人电话', driver_phone: '司机电话',
  plate: '车牌', vin: '车架号', imei: 'IMEI', iccid: 'ICCID', msisdn: 'SIM卡号', receipt_no: '收据号',
};

const digits = (s) => String(s || '').replace(/\D/g, '');
/** Whether two phone numbers are the same line (the typed one may be a tail). */
function samePhone(a, b) {
  const x = digits(a);
  const y = digits(b);
  return x.length >= 7 && y.length >= 7 && (x.endsWith(y) || y.endsWith(x));
}

/** The warranty verdict in words. */
export function warrantyText(w) {
  if (!w) return '无法判定保修';
  return w.in_warranty ? `保修期内（至 ${w.ends_on}），免费维修` : `已过保（${w.ends_on} 到期），只收配件费、不收工时费`;
}
export const warrantyBadge = (w) => h('span', { class: `badge ${w ? (w.in_warranty ? 'ok' : 'warn') : ''}` },
  w ? (w.in_warranty ? '保修期内' : '已过保') : '保修未知');

/** Looks `q` up: the search endpoint's hits of the kinds a call starts from. */
async function lookup(q) {
  const r = await api(`/search?q=${encodeURIComponent(q)}&kinds=customer,vehicle,terminal,sim&limit=8`);
  return r.data.groups.flatMap((g) => g.items);
}

export async function page(ctx) {
  const what = '来电报修';
  // the role's right to file orders is checked by reading what the page needs
  const q0 = ctx.query.get('q') || '';
  const lookupInput = h('input', { id: 'call-q', type: 'search', autocomplete: 'off', value: q0, placeholder: '如 13812345678 或 豫A12345', 'aria-describedby': 'call-q-hint' });
  const hits = h('div', { id: 'call-hits', 'aria-live': 'polite' });
  const body = h('div', { id: 'call-body' });
  const lookupForm = h('form', { class: 'call-lookup card', role: 'search', 'aria-label': '查找来电客户' },
    h('label', { for: 'call-q' }, '来电号码或车牌'),
    h('div', { class: 'row' }, h('div', { class: 'grow' }, lookupInput), h('button', { type: 'submit', class: 'primary' }, '查找')),
    h('div', { id: 'call-q-hint', class: 'muted small' }, '输入来电号码、联系人或司机电话、车牌（可不带省份简称）、IMEI 或客户名称，按回车查找'),
    hits);
  mount(ctx.root,
    h('div', { class: 'pagehead' }, h('h1', {}, '来电报修'), h('span', { class: 'muted' }, '维修来电：查找客户 → 选车辆 → 填故障 → 提交')),
    lookupForm, body);

  let current = null; // { archive, tickets, hit, q }

  async function open(customerId, hit, q) {
    mount(body, h('p', { class: 'muted' }, '正在读取客户档案…'));
    const [archive, open1, open2] = await Promise.all([
      guarded(api(`/customers/${customerId}/archive`), what).then((r) => r.data),
      api(`/tickets?customer_id=${encodeURIComponent(customerId)}&status=open&limit=20`).then((r) => r.data.items).catch(() => []),
      api(`/tickets?customer_id=${encodeURIComponent(customerId)}&status=replied&limit=20`).then((r) => r.data.items).catch(() => []),
    ]);
    if (!ctx.alive()) return;
    current = { archive, tickets: [...open1, ...open2], hit, q };
    mount(hits);
    renderCall(current);
  }

  async function find(ev) {
    ev?.preventDefault();
    const q = lookupInput.value.trim();
    if (!q) { mount(hits, h('p', { class: 'field-error', role: 'alert' }, '请输入来电号码或车牌')); lookupInput.focus(); return; }
    // the number stays in the address (a reload or a colleague's link opens the same call)
    history.replaceState(null, '', `#/call?q=${encodeURIComponent(q)}`);
    mount(hits, h('p', { class: 'muted' }, '正在查找…'));
    let items;
    try {
      items = await guarded(lookup(q), what);
    } catch (e) {
      mount(hits, h('p', { class: 'field-error', role: 'alert' }, explain(e)));
      return;
    }
    if (!ctx.alive()) return;
    const customers = [...new Set(items.map((i) => i.customer_id))];
    if (!items.length) {
      mount(hits, h('p', { class: 'banner', role: 'alert' }, `没有找到“${q}”对应的客户或车辆。请核对号码，或到`, h('a', { href: '#/customers' }, '客户档案'), '按名称查找；新客户请先登记。'));
      lookupInput.focus();
      return;
    }
    if (customers.length === 1) {
      const vids = [...new Set(items.map((i) => i.vehicle_id).filter(Boolean))];
      const hit = items.find((i) => i.vehicle_id) || items[0];
      await open(customers[0], { ...hit, vehicle_id: vids.length === 1 ? vids[0] : null }, q);
      return;
    }
    const list = h('ul', { class: 'call-hitlist', 'aria-label': '查找结果' }, items.map((i) => h('li', {},
      h('button', { type: 'button', class: 'call-hit', onclick: () => open(i.customer_id, i, q) },
        h('strong', {}, i.title), ' ', h('span', { class: 'muted' }, i.subtitle || ''), ' ',
        h('span', { class: 'badge' }, MATCH[i.match] || i.match)))));
    mount(hits, h('p', { class: 'muted small' }, `找到 ${items.length} 条，请选择来电客户：`), list);
    list.querySelector('button')?.focus();
  }
  lookupForm.addEventListener('submit', find);

  function renderCall({ archive, tickets, hit, q }) {
    const c = archive.customer;
    const vehicles = archive.vehicles;
    // the vehicle: the one matched, else the one whose driver called, else the only one
    const byDriver = vehicles.find((v) => v.drivers.some((d) => samePhone(d.phone, q)));
    const chosen0 = (hit?.vehicle_id && vehicles.find((v) => v.id === hit.vehicle_id)) || byDriver || (vehicles.length === 1 ? vehicles[0] : null);
    // the contact: the matched driver or contact, else the primary contact
    const driver = byDriver?.drivers.find((d) => samePhone(d.phone, q));
    const contact = c.contacts.find((x) => samePhone(x.phone, q));
    const person = driver || contact || c.contacts[0] || { name: '', phone: '' };

    const errors = new Map(); // field → its error element
    const errorBox = (name) => { const el = h('div', { class: 'field-error', id: `err-${name}`, 'aria-live': 'polite' }); errors.set(name, el); return el; };

    // ---- vehicles (radio list), each with its terminal, SIM and warranty
    const vehicleRow = (v) => {
      const t = v.terminals[0];
      const input = h('input', { type: 'radio', name: 'vehicle', value: v.id, id: `veh-${v.id}`, checked: v.id === chosen0?.id });
      return h('div', { class: 'call-vehicle', dataset: { plate: v.plate_no } },
        input,
        h('label', { for: `veh-${v.id}`, class: 'plain' },
          h('span', { class: 'plate' }, v.plate_no), ' ',
          h('span', { class: 'muted' }, [v.model, v.drivers.map((d) => `司机 ${d.name} ${d.phone}`).join('，')].filter(Boolean).join(' · ')),
          h('br'),
          t ? [
            warrantyBadge(t.warranty), ' ',
            h('span', {}, `终端 ${t.model_code} IMEI ${t.imei}（${TERMINAL_STATUS[t.status] || t.status}，${date(t.purchase_date)} 购买，保修 ${t.warranty_months} 个月）`),
            h('br'),
            t.sim ? h('span', { class: 'muted' }, `SIM卡 ${t.sim.msisdn} · ICCID ${t.sim.iccid} · ${CARRIER[t.sim.carrier] || t.sim.carrier} · ${SIM_STATUS[t.sim.status] || t.sim.status}`)
              : h('span', { class: 'muted' }, '终端内没有登记SIM卡'),
          ] : h('span', { class: 'muted' }, '该车没有登记已安装的终端')));
    };
    const vehicleFilter = vehicles.length > 8 ? h('input', { type: 'search', id: 'veh-filter', placeholder: '输入车牌筛选', class: 'compact', 'aria-label': '筛选车辆' }) : null;
    const vehicleList = h('div', { class: 'call-vehicles' }, vehicles.map(vehicleRow));
    vehicleFilter?.addEventListener('input', () => {
      const f = vehicleFilter.value.trim().toUpperCase();
      for (const el of vehicleList.children) el.hidden = !!f && !el.dataset.plate.toUpperCase().includes(f) && !el.querySelector('input').checked;
    });
    const vehicleSet = h('fieldset', { class: 'card' },
      h('legend', {}, `车辆（${vehicles.length}）`),
      vehicles.length ? [vehicleFilter, vehicleList] : h('p', { class: 'banner' }, '该客户还没有登记车辆：请先到“登记与导入”登记车辆，再报修。'),
      errorBox('vehicle_id'));

    // ---- the verdict of the chosen vehicle, and what to ask when no terminal is known
    const verdict = h('div', { id: 'call-verdict', 'aria-live': 'polite' });
    const modelInput = h('input', { id: 'call-model', autocomplete: 'off', placeholder: '如 GT06N' });
    const boughtInput = h('input', { id: 'call-bought', type: 'date' });
    const unknownTerminal = h('div', { class: 'row call-unknown', hidden: true },
      h('div', { class: 'field' }, h('label', { for: 'call-model' }, '产品型号（客户所述）'), modelInput, errorBox('product_model')),
      h('div', { class: 'field' }, h('label', { for: 'call-bought' }, '购买日期'), boughtInput, errorBox('purchase_date')));
    const chosenVehicle = () => vehicles.find((v) => v.id === vehicleList.querySelector('input:checked')?.value) || null;
    const showVerdict = () => {
      const v = chosenVehicle();
      const t = v?.terminals[0];
      unknownTerminal.hidden = !v || !!t;
      mount(verdict, !v ? h('p', { class: 'muted' }, '请选择车辆')
        : t ? h('p', { class: `banner ${t.warranty.in_warranty ? 'ok' : ''}` }, `${v.plate_no}：${warrantyText(t.warranty)}`)
          : h('p', { class: 'banner' }, `${v.plate_no} 没有登记终端：请问客户产品型号和购买日期，提交后系统据此判定保修。`));
    };
    vehicleList.addEventListener('change', showVerdict);
    showVerdict();

    // ---- symptoms
    const symptomBoxes = SYMPTOMS.map((s, i) => h('label', { class: 'chip' }, h('input', { type: 'checkbox', name: 'symptom', value: s, id: `sym-${i}` }), s));
    const symptomText = h('input', { id: 'call-symptom-text', autocomplete: 'off', placeholder: '补充说明，如：昨天起平台看不到位置', maxlength: 900 });
    const symptomSet = h('fieldset', { class: 'card' },
      h('legend', {}, '故障现象'),
      h('div', { class: 'chips' }, symptomBoxes),
      h('label', { for: 'call-symptom-text' }, '补充说明'),
      symptomText,
      errorBox('fault_symptoms'));

    // ---- urgency, channel, contact
    const urgency = h('select', { id: 'call-urgency' }, Object.entries(URGENCY).reverse().map(([k, v]) => h('option', { value: k }, v)));
    urgency.value = 'normal';
    const channel = h('select', { id: 'call-channel' }, CHANNELS.map((k) => h('option', { value: k }, CHANNEL[k])));
    const contactName = h('input', { id: 'call-contact-name', autocomplete: 'off', value: person.name });
    const contactPhone = h('input', { id: 'call-contact-phone', autocomplete: 'off', inputmode: 'tel', value: person.phone });
    const who = h('fieldset', { class: 'card' },
      h('legend', {}, '联系人与紧急程度'),
      h('div', { class: 'call-grid' },
        h('div', { class: 'field' }, h('label', { for: 'call-contact-name' }, '联系人'), contactName, errorBox('contact_name')),
        h('div', { class: 'field' }, h('label', { for: 'call-contact-phone' }, '联系电话'), contactPhone, errorBox('contact_phone')),
        h('div', { class: 'field' }, h('label', { for: 'call-urgency' }, '紧急程度'), urgency, errorBox('urgency')),
        h('div', { class: 'field' }, h('label', { for: 'call-channel' }, '来电方式'), channel, errorBox('channel'))),
      (driver || contact) ? h('p', { class: 'muted small' }, `已按来电号码填入${driver ? '司机' : '联系人'} ${person.name}`) : null);

    // ---- the site: a previous one, an address, coordinates
    const sites = [];
    const seen = new Set();
    for (const o of archive.orders) {
      const key = `${o.site_address}|${o.site_lat}|${o.site_lng}`;
      if (seen.has(key)) continue;
      seen.add(key);
      sites.push({ address: o.site_address, lat: o.site_lat, lng: o.site_lng, label: `${o.site_address}（${KIND[o.kind] || o.kind} ${date(o.requested_at)}）` });
    }
    if (c.lat !== null && c.lat !== undefined && !seen.has(`${c.address}|${c.lat}|${c.lng}`)) {
      sites.push({ address: c.address, lat: c.lat, lng: c.lng, label: `${c.address}（客户地址）` });
    }
    const sitePick = h('select', { id: 'call-site-pick' },
      h('option', { value: '' }, sites.length ? '— 选择以往地点 —' : '（没有以往地点，请填写地址和坐标）'),
      sites.map((s, i) => h('option', { value: String(i) }, s.label)));
    const address = h('input', { id: 'call-address', autocomplete: 'off' });
    const lat = h('input', { id: 'call-lat', inputmode: 'decimal', autocomplete: 'off', class: 'coord', placeholder: '34.7466' });
    const lng = h('input', { id: 'call-lng', inputmode: 'decimal', autocomplete: 'off', class: 'coord', placeholder: '113.6254' });
    const useSite = (s) => { address.value = s.address; lat.value = String(s.lat); lng.value = String(s.lng); };
    sitePick.addEventListener('change', () => { if (sitePick.value !== '') useSite(sites[Number(sitePick.value)]); });
    if (sites.length) { sitePick.value = '0'; useSite(sites[0]); }
    const mapBox = h('div', { class: 'call-map', hidden: true });
    const mapButton = h('button', { type: 'button', class: 'small', hidden: true }, '在地图上选点');
    const siteSet = h('fieldset', { class: 'card' },
      h('legend', {}, '维修地点'),
      h('div', { class: 'field' }, h('label', { for: 'call-site-pick' }, '以往地点'), sitePick),
      h('div', { class: 'field' }, h('label', { for: 'call-address' }, '地址'), address, errorBox('site_address')),
      h('div', { class: 'row' },
        h('div', { class: 'field' }, h('label', { for: 'call-lat' }, '纬度'), lat),
        h('div', { class: 'field' }, h('label', { for: 'call-lng' }, '经度'), lng),
        mapButton),
      errorBox('site'),
      mapBox);
    attachMap(mapButton, mapBox, { lat, lng, center: [c.lat ?? 34.7466, c.lng ?? 113.6254] });

    const notes = h('textarea', { id: 'call-notes', rows: 2, maxlength: 2000 });
    const notesField = h('div', { class: 'field card' }, h('label', { for: 'call-notes' }, '备注（给调度和技术员）'), notes, errorBox('notes'));

    // ---- actions
    const formError = h('div', { id: 'call-form-error', role: 'alert' });
    const submitBtn = h('button', { type: 'submit', class: 'primary', id: 'call-submit' }, '提交审批');
    const draftBtn = h('button', { type: 'button', id: 'call-draft' }, '保存草稿');
    const form = h('form', { class: 'call-form', novalidate: true, 'aria-label': '维修服务单' },
      vehicleSet, verdict, unknownTerminal, symptomSet, who, siteSet, notesField, formError,
      h('div', { class: 'row call-actions' }, submitBtn, draftBtn,
        h('span', { class: 'muted small' }, '在输入框中按回车即提交审批')));

    const symptomsValue = () => {
      const picked = symptomBoxes.map((l) => l.querySelector('input')).filter((x) => x.checked).map((x) => x.value);
      const text = symptomText.value.trim();
      return [picked.join('、'), text].filter(Boolean).join('；');
    };
    const clearErrors = () => {
      for (const el of errors.values()) el.textContent = '';
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      mount(formError);
    };
    const FIELD_INPUT = {
      vehicle_id: () => vehicleList.querySelector('input:checked') || vehicleList.querySelector('input'),
      fault_symptoms: () => symptomText, contact_name: () => contactName, contact_phone: () => contactPhone,
      urgency: () => urgency, channel: () => channel, site_address: () => address, site: () => lat,
      notes: () => notes, product_model: () => modelInput, purchase_date: () => boughtInput,
    };
    const showError = (fieldName, text) => {
      const key = errors.has(fieldName) ? fieldName : fieldName.startsWith('site') ? 'site' : null;
      if (key) {
        errors.get(key).textContent = text;
        const input = FIELD_INPUT[key]?.();
        if (input) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', `err-${key}`); }
        if (key === 'site') { lat.setAttribute('aria-invalid', 'true'); lng.setAttribute('aria-invalid', 'true'); }
        return input;
      }
      formError.append(h('p', { class: 'banner bad' }, text));
      return null;
    };

    // one key per request as typed: a retry after a lost answer files the call once
    let sent = { key: null, body: null };
    async function file(submit) {
      clearErrors();
      const v = chosenVehicle();
      const problems = [];
      if (!v) problems.push(['vehicle_id', '请选择报修的车辆']);
      const symptoms = symptomsValue();
      if (!symptoms) problems.push(['fault_symptoms', '请勾选故障现象或填写补充说明']);
      const la = Number(lat.value.trim());
      const ln = Number(lng.value.trim());
      if (lat.value.trim() === '' || lng.value.trim() === '' || !Number.isFinite(la) || !Number.isFinite(ln)) {
        problems.push(['site', '请选择以往地点，或填写纬度和经度（数字）']);
      }
      if (problems.length) {
        const first = problems.map(([f, t]) => showError(f, t)).find(Boolean);
        first?.focus();
        return;
      }
      const t = v.terminals[0];
      const bodyJson = {
        customer_id: c.id,
        vehicle_id: v.id,
        site_address: address.value,
        site_lat: la,
        site_lng: ln,
        contact_name: contactName.value,
        contact_phone: contactPhone.value,
        urgency: urgency.value,
        channel: channel.value,
        fault_symptoms: symptoms,
        notes: notes.value.trim() || undefined,
        submit,
      };
      if (!t) {
        if (modelInput.value.trim()) bodyJson.product_model = modelInput.value.trim();
        if (boughtInput.value) bodyJson.purchase_date = boughtInput.value;
      }
      try {
        const fingerprint = JSON.stringify(bodyJson);
        if (sent.body !== fingerprint) sent = { key: newKey(), body: fingerprint };
        const r = await api('/work-orders/repair', { method: 'POST', body: bodyJson, idempotencyKey: sent.key });
        filed(r.data, v, t);
      } catch (e) {
        if (e instanceof ApiProblem && e.problem.errors?.length) {
          const first = e.problem.errors.map((f) => showError(f.field, problemText(f.code, true) || f.message)).find(Boolean);
          formError.prepend(h('p', { class: 'banner bad' }, `${problemText(e.code) || '填写有误'}，未保存。`));
          first?.focus();
        } else {
          formError.append(h('p', { class: 'banner bad' }, `${explain(e)}（未保存）`));
          formError.focus?.();
        }
      }
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); press(submitBtn, () => file(true), '正在提交…'); });
    draftBtn.addEventListener('click', () => press(draftBtn, () => file(false), '正在保存…'));
    // Enter in a checkbox submits too (browsers only do it for text fields)
    for (const l of symptomBoxes) l.querySelector('input').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); form.requestSubmit(submitBtn); } });

    // ---- the customer, recent orders, open complaints (side column)
    const recent = archive.orders.slice(0, 5);
    const side = h('aside', { class: 'col-side call-side', 'aria-label': '客户概况' },
      h('section', { class: 'card' },
        h('h2', {}, h('a', { href: `#/customers/${c.id}` }, c.name)),
        h('dl', { class: 'facts' },
          h('dt', {}, '地址'), h('dd', {}, c.address),
          h('dt', {}, '联系人'), h('dd', {}, c.contacts.map((x) => `${x.name}${x.title ? `（${x.title}）` : ''} ${x.phone}`).join('；') || '—'),
          h('dt', {}, '车辆 / 终端'), h('dd', {}, `${archive.vehicle_count} 辆 / ${archive.terminal_count} 台`))),
      h('section', { class: 'card' },
        h('h2', {}, '最近工单'),
        table('最近工单', ['工单号', '类型', '状态', '受理'], recent.map((o) => h('tr', {},
          h('td', {}, h('a', { href: `#/orders/${o.id}` }, o.number)),
          h('td', {}, KIND[o.kind] || o.kind),
          h('td', {}, h('span', { class: `badge ${statusClass(o.status)}` }, ORDER_STATUS[o.status] || o.status)),
          h('td', {}, date(o.requested_at)))), '没有工单')),
      h('section', { class: 'card' },
        h('h2', {}, `未结诉求（${tickets.length}）`),
        table('未结投诉与诉求', ['编号', '类型', '事由', '状态', '回复期限'], tickets.map((x) => h('tr', { class: x.breached ? 'late' : '' },
          h('td', {}, h('a', { href: `#/tickets/${x.id}` }, x.number)),
          h('td', {}, TICKET_KIND[x.kind] || x.kind),
          h('td', {}, x.subject),
          h('td', {}, TICKET_STATUS[x.status] || x.status),
          h('td', { class: x.breached ? 'bad-text' : '' }, dateTime(x.reply_due_at)))), '没有未结的投诉或诉求')));

    mount(body, h('div', { class: 'columns call-columns' }, form, side));
    // the fastest path: the symptoms next
    (chosen0 ? symptomBoxes[0].querySelector('input') : vehicleList.querySelector('input') || symptomBoxes[0].querySelector('input')).focus();

    function filed(o, v, t) {
      const done = h('section', { class: 'card call-done', role: 'status', tabindex: '-1' },
        h('h2', {}, o.status === 'draft' ? '已保存草稿' : '已提交审批'),
        h('p', {}, '工单号 ', h('strong', { class: 'order-no' }, o.number), ' · ', v.plate_no, ' · ', o.fault_symptoms),
        h('p', {}, warrantyText(o.warranty_in === null || o.warranty_in === undefined ? (t?.warranty || null) : { in_warranty: o.warranty_in, ends_on: o.warranty_ends_on })),
        h('div', { class: 'row' },
          h('a', { class: 'button primary', href: `#/orders/${o.id}`, id: 'call-open-order' }, `打开工单 ${o.number}`),
          h('button', { type: 'button', onclick: () => { lookupInput.value = ''; mount(body); mount(hits); ctx.go('#/call', { replace: true }); } }, '接下一个来电')));
      mount(body, done);
      done.querySelector('#call-open-order').focus();
    }
  }

  // opened from the archive (`#/call?customer=<id>`) or with a number (`#/call?q=`)
  const cid = ctx.query.get('customer');
  if (cid) await open(cid, null, q0);
  else if (q0) await find();
  else lookupInput.focus();
}

/** A map pick, when the desk has a map (web/desk/map.js, contract in CONTRACTS.md). */
async function attachMap(button, box, { lat, lng, center }) {
  let mod = null;
  try { mod = await import('./map.js'); } catch { return; }
  if (!mod?.mapView) return;
  button.hidden = false;
  let view = null;
  button.addEventListener('click', () => {
    if (view) { view.destroy(); view = null; box.hidden = true; button.textContent = '在地图上选点'; return; }
    box.hidden = false;
    button.textContent = '收起地图';
    const here = [Number(lat.value) || center[0], Number(lng.value) || center[1]];
    view = mod.mapView(box, {
      center: here,
      markers: [{ lat: here[0], lng: here[1], label: '维修地点', kind: 'site' }],
      onPick(a, b) {
        lat.value = a.toFixed(6);
        lng.value = b.toFixed(6);
        view?.setMarkers([{ lat: a, lng: b, label: '维修地点', kind: 'site' }]);
      },
    });
  });
}
