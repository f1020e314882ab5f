import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepare } from '../server/app/prepare.ts';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { parseProm, sample, typeOf } from './helpers/prom.ts';
import { get, rawRequest } from './helpers/raw-http.ts';
import { TestClient, eventually, socketOf } from './helpers/ws-client.ts';

/** A protocol whose receive throws, and one that writes 1 MiB per writable until told to stop. */
const TEST_PLUGIN = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol({ name: 'thrower', callbacks: { receive() { throw new Error('boom'); } } }),
    defineProtocol<undefined, { left: number }>({
      name: 'flood',
      session: () => ({ left: 24 }),
      callbacks: {
        established(conn) { conn.requestWritable(); },
        writable(conn) {
          if (conn.session.left-- <= 0) return;
          conn.write(Buffer.alloc(1024 * 1024, 120), true);
          conn.requestWritable();
        },
      },
    }),
  ],
});
`;

const VHOSTS = {
  a: [
    {
      name: 'a',
      port: '0',
      interface: '127.0.0.1',
      'health-path': '/healthz',
      'ws-protocols': [{ echo: { status: 'ok' }, thrower: {}, flood: {} }],
    },
    // Same port, no health path: /healthz falls through to its (missing) mounts.
    { name: 'b', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] },
  ],
};

afterAll(removeConfigDirs);

describe('the health path', () => {
  let srv: Running;
  beforeAll(async () => {
    srv = await startInProcess(makeConfigDir({ vhosts: VHOSTS, plugins: { 'test.ts': TEST_PLUGIN } }));
  });
  afterAll(() => srv.stop());

  it('answers 200 "ok" (never cached) on the vhosts that name it, before any mount', async () => {
    const res = await fetch(srv.url('/healthz'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('ok\n');
    const head = await fetch(srv.url('/healthz'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await rawRequest(srv.port(), get('/healthz').replace('Host: localhost', 'Host: b'))).status).toBe(404);
    const post = await fetch(srv.url('/healthz'), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 503 "draining" once the lifecycle says the server is stopping', async () => {
    srv.server.state.startDraining();
    const res = await fetch(srv.url('/healthz'));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('draining\n');
  });
});

describe('metrics at a path on every vhost', () => {
  let srv: Running;
  const scrape = async (vhostHost = 'a') => {
    const r = await rawRequest(srv.port(), get('/metrics').replace('Host: localhost', `Host: ${vhostHost}`));
    expect(r.status).toBe(200);
    expect(r.head).toMatch(/content-type: text\/plain; version=0\.0\.4; charset=utf-8/i);
    return r.body;
  };
  beforeAll(async () => {
    srv = await startInProcess(makeConfigDir({ conf: { global: { metrics: { path: '/metrics' } } }, vhosts: VHOSTS, plugins: { 'test.ts': TEST_PLUGIN } }));
  });
  afterAll(() => srv.stop());

  it('counts connections, messages and bytes both ways, writables and closes by code, per vhost and protocol', async () => {
    const c = await TestClient.open(srv.wsUrl('/'), 'echo');
    for (const m of ['one', 'two', 'three']) {
      c.send(m);
      expect(await c.nextText()).toBe(m);
    }
    let text = await scrape();
    const echo = { vhost: 'a', protocol: 'echo' };
    expect(typeOf(text, 'tsws_ws_connections')).toBe('gauge');
    expect(sample(text, 'tsws_ws_connections', echo)).toBe(1);
    expect(typeOf(text, 'tsws_ws_connections_opened_total')).toBe('counter');
    expect(sample(text, 'tsws_ws_connections_opened_total', echo)).toBe(1);
    expect(sample(text, 'tsws_ws_received_messages_total', echo)).toBe(3);
    expect(sample(text, 'tsws_ws_received_bytes_total', echo)).toBe(11);
    expect(sample(text, 'tsws_ws_sent_messages_total', echo)).toBe(3);
    expect(sample(text, 'tsws_ws_sent_bytes_total', echo)).toBe(11);
    expect(sample(text, 'tsws_ws_writable_callbacks_total', echo)).toBeGreaterThanOrEqual(3);
    // the same metrics from vhost b: the process's figures, whichever vhost is asked
    expect(sample(await scrape('b'), 'tsws_ws_received_messages_total', echo)).toBe(3);

    await c.close(4321);
    await eventually(() => srv.server.connections.size === 0, 'the close reached the server');
    text = await scrape();
    expect(sample(text, 'tsws_ws_connections', echo)).toBe(0);
    expect(sample(text, 'tsws_ws_connections_opened_total', echo)).toBe(1);
    // A client's own code counts by its range: a label value per code would be a series per code.
    expect(sample(text, 'tsws_ws_closes_total', { ...echo, code: '4xxx' })).toBe(1);

    // (3000-3999 are grouped as 3xxx too, close-code.test.ts; this transport reports a client's 3xxx close as 1006.)
    const codes = [...Array.from({ length: 20 }, (_, i) => 4100 + i), 1000, 4001];
    for (const code of codes) {
      const d = await TestClient.open(srv.wsUrl('/'), 'echo');
      await d.close(code);
    }
    await eventually(() => srv.server.connections.size === 0, 'the closes reached the server');
    const closes = parseProm(await scrape()).filter((x) => x.name === 'tsws_ws_closes_total' && x.labels.protocol === 'echo');
    // 1000 and 4001 (tsws's own: a JWT expired) are codes tsws knows, each its own series.
    expect(Object.fromEntries(closes.map((x) => [x.labels.code, x.value]))).toEqual({ '1000': 1, '4001': 1, '4xxx': 21 });
  });

  it('counts HTTP responses by status and their bytes', async () => {
    const before = sample(await scrape(), 'tsws_http_requests_total', { vhost: 'a', status: '404' }) ?? 0;
    const r = await rawRequest(srv.port(), get('/nothing-here').replace('Host: localhost', 'Host: a'));
    expect(r.status).toBe(404);
    const text = await scrape();
    expect(sample(text, 'tsws_http_requests_total', { vhost: 'a', status: '404' })).toBe(before + 1);
    // earlier scrapes answered 200 and counted their bodies
    expect(sample(text, 'tsws_http_requests_total', { vhost: 'a', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tsws_http_response_bytes_total', { vhost: 'a' })).toBeGreaterThan(r.body.length);
  });

  it('counts plugin callback errors and the 1011 close they cause', async () => {
    const c = await TestClient.open(srv.wsUrl('/'), 'thrower');
    c.send('anything');
    expect((await c.closed).code).toBe(1011);
    const text = await scrape();
    expect(sample(text, 'tsws_plugin_callback_errors_total', { vhost: 'a', protocol: 'thrower' })).toBe(1);
    expect(sample(text, 'tsws_ws_closes_total', { vhost: 'a', protocol: 'thrower', code: '1011' })).toBe(1);
  });

  it('counts backpressure waits when a peer stops reading', async () => {
    const c = await TestClient.open(srv.wsUrl('/'), 'flood');
    socketOf(c).pause();
    const flood = { vhost: 'a', protocol: 'flood' };
    // Loopback buffers take a few MiB; then uWS.js buffers, and writable waits for a drain.
    const deadline = Date.now() + 20_000;
    while ((sample(await scrape(), 'tsws_ws_backpressure_waits_total', flood) ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error('no backpressure wait counted while the peer did not read');
      await new Promise((r) => setTimeout(r, 20));
    }
    socketOf(c).resume();
    await eventually(() => c.received.length === 24, 'all 24 MiB read once the peer reads again', 60_000);
    const text = await scrape();
    expect(sample(text, 'tsws_ws_sent_messages_total', flood)).toBe(24);
    expect(sample(text, 'tsws_ws_sent_bytes_total', flood)).toBe(24 * 1024 * 1024);
    await c.close();
  });

  it('exposes reloads, draining, the version, event-loop lag and process figures', async () => {
    srv.server.state.reloaded(true);
    srv.server.state.reloaded(false);
    const text = await scrape();
    expect(sample(text, 'tsws_reloads_total', { result: 'ok' })).toBe(1);
    expect(sample(text, 'tsws_reloads_total', { result: 'failed' })).toBe(1);
    expect(sample(text, 'tsws_draining')).toBe(0);
    expect(sample(text, 'tsws_build_info')).toBe(1);
    expect(typeOf(text, 'nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // no cluster block: no cluster metrics pretending to be zero
    expect(text).not.toContain('tsws_cluster_');
  });
});

describe('metrics on a port of their own', () => {
  let srv: Running;
  let metricsPort: number;
  beforeAll(async () => {
    srv = await startInProcess(makeConfigDir({ conf: { global: { metrics: { port: '0', interface: '127.0.0.1' } } }, vhosts: VHOSTS, plugins: { 'test.ts': TEST_PLUGIN } }));
    const info = srv.server.listeners.find((l) => l.key.startsWith('metrics '));
    metricsPort = info?.port ?? 0;
  });
  afterAll(() => srv.stop());

  it('serves /metrics there and nothing else; the vhosts do not serve it', async () => {
    expect(metricsPort).toBeGreaterThan(0);
    expect(srv.server.listeners[0]?.vhosts).toEqual(['a', 'b']);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(sample(await res.text(), 'tsws_draining')).toBe(0);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    await expect(TestClient.open(`ws://127.0.0.1:${metricsPort}/metrics`, 'echo')).rejects.toThrow(/upgrade refused: 404/);
    expect((await fetch(srv.url('/metrics'))).status).toBe(404);
  });
});

