import { spawn, type ChildProcess } from 'node:child_process';
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
wss.on('listening', () => console.log('port ' + wss.address().port));
wss.on('connection', (ws) => ws.on('ping', () => {
  console.log('ping');
  setTimeout(() => ws.pong(), 100);
}));
`;

let server: ChildProcess | undefined;
afterAll(() => void server?.kill('SIGKILL'));

describe('a client connection\'s pings across a stall of its own event loop', () => {
  it('is not cut for a pong that came in time but was still unread when the ping timer ran', async () => {
    const PING_MS = 1000;
    server = spawn(process.execPath, ['-e', SERVER], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    let buf = '';
    let stalled = false;
    server.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line === 'ping' && !stalled) {
          // The first ping is out, its pong on the way: block past the next tick of the ping timer.
          stalled = true;
          const end = Date.now() + 2.5 * PING_MS;
          while (Date.now() < end);
        }
      }
      for (const w of [...waiters]) w();
    });
    const line = (pred: (l: string) => boolean) =>
      new Promise<string>((resolve) => {
        const check = () => {
          const hit = lines.find(pred);
          if (hit !== undefined) {
            waiters.delete(check);
            resolve(hit);
          }
        };
        waiters.add(check);
        check();
      });
    const port = Number((await line((l) => l.startsWith('port '))).slice(5));

    const clients = standaloneClients(pino({ level: 'silent' }), 'test-program');
    const outcome = new Promise<string>((resolve) => {
      clients.connect({
        url: `ws://127.0.0.1:${port}/`,
        pingIntervalMs: PING_MS,
        callbacks: { clientClosed: (_conn, code, reason) => resolve(`closed ${code} ${reason}`) },
      });
      // A ping after the stall: the connection lived through it.
      void line((l) => l === 'ping' && lines.filter((x) => x === 'ping').length >= 2).then(() => resolve('pinged again'));
    });
    expect(await outcome).toBe('pinged again');
    clients.closeAll();
  }, 30_000);
});
