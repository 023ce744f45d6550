/**
 * The dashboard in a real browser: `sluice serve` on a quickstart copy (the
 * 90/10 canary, two workers as `npm start` runs it), headless Chromium
 * (Debian's, driven by playwright-core) on /dashboard/, then real traffic.
 * The page must show both backends with the observed split near 90/10 and
 * draw both series on the split chart. The screenshot goes to a temp dir,
 * and to docs/images/dashboard.png (the README's) with UPDATE_SCREENSHOT=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { httpGet, root, serveQuickstart, until } from '../support/serve.ts';

const CHROMIUM = '/usr/bin/chromium';
const UPDATE = process.env.UPDATE_SCREENSHOT === '1';
const V1 = 'Service/default/app-v1:80';
const V2 = 'Service/default/app-v2:80';

/**
 * In the page: the canvas size and how many of its pixels are each series' colour. A string, because tsx
 * would wrap a function's inner helpers in a `__name` call the page does not have.
 */
const COUNT_COLOURS = `(c) => {
  const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  const count = (rgb) => {
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 255 && rgb.every((v, k) => Math.abs(data[i + k] - v) <= 6)) n++;
    }
    return n;
  };
  return { width: c.width, height: c.height, blue: count([0x00, 0x72, 0xb2]), orange: count([0xe6, 0x9f, 0x00]) };
}`;

/** `total` requests from `parallel` loops, at most `perSecond` overall; resolves with the status counts. */
async function drive(url: string, host: string, total: number, perSecond: number): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const codes = new Map<number, number>();
  const started = Date.now();
  let sent = 0;
  const loop = async (): Promise<void> => {
    while (sent < total) {
      const i = sent++;
      // Pace: request i may not start before i / perSecond seconds.
      const wait = started + (i * 1000) / perSecond - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const r = await httpGet(url, { host, agent, timeoutMs: 10_000 });
      codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
  agent.destroy();
  return codes;
}

test(
  'the dashboard shows the live 90/10 split in Chromium',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`, timeout: 180_000 },
  async (t) => {
    const { serve } = await serveQuickstart(t, 2);
    await serve.waitReady();
    assert.match(serve.stdout(), new RegExp(`^dashboard: ${serve.admin}/dashboard/$`, 'm'));
    const gateway = /^listening on (http:\/\/\S+) \(default\/web\/http\)$/m.exec(serve.stdout())?.[1];
    assert.ok(gateway, serve.stdout());

    const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    t.after(async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // No request may leave the machine (no CDN): anything but the admin server fails the test.
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(serve.admin)) foreign.push(r.url());
    });

    await page.goto(serve.admin + '/', { timeout: 30_000 });
    assert.equal(page.url(), serve.admin + '/dashboard/');
    // The first tick follows the feed's baseline: from then on every request counts.
    await page.waitForSelector('body[data-ticks]:not([data-ticks="0"])', { timeout: 30_000 });
    await page.waitForSelector('article.route[data-rule="default/app#0"]', { timeout: 10_000 });

    const total = 800;
    const codes = await drive(`${gateway}/`, 'app.example.com', total, UPDATE ? 40 : 150);
    assert.deepEqual([...codes], [[200, total]]);

    // Bounded wait until every request is in the page's window figures.
    const panel = page.locator('article.route[data-rule="default/app#0"]');
    await until(
      'the dashboard to count every request',
      async () => Number(await panel.getAttribute('data-requests')) >= total,
      30_000,
    );
    const observed = JSON.parse((await panel.getAttribute('data-observed'))!) as Record<string, number>;
    assert.deepEqual(Object.keys(observed).sort(), [V1, V2]);
    // 800 requests: the binomial standard deviation of a 10 % share is about 1.1 points.
    assert.ok(Math.abs(observed[V1] - 0.9) <= 0.05, `v1 share ${observed[V1]}`);
    assert.ok(Math.abs(observed[V2] - 0.1) <= 0.05, `v2 share ${observed[V2]}`);
    assert.equal(await panel.locator(`tr[data-backend="${V1}"]`).getAttribute('data-weight-share'), '0.9');
    assert.equal(await panel.locator(`tr[data-backend="${V2}"]`).getAttribute('data-weight-share'), '0.1');
    assert.equal(
      Number(await panel.locator(`tr[data-backend="${V1}"]`).getAttribute('data-requests')) +
        Number(await panel.locator(`tr[data-backend="${V2}"]`).getAttribute('data-requests')),
      total,
    );

    // The split chart's canvas carries both series' colours (solid strokes; the weight lines are translucent).
    const canvas = `document.querySelector('article.route[data-rule="default/app#0"] [data-chart="share"] canvas')`;
    const drawn = await page.evaluate<Record<string, number>>(`(${COUNT_COLOURS})(${canvas})`);
    assert.ok(drawn.width > 200 && drawn.height > 100, JSON.stringify(drawn));
    assert.ok(drawn.blue > 20 && drawn.orange > 20, `both series drawn: ${JSON.stringify(drawn)}`);

    // The status table: the Gateway, its listener and the route, each Accepted.
    const accepted = await page
      .locator('#status tr[data-kind] [data-condition="Accepted"][data-status="True"]')
      .count();
    assert.ok(accepted >= 3, `Accepted badges: ${accepted}`);
    assert.ok((await page.locator('#summary').textContent())?.includes('ok at'), 'the last reload is shown');

    const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (UPDATE) copyFileSync(shot, join(root, 'docs/images/dashboard.png'));

    assert.deepEqual(pageErrors, []);
    assert.deepEqual(foreign, []);
    // The stream is cleaned up when the page goes: a fresh client still gets in.
    await page.close();
    assert.equal((await httpGet(serve.admin + '/dashboard/app.js')).status, 200);
  },
);
