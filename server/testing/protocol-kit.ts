/**
 * @module tsws/testing's unit half: a protocol served by the real framework on the fake transport, its clients, requests and timers driven by the test.
 *
 * Nothing is re-implemented: the protocol host, connections, the invoker,
 * the writable runner and scheduler, the upgrade and the HTTP routing are
 * the server's own, on a transport with no sockets (server/transport/fake/)
 * and a clock that moves only on advance(). No socket is opened, no real
 * timer armed (the silence sweep and the open-file guard are off), and
 * uWebSockets.js is never loaded.
 */
import pino from 'pino';
import { TswsServer } from '../app/server.ts';
import type { TswsError } from '../base/errors.ts';
import { tswsError } from '../base/errors.ts';
import type { AnyProtocolDef, OptionSpecs, Plugin, PluginDescriptor, ProtocolDef, ProtocolVhost } from '../plugin/api.ts';
import { FakeTransport, type FakeListener, type FakeResponse } from '../transport/fake/fake-transport.ts';
import { KitClient, type KitError } from './kit-client.ts';
import { kitConfig, type ProtocolKitOptions } from './kit-config.ts';
import { KitResponse, type KitRequestInit } from './kit-response.ts';
import { ManualClock } from './manual-clock.ts';
import type { LogLine } from './test-server.ts';

export interface KitConnectInit {
  /** Default "/". */
  readonly path?: string;
  /** The query string without "?", or its parameters: `{ mirror: 'x' }`. */
  readonly query?: string | Readonly<Record<string, string>>;
  /** More request headers (Origin, Cookie, Authorization...); names in any case. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The client's address (default 127.0.0.1). */
  readonly peer?: string;
  /** Sec-WebSocket-Protocol (default: the protocol under test); null asks for none (the vhost's default protocol). */
  readonly protocol?: string | null;
}

/** Writables one flush may run before the kit calls the protocol busy (the real scheduler yields every 4096). */
const FLUSHES = 256;
/** Turns of the event loop settle() waits for promises before calling the protocol busy. */
const TURNS = 1000;

const urlOf = (path: string, query: KitConnectInit['query']) => {
  const q = typeof query === 'string' ? query : query ? new URLSearchParams(query).toString() : '';
  return q ? `${path}?${q}` : path;
};

/** What testProtocol started, handed to the kit. */
interface KitParts {
  readonly server: TswsServer;
  readonly transport: FakeTransport;
  readonly clock: ManualClock;
  /** Filled as the server logs, as is `errors`. */
  readonly logs: LogLine[];
  readonly errors: KitError[];
  readonly warnings: readonly TswsError[];
  readonly vhostName: string;
  readonly protocol: string;
}

/**
 * One protocol on one vhost, served as tsws serves it. Everything a client
 * or request does runs synchronously through the framework, and what the
 * framework would have served a turn later (other connections' writables)
 * is served before the call returns; promises a callback started settle on
 * `await kit.settle()`, and timers fire on `kit.advance(ms)`.
 */
export class ProtocolKit<V = unknown, S = unknown> {
  /** The framework's clock: timers of the vhost, connections and transactions, the slow-consumer watch, rate limits. */
  readonly clock: ManualClock;
  /** Every JSON log line of the server, parsed (debug and above). */
  readonly logs: readonly LogLine[];
  /** What the configuration and plugin checks warned about (an unknown option, say). */
  readonly warnings: readonly TswsError[];
  readonly #server: TswsServer;
  readonly #listener: FakeListener;
  readonly #vhost: ProtocolVhost<V, S>;
  readonly #vhostName: string;
  readonly #protocol: string;
  readonly #site: { readonly flush: () => void; readonly errors: readonly KitError[] };
  /** Every response requested, for settle() to see them move. */
  readonly #responses: FakeResponse[] = [];
  #clients = 0;

  /** Made by testProtocol(). */
  constructor(parts: KitParts) {
    const { server, vhostName, protocol } = parts;
    this.#server = server;
    this.clock = parts.clock;
    this.logs = parts.logs;
    this.warnings = parts.warnings;
    this.#vhostName = vhostName;
    this.#protocol = protocol;
    this.#site = { flush: () => this.#flush(), errors: parts.errors };
    this.#listener = parts.transport.at(server.listeners[0]?.port ?? 0);
    // The host is the ProtocolVhost its callbacks get; its state type is the plugin's, which the kit only carries.
    this.#vhost = server.hosts.find((h) => h.protocol === protocol && h.vhostName === vhostName) as unknown as ProtocolVhost<V, S>;
  }

  /** The protocol on its vhost, as its callbacks see it: `state` (what init returned), `publish`, `connectionCount`... */
  get vhost(): ProtocolVhost<V, S> {
    return this.#vhost;
  }

  /** Coded errors the server logged, warn and above, in order: TSWS_ERR_BACK_TO_BACK_WRITE, TSWS_ERR_PLUGIN_CALLBACK_THREW... */
  get errors(): readonly KitError[] {
    return this.#site.errors;
  }

