import { afterAll, describe, expect, it } from 'vitest';
import { PLUGIN_API, makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { get, rawRequest } from './helpers/raw-http.ts';
import { TestClient, upgradeStatus } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

/** `spin`: a receive that never returns when told "spin"; anything else is echoed. */
const spinPlugin = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
interface Session { out: string[] }
export default definePlugin({ apiVersion: 1, name: 'spinner', protocols: [defineProtocol<undefined, Session>({
  name: 'spin',
  session: (_vhost, req) => {
    if (req.path.endsWith('/spin-session')) for (;;) { /* never returns */ }
    return { out: [] };
  },
  callbacks: {
    filter(req) {
      if (req.path === '/spin-filter') for (;;) { /* never returns */ }
      return 'accept';
    },
    http() { for (;;) { /* never returns */ } },
    receive(conn, data) {
      if (data.toString() === 'spin') {
        // Written at once (a serving thread's log is synchronous): the test knows the thread is held from here.
        conn.vhost.log.info({ event: 'spinning' }, 'spinning');
        for (;;) { /* never returns */ }
      }
      conn.session.out.push(data.toString());
      conn.requestWritable();
    },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); },
  },
})] });`;

/** `echo-ok`: a well-behaved protocol on the other vhost, and its HTTP mount. */
const okPlugin = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
interface Session { out: string[]; head: boolean }
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, Session>({
  name: 'ok',
  session: () => ({ out: [], head: false }),
  callbacks: {
    receive(conn, data) { conn.session.out.push('ok:' + data.toString()); conn.requestWritable(); },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); },
    http(txn) { txn.requestWritable(); },
    httpWritable(txn) {
      if (!txn.session.head) { txn.session.head = true; txn.writeHead(200, { 'content-length': '2' }); return txn.requestWritable(); }
      txn.end('ok');
    },
  },
})] });`;

/** `spin-client`: from init, a client connection to the `ok` protocol (on `url`) whose clientReceive never returns. */
const spinClientPlugin = `
import { defineProtocol, definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol({
  name: 'spin-client',
  options: { url: { type: 'string', doc: 'the ok vhost' } },
  callbacks: {
    init(vhost, opts) {
      vhost.connect({
        url: opts.url ?? '',
        protocol: 'ok',
        session: {},
        callbacks: {
          clientEstablished(conn) { conn.requestWritable(); },
          clientWritable(conn) { conn.write('spin'); },
          clientReceive() { for (;;) { /* never returns */ } },
          clientClosed(_conn, code) { vhost.log.info({ event: 'spin-client-closed', code }, 'spin client closed'); },
        },
      });
    },
  },
})] });`;

async function start(threads: number, withClient = false) {
  const [spinPort, okPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = makeConfigDir({
    conf: { global: { 'watchdog-secs': '1', 'grace-secs': '2', 'count-threads': String(threads), metrics: { port: String(metricsPort), interface: '127.0.0.1' } } },
    vhosts: {
      spin: [{ name: 'spin-site', port: String(spinPort), interface: '127.0.0.1', 'ws-protocols': [{ spin: {} }], mounts: [{ mountpoint: '/spin', origin: 'callback://spin' }] }],
      ok: [{ name: 'ok-site', port: String(okPort), interface: '127.0.0.1', 'ws-protocols': [{ ok: {} }], mounts: [{ mountpoint: '/ok', origin: 'callback://ok' }] }],
      ...(withClient ? { client: [{ name: 'client-site', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'spin-client': { url: `ws://127.0.0.1:${okPort}/` } }] }] } : {}),
    },
    plugins: { 'spin.ts': spinPlugin, 'ok.ts': okPlugin, ...(withClient ? { 'spin-client.ts': spinClientPlugin } : {}) },
  });
  const p = runTsws(['-c', dir]);
  await p.ready;
  return { p, spinPort, okPort, metricsPort };
}

const interrupts = async (port: number) => Number(/^tsws_watchdog_interrupts_total (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1] ?? NaN);

