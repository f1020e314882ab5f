/** @module channelFrames on the wire: a client that sends channel frames and never reads the answers is closed 1008 "slow consumer", not held in memory for as long as its socket stays open. */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from '../helpers/config-dir.ts';
import { freePort } from '../helpers/free-port.ts';
import { killAll, runTsws, type TswsProcess } from '../helpers/process.ts';
import { OP, RawWebSocket, frame } from '../helpers/raw-ws.ts';

const PLUGINS = path.resolve(import.meta.dirname, '../plugins-v2');
let port: number;
let server: TswsProcess;

beforeAll(async () => {
  port = await freePort();
  const dir = makeConfigDir({
    conf: { global: { 'plugin-dir': PLUGINS } },
    vhosts: { localhost: [{ name: 'localhost', port: String(port), interface: '127.0.0.1', 'ws-protocols': [{ 'channels-demo': {} }] }] },
  });
  server = runTsws(['-c', dir]);
  await server.ready;
});

afterAll(() => {
  killAll();
  removeConfigDirs();
});

it('closes a socket that sends unsubscribe frames and never reads the answers (the audit\'s repro, with valid names)', async () => {
  const ws = await RawWebSocket.open(port, 'channels-demo');
  ws.socket.pause();
  // 60,000 answers of about 240 bytes: past what the kernel's buffers and uWS.js's take, then past the
  // protocol's default inbox bound (1024 frames) while the socket holds unsent bytes.
  const name = `room:${'n'.repeat(190)}`;
  const batch = Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(OP.text, JSON.stringify({ ch: 'unsubscribe', channel: `${name}${i}` }))));
  for (let i = 0; i < 60; i++) ws.socket.write(batch);
  // The server says why it closes (the old code never did, and held every answer); only then read what it wrote, and its close frame.
  await server.waitFor((l) => l.code === 'TSWS_ERR_CHANNEL_FRAMES_UNREAD');
  ws.socket.resume();
  const end = await ws.ended;
  expect({ code: end.code, reason: end.reason.toString() }).toEqual({ code: 1008, reason: 'slow consumer' });
  expect(ws.frames.length).toBeLessThan(60_000);
}, 30_000);
