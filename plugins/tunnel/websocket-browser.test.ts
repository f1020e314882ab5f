/// <reference lib="dom" />
/** @module Chromium opens a page served through the tunnel, whose script opens a websocket under /nodes/<id>/ to the private node's target and echoes through it. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPresent, launchChromium } from '../../test/helpers/browser.ts';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { killAll, runTsws } from '../../test/helpers/process.ts';
import { killAgents, runAgent, tunnelConfigDir } from '../../test/helpers/tunnel.ts';
import { eventually } from '../../test/helpers/ws-client.ts';
import { startWsTarget, type WsTarget } from '../../test/helpers/ws-target.ts';

// CI installs Debian's chromium (.ci/run); elsewhere the test runs when it is there.
describe.runIf(chromiumPresent || process.env.CI)('a browser websocket through the tunnel', () => {
  let browser: Browser;
  let target: WsTarget;
  let base: string;

  beforeAll(async () => {
    const server = runTsws(['-c', tunnelConfigDir('alpha:alpha-secret-token', 30)]);
    target = await startWsTarget();
    const [listener] = await server.ready;
    base = `http://127.0.0.1:${listener?.port}`;
    const agent = runAgent(['--server', `ws://127.0.0.1:${listener?.port}`, '--id', 'alpha', '--token', 'alpha-secret-token', '--target', target.url]);
    await agent.waitFor((l) => l.msg === 'tunnel up', 'the tunnel came up');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    killAgents();
    killAll();
    await target?.close();
    removeConfigDirs();
  });

  it('the page at /nodes/alpha/ echoes text, binary and a 300 KB message through its websocket, which closes with its own code', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/nodes/alpha/`);
    const result = await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result);
    expect(result).toEqual({
      protocol: 'echo-v1',
      text: 'héllo through the tunnel',
      binary: [0, 1, 2, 250, 255],
      bigEqual: true,
      close: { code: 4321, reason: 'page done' },
    });
    const upgrade = target.upgrades.find((u) => u.url === '/echo?from=page');
    expect(upgrade?.headers.origin).toBe(base);
    expect(upgrade?.headers['user-agent']).toContain('Chrome');
    await eventually(() => target.closes.some((c) => c.path === '/echo' && c.code === 4321 && c.reason === 'page done'), 'the target saw the page close with 4321');
    await page.close();
  });
});
