/**
 * @module A websocket frame that stops in the middle is closed after ws-pingpong-secs, while an idle peer that answers pings stays.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { startInProcess, type Running } from './helpers/in-process.ts';
import { OP, frame } from './helpers/raw-ws.ts';
import { TestClient } from './helpers/ws-client.ts';

let srv: Running;
beforeAll(async () => {
  const dir = makeConfigDir({
    // 8 s is the smallest bound uWS.js counts.
    conf: { global: { 'ws-pingpong-secs': '8' } },
    vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] }] },
  });
  srv = await startInProcess(dir);
});
afterAll(async () => {
  await srv?.stop();
  removeConfigDirs();
});

/** Upgrades a raw socket, sends `bytes` after the 101, and resolves with whether the server closed it within the liveness bound. */
function stallAfter(bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(srv.port(), '127.0.0.1', () =>
      s.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: echo\r\n\r\n`),
    );
    // Liveness bound only: well past 8 s and uWS.js's 4-second ticks.
    const bound = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 40_000);
    s.once('data', () => s.write(bytes));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(bound);
      resolve(true);
    });
  });
}

describe('a frame that announces 1 MiB and stalls', () => {
  it('is closed after ws-pingpong-secs, while an idle client that answers pings keeps its connection', async () => {
    const idle = await TestClient.open(srv.wsUrl('/'), 'echo');
    const partial = frame(OP.binary, Buffer.alloc(10), { claimedLength: 1024n * 1024n - 1n });
    expect(await stallAfter(partial)).toBe(true);
    // A second stall, opened after the first closed: the idle client has now been idle past a whole
    // timeout and was pinged (it answers, as ws does), and it is still served.
    expect(await stallAfter(partial)).toBe(true);
    idle.send('still here');
    expect(await idle.nextText()).toBe('still here');
    await idle.close();
  }, 90_000);
});
