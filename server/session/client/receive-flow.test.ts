/** @module pauseReceive/resumeReceive on real sockets: nothing delivered while paused, the server held back, everything in order after; the ping check resting while paused. */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventually } from '../../../test/helpers/ws-client.ts';
import { standaloneClients, type StandaloneClients } from './standalone.ts';

/*
 * pauseReceive/resumeReceive (lws_rx_flow_control) on a real socket: the
 * server here is ws on 127.0.0.1, and "backpressure" is what it sees, its
 * bufferedAmount growing once the kernel's buffers between the two are full.
 */
const MESSAGE = 16 * 1024;
/** Sent unread past this, the server is held back: the socket buffers between are full. */
const HELD_BACK = 1024 * 1024;
/** A bound on the flood, so a client that never pauses fails the test instead of filling memory. */
const MAX_MESSAGES = 8192;

type Behaviour = (ws: WebSocket) => void;
let behaviour: Behaviour = () => undefined;
let wss: WebSocketServer;
let url: string;
let clients: StandaloneClients;

beforeAll(async () => {
  // autoPong off: a test decides whether pings are answered (ws answers them itself by default).
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false, perMessageDeflate: false });
  wss.on('connection', (ws) => behaviour(ws));
  await new Promise((r) => wss.once('listening', r));
  const addr = wss.address();
  url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});
afterAll(() => new Promise((r) => wss.close(r)));
afterEach(() => clients?.closeAll());

const numbered = (i: number): Buffer => {
  const b = Buffer.alloc(MESSAGE, i % 251);
  b.writeUInt32BE(i, 0);
  return b;
};

/** Sends numbered messages until the socket holds HELD_BACK unsent (the peer stopped reading), or MAX_MESSAGES went. */
function flood(ws: WebSocket): Promise<{ sent: number; heldBack: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    const more = () => {
      for (let k = 0; k < 64 && sent < MAX_MESSAGES; k++) ws.send(numbered(sent++));
      if (ws.bufferedAmount > HELD_BACK) return resolve({ sent, heldBack: true });
      if (sent >= MAX_MESSAGES) return resolve({ sent, heldBack: false });
      // A turn of the loop between batches, for the socket to write what it can.
      setImmediate(more);
    };
    more();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pauseReceive and resumeReceive (lws_rx_flow_control)', () => {
  it('a paused client gets no clientReceive while the server sends; the server is held back; resume delivers everything in order', async () => {
    let floodDone!: Promise<{ sent: number; heldBack: boolean }>;
    const started = new Promise<void>((resolve) => {
      behaviour = (ws) => {
        floodDone = flood(ws);
        resolve();
      };
    });
    clients = standaloneClients(pino({ level: 'silent' }), 'flow-test');
    const got: number[] = [];
    const conn = clients.connect({
      url,
      maxMessageSize: MESSAGE,
      callbacks: {
        clientEstablished: (c) => c.pauseReceive(),
        clientReceive: (_c, data) => void got.push(data.readUInt32BE(0)),
      },
    });
    await started;
    const { sent, heldBack } = await floodDone;
    expect(heldBack).toBe(true);
    expect(conn.receivePaused).toBe(true);
    expect(got).toEqual([]);
    conn.resumeReceive();
    expect(conn.receivePaused).toBe(false);
    await eventually(() => got.length >= sent, `all ${sent} messages arrived (got ${got.length})`, 20_000);
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i));
  });

  it('pausing again from clientReceive stops the delivery at that message; the rest wait for the next resume', async () => {
    behaviour = (ws) => {
      for (let i = 0; i < 20; i++) ws.send(numbered(i));
    };
    clients = standaloneClients(pino({ level: 'silent' }), 'flow-test');
    const got: number[] = [];
    const conn = clients.connect({
      url,
      callbacks: {
        clientReceive(c, data) {
          got.push(data.readUInt32BE(0));
          // Every fifth message: stop, as a bridge does when its far side is full.
          if (got.length % 5 === 0) c.pauseReceive();
        },
      },
    });
    for (const upTo of [5, 10, 15, 20]) {
      await eventually(() => got.length === upTo && conn.receivePaused, `paused after ${upTo}`);
      // Still paused a while later: nothing more came (the 20 were all sent long before).
      await sleep(50);
      expect(got.length).toBe(upTo);
      conn.resumeReceive();
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('while paused the ping check rests (a pong cannot be read): the connection is not cut, and pings go on after resume', async () => {
    let pings = 0;
    let server: WebSocket | undefined;
    behaviour = (ws) => {
      server = ws;
      ws.on('ping', (data) => {
        pings++;
        ws.pong(data);
      });
    };
    clients = standaloneClients(pino({ level: 'silent' }), 'flow-test');
    const ended: string[] = [];
    const conn = clients.connect({
      url,
      pingIntervalMs: 50,
      callbacks: {
        clientEstablished: (c) => c.pauseReceive(),
        clientClosed: (_c, code) => void ended.push(`closed ${code}`),
      },
    });
    await eventually(() => server !== undefined && conn.state === 'open', 'connected');
    // Ten intervals: without the rest, the first unread pong cuts it after two.
    await sleep(500);
    expect(pings).toBe(0);
    expect(ended).toEqual([]);
    expect(conn.state).toBe('open');
    conn.resumeReceive();
    await eventually(() => pings >= 3, 'pings again, answered');
    expect(conn.state).toBe('open');
    expect(ended).toEqual([]);
  });

  it('a server that sends but does not answer pings is alive; once silent, the missed pong cuts it (1006)', async () => {
    let ticker: NodeJS.Timeout | undefined;
    behaviour = (ws) => {
      ticker = setInterval(() => ws.send('tick'), 10);
      ws.on('close', () => clearInterval(ticker));
    };
    clients = standaloneClients(pino({ level: 'silent' }), 'flow-test');
    let ticks = 0;
    const closed = new Promise<number>((resolve) => {
      clients.connect({
        url,
        pingIntervalMs: 50,
        callbacks: {
          clientReceive: () => void ticks++,
          clientClosed: (_c, code) => resolve(code),
        },
      });
    });
    let code: number | undefined;
    void closed.then((c) => (code = c));
    await eventually(() => ticks > 0, 'ticks arrive');
    await sleep(500);
    expect(code).toBeUndefined();
    clearInterval(ticker);
    expect(await closed).toBe(1006);
  });
});
