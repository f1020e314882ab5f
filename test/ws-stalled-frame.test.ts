/**
 * @module A websocket frame that stops in the middle is cut, by ws-message-timeout-secs (on by default) or ws-pingpong-secs, while an idle peer that answers pings stays: alone, after a reload that re-binds the port, and under count-threads.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess } from './helpers/in-process.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { OP, frame } from './helpers/raw-ws.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

const echoVhost = (more: Record<string, unknown> = {}) => ({ x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }], ...more }] });

/** Ten bytes of a frame that announces 1 MiB: the rest never comes. */
const partial = () => frame(OP.binary, Buffer.alloc(10), { claimedLength: 1024n * 1024n - 1n });

/**
 * Upgrades a raw socket and sends `bytes` after the 101, then (with
 * `trickleMs`) one more zero byte that often. `cut` resolves true when the
 * server closes it, false if it is still open at the liveness bound.
 */
function stall(port: number, bytes: Buffer, boundMs: number, trickleMs = 0): { cut: Promise<boolean>; upgraded: Promise<void>; after: Buffer[] } {
  /** What the server sent after the 101 (unmasked frames, each empty here: a ping is 0x89 0x00, a close frame would start 0x88). */
  const after: Buffer[] = [];
  let upgradedNow = () => undefined as void;
  const upgraded = new Promise<void>((resolve) => (upgradedNow = resolve));
  const cut = new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: echo\r\n\r\n`),
    );
    // Liveness bound only, well past the configured one.
    const bound = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, boundMs);
    let trickle: NodeJS.Timeout | undefined;
    s.once('data', () => {
      s.on('data', (d: Buffer) => after.push(d));
      s.write(bytes);
      upgradedNow();
      if (trickleMs > 0) trickle = setInterval(() => s.write(Buffer.alloc(1)), trickleMs);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(trickle);
      clearTimeout(bound);
      resolve(true);
    });
  });
  return { cut, upgraded, after };
}

async function stillServed(c: TestClient): Promise<void> {
  c.send('still here');
  expect(await c.nextText()).toBe('still here');
}

describe('a frame that announces 1 MiB and stalls', () => {
  it('is cut after ws-pingpong-secs, while an idle client that answers pings keeps its connection', async () => {
    // 8 s is the smallest bound uWS.js counts; the sweep is off, so this is uWS.js's timer alone.
    const srv = await startInProcess(makeConfigDir({ conf: { global: { 'ws-pingpong-secs': '8', 'ws-message-timeout-secs': '0' } }, vhosts: echoVhost() }));
    try {
      const idle = await TestClient.open(srv.wsUrl('/'), 'echo');
      // Well past 8 s and uWS.js's 4-second ticks.
      expect(await stall(srv.port(), partial(), 40_000).cut).toBe(true);
      // A second stall, opened after the first closed: the idle client has now been idle past a whole
      // timeout and was pinged (it answers, as ws does), and it is still served.
      expect(await stall(srv.port(), partial(), 40_000).cut).toBe(true);
      await stillServed(idle);
      await idle.close();
    } finally {
      await srv.stop();
    }
  }, 90_000);

  it('is cut after ws-message-timeout-secs with ws-pingpong-secs off, without a close frame, while an idle client stays', async () => {
    const srv = await startInProcess(makeConfigDir({ conf: { global: { 'ws-pingpong-secs': '0', 'ws-message-timeout-secs': '2' } }, vhosts: echoVhost() }));
    try {
      const idle = await TestClient.open(srv.wsUrl('/'), 'echo');
      // Cut between about 3 and 6 s (twice the bound, give or take a 1 s sweep): pinged first, then
      // dropped without a close frame, as lws drops a peer that fails its ping.
      const first = stall(srv.port(), partial(), 30_000);
      expect(await first.cut).toBe(true);
      expect(Buffer.concat(first.after).toString('hex')).toBe('8900');
      expect(srv.logs.some((l) => l.code === 'TSWS_ERR_WS_PEER_SILENT')).toBe(true);
      // The idle client was pinged at least once meanwhile (it answers, as ws does), and is still served.
      expect(await stall(srv.port(), partial(), 30_000).cut).toBe(true);
      await stillServed(idle);
      // A frame trickled a byte at a time is cut too: bytes of a frame are not an answer.
      const trickle = stall(srv.port(), partial(), 30_000, 300);
      expect(await trickle.cut).toBe(true);
      await stillServed(idle);
      await idle.close();
    } finally {
      await srv.stop();
    }
  }, 90_000);

  it('is cut on a listener a reload re-bound: the sweep covers connections of every generation', async () => {
    const dir = makeConfigDir({ conf: { global: { 'ws-message-timeout-secs': '2' } }, vhosts: echoVhost() });
    const srv = await startInProcess(dir);
    try {
      const oldPort = srv.port();
      const idle = await TestClient.open(srv.wsUrl('/'), 'echo');
      const stalled = stall(oldPort, partial(), 30_000);
      // Once the server holds the stalled socket (its upgrade answered), re-bind: a new message
      // limit is a new transport, so the old socket drains beside the new one.
      await stalled.upgraded;
      fs.writeFileSync(path.join(dir, 'conf.d/x'), JSON.stringify({ vhosts: echoVhost({ 'ws-max-message-size': '65536' }).x }));
      const report = await srv.reload();
      expect(report.rebound.length).toBe(1);
      expect(await stalled.cut).toBe(true);
      await stillServed(idle);
      await idle.close();
    } finally {
      await srv.stop();
    }
  }, 60_000);

  it('is cut under count-threads 2, whichever thread holds it', async () => {
    const dir = makeConfigDir({ conf: { global: { 'count-threads': '2', 'ws-message-timeout-secs': '2', 'watchdog-secs': '0' } }, vhosts: echoVhost({ port: '0' }) });
    const p = runTsws(['-c', dir]);
    const [listener] = await p.ready;
    const port = listener?.port as number;
    const idle = await TestClient.open(`ws://127.0.0.1:${port}/`, 'echo');
    // Four stalls: the kernel spreads them over both threads; each thread's sweep cuts its own.
    const cuts = await Promise.all([1, 2, 3, 4].map(() => stall(port, partial(), 30_000).cut));
    expect(cuts).toEqual([true, true, true, true]);
    await stillServed(idle);
    await idle.close();
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 60_000);
});
