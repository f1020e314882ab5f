/// <reference lib="dom" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type ChannelClient, type ReceivedMessage } from 'tsws/client';
import { chromiumPresent, launchChromium } from './helpers/browser.ts';
import { writeClientJs } from './helpers/client-js.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { until } from './helpers/tcp-cut.ts';

/*
 * A page the server serves loads tsws/client as ES modules (compiled as the
 * package ships them, no bundler), with the browser's own WebSocket, and
 * talks channels with a Node client through test/plugins-v2/channels-demo.ts.
 */
const PLUGINS = path.resolve(import.meta.dirname, 'plugins-v2');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tsws/client</title>
<script type="module">
  import { connect } from './client/index.js';
  const client = connect('ws://' + location.host + '/', { protocol: 'channels-demo' });
  Object.assign(window, { client, got: [], subscribed: 0 });
  client.subscribe('room:browser', {
    onMessage: (m) => window.got.push({ offset: m.offset, data: m.data }),
    onSubscribed: () => { window.subscribed++; },
  });
</script>`;

interface PageGlobals {
  client: ChannelClient;
  got: { offset: number; data: unknown }[];
  subscribed: number;
}

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('tsws/client in Chromium', () => {
  let browser: Browser;
  let base: string;
  let www: string;
  let node: ChannelClient;
  beforeAll(async () => {
    www = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-client-www-'));
    fs.writeFileSync(path.join(www, 'index.html'), PAGE);
    writeClientJs(path.join(www, 'client'));
    const server = runTsws(['-c', makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGINS } },
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', mounts: [{ mountpoint: '/', origin: `file://${www}`, default: 'index.html' }], 'ws-protocols': [{ 'channels-demo': {} }] }] },
    })]);
    const [listener] = await server.ready;
    base = `127.0.0.1:${listener?.port}`;
    node = connect(`ws://${base}/`, { protocol: 'channels-demo', WebSocket });
    browser = await launchChromium();
  });
  afterAll(async () => {
    node?.close();
    await browser?.close();
    killAll();
    removeConfigDirs();
    if (www) fs.rmSync(www, { recursive: true, force: true });
  });

  it('loads as an ES module from a page the server serves, receives what Node publishes, and publishes back', async () => {
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(e.message));
    page.on('requestfailed', (r) => failures.push(r.url()));
    await page.goto(`http://${base}/`);
    await page.waitForFunction(() => (window as unknown as PageGlobals).subscribed === 1);

    for (const text of ['one', 'two', 'three']) await node.publish('room:browser', { text });
    await page.waitForFunction(() => (window as unknown as PageGlobals).got.length === 3);
    expect(await page.evaluate(() => (window as unknown as PageGlobals).got)).toEqual([
      { offset: 1, data: { text: 'one' } }, { offset: 2, data: { text: 'two' } }, { offset: 3, data: { text: 'three' } },
    ]);

    const heard: ReceivedMessage<unknown>[] = [];
    let nodeSubscribed = false;
    node.subscribe('room:browser', { onMessage: (m) => void heard.push(m), onSubscribed: () => void (nodeSubscribed = true) });
    await until(() => nodeSubscribed);
    const at = await page.evaluate(() => (window as unknown as PageGlobals).client.publish('room:browser', { text: 'from the page' }));
    expect(at.offset).toBe(4);
    await until(() => heard.length === 1);
    expect(heard[0]).toMatchObject({ channel: 'room:browser', offset: 4, data: { text: 'from the page' } });
    expect(failures).toEqual([]);
    await page.close();
  });
});
