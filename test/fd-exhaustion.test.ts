/**
 * @module A flood of connections near the open-file limit: tsws stops accepting (refused, not hung), says so once, counts it, and accepts again when the flood ends.
 *
 * The server runs under `ulimit -n 256`, so a few hundred websockets from
 * four loopback addresses (each under the per-address default, a quarter of
 * the limit) are enough to reach the 90 % mark.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { BIN, killAll, runLogged, type TswsProcess } from './helpers/process.ts';
import { sample } from './helpers/prom.ts';

const LIMIT = 256;
let server: TswsProcess;
let port = 0;
let metricsPort = 0;

beforeAll(async () => {
  const dir = makeConfigDir({
    conf: { global: { metrics: { port: '0', interface: '127.0.0.1' } } },
    vhosts: { x: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] }] },
  });
  server = runLogged('sh', ['-c', `ulimit -n ${LIMIT} && exec "$0" "$@"`, process.execPath, BIN, '-c', dir], { cwd: dir, env: process.env });
  port = (await server.ready)[0]?.port ?? 0;
  metricsPort = ((await server.waitFor((l) => l.event === 'listening' && typeof l.metrics === 'string')).port as number) ?? 0;
});
afterAll(() => {
  killAll();
  removeConfigDirs();
});

/** A raw websocket from `from`; resolves 'open' (101), 'refused' (ECONNREFUSED), or the status it got instead. */
function upgrade(from: string): Promise<{ result: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from }, () =>
      socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: echo\r\n\r\n`),
    );
    socket.once('data', (c) => resolve({ result: c.toString('latin1').startsWith('HTTP/1.1 101') ? 'open' : c.toString('latin1').split('\r\n')[0] ?? '', socket }));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ result: err.code === 'ECONNREFUSED' ? 'refused' : `error ${err.code}`, socket }));
    socket.once('close', () => resolve({ result: 'closed', socket }));
  });
}

describe('near the open-file limit', () => {
  it('stops accepting (refused at once), logs it once, counts it, and accepts again once connections close', async () => {
    const held: net.Socket[] = [];
    const results: string[] = [];
    // Four addresses, 60 each: under the per-address default (64), past 90 % of 256 together.
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      for (let i = 0; i < 60; i++) {
        const { result, socket } = await upgrade(from);
        results.push(result);
        held.push(socket);
        if (result === 'refused') break;
      }
      if (results.includes('refused')) break;
    }
    // Refused at once: never left hanging. A connection still in the listen queue when the
    // socket closed is reset rather than refused.
    expect(results).toContain('refused');
    expect(results.filter((r) => r !== 'open' && r !== 'refused' && r !== 'error ECONNRESET')).toEqual([]);
    await server.waitFor((l) => l.code === 'TSWS_WARN_FD_HIGH');
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(sample(text, 'tsws_accept_paused_total')).toBe(1);
    expect(sample(text, 'tsws_accepting')).toBe(0);

    for (const s of held) s.destroy();
    await server.waitFor((l) => l.event === 'accept-resumed');
    const again = await upgrade('127.0.0.6');
    expect(again.result).toBe('open');
    again.socket.destroy();
    expect(server.lines.filter((l) => l.code === 'TSWS_WARN_FD_HIGH')).toHaveLength(1);
  });

  it('caps websockets per address at a quarter of the open-file limit by default', async () => {
    const held: net.Socket[] = [];
    const results: string[] = [];
    for (let i = 0; i < LIMIT / 4 + 1; i++) {
      const { result, socket } = await upgrade('127.0.0.7');
      results.push(result);
      held.push(socket);
    }
    expect(results.slice(0, LIMIT / 4).filter((r) => r !== 'open')).toEqual([]);
    expect(results[LIMIT / 4]).toMatch(/^HTTP\/1\.1 503/);
    for (const s of held) s.destroy();
  });
});
