/** @module A websocket connection on the fake transport: callbacks, one write per writable, backpressure, closes and failures, without a socket. */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalBus } from '../bus/bus.ts';
import { TopicRouter } from '../bus/topics.ts';
import { Counters } from '../metrics/counters.ts';
import { ServerFigures } from '../ingress/server-view.ts';
import type { Conn } from '../plugin/api.ts';
import { DEFAULT_INBOX, DEFAULT_RX_BUFFER_SIZE, type RuntimeCallbacks, type RuntimeProtocol } from '../plugin/runtime-protocol.ts';
import { ServerState } from '../metrics/server-state.ts';
import { FAKE_SEND_OUTCOMES, FakeSocket } from '../transport/fake/fake-transport.ts';
import type { ListenerHandlers } from '../transport/types.ts';
import { ProtocolHost } from './protocol-host.ts';
import { Connection, WRITABLE_THRESHOLD } from './connection.ts';
import { RequestSnapshot } from './peer-request.ts';
import { WritableScheduler } from './scheduler.ts';
import { wsDrain, wsMessage, wsPong } from '../ingress/upgrade.ts';

interface Line {
  readonly level: number;
  readonly code?: string;
  readonly callback?: string;
  readonly msg: string;
}

/** Session state the test plugins share with the test: replies waiting, events seen. */
interface Session {
  out: (string | Buffer)[];
  events: string[];
  kept: Buffer[];
  statuses: string[];
}

const never = () => {
  throw new Error('not used by these tests');
};

/** One protocol on one vhost, with real scheduler, topics and counters, logging into `lines`. */
function hostOf(callbacks: RuntimeCallbacks) {
  const lines: Line[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Line) });
  const def: RuntimeProtocol = {
    name: 'p',
    file: 'p.ts',
    pluginName: 'p',
    rxBufferSize: DEFAULT_RX_BUFFER_SIZE,
    receiveFragments: false,
    receiveView: false,
    mountUpgrades: false,
    maxMessageSize: undefined,
    compression: 'off',
    inbox: DEFAULT_INBOX,
    httpBodyLimit: 1024,
    rateLimit: undefined,
    optionSpecs: {},
    plugin: { name: 'p', file: 'p.ts', apiVersion: 2, init: undefined, destroy: undefined },
    wsSession: undefined,
    httpSession: undefined,
    httpGate: { accept: 'accept', name: 'http.filter' },
    check: undefined,
    callbacks,
  };
  const scheduler = new WritableScheduler();
  const server = new ServerFigures(new ServerState(), () => ({ vhosts: [], listeners: [] }), undefined);
  const host = new ProtocolHost('v', def, {}, { scheduler, topics: new TopicRouter(new LocalBus()), log, counters: new Counters(), server });
  host.init();
  return { host, lines };
}

/** A connection whose socket the fake transport opened: the test plays the peer through `ws`. */
function connect(callbacks: RuntimeCallbacks, maxBackpressure = 64 * 1024 * 1024) {
  const { host, lines } = hostOf(callbacks);
  const session: Session = { out: [], events: [], kept: [], statuses: [] };
  const conn = new Connection(host, new RequestSnapshot('GET', '/', '', {}, '192.0.2.7'), session);
  const handlers: ListenerHandlers = {
    http: never,
    upgrade: never,
    open: (ws) => conn.opened(ws, FAKE_SEND_OUTCOMES),
    message: wsMessage,
    drain: wsDrain,
    pong: wsPong,
    close: (_ws, code, message) => conn.closedByTransport(code, Buffer.from(message).toString()),
  };
  const ws = new FakeSocket({ session: conn, peer: '192.0.2.7' }, handlers, { maxPayloadLength: 1 << 20, idleTimeout: 0, maxBackpressure, compressions: [] });
  handlers.open(ws);
  return { conn, ws, session, lines, counters: host.counters };
}

