/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { killAll, runTsws } from './helpers/process.ts';


// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('the demo page in a real browser', () => {
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    const server = runTsws(['-c', demoConfigDir()]);
    const [listener] = await server.ready;
    base = `http://127.0.0.1:${listener?.port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
    removeConfigDirs();
  });

  it('shows a ticking counter that the reset button zeroes', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForFunction(() => Number(document.getElementById('counter')?.textContent) >= 20);
    const before = Number(await page.textContent('#counter'));
    await page.click('#reset');
    await page.waitForFunction((b) => Number(document.getElementById('counter')?.textContent) < b, before);
    await page.close();
  });

  it('mirrors text typed in one tab into another, and lists both tabs in lws-status', async () => {
    const one = await browser.newPage();
    const two = await browser.newPage();
    await one.goto(base);
    await two.goto(base);
    await one.waitForSelector('#mirror-state.ok');
    await two.waitForSelector('#mirror-state.ok');
    await one.fill('#mirror-text', 'hello from <b>tab one</b>');
    await two.waitForFunction(() => (document.getElementById('mirror-text') as HTMLTextAreaElement).value === 'hello from <b>tab one</b>');
    await one.waitForFunction(() => document.querySelectorAll('#status-rows tr').length === 2);
    expect(await one.textContent('#status-rows')).toContain('127.0.0.1');
    await two.close();
    await one.waitForFunction(() => document.querySelectorAll('#status-rows tr').length === 1);
    await one.close();
  });

  it('header links are readable: WCAG AA contrast (4.5:1) against the header, on the demo and the status page', async () => {
    for (const path of ['', 'server-status/']) {
      const page = await browser.newPage();
      await page.goto(base + path);
      const ratios = await page.evaluate(() => {
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const lum = (c: string) => {
          const [r = 0, g = 0, b = 0] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const header = document.querySelector('header');
        const bg = header ? getComputedStyle(header).backgroundColor : 'rgb(255, 255, 255)';
        return Array.from(document.querySelectorAll('header a')).map((a) => {
          const [hi, lo] = [lum(getComputedStyle(a).color), lum(bg)].sort((x, y) => y - x) as [number, number];
          return { link: a.textContent, ratio: (hi + 0.05) / (lo + 0.05) };
        });
      });
      expect(ratios.length, path).toBeGreaterThan(0);
      for (const r of ratios) expect(r.ratio, `${path} "${r.link}"`).toBeGreaterThanOrEqual(4.5);
      await page.close();
    }
  });

  it('has a favicon, so browsers do not log a 404 for every page', async () => {
    const r = await fetch(`${base}favicon.ico`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^image\//);
    expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });
});
