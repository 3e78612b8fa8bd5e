// The phone app's load benchmark (docs/benchmarks.md, ./scripts/bench-web): what the first
// visit transfers, how long until a technician sees their jobs on a throttled network, and
// the warm load from the service worker's cache. Not a test: it prints figures.
//
//   DISPATCH_BIN=…/release/dispatch node tests/browser/bench-web.mjs [runs, default 3]
import { startApp, launchBrowser, phone, Client } from './harness.mjs';

const RUNS = Number(process.argv[2] || 3);
// Chrome DevTools' "Slow 3G" preset (400 ms round trip × 5 packet-level factor = 2 s added
// per request, 400 kbit/s) and WebPageTest's "3G Slow" (400 ms round trip, 400 kbit/s).
const PROFILES = {
  'DevTools Slow 3G (2,000 ms, 400 kbit/s)': { latency: 2000, downloadThroughput: 50_000, uploadThroughput: 50_000 },
  'WebPageTest 3G Slow (400 ms, 400 kbit/s)': { latency: 400, downloadThroughput: 50_000, uploadThroughput: 50_000 },
  'unthrottled loopback': null,
};

const isoIn = (hours) => new Date(Date.now() + hours * 3600e3).toISOString();

async function scene(base) {
  const [admin, agent, mgr, tech] = await Promise.all(['admin', 'zz.agent1', 'zz.manager', 'zz.tech1'].map((u) => Client.as(base, u)));
  const me = await tech.get('/auth/me');
  const centers = await admin.get('/centers');
  const zz = (centers.items || centers).find((c) => c.code === 'ZZ');
  for (const [i, name] of ['郑州畅通物流有限公司', '河南安达运输有限公司', '郑州宇顺客运有限公司'].entries()) {
    const c = await agent.ok('POST', '/customers', {
      center_id: zz.id, name, tier: 'normal', address: '郑州市金水区花园路1号', lat: 34.77, lng: 113.66,
      payment_terms: 'cash', contacts: [{ name: '刘明', phone: '13838012345' }],
    });
    let o = await agent.ok('POST', '/work-orders/install', {
      customer_id: c.id, site_address: `郑州市管城区航海东路物流园${i + 1}号库`, site_lat: 34.72, site_lng: 113.70,
      contact_name: '刘明', contact_phone: '13838012345', window_start: isoIn(1 + 3 * i), window_end: isoIn(3 + 3 * i),
      requested_at: isoIn(-2), urgency: 'normal', channel: 'phone', submit: true,
      vehicles: [{ plate_no: `豫A7C10${i}` }, { plate_no: `豫A7D10${i}` }],
    });
    o = await mgr.ok('POST', `/work-orders/${o.id}/approve`, {}, { ifMatch: o.version });
    await mgr.ok('POST', `/work-orders/${o.id}/assign`, { lead_id: me.id, scheduled_at: isoIn(1 + 3 * i) }, { ifMatch: o.version });
  }
  return { token: tech.token, me };
}

/** A phone context signed in as the technician (token in localStorage before any script). */
async function signedInPhone(browser, base, who) {
  const ctx = await phone(browser, base);
  await ctx.addInitScript(([token, me]) => {
    if (!localStorage.getItem('dispatch.token')) {
      localStorage.setItem('dispatch.token', token);
      localStorage.setItem('dispatch.me', JSON.stringify(me));
    }
  }, [who.token, who.me]);
  return ctx;
}

/**
 * Loads `path` under `profile`; returns ms until `ready` holds (and until `early` holds,
 * when given), and bytes on the wire.
 */
