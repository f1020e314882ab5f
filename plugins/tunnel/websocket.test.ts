/** @module Websockets under /nodes/<id>/ relayed through the tunnel to the node's target: frames, close codes, refusals, backpressure both ways. */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { removeConfigDirs } from '../../test/helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from '../../test/helpers/process.ts';
import { hello, killAgents, rawTunnel, runAgent, setRequestTimeout, tunnelConfigDir, type AgentProcess } from '../../test/helpers/tunnel.ts';
import { TestClient, eventually, socketOf } from '../../test/helpers/ws-client.ts';
import { floodMessage, startWsTarget, type WsTarget } from '../../test/helpers/ws-target.ts';

let target: WsTarget;
let agent: AgentProcess;
let base: string;
let ws: string;
let server: TswsProcess;
let configDir: string;

const MIB = 1024 * 1024;
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** The value once it has stopped changing for a while (a liveness bound, not a timing assertion: the value is what is asserted). */
async function settled(read: () => number, quietMs = 300, limitMs = 20_000): Promise<number> {
  const deadline = Date.now() + limitMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
  throw new Error('the value never settled');
}

/** The sink's TCP socket: set by the target when it accepts, which is before the client's 101. */
function sinkSocket(): { pause(): void; resume(): void } {
  const s = target.sink.socket;
  if (!s) throw new Error('the sink has no socket: the target did not accept');
  return s;
}

/** An upgrade's HTTP answer when it is refused (ws's 'unexpected-response'), or 101. */
function upgradeStatus(url: string, protocols?: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = new WebSocket(url, protocols);
    c.on('unexpected-response', (_req, res) => {
      c.terminate();
      resolve(res.statusCode ?? 0);
    });
    c.on('open', () => {
      c.terminate();
      resolve(101);
    });
    c.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

beforeAll(async () => {
  // ws-pingpong-secs 32: the flood cases below check the close code a client still pushing 64 MiB
  // receives; with uWS.js's idle timer off, the socket closed with end() stops reading after 0 to
  // 4 s and the kernel's reset can beat the close frame (1006 instead of 1013: see
  // docs/reference/security.md, "Not guaranteed").
  // request-timeout-secs 30, not 2: every upgrade goes through the agent to the target and must be
  // answered within it; the 504 case lowers it around its own upgrade.
  configDir = tunnelConfigDir('alpha:alpha-secret-token,gamma:gamma-secret-token', 30, 0, 32);
  server = runTsws(['-c', configDir]);
  target = await startWsTarget();
  const [listener] = await server.ready;
  base = `http://127.0.0.1:${listener?.port}`;
  ws = `ws://127.0.0.1:${listener?.port}`;
  agent = runAgent(['--server', ws, '--id', 'alpha', '--token', 'alpha-secret-token', '--target', target.url]);
  await agent.waitFor((l) => l.msg === 'tunnel up', 'the tunnel came up');
});

afterAll(async () => {
  killAgents();
  killAll();
  await target?.close();
  removeConfigDirs();
});

describe('a websocket under /nodes/<id>/', () => {
  it('reaches the target with the path, query, subprotocols and headers; text stays text, binary binary, in order', async () => {
    const c = await TestClient.open(`${ws}/nodes/alpha/echo?x=1&y=%20z`, ['x-none', 'chat'], { headers: { 'x-custom': 'kept', cookie: 'a=1' }, origin: 'http://example.test' });
    expect(c.ws.protocol).toBe('chat');
    const seen = target.upgrades.find((u) => u.url === '/echo?x=1&y=%20z');
    expect(seen?.headers).toMatchObject({ 'x-custom': 'kept', cookie: 'a=1', origin: 'http://example.test', 'sec-websocket-protocol': 'x-none,chat', 'x-forwarded-prefix': '/nodes/alpha', 'x-forwarded-for': '127.0.0.1' });
    expect(seen?.headers.host).toBe(new URL(target.url).host);
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe]);
    for (let i = 0; i < 50; i++) c.send(i % 2 === 0 ? `text ${i} ü` : Buffer.concat([bytes, Buffer.from([i])]));
    const got = [];
    for (let i = 0; i < 50; i++) got.push(await c.next());
    expect(got.map((m) => m.isBinary)).toEqual(Array.from({ length: 50 }, (_, i) => i % 2 === 1));
    expect(got[0]?.text).toBe('text 0 ü');
    expect(got[49]?.data).toEqual(Buffer.concat([bytes, Buffer.from([49])]));
    c.ws.send(Buffer.alloc(0), { binary: false });
    expect(await c.next()).toMatchObject({ text: '', isBinary: false });
    // No subprotocol asked for: none answered.
    const bare = await TestClient.open(`${ws}/nodes/alpha/echo`);
    expect(bare.ws.protocol).toBe('');
    await bare.close();
    await c.close();
  });

  it('carries close codes and reasons both ways (a close without a code too); a target that vanishes is 1014 to the client', async () => {
    const c = await TestClient.open(`${ws}/nodes/alpha/echo`);
    expect(await c.close(4321)).toMatchObject({ code: 4321 });
    await eventually(() => target.closes.some((x) => x.path === '/echo' && x.code === 4321), 'the target saw 4321');
    c.ws.close();
    const bare = await TestClient.open(`${ws}/nodes/alpha/echo`);
    const before = target.closes.length;
    await bare.close();
    await eventually(() => target.closes.length > before, 'the target saw the close');
    expect(target.closes.slice(before)).toEqual([{ path: '/echo', code: 1005, reason: '' }]);
    const byTarget = new TestClient(`${ws}/nodes/alpha/close?code=4123&reason=see%20you`);
    expect((await byTarget.next()).text).toBe('closing now');
    expect(await byTarget.closed).toEqual({ code: 4123, reason: 'see you' });
    const dropped = new TestClient(`${ws}/nodes/alpha/drop`);
    expect((await dropped.next()).text).toBe('dropping now');
    expect((await dropped.closed).code).toBe(1014);
  });

  it('a target refusing the upgrade gives its status (403, 404); a target that never answers, 504', async () => {
    expect(await upgradeStatus(`${ws}/nodes/alpha/forbidden`)).toBe(403);
    expect(await upgradeStatus(`${ws}/nodes/alpha/no-such-thing`)).toBe(404);
    await setRequestTimeout(server, configDir, 2);
    try {
      expect(await upgradeStatus(`${ws}/nodes/alpha/hang`)).toBe(504);
    } finally {
      await setRequestTimeout(server, configDir, 30);
    }
    expect(await upgradeStatus(`${ws}/nodes/nobody/echo`)).toBe(404);
    expect(await upgradeStatus(`${ws}/nodes/gamma/echo`)).toBe(502);
  });

  it('an old (wire v1) agent keeps its tunnel, and an upgrade to it is refused with 502', async () => {
    const old = await rawTunnel(ws, hello('gamma', 'gamma-secret-token', { offers: ['http', 'messages', 'websocket'] }));
    expect(old.answer).toMatchObject({ type: 'welcome', v: 1, offers: ['http', 'messages'] });
    expect(await upgradeStatus(`${ws}/nodes/gamma/echo`)).toBe(502);
    old.client.send('{"type":"ping"}');
    expect(JSON.parse(await old.client.nextText())).toEqual({ type: 'pong' });
    // nothing websocket-shaped was ever sent to it
    expect(old.client.received.filter((m) => m.isBinary || m.text.includes('"ws'))).toEqual([]);
    await old.client.close();
  });

  it('a client that leaves while the target is still deciding: the target\'s websocket is closed, not left open', async () => {
    const c = new WebSocket(`${ws}/nodes/alpha/held`);
    c.on('error', () => undefined);
    await target.held;
    c.terminate();
    target.releaseHeld();
    await eventually(() => target.closes.some((x) => x.path === '/held' && x.code === 1001 && x.reason === 'client went away'), 'the held websocket was closed');
  });
});

