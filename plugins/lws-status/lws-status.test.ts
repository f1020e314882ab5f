import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import type { Running } from '../../test/helpers/in-process.ts';
import { startShipped } from '../../test/helpers/shipped.ts';
import { TestClient } from '../../test/helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startShipped();
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

interface Status {
  version: string;
  wss_over_h2: string;
  hostname: string;
  wsi: string;
  conns: { peer: string; time: string; ua: string }[];
}
const open = (ua: string) => TestClient.open(srv.wsUrl(), 'lws-status', { headers: { 'user-agent': ua } });
const next = async (c: TestClient) => JSON.parse(await c.nextText()) as Status;

describe('lws-status', () => {
  it('sends the lws JSON shape, every value a string, to each status client on every change', async () => {
    const a = await open('agent-a');
    const first = await next(a);
    expect(Object.keys(first)).toEqual(['version', 'wss_over_h2', 'hostname', 'wsi', 'conns']);
    expect(first).toMatchObject({ wss_over_h2: '0', hostname: os.hostname(), wsi: '1' });
    expect(first.version).toMatch(/^tsws /);
    expect(first.conns).toEqual([{ peer: '127.0.0.1', time: expect.stringMatching(/^\d+$/), ua: 'agent-a' }]);

    const b = await open('agent-b');
    const both = await next(a);
    expect(both.wsi).toBe('2');
    // newest first, as lws keeps its list
    expect(both.conns.map((c) => c.ua)).toEqual(['agent-b', 'agent-a']);
    expect((await next(b)).wsi).toBe('2');

    await b.close();
    const after = await next(a);
    expect(after.wsi).toBe('1');
    expect(after.conns.map((c) => c.ua)).toEqual(['agent-a']);
    await a.close();
  });
});
