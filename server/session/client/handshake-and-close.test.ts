/** @module What a bridge passes on through a client connection: subprotocol lists and the choice, a refused upgrade's status, close codes with 1005. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { isTswsError, type TswsError } from '../../base/errors.ts';
import { eventually } from '../../../test/helpers/ws-client.ts';
import { standaloneClients, type StandaloneClients } from './standalone.ts';

/*
 * What a bridge (the tunnel agent's websockets to its target) passes on
 * from one side to the other: the subprotocols offered and the one chosen,
 * the status of a refused upgrade, and close codes including "none" (1005).
 */
let server: http.Server;
let base: string;
/** How each server-side websocket ended, by path. */
const closes: { path: string; code: number; reason: string }[] = [];
let clients: StandaloneClients;

beforeAll(async () => {
  // The target picks the last subprotocol offered, so "the first" would be wrong.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p].at(-1) ?? false });
  server = http.createServer();
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/forbidden') return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('close', (code, reason) => closes.push({ path, code, reason: reason.toString() }));
      // A close with no code in its frame: the client hears 1005.
      if (path === '/close-bare') ws.close();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => clients?.closeAll());

describe('what a bridge passes on', () => {
  it('offers several subprotocols and reads back the one the server chose, and the 101', async () => {
    clients = standaloneClients(pino({ level: 'silent' }), 'bridge-test');
    const conn = clients.connect({ url: `${base}/echo`, protocol: ['x-none', 'chat'], callbacks: {} });
    expect(conn.protocol).toBe('x-none, chat');
    expect(conn.acceptedProtocol).toBe('');
    await eventually(() => conn.state === 'open', 'established');
    expect(conn.acceptedProtocol).toBe('chat');
    expect(conn.handshakeStatus).toBe(101);
    const bare = clients.connect({ url: `${base}/echo`, protocol: [], callbacks: {} });
    await eventually(() => bare.state === 'open', 'established without a subprotocol');
    expect(bare.acceptedProtocol).toBe('');
  });

  it('a refused upgrade gives its status with TSWS_ERR_CLIENT_BAD_HANDSHAKE; a malformed subprotocol list throws TSWS_ERR_CLIENT_OPTIONS', async () => {
    clients = standaloneClients(pino({ level: 'silent' }), 'bridge-test');
    const failed = new Promise<{ err: TswsError; status: number | undefined }>((resolve) => {
      clients.connect({ url: `${base}/forbidden`, callbacks: { clientConnectionError: (c, err) => resolve({ err, status: c.handshakeStatus }) } });
    });
    const { err, status } = await failed;
    expect(err.code).toBe('TSWS_ERR_CLIENT_BAD_HANDSHAKE');
    expect(err.message).toContain('Unexpected server response: 403');
    expect(status).toBe(403);
    let thrown: unknown;
    try {
      clients.connect({ url: `${base}/echo`, protocol: ['chat', 'chat'], callbacks: {} });
    } catch (e) {
      thrown = e;
    }
    expect(isTswsError(thrown, 'TSWS_ERR_CLIENT_OPTIONS')).toBe(true);
  });

  it('close codes pass both ways, 1005 (no code) included; 1005 takes no reason', async () => {
    clients = standaloneClients(pino({ level: 'silent' }), 'bridge-test');
    const heard = new Promise<[number, string]>((resolve) => {
      clients.connect({ url: `${base}/close-bare`, callbacks: { clientClosed: (_c, code, reason) => resolve([code, reason]) } });
    });
    expect(await heard).toEqual([1005, '']);

    const mine = clients.connect({ url: `${base}/echo`, callbacks: {} });
    await eventually(() => mine.state === 'open', 'established');
    expect(() => mine.close(1005, 'why')).toThrow(expect.objectContaining({ code: 'TSWS_ERR_BAD_CLOSE_CODE' }));
    expect(() => mine.close(1006)).toThrow(expect.objectContaining({ code: 'TSWS_ERR_BAD_CLOSE_CODE' }));
    const before = closes.length;
    mine.close(1005);
    await eventually(() => closes.length > before, 'the server saw the close');
    expect(closes.at(-1)).toEqual({ path: '/echo', code: 1005, reason: '' });

    const coded = clients.connect({ url: `${base}/echo`, callbacks: {} });
    await eventually(() => coded.state === 'open', 'established');
    coded.close(4321, 'see you');
    await eventually(() => closes.some((c) => c.code === 4321), 'the server saw 4321');
    expect(closes.at(-1)).toEqual({ path: '/echo', code: 4321, reason: 'see you' });
  });
});