describe('large messages and slow readers', () => {
  it('target to client: a client that does not read holds the target back; then every 1 MiB message arrives intact', async () => {
    const n = 48;
    const c = new TestClient(`${ws}/nodes/alpha/flood?n=${n}&size=${MIB}`);
    await c.opened;
    socketOf(c).pause();
    // The target ends up waiting on its socket long before it has sent everything: nothing on the way buffers it all.
    const heldAt = await settled(() => (target.flood.waiting ? target.flood.sent : -1));
    expect(heldAt).toBeGreaterThanOrEqual(0);
    expect(heldAt).toBeLessThan(n / 2);
    socketOf(c).resume();
    for (let i = 0; i < n; i++) {
      const m = await c.next(20_000);
      expect(m.isBinary).toBe(true);
      expect(m.data.equals(floodMessage(i, MIB)), `message ${i}`).toBe(true);
    }
    expect(await c.closed).toEqual({ code: 1000, reason: 'flood done' });
  });

  it('client to target: 1 MiB messages reach a target that reads slowly, intact and in order', async () => {
    target.sink.socket = undefined;
    const c = await TestClient.open(`${ws}/nodes/alpha/sink`);
    const sink = sinkSocket();
    sink.pause();
    const sent = [0, 1, 2].map((i) => crypto.randomBytes(MIB + i));
    for (const m of sent) c.send(m);
    // The target has read nothing yet, and the client's socket took all three: they wait on the way.
    await eventually(() => c.ws.bufferedAmount === 0, 'the client sent everything');
    expect(target.sink.received).toEqual([]);
    sink.resume();
    await c.until((m) => m.text === 'got 3', 20_000);
    expect(target.sink.received).toEqual(sent.map((m) => ({ size: m.length, sha256: sha(m), isBinary: true })));
    await c.close();
  });

  it('client to target: a client far ahead of a target that does not read is closed with 1013, not buffered without bound', async () => {
    target.sink.socket = undefined;
    const c = await TestClient.open(`${ws}/nodes/alpha/sink`);
    const sink = sinkSocket();
    sink.pause();
    const mib = Buffer.alloc(MIB, 3);
    for (let i = 0; i < 64 && c.ws.readyState === WebSocket.OPEN; i++) c.send(mib);
    expect((await c.closed).code).toBe(1013);
    sink.resume();
  });

  it('a message over ws-max-message-kb (4 MiB by default) closes the client with 1009', async () => {
    const c = await TestClient.open(`${ws}/nodes/alpha/echo`);
    c.send(Buffer.alloc(4 * MIB + 1));
    expect((await c.closed).code).toBe(1009);
  });
});

describe('the tunnel goes away', () => {
  it('the clients of its websockets are closed with 1014, and the node list forgets it', async () => {
    const c = await TestClient.open(`${ws}/nodes/alpha/echo`);
    c.send('before');
    expect((await c.next()).text).toBe('before');
    agent.kill('SIGKILL');
    expect(await c.closed).toEqual({ code: 1014, reason: 'the tunnel to node alpha closed' });
    expect(await upgradeStatus(`${ws}/nodes/alpha/echo`)).toBe(502);
    expect((await fetch(`${base}/nodes`)).status).toBe(200);
  });
});
