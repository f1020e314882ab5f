/** @module Websocket upgrades under an http(s):// mount: a `ws` client to the upstream, bridged to the uWS.js socket. */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { describeError, tswsError } from '../../base/errors.ts';
import { isSendableCloseCode } from '../../session/close-codes.ts';
import { WRITABLE_THRESHOLD } from '../../session/connection.ts';
import type { WsSession } from '../../session/ws-session.ts';
import type { HttpRes, SocketData, UpgradeContext, WsHandle } from '../../transport/types.ts';
import type { MountConfig, Origin } from '../../config/model.ts';
import type { PeerRequest } from '../../plugin/api.ts';
import type { HttpExchange } from '../exchange.ts';
import { authorize } from '../basic-auth.ts';
import { PROXY_CONNECT_TIMEOUT_MS, WS_HANDSHAKE, forwardHeaders, upstreamUrl } from './proxy-target.ts';

type ProxyOrigin = Extract<Origin, { kind: 'proxy' }>;

/** A websocket upgrade under a proxy mount: everything read from the request is already here. */
export interface ProxyUpgrade {
  readonly res: HttpRes;
  readonly context: UpgradeContext;
  readonly key: string;
  readonly requested: string;
  readonly extensions: string;
  readonly request: PeerRequest;
  readonly mount: MountConfig & { readonly origin: ProxyOrigin };
  readonly path: string;
  readonly ex: HttpExchange;
  readonly deps: { readonly connections: Set<WsSession>; readonly log: Logger; readonly tls: boolean };
}

/** Largest message relayed either way; the listener's transport cap is raised to fit it (server.ts). */
export const PROXY_WS_MAX_MESSAGE = 16 * 1024 * 1024;

/**
 * uWS.js cannot pause reading a websocket, so a client that sends faster
 * than the upstream reads is not slowed down; past this many bytes waiting
 * for the upstream, the client is closed with 1013 (try again later)
 * rather than let the proxy's memory grow without bound.
 */
export const PROXY_WS_MAX_BACKLOG = 4 * 1024 * 1024;

export function proxyUpgrade(u: ProxyUpgrade): void {
  const { ex, mount, request, deps } = u;
  ex.useMount(mount);
  if (mount.basicAuth !== undefined && !authorize(ex, request.headers.authorization ?? '', mount, deps.log)) return;
  const rest = mount.mountpoint === '/' ? u.path : u.path.slice(mount.mountpoint.length);
  const target = upstreamUrl(mount.origin.url, rest, request.query, 'ws');
  const upstreamText = target.origin;
  const headers = forwardHeaders(Object.entries(request.headers), target.host, {
    peer: request.peer,
    proto: u.deps.tls ? 'https' : 'http',
    dropAuthorization: mount.basicAuth !== undefined,
  }, WS_HANDSHAKE).filter(([k]) => k !== 'host');
  const protocols = u.requested.split(',').map((p) => p.trim()).filter((p) => p !== '');

  let up: WebSocket;
  try {
    up = new WebSocket(target, protocols, {
      headers: Object.fromEntries(headers),
      ...(request.headers.origin ? { origin: request.headers.origin } : {}),
      perMessageDeflate: false,
      handshakeTimeout: PROXY_CONNECT_TIMEOUT_MS,
      maxPayload: PROXY_WS_MAX_MESSAGE,
    });
  } catch (err) {
    // ws refuses malformed subprotocol lists before connecting.
    deps.log.debug({ err, vhost: ex.vhost.name }, `refused websocket upgrade to ${upstreamText}: ${describeError(err)}`);
    return ex.sendStatus(400, 'Malformed Sec-WebSocket-Protocol.');
  }
  const bridge = new ProxyBridge(up, deps.log, ex.vhost.name, upstreamText, request.peer);
  ex.watchAbort(() => up.terminate());
  let settled = false;
  const fail = (status: number, message: string) => {
    if (settled) return;
    settled = true;
    up.terminate();
    ex.sendStatus(status, message);
  };
  up.on('unexpected-response', (req, res) => {
    // The upstream answered the handshake with something else than 101: pass its verdict on.
    const status = res.statusCode ?? 502;
    deps.log.debug({ vhost: ex.vhost.name, status }, `upstream ${upstreamText} refused the websocket upgrade with ${status}`);
    req.destroy();
    fail(status >= 400 && status <= 599 ? status : 502, 'The upstream server refused the websocket.');
  });
  up.on('error', (err) => {
    if (settled) return;
    const e = tswsError('TSWS_ERR_PROXY_UPSTREAM', { vhost: ex.vhost.name, upstream: upstreamText, reason: describeError(err) }, err);
    deps.log.error({ code: e.code, vhost: ex.vhost.name, uri: ex.uri }, e.message);
    fail(e.httpStatus ?? 502, 'The upstream server could not be reached.');
  });
  up.on('open', () => {
    if (settled) return;
    settled = true;
    if (ex.aborted) return up.terminate();
    const userData: SocketData = { session: bridge, peer: u.request.peer };
    // Not inside res.cork(): see completeUpgrade in session/ws-handlers.ts.
    u.res.upgrade(userData, u.key, up.protocol, '', u.context);
    ex.finish(101, 0);
  });
}

type BridgeState = 'upgrading' | 'open' | 'closed';

