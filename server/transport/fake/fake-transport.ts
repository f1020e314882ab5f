/**
 * @module A transport with no sockets, for tests of the framework: listeners that bind nothing, requests and websockets a test drives by hand.
 *
 * It implements the same Transport the uWS.js adapter does, so a whole
 * TswsServer runs on it (`TswsServer.start(prepared, log, { transport })`),
 * and a test can connect clients with a request, deliver messages, hold and
 * release backpressure, and observe every write and close. Timers are the
 * framework's own (vitest's fake timers drive them).
 */
import type { ListenerHandle, ListenerHandlers, TlsListenerOptions, Transport, WsCompression, WsTransportOptions } from '../types.ts';
import { FakeRequest, FakeResponse, fakeContext, type FakeRequestInit, type UpgradeSite } from './fake-http.ts';
import { FAKE_SEND_OUTCOMES, type FakeSocket } from './fake-socket.ts';

export { FakeRequest, FakeResponse, type FakeRequestInit } from './fake-http.ts';
export { FAKE_SEND_OUTCOMES, FakeSocket, type Ending, type SentFrame } from './fake-socket.ts';

export interface FakeClient {
  /** The client's address, as the framework will see it. */
  readonly peer?: string;
  /** The TLS server name the client sent (TLS listeners). */
  readonly sni?: string;
}

export interface FakeUpgradeInit extends FakeClient {
  readonly url?: string;
  /** Sec-WebSocket-Protocol; none when left out. */
  readonly protocol?: string;
  /** Host header; "localhost" when left out. */
  readonly host?: string;
  /** More headers (they win over the handshake's). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class FakeListener implements ListenerHandle, UpgradeSite {
  readonly handlers: ListenerHandlers;
  readonly options: WsTransportOptions;
  readonly tls: TlsListenerOptions | undefined;
  /** Open websockets of this listener. */
  readonly sockets = new Set<FakeSocket>();
  port = 0;
  unixPath: string | undefined;
  listening = false;
  readonly #freePort: () => number;

  constructor(handlers: ListenerHandlers, options: WsTransportOptions, tls: TlsListenerOptions | undefined, freePort: () => number) {
    this.handlers = handlers;
    this.options = options;
    this.tls = tls;
    this.#freePort = freePort;
  }

  // ---- ListenerHandle -----------------------------------------------------

  listen(_host: string, port: number): Promise<number> {
    this.port = port || this.port || this.#freePort();
    this.listening = true;
    return Promise.resolve(this.port);
  }

  listenUnix(path: string): Promise<void> {
    this.unixPath = path;
    this.listening = true;
    return Promise.resolve();
  }

  stopListening(): void {
    this.listening = false;
  }

  closeAll(): void {
    this.listening = false;
    for (const s of [...this.sockets]) if (s.isOpen) s.close();
  }

  // ---- a client ---------------------------------------------------------------

  /**
   * An HTTP request: the response as far as the framework wrote it when its
   * handler returned (more may follow). A request that declares a body
   * (Content-Length or Transfer-Encoding) gets it through res.sendBody();
   * one that declares none gets what uWS.js gives it right after the
   * handler: an empty last chunk.
   */
  request(init: FakeRequestInit & FakeClient = {}): FakeResponse {
    this.#accepting();
    const res = new FakeResponse(init.peer ?? '127.0.0.1', this);
    this.handlers.http(res, new FakeRequest(init), init.sni);
    const declared = Object.keys(init.headers ?? {}).some((k) => /^(content-length|transfer-encoding)$/i.test(k));
    if (!declared && !res.aborted) res.sendBody('', true);
    return res;
  }

  /**
   * A websocket handshake. When the framework accepts it, `res.socket` is
   * the open websocket (at once, or once an asynchronous filter answered);
   * otherwise `res` holds the refusal.
   */
  upgrade(init: FakeUpgradeInit = {}): FakeResponse {
    this.#accepting();
    const headers: Record<string, string> = {
      host: init.host ?? 'localhost',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      ...(init.protocol !== undefined ? { 'sec-websocket-protocol': init.protocol } : {}),
      ...init.headers,
    };
    const res = new FakeResponse(init.peer ?? '127.0.0.1', this);
    const req = new FakeRequest({ method: 'GET', url: init.url ?? '/', headers });
    // As uws-adapter.ts routes: the listener's compressors each have a route; the handlers choose one.
    const want: WsCompression = this.options.compressions.length > 0 ? (this.handlers.routeUpgrade?.(req, init.sni) ?? 'off') : 'off';
    const route = this.options.compressions.includes(want) ? want : 'off';
    this.handlers.upgrade(res, req, fakeContext(route), init.sni, route);
    return res;
  }

  #accepting(): void {
    if (!this.listening) throw new Error(`connection refused: the fake listener on port ${this.port} is not listening`);
  }
}

export class FakeTransport implements Transport {
  readonly sendOutcomes = FAKE_SEND_OUTCOMES;
  /** Every listener made, in order (a reload that re-binds a port adds one). */
  readonly listeners: FakeListener[] = [];
  #nextPort = 40000;

  createListener(handlers: ListenerHandlers, ws: WsTransportOptions, tls?: TlsListenerOptions): FakeListener {
    const listener = new FakeListener(handlers, ws, tls, () => this.#nextPort++);
    this.listeners.push(listener);
    return listener;
  }

  /** The listener accepting on `port` now. */
  at(port: number): FakeListener {
    const l = this.listeners.find((x) => x.listening && x.port === port);
    if (!l) throw new Error(`no fake listener accepts on port ${port}`);
    return l;
  }
}
