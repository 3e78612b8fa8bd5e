// Refusals a technician meets are shown in Chinese, with what to do next: the phone app and
// the desk read one table (web/lib/problems.js) through `explain` / `explainZh`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startApp, launchBrowser, phone, signIn } from './harness.mjs';

let browser;
test.after(async () => { await browser?.close(); });

test('a technician refusal shows its Chinese text, never the English detail', { timeout: 60_000 }, async () => {
  const app = await startApp();
  browser = await launchBrowser();
  const ctx = await phone(browser, app.base);
  try {
    const page = await ctx.newPage();
    await signIn(page, 'zz.tech1');
    const shown = await page.evaluate(async () => {
      const { ApiProblem, explain } = await import('/lib/api.js');
      const { explainZh } = await import('/app/sync.js');
      const out = {};
      for (const [code, detail] of [
        ['terminal_has_sim', 'terminal already holds a SIM card'],
        ['center_mismatch', 'the terminal and the SIM belong to different centers'],
        ['terminal_takes_no_sim', 'this terminal model takes no SIM card'],
      ]) {
        const e = new ApiProblem(409, { status: 409, title: 'Conflict', code, detail });
        out[code] = [explainZh(e), explain(e)];
      }
      return out;
    });
    for (const [code, texts] of Object.entries(shown)) {
      for (const t of texts) {
        assert.match(t, /[\u4e00-\u9fff]/, `${code}: ${t}`);
        assert.doesNotMatch(t, /[A-Za-z]{4,}/, `${code} shows English: ${t}`);
      }
    }
    assert.match(shown.terminal_has_sim[0], /请先取出原卡/);
  } finally {
    await ctx.close();
    await app.stop();
  }
});
