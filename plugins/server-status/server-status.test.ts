import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepare } from '../../server/app/prepare.ts';
import { makeConfigDir, removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { startInProcess, type Running } from '../../test/helpers/in-process.ts';
import { TestClient } from '../../test/helpers/ws-client.ts';

interface Counts {
  connections: number;
  connectionsTotal: number;
  messagesIn: number;
  messagesOut: number;
  inPerSec: number;
  outPerSec: number;
}
interface Status {
  version: string;
  hostname: string;
  pid: number;
  instance: string | null;
  uptimeSecs: number;
  draining: boolean;
  updateMs: number;
  memory: { rss: number; heapUsed: number };
  listeners: { address: string; port: number; tls: boolean; vhosts: string[] }[];
  vhosts: { name: string; httpRequests: number; protocols: (Counts & { name: string })[] }[];
  totals: Counts & { httpRequests: number };
  history: { t: number; in: number; out: number }[];
}

let srv: Running;
let dir: string;
beforeAll(async () => {
  dir = makeConfigDir({
    vhosts: {
      site: [
        { name: 'a', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'lws-server-status': { 'update-ms': '100' }, echo: {} }] },
        { name: 'b', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: { 'permessage-deflate': 'shared' } }] },
      ],
    },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

const status = async (c: TestClient) => JSON.parse(await c.nextText()) as Status;

describe('lws-server-status', () => {
  it('sends a snapshot at once on connect: process, listeners, every vhost and protocol, memory', async () => {
    expect((await fetch(srv.url('/nothing'))).status).toBe(404);
    const c = await TestClient.open(srv.wsUrl(), 'lws-server-status');
    const s = await status(c);
    expect(s.version).toMatch(/^tsws \d/);
    expect(s.pid).toBe(process.pid);
    expect(s.instance).toBeNull();
    expect(s.draining).toBe(false);
    expect(s.updateMs).toBe(100);
    expect(s.memory.rss).toBeGreaterThan(0);
    expect(s.listeners).toEqual([{ address: `127.0.0.1:${srv.port()}`, port: srv.port(), tls: false, vhosts: ['a', 'b'] }]);
    expect(s.vhosts.map((v) => [v.name, v.protocols.map((p) => p.name)])).toEqual([
      ['a', ['lws-server-status', 'echo']],
      ['b', ['echo']],
    ]);
    const self = s.vhosts[0]?.protocols[0];
    expect(self).toMatchObject({ connections: 1, connectionsTotal: 1, compression: 'off' });
    expect(s.vhosts[1]?.protocols[0]).toMatchObject({ name: 'echo', compression: 'shared' });
    expect(s.vhosts[0]?.httpRequests).toBeGreaterThanOrEqual(1);
    expect(s.totals.httpRequests).toBeGreaterThanOrEqual(1);
    await c.close();
  });

  it('pushes every update-ms with message rates and a rolling history of messages per second', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'lws-server-status');
    const echo = await TestClient.open(srv.wsUrl('/', 'b'), 'echo', { headers: { host: 'b' } });
    // Traffic on vhost b until a snapshot shows it as a rate.
    let s: Status;
    let sent = 0;
    do {
      for (let i = 0; i < 20; i++, sent++) echo.send(`m${sent}`);
      s = await status(c);
    } while (s.totals.inPerSec === 0 || (s.vhosts[1]?.protocols[0]?.inPerSec ?? 0) === 0);
    expect(s.vhosts[1]?.protocols[0]?.name).toBe('echo');
    expect(s.totals.messagesIn).toBeGreaterThanOrEqual(20);
    expect(s.history.length).toBeGreaterThan(0);
    expect(s.history.some((h) => h.in > 0)).toBe(true);
    // many ticks later the history stays bounded
    while (s.history.length < 60) s = await status(c);
    expect((await status(c)).history).toHaveLength(60);
    await echo.close();
    await c.close();
  });

  it('keeps its history of rates across a reload', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'lws-server-status');
    let s = await status(c);
    while (s.history.length < 3) s = await status(c);
    const next = await prepare({ configDir: dir, generation: 2 });
    expect(next.errors).toEqual([]);
    await srv.server.reload(next.prepared as NonNullable<typeof next.prepared>);
    const d = await TestClient.open(srv.wsUrl(), 'lws-server-status');
    expect((await status(d)).history.length).toBeGreaterThanOrEqual(3);
    await c.close();
    await d.close();
  });

  it('ignores what clients send, past lws\'s 512-byte rx buffer too (lws reads it in pieces; no 1009)', async () => {
    const c = await TestClient.open(srv.wsUrl(), 'lws-server-status');
    await status(c);
    c.send('hello');
    await status(c);
    c.send('x'.repeat(600));
    c.send('y'.repeat(30_000));
    // A snapshot counting all three was written after the server had read them: the connection lived on.
    const counted = (m: { text: string }) => ((JSON.parse(m.text) as Status).vhosts.find((v) => v.name === 'a')?.protocols.find((p) => p.name === 'lws-server-status')?.messagesIn ?? 0) >= 3;
    await c.until(counted);
    expect(await c.close(1000)).toMatchObject({ code: 1000 });
  });
});