const s = (conn: Conn) => conn.session as Session;
/** A writable that writes the next queued reply, if any, and records what the transport said. */
function writeNext(conn: Conn): void {
  const next = s(conn).out.shift();
  if (next !== undefined) s(conn).statuses.push(conn.write(next));
  if (s(conn).out.length > 0) conn.requestWritable();
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('a connection on the fake transport', () => {
  it('serves a writable asked for in established before the open event ends, corked', () => {
    const { ws } = connect({
      established(conn) {
        s(conn).out.push('hello');
        conn.requestWritable();
      },
      writable: writeNext,
    });
    expect(ws.texts).toEqual(['hello']);
    expect(ws.sent[0]?.corked).toBe(true);
  });

  it('hands receive a copy the plugin may keep after the transport has detached its buffer', () => {
    const { ws, session } = connect({
      receive(conn, data) {
        s(conn).kept.push(data);
      },
    });
    ws.deliver('abc');
    ws.deliver(Buffer.from([1, 2, 3]));
    expect(session.kept.map((b) => b.toString('hex'))).toEqual(['616263', '010203']);
  });

  it('answers a message within the same data event, inside its cork: no queue round trip', () => {
    const { ws } = connect({
      receive(conn, data) {
        s(conn).out.push(`re:${data.toString()}`);
        conn.requestWritable();
      },
      writable: writeNext,
    });
    ws.deliver('x');
    expect(ws.texts).toEqual(['re:x']);
    expect(ws.sent[0]?.corked).toBe(true);
  });

  it('closes with 1011 and logs TSWS_ERR_BACK_TO_BACK_WRITE when a writable writes twice', () => {
    const { ws, lines, counters } = connect({
      receive: (conn) => conn.requestWritable(),
      writable(conn) {
        conn.write('one');
        conn.write('two');
      },
    });
    ws.deliver('go');
    expect(ws.texts).toEqual(['one']);
    expect(ws.ending).toMatchObject({ code: 1011, frame: true, by: 'server' });
    expect(lines.find((l) => l.code === 'TSWS_ERR_BACK_TO_BACK_WRITE')?.callback).toBe('writable');
    expect(counters.callbackErrors).toBe(1);
  });

  it('a writable that throws mid-batch ends the batch: what was written stays sent, no further writable runs, 1011', () => {
    let calls = 0;
    const { ws, lines, counters } = connect({
      receive: (conn) => conn.requestWritable(),
      writable(conn) {
        calls++;
        if (calls === 3) throw new Error('third fails');
        conn.write(`w${calls}`);
        conn.requestWritable();
      },
    });
    ws.deliver('go');
    expect(ws.texts).toEqual(['w1', 'w2']);
    expect(calls).toBe(3);
    expect(ws.ending).toMatchObject({ code: 1011, frame: true, by: 'server' });
    expect(lines.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW')?.callback).toBe('writable');
    expect(counters.callbackErrors).toBe(1);
  });

  it('closes with 1011 when a writable rejects', async () => {
    const { ws, lines } = connect({
      receive: (conn) => conn.requestWritable(),
      async writable(conn) {
        conn.write('sent first');
        throw new Error('later');
      },
    });
    ws.deliver('go');
    await vi.waitFor(() => expect(ws.ending?.code).toBe(1011));
    expect(ws.texts).toEqual(['sent first']);
    expect(lines.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW')?.callback).toBe('writable');
  });

  it('refuses a write from receive with TSWS_ERR_WRITE_OUTSIDE_WRITABLE, naming receive', () => {
    const { ws, lines } = connect({ receive: (conn) => void conn.write('no') });
    ws.deliver('go');
    expect(ws.sent).toEqual([]);
    expect(lines.find((l) => l.code === 'TSWS_ERR_WRITE_OUTSIDE_WRITABLE')?.msg).toMatch(/wrote from receive/);
    expect(ws.ending?.code).toBe(1011);
  });

  it('runs closed after receive returns when receive closes, with the code it gave', () => {
    const { ws, session } = connect({
      receive(conn) {
        s(conn).events.push('receive:start');
        conn.close(4000, 'bye');
        s(conn).events.push('receive:end');
      },
      closed: (conn, code, reason) => void s(conn).events.push(`closed:${code}:${reason}`),
    });
    ws.deliver('x');
    expect(session.events).toEqual(['receive:start', 'receive:end', 'closed:4000:bye']);
    expect(ws.ending).toMatchObject({ code: 4000, reason: 'bye', frame: true });
  });

  it('closes with 1011 when receive rejects, logging TSWS_ERR_PLUGIN_CALLBACK_THREW with the reason', async () => {
    const { ws, lines } = connect({
      async receive() {
        await Promise.resolve();
        throw new Error('later');
      },
    });
    ws.deliver('x');
    expect(ws.isOpen).toBe(true);
    await nextTurn();
    expect(ws.ending?.code).toBe(1011);
    expect(lines.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW')?.msg).toMatch(/receive threw \(later\)/);
  });

  it('stops calling writable past WRITABLE_THRESHOLD buffered, and resumes on the drain', async () => {
    const chunk = Buffer.alloc(WRITABLE_THRESHOLD / 2 + 1);
    const { ws, session, counters } = connect({
      receive(conn) {
        s(conn).out.push(chunk, chunk, chunk, chunk);
        conn.requestWritable();
      },
      writable: writeNext,
    });
    ws.hold();
    ws.deliver('go');
    await nextTurn();
    // The first write goes past nothing; the second takes the socket over the threshold: no third.
    expect(session.statuses).toEqual(['backpressure', 'backpressure']);
    expect(counters.backpressureWaits).toBeGreaterThan(0);
    ws.release();
    await nextTurn();
    expect(session.statuses).toEqual(['backpressure', 'backpressure', 'sent', 'sent']);
    expect(ws.sent.length).toBe(4);
  });

  it("reports a send over the transport's hard cap as 'dropped', and counts it", () => {
    const { ws, session, counters } = connect(
      {
        receive(conn) {
          s(conn).out.push('a'.repeat(200), 'b');
          conn.requestWritable();
        },
        writable: writeNext,
      },
      100,
    );
    ws.hold();
    ws.deliver('go');
    expect(session.statuses).toEqual(['backpressure', 'dropped']);
    expect(counters.writesDropped).toBe(1);
  });

  it('writes every published message, one per writable, until the inbox is empty', async () => {
    const { conn, ws } = connect({
      writable(c) {
        const m = c.nextPublished();
        if (m) c.write(m.data, m.isBinary);
      },
    });
    for (const text of ['1', '2', '3']) conn.deliverPublished({ topic: 't', data: text, isBinary: false });
    await nextTurn();
    expect(ws.texts).toEqual(['1', '2', '3']);
  });

  it('runs its timers through the runner and cancels them when the socket closes', () => {
    vi.useFakeTimers();
    const ticks: number[] = [];
    const { ws } = connect({
      established(conn) {
        conn.setInterval(10, () => void ticks.push(ticks.length));
      },
    });
    vi.advanceTimersByTime(35);
    expect(ticks.length).toBe(3);
    ws.closeFromPeer(1000);
    vi.advanceTimersByTime(100);
    expect(ticks.length).toBe(3);
  });

  it('closes with 1011 when a timer callback throws', () => {
    vi.useFakeTimers();
    const { ws, lines } = connect({
      established(conn) {
        conn.setTimeout(5, () => {
          throw new Error('tick');
        });
      },
    });
    vi.advanceTimersByTime(5);
    expect(ws.ending?.code).toBe(1011);
    expect(lines.find((l) => l.code === 'TSWS_ERR_PLUGIN_CALLBACK_THREW')?.callback).toBe('timer');
  });

  it('is stamped as heard by each whole message and pong, for the silence sweep', () => {
    const { conn, ws } = connect({});
    conn.heardAt = 0;
    ws.deliver('x');
    expect(conn.heardAt).toBeGreaterThan(0);
    conn.heardAt = 0;
    ws.pong();
    expect(conn.heardAt).toBeGreaterThan(0);
  });
});