  /** A websocket upgrade, as a browser's: accepted (status 101), refused, or waiting for an asynchronous filter. */
  connect(init: KitConnectInit = {}): KitClient<V, S> {
    const protocol = init.protocol === undefined ? this.#protocol : (init.protocol ?? '');
    const res = this.#listener.upgrade({
      url: urlOf(init.path ?? '/', init.query),
      host: this.#vhostName,
      ...(protocol ? { protocol } : {}),
      ...(init.headers ? { headers: lowerCase(init.headers) } : {}),
      ...(init.peer ? { peer: init.peer } : {}),
    });
    this.#flush();
    return new KitClient<V, S>(++this.#clients, protocol, res, this.#site);
  }

  /** An HTTP request, answered by the vhost's mounts: the protocol's HTTP callbacks under its callback:// mount. */
  request(init: KitRequestInit = {}): KitResponse {
    const headers: Record<string, string> = { host: this.#vhostName, ...lowerCase(init.headers ?? {}) };
    const body = init.body;
    if (body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
      headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    }
    const res = this.#listener.request({
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      url: urlOf(init.path ?? '/', init.query),
      headers,
      ...(init.peer ? { peer: init.peer } : {}),
    });
    if (body !== undefined && !res.aborted) res.sendBody(body, true);
    this.#responses.push(res);
    this.#flush();
    return new KitResponse(res, this.#site);
  }

  /** Moves the framework's clock on by `ms`, firing the timers due, then serves what they asked for. */
  advance(ms: number): void {
    this.clock.advance(ms);
    this.#flush();
  }

  /**
   * Lets the promises the plugin's callbacks started (async receive, an
   * asynchronous websocket or HTTP filter) run to their end, serving whatever
   * they ask for, until a turn of the event loop changes nothing. Work
   * waiting on the clock needs advance(); real I/O is not waited for.
   */
  async settle(): Promise<void> {
    for (let turn = 0; turn < TURNS; turn++) {
      this.#flush();
      const before = this.logs.length + this.#written();
      await new Promise((resolve) => setImmediate(resolve));
      this.#flush();
      if (this.logs.length + this.#written() === before && this.#server.scheduler.idle) return;
    }
    throw tswsError('TSWS_ERR_KIT_BUSY', { detail: `still busy after ${TURNS} turns of the event loop` });
  }

  /** What SIGTERM does: every client closed with 1001 "going away" (the plugin's closed runs), then destroy. */
  async stop(): Promise<void> {
    await this.#server.stop(0);
  }

  /** Serves every writable queued, as the scheduler's setImmediate would a turn later. */
  #flush(): void {
    const scheduler = this.#server.scheduler;
    for (let i = 0; i < FLUSHES; i++) {
      scheduler.flush();
      if (scheduler.idle) return;
    }
    throw tswsError('TSWS_ERR_KIT_BUSY', { detail: `writables kept being asked for after ${FLUSHES * scheduler.perFlushBudget} ran` });
  }

  /** What was written so far (frames, open sockets, response parts): settle() stops once a turn adds nothing. */
  #written(): number {
    let n = this.#listener.sockets.size;
    for (const s of this.#listener.sockets) n += s.sent.length;
    for (const r of this.#responses) n += r.chunks.length + r.headers.length + (r.ended || r.aborted ? 1 : 0);
    return n;
  }
}

/** A coded line at warn and above is an error of the kit's. */
function pushError(errors: KitError[], l: LogLine): void {
  if (l.level < 40 || typeof l.code !== 'string' || !l.code.startsWith('TSWS_ERR_')) return;
  errors.push({
    code: l.code,
    message: l.msg,
    ...(typeof l.callback === 'string' ? { callback: l.callback } : {}),
    ...(typeof l.conn === 'number' ? { conn: l.conn } : {}),
    ...(typeof l.txn === 'number' ? { txn: l.txn } : {}),
  });
}

function lowerCase(h: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Serves one protocol with the real framework and no sockets, for unit
 * tests: a whole definePlugin(...) (its first protocol, or the one
 * `opts.protocol` names), or an apiVersion 1 defineProtocol(...). The kit
 * types `conn.session` and `vhost.state` for the latter only: a version 2
 * plugin's protocols keep their types inside it. The plugin and the
 * configuration go through every check tsws makes of files; the protocol's
 * init runs (a throwing init rejects with TSWS_ERR_START_PROTOCOLS_DISABLED).
 */
export function testProtocol<V, S, O extends OptionSpecs>(protocol: ProtocolDef<V, S, O>, opts?: ProtocolKitOptions): Promise<ProtocolKit<V, S>>;
export function testProtocol<P>(plugin: Plugin<P>, opts?: ProtocolKitOptions): Promise<ProtocolKit>;
export function testProtocol(plugin: PluginDescriptor, opts?: ProtocolKitOptions): Promise<ProtocolKit>;
export async function testProtocol(given: Plugin<unknown> | PluginDescriptor | AnyProtocolDef, opts: ProtocolKitOptions = {}): Promise<ProtocolKit> {
  const config = kitConfig(given, opts);
  const logs: LogLine[] = [];
  const errors: KitError[] = [];
  const log = pino({ level: 'debug' }, {
    write: (line: string) => {
      const parsed = JSON.parse(line) as LogLine;
      logs.push(parsed);
      pushError(errors, parsed);
    },
  });
  const transport = new FakeTransport();
  const clock = new ManualClock();
  const server = await TswsServer.start(config.prepared, log, { transport, clock, openFileGuard: false });
  return new ProtocolKit({ server, transport, clock, logs, errors, warnings: config.warnings, vhostName: config.vhostName, protocol: config.protocol.name });
}
