import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { TestClient, eventually, socketOf, upgradeStatus } from './helpers/ws-client.ts';

const PLUGIN = `
export default { apiVersion: 1, protocols: [
  { name: 'limited', rateLimit: { messagesPerSecond: 5, burst: 5 }, session: () => ({ q: [] }),
    callbacks: { receive(c, d) { c.session.q.push(d); c.requestWritable(); }, writable(c) { const m = c.session.q.shift(); if (m) c.write(m); } } },
  { name: 'ticker', inbox: { maxMessages: 10, onOverflow: 'drop-oldest' },
    callbacks: {
      established(c) { c.subscribe('t'); },
      receive(c, d) { const n = Number(d.toString()); for (let i = 1; i <= n; i++) c.vhost.publish('t', String(i).padStart(6, '0') + 'x'.repeat(30000)); },
      writable(c) { const m = c.nextPublished(); if (m) c.write(m.data, false); } } },
  { name: 'post', httpBodyLimit: 1000000, session: () => ({ n: 0, done: false }),
    callbacks: {
      httpBody(t, c) { t.session.n += c.length; },
      httpBodyCompletion(t) { t.session.done = true; t.requestWritable(); },
      httpWritable(t) { t.writeHead(200, {}, { end: true }); } } },
] };
`;

let srv: Running;
beforeAll(async () => {
  srv = await startInProcess(makeConfigDir({
    conf: { global: { 'ws-pingpong-secs': '8', 'timeout-secs': '1', 'ip-limit-wsi': '3', 'reject-service-keywords': [{ evilbot: '403' }, { scanner: '404' }] } },
    plugins: { 'limits.js': PLUGIN },
    files: { 'www/index.html': 'ok' },
    vhosts: { x: [{ name: 'localhost', port: '0', 'ws-origins': ['https://good.example'],
      mounts: [{ mountpoint: '/', origin: 'file://www' }, { mountpoint: '/post', origin: 'callback://post' }],
      'ws-protocols': [{ echo: {}, limited: {}, ticker: {}, post: {} }] }] },
  }));
});
afterAll(async () => {
  await srv.stop();
  removeConfigDirs();
});

/** A websocket made by hand: handshake, then nothing (in particular, no pong). */
function silentSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: echo\r\n\r\n`);
    });
    s.once('data', (d) => (d.toString().startsWith('HTTP/1.1 101') ? resolve(s) : reject(new Error(d.toString()))));
    s.on('error', () => undefined);
  });
}

describe('limits and timeouts', () => {
  it('ws-pingpong-secs: pings idle websockets and closes the one that never answers', async () => {
    const silent = await silentSocket(srv.port());
    const answering = await TestClient.open(srv.wsUrl(), 'echo'); // ws answers pings by itself
    const pings: Buffer[] = [];
    silent.on('data', (d) => pings.push(d));
    await new Promise((r) => silent.once('close', r));
    expect(pings.some((d) => d[0] === 0x89)).toBe(true); // it was pinged before being closed
    answering.send('still here');
    expect(await answering.nextText()).toBe('still here');
    await answering.close();
  }, 40_000);

  it('timeout-secs: a request body that stalls is cut, a complete one is served', async () => {
    const sock = net.connect(srv.port(), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b');
    let reply = '';
    sock.on('data', (d) => (reply += d));
    await new Promise((r) => sock.once('close', r));
    expect(reply).toBe('');
    expect((await fetch(srv.url('/post'), { method: 'POST', body: 'x'.repeat(100) })).status).toBe(200);
  });

  it('ip-limit-wsi: an address holding the limit gets 503 for the next websocket', async () => {
    const held = await Promise.all([1, 2, 3].map(() => TestClient.open(srv.wsUrl(), 'echo')));
    expect(await upgradeStatus(srv.wsUrl(), 'echo')).toBe(503);
    expect(srv.logs.some((l) => l.code === 'TSWS_ERR_UPGRADE_IP_LIMIT')).toBe(true);
    expect((await fetch(srv.url('/'))).status).toBe(200); // plain HTTP is not held back
    await held[0]?.close();
    await eventually(() => srv.server.connections.size === 2, 'one websocket closed');
    const again = await TestClient.open(srv.wsUrl(), 'echo');
    await Promise.all([again, ...held.slice(1)].map((c) => c?.close()));
  });

  it('a protocol opting into a rate limit closes a flooding connection with 1008, not a calm one', async () => {
    const calm = await TestClient.open(srv.wsUrl(), 'limited');
    for (const m of ['a', 'b', 'c']) calm.send(m);
    expect([await calm.nextText(), await calm.nextText(), await calm.nextText()]).toEqual(['a', 'b', 'c']);
    const flood = await TestClient.open(srv.wsUrl(), 'limited');
    for (let i = 0; i < 50; i++) flood.send(String(i));
    expect(await flood.closed).toEqual({ code: 1008, reason: 'rate limit' });
    await calm.close();
  });

  it('a drop-oldest inbox keeps a slow reader connected and gives it the newest messages', async () => {
    const slow = new TestClient(srv.wsUrl(), 'ticker');
    await slow.opened;
    socketOf(slow).pause();
    const publisher = await TestClient.open(srv.wsUrl(), 'ticker');
    publisher.send('3000'); // 90 MB published: far past socket buffers and a 10-message inbox
    await publisher.until((m) => m.text.startsWith('003000'));
    socketOf(slow).resume();
    await slow.until((m) => m.text.startsWith('003000'));
    expect(slow.received.length).toBeLessThan(3000);
    const ids = slow.received.map((m) => Number(m.text.slice(0, 6)));
    expect(ids).toEqual([...ids].sort((x, y) => x - y)); // what it got is in order, the gaps are the drops
    expect(slow.ws.readyState).toBe(slow.ws.OPEN);
    await slow.close();
    await publisher.close();
  });

  it('reject-service-keywords answers matching User-Agents with their status, HTTP and upgrades alike', async () => {
    expect((await rawRequest(srv.port(), 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla evilbot/1.0\r\nConnection: close\r\n\r\n')).status).toBe(403);
    expect((await rawRequest(srv.port(), 'GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: scanner\r\nConnection: close\r\n\r\n')).status).toBe(404);
    expect(await upgradeStatus(srv.wsUrl(), 'echo', { 'user-agent': 'evilbot' })).toBe(403);
    expect((await fetch(srv.url('/'), { headers: { 'user-agent': 'friendly' } })).status).toBe(200);
  });

  it('ws-origins lets listed origins (and non-browser clients) open websockets and refuses others with 403', async () => {
    expect(await upgradeStatus(srv.wsUrl(), 'echo', { origin: 'https://good.example' })).toBe(101);
    expect(await upgradeStatus(srv.wsUrl(), 'echo', { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(srv.wsUrl(), 'echo')).toBe(101);
  });
});
