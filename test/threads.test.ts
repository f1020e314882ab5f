import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/**
 * `relay`: says which thread (and plugin version) serves the connection as
 * its first message, then publishes whatever it receives to every relay
 * client of the vhost, on any thread.
 */
const relayPlugin = (label: string) => `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
interface Session { hello: string | undefined }
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, Session>({
  name: 'relay',
  session: () => ({ hello: undefined }),
  callbacks: {
    established(conn) {
      conn.session.hello = JSON.stringify({ thread: conn.vhost.server.thread.index, of: conn.vhost.server.thread.count, label: ${JSON.stringify(label)} });
      conn.subscribe('all');
      conn.requestWritable();
    },
    receive(conn, data) { conn.vhost.publish('all', data.toString()); },
    // /hold: a request whose body never completes stays in flight, holding a stop for its grace.
    http() {},
    httpBody(txn) { txn.vhost.log.info({ event: 'held' }, 'holding a request'); },
    writable(conn) {
      const hello = conn.session.hello;
      if (hello !== undefined) {
        conn.session.hello = undefined;
        conn.write(hello);
      } else {
        const m = conn.nextPublished();
        if (m) conn.write(m.data);
      }
      if (conn.publishedPending > 0) conn.requestWritable();
    },
  },
})] });`;

interface Hello {
  thread: number;
  of: number;
  label: string;
}

async function start(extraProtocols: Record<string, unknown>[] = []) {
  const dir = makeConfigDir({
    conf: { global: { 'count-threads': '2', metrics: { port: '0', interface: '127.0.0.1' } } },
    vhosts: {
      site: [{
        name: 'localhost', port: '0', interface: '127.0.0.1',
        mounts: [{ mountpoint: '/hold', origin: 'callback://relay' }],
        'ws-protocols': [{ relay: {} }, ...extraProtocols],
      }],
    },
    plugins: { 'relay.ts': relayPlugin('v1') },
  });
  const p = runTsws(['-c', dir]);
  const listeners = await p.ready;
  const site = listeners.find((l) => l.vhosts.includes('localhost'));
  const metrics = listeners.find((l) => l.vhosts.length === 0);
  if (!site || !metrics) throw new Error(`listeners: ${JSON.stringify(listeners)}`);
  return { dir, p, port: site.port, metricsPort: metrics.port };
}

async function relay(port: number): Promise<{ client: TestClient; hello: Hello }> {
  const client = await TestClient.open(`ws://127.0.0.1:${port}/`, 'relay');
  return { client, hello: JSON.parse(await client.nextText()) as Hello };
}

/** Connections until at least one landed on each thread (the kernel spreads them; 40 all on one thread is 2^-39). */
async function onEveryThread(port: number, n = 40) {
  const all = await Promise.all(Array.from({ length: n }, () => relay(port)));
  const byThread = new Map<number, TestClient>();
  for (const r of all) if (!byThread.has(r.hello.thread)) byThread.set(r.hello.thread, r.client);
  return { all, byThread };
}

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const gauge = (text: string, name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);

let server: TswsProcess | undefined;

