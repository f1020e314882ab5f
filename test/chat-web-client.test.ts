/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { demoConfigDir } from './helpers/demo-config.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { joinPage, members, say, waitForEvent, waitForMembers, waitForMessage } from './helpers/chat-page.ts';
import { ChatClient } from './helpers/chat.ts';


// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('the chat page in a real browser', () => {
  let browser: Browser;
  let server: TswsProcess;
  let dir: string;
  let port: number;
  let base: string;
  beforeAll(async () => {
    // A fixed port, so that the restart test can bring the server back where the page reconnects.
    port = await freePort();
    dir = demoConfigDir(port);
    server = runTsws(['-c', dir]);
    await server.ready;
    base = `http://127.0.0.1:${port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    killAll();
    removeConfigDirs();
  });

  it('runs on tsws/client: the page imports it as ES modules the server serves, no bundle', async () => {
    const page = await browser.newPage();
    const scripts = new Map<string, string>();
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.endsWith('.js')) scripts.set(u.pathname, r.headers()['content-type'] ?? '');
    });
    await page.goto(`${base}chat/?name=mod&room=modules`);
    await page.press('#room', 'Enter');
    await page.waitForSelector('#state.ok');
    expect(await page.$eval('script[src="chat.js"]', (el) => el.getAttribute('type'))).toBe('module');
    for (const js of ['/chat/chat.js', '/tsws-client/index.js', '/tsws-client/client.js', '/tsws-client/position.js']) expect(scripts.get(js), js).toMatch(/javascript/);
    await say(page, 'through tsws/client');
    await waitForMessage(page, 'mod', 'through tsws/client');
    await page.close();
  });

  it('two pages in one room: history on join, live messages both ways, the member list as one leaves', async () => {
    const ann = await joinPage(browser, base, 'ann', 'web');
    await say(ann, 'before ben came');
    await waitForMessage(ann, 'ann', 'before ben came');
    const ben = await joinPage(browser, base, 'ben', 'web');
    await waitForMessage(ben, 'ann', 'before ben came');
    expect(await members(ben)).toEqual(['ann', 'ben (you)']);
    await waitForMembers(ann, (m) => m.length === 2);
    await waitForEvent(ann, 'ben joined');
    await say(ann, 'hi ben');
    await waitForMessage(ben, 'ann', 'hi ben');
    await say(ben, 'hi ann');
    await waitForMessage(ann, 'ben', 'hi ann');
    await ben.click('#leave');
    await waitForMembers(ann, (m) => m.length === 1 && m[0] === 'ann (you)');
    await waitForEvent(ann, 'ben left');
    expect(await ben.isVisible('#join-form')).toBe(true);
    await ann.close();
    await ben.close();
  });

  // A name and text whose characters all sit in U+0080..U+00FF are one-byte strings in V8: a transport
  // that sends those bytes as they are (Latin-1) makes the browser drop the connection as invalid UTF-8.
  it('carries names and text in U+0080 to U+00FF to the browser intact: Zoé says "ça va, Noël?"', async () => {
    const zoe = await joinPage(browser, base, 'Zoé', 'café');
    const other = await joinPage(browser, base, 'Maël', 'café');
    await waitForEvent(zoe, 'Maël joined');
    await say(zoe, 'ça va, Noël? ½ × ÷');
    await waitForMessage(other, 'Zoé', 'ça va, Noël? ½ × ÷');
    expect((await members(other)).sort()).toEqual(['Maël (you)', 'Zoé']);
    expect(await zoe.isVisible('#state.ok')).toBe(true);
    await zoe.close();
    await other.close();
  });

  it('works at phone width (390 px): the log keeps the width, nothing overflows, words are not cut', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}chat/`);
    await page.fill('#name', 'phone');
    await page.fill('#room', 'narrow');
    await page.press('#room', 'Enter');
    await page.waitForSelector('#state.ok');
    await say(page, 'a sentence of ordinary words that must wrap between words and never inside one');
    await waitForMessage(page, 'phone', 'a sentence of ordinary words that must wrap between words and never inside one');
    const layout = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      log: document.getElementById('log')?.clientWidth ?? 0,
      // a word cut in two would make some line of the message start inside a word: wrapping only at spaces keeps every word's box on one line
      cut: Array.from(document.querySelectorAll('#log li.msg .text')).some((el) => {
        const range = document.createRange();
        const node = el.firstChild;
        if (!node) return false;
        const text = node.textContent ?? '';
        let at = 0;
        for (const word of text.split(' ')) {
          range.setStart(node, at);
          range.setEnd(node, at + word.length);
          if (range.getClientRects().length > 1) return true;
          at += word.length + 1;
        }
        return false;
      }),
    }));
    expect(layout.page).toBeLessThanOrEqual(390);
    expect(layout.log).toBeGreaterThan(300);
    expect(layout.cut).toBe(false);
    await page.close();
  });

  it("keeps the text of a refused send in the box, and limits the box to the server's max-message-length", async () => {
    const page = await joinPage(browser, base, 'typist', 'limits');
    expect(await page.$eval('#text', (el) => (el as HTMLInputElement).maxLength)).toBe(1000);
    const long = 'x'.repeat(1001);
    // Set by script, past maxlength (fill() would stop at 1000): the server is what refuses it.
    await page.$eval('#text', (el, v) => void ((el as HTMLInputElement).value = v), long);
    await page.press('#text', 'Enter');
    await page.waitForFunction(() => document.getElementById('error')?.textContent?.includes('at most 1000'));
    expect(await page.$eval('#text', (el) => (el as HTMLInputElement).value)).toBe(long);
    await page.close();
  });

  it('inserts user text as text, never as HTML', async () => {
    const one = await joinPage(browser, base, 'one', 'xss');
    const two = await joinPage(browser, base, 'two', 'xss');
    const evil = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    await say(one, evil);
    await waitForMessage(two, 'one', evil);
    expect(await two.$$('#log img, #log b')).toHaveLength(0);
    expect(await two.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await one.close();
    await two.close();
  });

  it("shows the server's refusal of a taken name on the join form", async () => {
    const first = await joinPage(browser, base, 'dup', 'clash');
    const second = await browser.newPage();
    await second.goto(`${base}chat/`);
    await second.fill('#name', 'DUP');
    await second.fill('#room', 'clash');
    await second.press('#name', 'Enter');
    await second.waitForFunction(() => document.getElementById('join-error')?.textContent?.includes('is already taken in room "clash"'));
    expect(await second.isVisible('#join-form')).toBe(true);
    await first.close();
    await second.close();
  });

  it('reconnects with backoff after a server restart, re-joins the room under its name and says the sequence restarted', async () => {
    const page = await joinPage(browser, base, 'stayer', 'restart');
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await page.waitForSelector('#state.down');
    server = runTsws(['-c', dir]);
    await server.ready;
    await page.waitForSelector('#state.ok');
    await waitForEvent(page, 'reconnected to restart');
    // The restarted server's channels are a new epoch: the page says so rather than skip in silence.
    await waitForEvent(page, "the server's message sequence restarted");
    const { client } = await ChatClient.joined(`ws://127.0.0.1:${port}/`, 'newcomer', 'restart');
    await waitForMembers(page, (m) => m.join() === 'stayer (you),newcomer');
    client.send('welcome back');
    await waitForMessage(page, 'newcomer', 'welcome back');
    await client.close();
    await page.close();
  });
});
