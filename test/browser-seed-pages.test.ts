/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { seedConfigDir } from './helpers/seed-config.ts';

/** Liveness bound for what the page shows, not a timing assertion. */
const SOON = { timeout: 15_000 };
const shows = (page: Page, id: string, text: string) =>
  page.waitForFunction(([i, t]) => document.getElementById(i as string)?.textContent?.includes(t as string) ?? false, [id, text], SOON);
const number = (page: Page, id: string) => page.textContent(`#${id}`).then(Number);
/** Clicks `first` then `reset` and waits for the counter in `id` to drop: the reset was read after whatever `first` sent. */
async function survives(page: Page, first: string, reset: string, id: string): Promise<void> {
  await page.waitForFunction((i) => Number(document.getElementById(i)?.textContent) >= 3, id, SOON);
  const before = await number(page, id);
  await page.click(first);
  await page.click(reset);
  await page.waitForFunction(([i, b]) => Number(document.getElementById(i as string)?.textContent) < (b as number), [id, before], SOON);
}

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)("the shipped pages of the seed's deployment (share/libwebsockets-test-server), no --data-dir", () => {
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    const cwd = makeConfigDir({});
    const server = runTsws(['-c', seedConfigDir(cwd)], { cwd });
    const [listener] = await server.ready;
    base = `http://127.0.0.1:${listener?.port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
    removeConfigDirs();
  });

  it('every panel of the test page works, and long messages close nothing', async () => {
    const one = await browser.newPage();
    await one.goto(base);
    for (const id of ['wsdi_status', 'sa_status', 'wslm_status', 's_status']) await shows(one, id, 'websocket connection opened');
    // dumb-increment: 9000 bytes of junk, then reset.
    await survives(one, '#junk', '#offset', 'number');
    // The seed's plugin: "hello world" (two pieces of its 10-byte buffer), then reset.
    await survives(one, '#sa_hello', '#sa_reset', 'sa_number');
    // lws-status: Test pmd, then a second page comes and goes and the list follows.
    await one.click('#pmd');
    const two = await browser.newPage();
    await two.goto(base);
    await one.waitForFunction(() => document.querySelectorAll('#conninfo tr').length === 2, undefined, SOON);
    // lws-mirror: a stroke drawn on one page appears on the other's canvas.
    await shows(two, 'wslm_status', 'websocket connection opened');
    await one.locator('#drawing').scrollIntoViewIfNeeded();
    const box = await one.locator('#drawing').boundingBox();
    if (!box) throw new Error('no canvas');
    await one.mouse.move(box.x + 20, box.y + 20);
    await one.mouse.down();
    await one.mouse.move(box.x + 120, box.y + 80, { steps: 5 });
    await one.mouse.up();
    await two.waitForFunction(() => {
      const c = document.getElementById('drawing') as HTMLCanvasElement;
      return c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0) ?? false;
    }, undefined, SOON);
    await two.close();
    await one.waitForFunction(() => document.querySelectorAll('#conninfo tr').length === 1, undefined, SOON);
    // Open, then ask the server to close.
    await one.click('#ot_open_btn');
    await shows(one, 'ot_status', 'websocket connection opened');
    await one.click('#ot_req_close_btn');
    await shows(one, 'ot_status', 'code: 1001, reason: seeya');
    // The seed's plugin on request, too.
    await one.click('#sa_closeme');
    await shows(one, 'sa_status', 'code: 1001, reason: seeya');
    for (const id of ['wsdi_status', 'wslm_status', 's_status']) expect(await one.textContent(`#${id}`)).toContain('opened');
    await one.close();
  });

  it('the server-status page draws what lws-server-status sends', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}server-status/`);
    await shows(page, 'state', 'live');
    await shows(page, 'protocols', 'lws-server-status');
    expect(await page.textContent('#listeners')).toContain('localhost');
    await page.close();
  });
});