describe('count-threads 2', () => {
  it('spreads connections over both threads, and a broadcast reaches clients of every thread', async () => {
    const s = await start();
    server = s.p;
    const { all, byThread } = await onEveryThread(s.port);
    expect([...byThread.keys()].sort()).toEqual([0, 1]);
    expect(all.every((r) => r.hello.of === 2)).toBe(true);

    const a = byThread.get(0) as TestClient;
    const b = byThread.get(1) as TestClient;
    a.send('from thread 0');
    expect(await b.nextText()).toBe('from thread 0');
    b.send('from thread 1');
    expect(await a.nextText()).toBe('from thread 0');
    expect(await a.nextText()).toBe('from thread 1');
    // Every client got both, once each.
    for (const r of all.filter((x) => x.client !== a && x.client !== b)) {
      expect(await r.client.nextText()).toBe('from thread 0');
      expect(await r.client.nextText()).toBe('from thread 1');
    }

    // Metrics count the connections of both threads, whichever thread the scrape reaches.
    for (let i = 0; i < 6; i++) expect(gauge(await scrape(s.metricsPort), 'tsws_ws_connections', 'vhost="localhost",protocol="relay"')).toBe(all.length);
    expect(await scrape(s.metricsPort)).toMatch(/^nodejs_eventloop_lag_seconds\{thread="1"\}/m);

    // SIGTERM: every client of every thread gets its 1001, the process exits 0.
    s.p.kill('SIGTERM');
    for (const r of all) expect(await r.client.closed).toEqual({ code: 1001, reason: 'going away' });
    expect(await s.p.exited).toBe(0);
    expect(s.p.lines.find((l) => l.event === 'stopped')).toMatchObject({ cut: 0 });
  });

  it("vhost.server.snapshot() covers both threads: the status page counts every thread's connections, whichever thread serves it", async () => {
    const s = await start([{ 'lws-server-status': { 'update-ms': '100' } }]);
    server = s.p;
    const { all } = await onEveryThread(s.port);
    // One status client per thread: each page must see the other thread's relays too.
    const pages = new Map<number, TestClient>();
    while (pages.size < 2) {
      const c = await TestClient.open(`ws://127.0.0.1:${s.port}/`, 'lws-server-status');
      const first = JSON.parse(await c.nextText()) as { threads: { index: number }[] };
      const index = first.threads[0]?.index ?? -1;
      if (pages.has(index)) c.close();
      else pages.set(index, c);
    }
    for (const page of pages.values()) {
      // Wait for a snapshot taken after every relay and both pages connected (pushed every 100 ms).
      for (;;) {
        const st = JSON.parse(await page.nextText()) as { totals: { connections: number }; threads: { index: number; connections: number }[]; vhosts: { protocols: { name: string; connections: number }[] }[] };
        // Another thread's share may predate a page opened or closed: wait for one that has them all.
        const relays = st.vhosts[0]?.protocols.find((p) => p.name === 'relay')?.connections;
        if (relays !== all.length || st.totals.connections !== all.length + 2) continue;
        expect(st.threads.map((t) => t.index).sort()).toEqual([0, 1]);
        expect(st.threads.reduce((n, t) => n + t.connections, 0)).toBe(all.length + 2);
        expect(st.threads.every((t) => t.connections > 0)).toBe(true);
        break;
      }
    }
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
  });

  it('reloads every thread on SIGHUP: a changed plugin serves new connections on both', async () => {
    const s = await start();
    server = s.p;
    const before = await onEveryThread(s.port);
    fs.writeFileSync(path.join(s.dir, 'plugins/relay.ts'), relayPlugin('v2'));
    s.p.kill('SIGHUP');
    await s.p.waitFor((l) => l.event === 'reloaded');
    const after = await onEveryThread(s.port);
    expect([...after.byThread.keys()].sort()).toEqual([0, 1]);
    expect(after.all.every((r) => r.hello.label === 'v2')).toBe(true);
    // The connections from before stay open, and still hear broadcasts from the new ones.
    const old = before.byThread.get(1) as TestClient;
    after.byThread.get(0)?.send('after the reload');
    expect(await old.nextText()).toBe('after the reload');
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
  });

  it('exits at once, with 1 and without aborting, on a second signal while threads hold requests', async () => {
    const s = await start();
    server = s.p;
    // One held request per thread, as far as the kernel spreads them.
    const socks = Array.from({ length: 8 }, () => {
      const sock = net.connect(s.port, '127.0.0.1', () => sock.write('POST /hold HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc'));
      sock.on('error', () => undefined);
      return sock;
    });
    await eventually(() => s.p.lines.filter((l) => l.event === 'held').length === socks.length, 'every request was being read');
    s.p.kill('SIGTERM');
    await s.p.waitFor((l) => l.event === 'stopping');
    s.p.kill('SIGINT');
    // 134 would be the abort of a thread torn down with live sockets.
    expect(await s.p.exited).toBe(1);
    for (const sock of socks) sock.destroy();
  });

  it('refuses to start, by name and reason, with the shipped protocols that keep one-thread state', async () => {
    const dir = makeConfigDir({
      conf: { global: { 'count-threads': '2' } },
      vhosts: { site: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'protocol-lws-packet': { 'log-dir': 'log' } }, { tunnel: {} }] }] },
    });
    const p = runTsws(['-c', dir]);
    server = p;
    expect(await p.exited).toBe(1);
    // Start-up stops rather than serving the rest without them; the one fatal line says who and why
    // (a thread's own lines may not get out before the process exits).
    const fatal = String(p.lines.find((l) => /TSWS_ERR_START_PROTOCOLS_DISABLED: not starting/.test(String(l.msg)))?.msg);
    expect(fatal).toMatch(/"protocol-lws-packet" on vhost "localhost": the packet log is one file with one writer/);
    expect(fatal).toMatch(/"tunnel" on vhost "localhost": .*count-threads 1/);
    expect(p.lines.some((l) => l.event === 'ready')).toBe(false);
  });
});

afterAll(() => server?.kill('SIGKILL'));