async function measure(ctx, path, profile, ready, early) {
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  if (profile) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile });
  const t0 = Date.now();
  const sizes = new Map();
  const urls = new Map();
  cdp.on('Network.requestWillBeSent', (e) => {
    urls.set(e.requestId, e.request.url);
    if (process.env.BENCH_TRACE) console.log(`  +${Date.now() - t0} ms ${e.request.method} ${e.request.url.replace(/^https?:\/\/[^/]+/, '')} [${e.request.initialPriority}]`);
  });
  cdp.on('Network.loadingFinished', (e) => {
    sizes.set(e.requestId, e.encodedDataLength);
    if (process.env.BENCH_TRACE) console.log(`  +${Date.now() - t0} ms   done ${(urls.get(e.requestId) || '').replace(/^https?:\/\/[^/]+/, '')} (${e.encodedDataLength} B)`);
  });
  await page.goto(path, { waitUntil: 'commit' });
  let earlyMs = null;
  const seen = early ? early(page).then(() => { earlyMs = Date.now() - t0; }) : null;
  await ready(page);
  const ms = Date.now() - t0;
  await seen;
  await page.waitForTimeout(200);
  let shell = 0; let api = 0; let requests = 0;
  for (const [id, n] of sizes) {
    const u = urls.get(id) || '';
    requests += 1;
    if (u.includes('/api/v1/')) api += n; else shell += n;
  }
  await page.close();
  return { ms, earlyMs, shell, api, requests };
}

/**
 * Resolves once a link whose accessible name (its text) contains `text` is on the screen,
 * checked on every animation frame in the page: a locator's waitFor polls with backoff
 * (every 500 ms after the first 270 ms), which added up to half a second to the figures.
 */
const linkShown = (text) => (page) => page.waitForFunction(
  (t) => [...document.querySelectorAll('a[href]')].some((a) => a.textContent.includes(t) && a.getClientRects().length > 0),
  text, { polling: 'raf', timeout: 60_000 },
);
const jobsShown = linkShown('郑州宇顺客运有限公司');
// the same job drawn from the order list alone (time, kind, status, address, contact, number):
// on a first visit the list comes a round trip before the customers' names (they come with
// each job's full view)
const jobsListed = linkShown('物流园3号库');
const loginUsable = async (page) => {
  await page.getByRole('button', { name: '登录' }).waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => document.readyState === 'complete', null, { timeout: 60_000 });
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const app = await startApp();
const browser = await launchBrowser();
try {
  const who = await scene(app.base);
  console.log(`phone app load, ${RUNS} runs each (median), Chromium ${browser.version()}, 390×844`);
  for (const [name, profile] of Object.entries(PROFILES)) {
    const cold = []; const listed = []; const login = []; const warm = []; const offline = [];
    let sizes = null;
    for (let i = 0; i < RUNS; i += 1) {
      // first visit of the sign-in page: nothing cached
      const anon = await phone(browser, app.base);
      login.push((await measure(anon, '/', profile, loginUsable)).ms);
      await anon.close();
      // first visit of the app, signed in: nothing cached, no service worker yet
      const ctx = await signedInPhone(browser, app.base, who);
      const first = await measure(ctx, '/app/', profile, jobsShown, jobsListed);
      cold.push(first.ms);
      listed.push(first.earlyMs);
      sizes = first;
      // let the service worker install and take control, then load again
      const p = await ctx.newPage();
      await p.goto('/app/');
      await p.evaluate(() => navigator.serviceWorker.ready);
      await p.reload();
      await jobsShown(p);
      if (!(await p.evaluate(() => navigator.serviceWorker.controller !== null))) throw new Error('no service worker in control');
      await p.close();
      warm.push((await measure(ctx, '/app/', profile, jobsShown)).ms);
      await ctx.setOffline(true);
      offline.push((await measure(ctx, '/app/', null, jobsShown)).ms);
      await ctx.setOffline(false);
      await ctx.close();
    }
    console.log(`\n${name}`);
    console.log(`  sign-in page, first visit, usable:        ${median(login)} ms  (${login.join(', ')})`);
    console.log(`  phone app, first visit, jobs listed:      ${median(listed)} ms  (${listed.join(', ')})  (from the order list)`);
    console.log(`  phone app, first visit, jobs shown:       ${median(cold)} ms  (${cold.join(', ')})  (with the customers' names)`);
    console.log(`    transferred: shell ${kb(sizes.shell)}, API ${kb(sizes.api)}, ${sizes.requests} requests`);
    console.log(`  phone app, warm (service worker), jobs:   ${median(warm)} ms  (${warm.join(', ')})`);
    console.log(`  phone app, warm and offline, jobs:        ${median(offline)} ms  (${offline.join(', ')})`);
  }
} finally {
  await browser.close();
  await app.stop();
}