describe('across a reload', () => {
  let srv: Running;
  let dir: string;
  beforeAll(async () => {
    dir = makeConfigDir({ conf: { global: { metrics: { port: '0', interface: '127.0.0.1' } } }, vhosts: VHOSTS, plugins: { 'test.ts': TEST_PLUGIN } });
    srv = await startInProcess(dir);
  });
  afterAll(() => srv.stop());

  it('keeps counting, keeps the metrics port, and counts connections still open on the old configuration', async () => {
    const metricsPort = () => srv.server.listeners.find((l) => l.key.startsWith('metrics '))?.port;
    const before = metricsPort();
    const scrape = async () => (await fetch(`http://127.0.0.1:${before}/metrics`)).text();
    const echo = { vhost: 'a', protocol: 'echo' };
    const old = await TestClient.open(srv.wsUrl('/'), 'echo');
    old.send('before');
    await old.nextText();

    const next = await prepare({ configDir: dir, generation: 2 });
    expect(next.errors).toEqual([]);
    await srv.server.reload(next.prepared as NonNullable<typeof next.prepared>);
    expect(metricsPort()).toBe(before);

    const fresh = await TestClient.open(srv.wsUrl('/'), 'echo');
    fresh.send('after');
    await fresh.nextText();
    old.send('still here');
    expect(await old.nextText()).toBe('still here');
    const text = await scrape();
    expect(sample(text, 'tsws_ws_connections', echo)).toBe(2);
    expect(sample(text, 'tsws_ws_connections_opened_total', echo)).toBe(2);
    expect(sample(text, 'tsws_ws_received_messages_total', echo)).toBe(3);
    expect((await fetch(srv.url('/healthz'))).status).toBe(200);
    await old.close();
    await fresh.close();
  });
});
