import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { standaloneClients } from './standalone.ts';

/* A program with no vhost (the tunnel agent, the chat console) gets the same client machine. */
let wss: WebSocketServer;
let url: string;
beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => [...p][0] ?? false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((r) => wss.once('listening', r));
  const addr = wss.address();
  url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});
afterAll(() => new Promise((r) => wss.close(r)));

describe('client connections outside a server', () => {
  it('exchange messages under the same rules, and closeAll closes them (1001) for good', async () => {
    const clients = standaloneClients(pino({ level: 'silent' }), 'test-program');
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => {
      clients.connect({
        url,
        protocol: 'echo',
        session: { outbox: ['one', 'two'] },
        callbacks: {
          clientEstablished: (conn) => conn.requestWritable(),
          clientWritable(conn) {
            const next = conn.session.outbox.shift();
            if (next === undefined) return;
            conn.write(next);
            if (conn.session.outbox.length > 0) conn.requestWritable();
          },
          clientReceive(conn, data) {
            events.push(data.toString());
            if (events.length === 2) clients.closeAll();
          },
          clientClosed(conn, code, reason) {
            events.push(`closed ${code} ${reason} ${conn.state}`);
            resolve();
          },
        },
      });
    });
    await closed;
    expect(events).toEqual(['one', 'two', 'closed 1001 server stopping closed']);
    // After closeAll nothing starts.
    expect(clients.connect({ url, callbacks: {} }).state).toBe('closed');
  });

  it('a writable asked for while connecting runs once the connection is established', async () => {
    const clients = standaloneClients(pino({ level: 'silent' }), 'test-program');
    const echoed = new Promise<string>((resolve) => {
      const conn = clients.connect({
        url,
        callbacks: {
          clientWritable: (c) => void c.write('early'),
          clientReceive: (_c, data) => resolve(data.toString()),
        },
      });
      expect(conn.state).toBe('connecting');
      conn.requestWritable();
    });
    expect(await echoed).toBe('early');
    clients.closeAll();
  });
});
