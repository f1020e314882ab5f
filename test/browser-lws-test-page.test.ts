/// <reference lib="dom" />
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { seedConfigDir } from './helpers/seed-config.ts';

/** lws's own test page and its JS, from Debian's libwebsockets-test-server-common (lws 4.1.6). */
const LWS_PAGE = '/usr/share/libwebsockets-test-server/test.html';

/*
 * The page's panels are tabs (radio buttons with labels): a panel's buttons
 * can be clicked once its tab is chosen. A gray overlay covers the page until
 * its mirror socket opens.
 */

/** Liveness bound for what the page shows, not a timing assertion. */
const SOON = { timeout: 15_000 };
const shows = (page: Page, id: string, text: string) =>
  page.waitForFunction(([i, t]) => document.getElementById(i as string)?.textContent?.includes(t as string) ?? false, [id, text], SOON);

// CI installs the package and chromium (.ci/run); elsewhere the test runs when both are there.
describe.runIf(fs.existsSync(LWS_PAGE) || process.env.CI)("lws's own test page, served by tsws from the seed's config with --data-dir /usr/share", () => {
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    const cwd = makeConfigDir({});
    const server = runTsws(['-c', seedConfigDir(cwd), '--data-dir', '/usr/share'], { cwd });
    const [listener] = await server.ready;
    base = `http://127.0.0.1:${listener?.port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
    removeConfigDirs();
  });

  it('"Send junk" (9000 bytes, over dumb-increment\'s 4096-byte rx buffer) leaves the connection open', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await shows(page, 'wsdi_status', 'websocket connection opened');
    await shows(page, 'wslm_status', 'websocket connection opened');
    await page.waitForFunction(() => Number(document.getElementById('number')?.textContent) >= 5, undefined, SOON);
    const before = Number(await page.textContent('#number'));
    await page.click('#junk');
    // The reset goes after the junk on the same socket: the counter drops only if the junk did not close it.
    await page.click('#offset');
    await page.waitForFunction((b) => Number(document.getElementById('number')?.textContent) < b, before, SOON);
    expect(await page.textContent('#wsdi_status')).toContain('opened');
    await page.close();
  });

  it('"Test pmd" (~30 KB to lws-status, rx buffer 512) leaves the connection open: it goes on listing clients', async () => {
    const one = await browser.newPage();
    await one.goto(base);
    await shows(one, 's_status', 'websocket connection opened');
    await shows(one, 'wslm_status', 'websocket connection opened');
    await shows(one, 'conninfo', 'client 1');
    await one.click('label[for="tab-4"]');
    await one.click('#pmd');
    const two = await browser.newPage();
    await two.goto(base);
    await shows(one, 'conninfo', 'client 2');
    await two.close();
    await one.waitForFunction(() => !document.getElementById('conninfo')?.textContent?.includes('client 2'), undefined, SOON);
    expect(await one.textContent('#s_status')).toContain('opened');
    expect(await one.textContent('#wslm_status')).toContain('opened');
    await one.close();
  });

  it('"Open" and "Request server close": closed by the server with 1001 "seeya"', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await shows(page, 'wslm_status', 'websocket connection opened');
    await page.click('label[for="tab-3"]');
    await page.click('#ot_open_btn');
    await shows(page, 'ot_status', 'websocket connection opened');
    await page.click('#ot_req_close_btn');
    await shows(page, 'ot_status', 'code: 1001, reason: seeya');
    await page.close();
  });

  it('the POST form at formtest answers with what was sent', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await shows(page, 'wslm_status', 'websocket connection opened');
    await page.click('label[for="tab-5"]');
    await page.fill('input[name="text"] >> nth=0', 'typed in <lws> page');
    await Promise.all([page.waitForNavigation(SOON), page.click('input[name="send"]')]);
    expect(await page.content()).toContain('typed in &lt;lws&gt; page');
    await page.close();
  });
});