describe('watchdog', () => {
  for (const threads of [1, 2]) {
    it(`interrupts a receive that never returns (count-threads ${threads}): the other vhost answers again, the log names the culprit, the metric counts it`, async () => {
      const s = await start(threads);
      const spinner = await TestClient.open(`ws://127.0.0.1:${s.spinPort}/`, 'spin');
      spinner.send('spin');
      const line = await s.p.waitFor((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED');
      expect(line).toMatchObject({ vhost: 'spin-site', plugin: expect.stringContaining('spin') as unknown, protocol: 'spin', callback: 'receive', ended: 1 });
      // The connection whose receive was cut is closed with 1011, not left open and deaf.
      expect((await spinner.closed).code).toBe(1011);

      // Serving again: HTTP on the other vhost, a websocket on the other protocol, and the same spinning protocol.
      expect((await rawRequest(s.okPort, get('/ok'))).body).toBe('ok');
      const ok = await TestClient.open(`ws://127.0.0.1:${s.okPort}/`, 'ok');
      ok.send('hi');
      expect(await ok.nextText()).toBe('ok:hi');
      const again = await TestClient.open(`ws://127.0.0.1:${s.spinPort}/`, 'spin');
      again.send('fine');
      expect(await again.nextText()).toBe('fine');
      expect(await interrupts(s.metricsPort)).toBe(1);

      s.p.kill('SIGTERM');
      expect(await s.p.exited).toBe(0);
    });
  }

  it('interrupts a client connection\'s callback that never returns: that client is cut (1006: ws\'s parser was unwound too), the server goes on', async () => {
    const s = await start(1, true);
    const line = await s.p.waitFor((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED');
    // ended 1: the client connection's runner was the one recovered, not left counting itself inside a callback.
    expect(line).toMatchObject({ vhost: 'client-site', protocol: 'spin-client', callback: 'clientReceive', ended: 1 });
    expect(await s.p.waitFor((l) => l.event === 'spin-client-closed')).toMatchObject({ code: 1006 });
    expect((await rawRequest(s.okPort, get('/ok'))).body).toBe('ok');
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
  });

  it('answers 500 to an HTTP request whose callback it interrupted', async () => {
    const s = await start(1);
    const res = await rawRequest(s.spinPort, get('/spin'));
    expect(res.status).toBe(500);
    expect(await s.p.waitFor((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED')).toMatchObject({ callback: 'http', ended: 1 });
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
  });

  it('keeps serving after interrupting a filter or a session factory (uWS.js would abort a handler left with no answer)', async () => {
    const s = await start(1);
    const interruptions = () => s.p.lines.filter((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED').length;
    const hits = [
      () => upgradeStatus(`ws://127.0.0.1:${s.spinPort}/spin-filter`, 'spin'),
      () => upgradeStatus(`ws://127.0.0.1:${s.spinPort}/spin-session`, 'spin'),
      () => rawRequest(s.spinPort, get('/spin/spin-session')),
    ];
    for (const [i, hit] of hits.entries()) {
      // That client gets no answer (nothing to answer with once its handler was unwound); the stop cuts it.
      void hit().catch(() => undefined);
      await s.p.waitFor(() => interruptions() > i);
      expect((await rawRequest(s.okPort, get('/ok'))).body).toBe('ok');
    }
    expect(s.p.lines.filter((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED').map((l) => l.callback)).toEqual(['filter', 'session', 'session']);
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
  });

  it('ends with 0 on a SIGTERM that arrives while a callback holds the thread', async () => {
    const s = await start(1);
    const spinner = await TestClient.open(`ws://127.0.0.1:${s.spinPort}/`, 'spin');
    spinner.send('spin');
    // Only once the receive holds the thread: a SIGTERM sent right after the message could reach
    // the thread (as the stop) before the message does, and then nothing would be held.
    await s.p.waitFor((l) => l.event === 'spinning');
    s.p.kill('SIGTERM');
    expect(await s.p.exited).toBe(0);
    // Reported before the stop is handled (the stop message may come before the next beat), and
    // the connection it held ended then with 1011, so the stop had nothing left to cut.
    expect(s.p.lines.find((l) => l.code === 'TSWS_ERR_WATCHDOG_INTERRUPTED')).toMatchObject({ ended: 1 });
    expect(s.p.lines.find((l) => l.event === 'stopped')).toMatchObject({ cut: 0 });
  });
});