/**
 * Both directions with backpressure. Upstream to client: when the uWS.js
 * socket holds more than WRITABLE_THRESHOLD the upstream socket is paused,
 * and drained() resumes it (a send uWS.js drops for its own hard limit
 * closes the socket, which closes the upstream).
 * Client to upstream: see PROXY_WS_MAX_BACKLOG. Either side closing closes
 * the other with the same code where it may be sent again: 1005 (no code)
 * stays codeless, a client that vanished (1006) is a 1001 "going away" to
 * the upstream, and an upstream that vanished is a 1014 "bad gateway" to
 * the client.
 */
class ProxyBridge implements WsSession {
  /** For the silence sweep (session/liveness.ts): the client side only, the upstream is ws's to watch. */
  heardAt = 0;
  pingedAt = 0;
  readonly peer: string;
  readonly #up: WebSocket;
  readonly #log: Logger;
  readonly #vhost: string;
  readonly #upstream: string;
  #ws: WsHandle | undefined;
  #state: BridgeState = 'upgrading';
  /** Upstream messages that came before the uWS.js side opened. */
  #early: { data: Buffer; isBinary: boolean }[] = [];
  #earlyClose: { code: number; reason: string } | undefined;
  #upPaused = false;

  constructor(up: WebSocket, log: Logger, vhost: string, upstream: string, peer: string) {
    this.#up = up;
    this.peer = peer;
    this.#log = log;
    this.#vhost = vhost;
    this.#upstream = upstream;
    up.on('message', (data: Buffer, isBinary: boolean) => this.#fromUpstream(data, isBinary));
    up.on('close', (code: number, reason: Buffer) => this.#upstreamClosed(code, reason.toString()));
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  ping(): void {
    if (this.#state === 'open') this.#ws?.ping();
  }

  opened(ws: WsHandle): void {
    this.#ws = ws;
    this.#state = 'open';
    const early = this.#early;
    this.#early = [];
    ws.cork(() => {
      for (const m of early) ws.send(m.data, m.isBinary);
    });
    this.#checkBackpressure(ws);
    if (this.#earlyClose) this.#upstreamClosed(this.#earlyClose.code, this.#earlyClose.reason);
  }

  received(message: ArrayBuffer, isBinary: boolean): void {
    if (this.#state !== 'open') return;
    const up = this.#up;
    if (up.readyState !== WebSocket.OPEN) return;
    if (message.byteLength > PROXY_WS_MAX_MESSAGE) return this.close(1009, 'message too big');
    // The transport neuters `message` when this handler returns: copy it out.
    const data = Buffer.allocUnsafe(message.byteLength);
    data.set(new Uint8Array(message));
    up.send(data, { binary: isBinary });
    if (up.bufferedAmount > PROXY_WS_MAX_BACKLOG) {
      const e = tswsError('TSWS_ERR_PROXY_WS_BACKLOG', { vhost: this.#vhost, upstream: this.#upstream, buffered: up.bufferedAmount });
      this.#log.warn({ code: e.code, vhost: this.#vhost }, e.message);
      this.close(e.closeCode ?? 1013, 'upstream is not keeping up');
    }
  }

  drained(): void {
    if (this.#upPaused && this.#ws && this.#ws.getBufferedAmount() <= WRITABLE_THRESHOLD) {
      this.#upPaused = false;
      this.#up.resume();
    }
  }

  closedByTransport(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#ws = undefined;
    const up = this.#up;
    if (up.readyState === WebSocket.CLOSED || up.readyState === WebSocket.CLOSING) return;
    if (code === 1005) up.close();
    else if (isSendableCloseCode(code)) up.close(code, reason);
    else up.close(1001, 'client went away');
  }

  close(code = 1000, reason = ''): void {
    // uWS.js runs the close handler synchronously from end(): closedByTransport follows and closes the upstream.
    if (this.#state === 'open' && this.#ws) this.#ws.end(code, reason);
    else if (this.#state === 'upgrading') this.#up.close(code, reason);
  }

  terminate(): void {
    if (this.#state === 'open' && this.#ws) this.#ws.close();
    this.#up.terminate();
  }

  #fromUpstream(data: Buffer, isBinary: boolean): void {
    if (this.#state === 'upgrading') {
      this.#early.push({ data, isBinary });
      return;
    }
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws) return;
    // Outside any uWS.js callback: corked, the frame goes out in one write.
    ws.cork(() => ws.send(data, isBinary));
    this.#checkBackpressure(ws);
  }

  /**
   * After the cork, not inside it: there, output past uWS.js's cork buffer
   * counts as buffered before it was even tried, and a pause taken for it
   * would wait for a drain event that never comes.
   */
  #checkBackpressure(ws: WsHandle): void {
    if (!this.#upPaused && ws.getBufferedAmount() > WRITABLE_THRESHOLD) {
      this.#upPaused = true;
      this.#up.pause();
    }
  }

  #upstreamClosed(code: number, reason: string): void {
    if (this.#state === 'upgrading') {
      this.#earlyClose = { code, reason };
      return;
    }
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws) return;
    if (code === 1005) ws.end(1000);
    else if (isSendableCloseCode(code)) ws.end(code, reason);
    else ws.end(1014, 'upstream connection lost');
  }
}
