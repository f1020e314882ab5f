import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { standaloneClients } from './standalone.ts';

/*
 * The server is another process, so that it answers pings while this one's
 * event loop is blocked. It prints "ping" when one arrives and answers it
 * 100 ms later: this process blocks its loop on reading that line, so the
 * pong arrives during the block, in time, and is read only after it.
 */
const SERVER = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
wss.on('listening', () => process.stdout.write('port ' + wss.address().port + '\\n'));
wss.on('connection', (ws) => ws.on('ping', () => {
  process.stdout.write('ping\\n');
  setTimeout(() => ws.pong(), 100);
}));
`;

let server: ChildProcess | undefined;
afterAll(() => void server?.kill('SIGKILL'));

describe('a client connection\'s pings across a stall of its own event loop', () => {
  it('is not cut for a pong that came in time but was still unread when the ping timer ran', async () => {
    const PING_MS = 1000;
    server = spawn(process.execPath, ['-e', SERVER], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
    let pings = 0;
    let onPort: (port: number) => void = () => undefined;
    const listening = new Promise<number>((resolve) => (onPort = resolve));
    let onSecondPing: () => void = () => undefined;
    const secondPing = new Promise<void>((resolve) => (onSecondPing = resolve));
    readline.createInterface({ input: server.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('port ')) return onPort(Number(line.slice(5)));
      if (line !== 'ping') return;
      if (++pings === 2) return onSecondPing();
      // The first ping is out, its pong on the way: block past the next tick of the ping timer.
      const end = Date.now() + 2.5 * PING_MS;
      while (Date.now() < end);
    });

    const port = await listening;
    const clients = standaloneClients(pino({ level: 'silent' }), 'test-program');
    const outcome = new Promise<string>((resolve) => {
      clients.connect({
        url: `ws://127.0.0.1:${port}/`,
        pingIntervalMs: PING_MS,
        callbacks: { clientClosed: (_conn, code, reason) => resolve(`closed ${code} ${reason}`) },
      });
      // A ping after the stall: the connection lived through it.
      void secondPing.then(() => resolve('pinged again'));
    });
    expect(await outcome).toBe('pinged again');
    clients.closeAll();
  }, 30_000);
});
