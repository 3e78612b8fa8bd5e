// The browser tests' harness: the real `dispatch` binary on its own fresh database per
// test (SQLite in a temp dir, or a fresh PostgreSQL database when
// DISPATCH_TEST_DATABASE_URL names a server), Debian's Chromium driven by playwright-core,
// and a small API client for setting the scene through the public REST API.
//
//   DISPATCH_BIN                 the binary (default $CARGO_TARGET_DIR/debug/dispatch)
//   DISPATCH_TEST_DATABASE_URL   PostgreSQL admin URL; unset = SQLite
//   CHROMIUM                     the browser (default /usr/bin/chromium)
//   SCREENSHOTS=1                `shot()` writes docs/screens/<name>.png
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
export const BIN = process.env.DISPATCH_BIN || path.join(TARGET, 'debug', 'dispatch');
const PG_ADMIN = process.env.DISPATCH_TEST_DATABASE_URL || '';
export const PASSWORD = 'demo1234';

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function psql(url, sql) {
  execFileSync('psql', [url, '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Starts the app with the demo data (`demo`: true = the registry, 'full' = with the living
 * day, false = none) on a fresh database. Returns
 * `{ base, dataDir, stop() }`; `stop` kills the process and drops the database.
 * `beside: app` starts a second instance on `app`'s database and data directory (so the
 * same token signing key), without demo data; its `stop` leaves both to `app`.
 */
export async function startApp({ demo = true, env = {}, beside = null } = {}) {
  const port = await freePort();
  const dataDir = beside ? beside.dataDir : mkdtempSync(path.join(tmpdir(), 'dispatch-browser-'));
  if (beside) demo = false;
  const childEnv = {
    ...process.env,
    DISPATCH_LOG: process.env.DISPATCH_LOG || 'warn',
    DISPATCH_DATA_DIR: dataDir,
    DISPATCH_BIND: `127.0.0.1:${port}`,
    ...env,
  };
  delete childEnv.DATABASE_URL;
  let dbName = null;
  if (beside?.databaseUrl) {
    childEnv.DATABASE_URL = beside.databaseUrl;
  } else if (PG_ADMIN) {
    dbName = `dispatch_test_browser_${process.pid}_${port}`;
    psql(PG_ADMIN, `CREATE DATABASE ${dbName}`);
    const u = new URL(PG_ADMIN);
    u.pathname = '/' + dbName;
    childEnv.DATABASE_URL = u.toString();
  }
  // the demo registry (people, customers, vehicles, equipment) by default: each test sets
  // its own scene; `demo: 'full'` adds the demo's living day (orders, price list, tickets)
  const args = ['serve', ...(demo ? ['--demo'] : []), ...(demo && demo !== 'full' ? ['--demo-registry-only'] : [])];
  const child = spawn(BIN, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dispatch exited (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(base + '/readyz');
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`dispatch did not become ready:\n${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const app = {
    base,
    dataDir,
    databaseUrl: childEnv.DATABASE_URL || null,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.once('exit', r); setTimeout(r, 5000); });
      if (child.exitCode === null) child.kill('SIGKILL');
      if (beside) return;
      rmSync(dataDir, { recursive: true, force: true });
      if (dbName) {
        try { psql(PG_ADMIN, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); } catch { /* CI sweeps leftovers */ }
      }
    },
  };
  return app;
}

/** Headless Chromium (Debian's), one per test file. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=zh-CN'],
  });
}

/** Script errors of the pages handed to `watch` in this test file's process. */
export const pageErrors = [];

/** Records `page`'s uncaught script errors; `withApps` fails a test that had any. */
export function watch(page) {
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

/**
 * Runs `fn(apps, browser, dir)` with `n` instances of the app on one fresh database (the
 * second and later `beside` the first; `opts` go to the first's `startApp`), a browser and
 * a scratch directory; fails when a watched page had a script error; prints the apps' last
 * log lines when the test failed; stops everything.
 */
export async function withApps(n, fn, opts = {}) {
  const first = await startApp(opts);
  const apps = [first];
  const browser = await launchBrowser();
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-scratch-'));
  pageErrors.length = 0;
  try {
    for (let i = 1; i < n; i++) apps.push(await startApp({ beside: first }));
    await fn(apps, browser, dir);
    assert.deepEqual(pageErrors, [], 'no script errors in the pages');
  } catch (e) {
    for (const a of apps) console.error(a.log().split('\n').slice(-30).join('\n'));
    throw e;
  } finally {
    await browser.close();
    for (const a of apps.reverse()) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `withApps` with one instance: `fn(app, browser, dir)`. */
export async function withApp(fn, opts = {}) {
  return withApps(1, (apps, browser, dir) => fn(apps[0], browser, dir), opts);
}

/** A phone: 390×844, touch, zh-CN, Beijing time, geolocation allowed at a Zhengzhou garage. */
export async function phone(browser, base) {
  return browser.newContext({
    baseURL: base,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    geolocation: { latitude: 34.7466, longitude: 113.6254 },
    permissions: ['geolocation'],
    acceptDownloads: true,
  });
}

/** A desk: 1440×900, zh-CN, Beijing time. */
export async function desk(browser, base) {
  return browser.newContext({
    baseURL: base,
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
}

/** Signs in through the sign-in page; waits until the user's start page has loaded. */
export async function signIn(page, username, password = PASSWORD) {
  await page.goto('/');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.pathname !== '/');
}

/** `docs/screens/<name>.png` when SCREENSHOTS=1 (scripts/screens). */
export async function shot(page, name) {
  if (process.env.SCREENSHOTS !== '1') return;
  const dir = path.join(ROOT, 'docs', 'screens');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}

/** The REST API as one user, for setting the scene and checking the database's state. */
export class Client {
  constructor(base) { this.base = base; this.token = null; }

  static async as(base, username, password = PASSWORD) {
    const c = new Client(base);
    const r = await c.call('POST', '/auth/login', { username, password });
    c.token = r.body.access_token;
    return c;
  }

  /** `{status, body, etag}`; never throws for an HTTP status. */
  async call(method, p, body, { ifMatch, idem, headers = {} } = {}) {
    const h = { ...headers };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (ifMatch !== undefined) h['If-Match'] = typeof ifMatch === 'number' ? `"${ifMatch}"` : ifMatch;
    if (idem) h['Idempotency-Key'] = idem;
    const r = await fetch(this.base + '/api/v1' + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, body: parsed, etag: r.headers.get('etag') };
  }

  /** Like `call`, but a non-2xx answer throws with the problem's text. */
  async ok(method, p, body, opts) {
    const r = await this.call(method, p, body, opts);
    if (r.status >= 300) throw new Error(`${method} ${p} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  get(p) { return this.ok('GET', p); }
}
