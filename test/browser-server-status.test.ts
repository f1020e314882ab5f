/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { demoConf, demoVhost } from './helpers/demo-config.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

/** A vhost whose name is markup: the page must show it as text. */
const EVIL = '<img id="injected" src="x" onerror="window.__pwned = 1">';

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('the server status page in a real browser', () => {
  let browser: Browser;
  let base: string;
  let port = 0;
  beforeAll(async () => {
    // The default config, its snapshots every 200 ms rather than every second, plus a vhost with a hostile name.
    const vhost = demoVhost().replace('"update-ms": "1000"', '"update-ms": "200"');
    expect(vhost).toContain('"update-ms": "200"');
    const dir = makeConfigDir({ conf: demoConf(), vhosts: { localhost: vhost, 'zz-evil': [{ name: EVIL, port: '0', 'ws-protocols': [{ echo: {} }] }] } });
    const server = runTsws(['-c', dir]);
    const [listener] = await server.ready;
    port = listener?.port ?? 0;
    base = `http://127.0.0.1:${port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
    removeConfigDirs();
  });

  it('is linked from the demo page and shows the server, its listeners and every vhost and protocol as text', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.click('#server-status-link');
    await page.waitForFunction(() => /^tsws \d/.test(document.getElementById('version')?.textContent ?? ''));
    expect(page.url()).toBe(`${base}server-status/`);
    await page.waitForSelector('#link-state.ok');
    // the vhost listener and the metrics listener
    await page.waitForFunction(() => document.querySelectorAll('#listener-rows tr').length === 2);
    const listeners = await page.textContent('#listener-rows');
    expect(listeners).toContain(`:${port}`);
    expect(listeners).toContain('(metrics)');
    expect(await page.textContent('#uptime')).toMatch(/^(\d+[dhm] )*\d+s$/);
    expect(await page.textContent('#serving')).toBe('serving');
    const rows = await page.$$eval('#protocol-rows tr', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)));
    expect(rows.map((r) => r.slice(0, 2))).toContainEqual(['localhost', 'lws-server-status']);
    expect(rows.map((r) => r.slice(0, 2))).toContainEqual([EVIL, 'echo']);
    // the name went in as text: no element was made of it, no handler ran
    expect(await page.evaluate(() => document.getElementById('injected'))).toBeNull();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it('fits a 390 px wide phone screen: nothing wider than the viewport, wide tables scroll in their box', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}server-status/`);
    await page.waitForFunction(() => document.querySelectorAll('#protocol-rows tr').length > 0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.close();
  });

  it('draws messages per second live as traffic flows', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}server-status/`);
    await page.waitForSelector('#link-state.ok');
    const echo = await TestClient.open(`ws://127.0.0.1:${port}/`, 'echo');
    const traffic = setInterval(() => echo.send('tick'), 5);
    try {
      await page.waitForFunction(() => Number(document.getElementById('rate-in')?.textContent) > 0);
      await page.waitForFunction(() => Number(document.getElementById('points')?.textContent) >= 3);
    } finally {
      clearInterval(traffic);
    }
    // The chart has pixels of the "in" colour (#2563eb) where the line was drawn.
    const blue = await page.evaluate(() => {
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0x25 && data[i + 1] === 0x63 && data[i + 2] === 0xeb) n++;
      return n;
    });
    expect(blue).toBeGreaterThan(10);
    const echoRow = await page.$$eval('#protocol-rows tr', (trs) =>
      trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)).find((r) => r[0] === 'localhost' && r[1] === 'echo'));
    expect(Number(echoRow?.[6]?.replace(/,/g, ''))).toBeGreaterThan(0);
    await echo.close();
    await page.close();
  });
});
