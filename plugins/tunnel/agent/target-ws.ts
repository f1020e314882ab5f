/** @module The agent's side of forwarded websockets: each a client connection to the local target, its messages relayed under credit both ways, its close carried. */
import type { Logger } from 'pino';
import type { StandaloneClients, StandaloneConn } from '../../../server/session/client/standalone.ts';
import type { TswsError } from '../../../server/plugin/api.ts';
import { HOP_BY_HOP } from '../forward.ts';
import { encodePiece, type AgentFrame, type HeaderPairs } from '../wire.ts';
import { MessageAssembler, PieceQueue, closeReason, isSendableCloseCode, type Piece } from '../ws-flow.ts';
import type { TunnelSide } from './target.ts';

/** What the websockets need from the tunnel beyond what requests do. */
export interface WsTunnelSide extends TunnelSide {
  /** The largest message either way, from the welcome. */
  wsMaxMessage(): number;
  /** Client connections, for the target's websockets. */
  readonly connect: StandaloneClients['connect'];
}

interface Forwarded {
  /** Set once connect() returned (it can throw first). */
  conn: StandaloneConn | undefined;
  readonly path: string;
  /** Target → public node. */
  readonly out: PieceQueue;
  /** Public node → target. */
  readonly in: MessageAssembler;
  open: boolean;
  /** The target closed: sent as `wsclose` once the pieces before it are. */
  closing: { code: number; reason: string } | undefined;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** lws's LWS_CLOSE_STATUS_NOSTATUS: a close without a code, passed on as one. */
const NO_STATUS = 1005;

/**
 * Every websocket is the public node's: it names the stream id, and frames
 * for ids not known here are ignored (they were in flight). Backpressure:
 * the target's messages are sent while the public node's credit allows, and
 * the target's connection stops reading (pauseReceive) while any wait, so
 * TCP holds the target back; messages for the target are written one per
 * clientWritable and credited back once written, and clientWritable does not
 * run while more than 64 KiB wait in the socket: a target that reads slowly
 * holds the browser back, with at most that plus one message on the way.
 */
export class TargetSockets {
  readonly #target: URL | undefined;
  readonly #tunnel: WsTunnelSide;
  readonly #log: Logger;
  readonly #sockets = new Map<number, Forwarded>();

  constructor(target: URL | undefined, tunnel: WsTunnelSide, log: Logger) {
    this.#target = target;
    this.#tunnel = tunnel;
    this.#log = log;
  }

  get active(): number {
    return this.#sockets.size;
  }

  open(id: number, path: string, headers: HeaderPairs, protocols: readonly string[]): void {
    const target = this.#target;
    if (!target) return this.#tunnel.send({ type: 'wsrefuse', id, status: 502, message: 'this node serves nothing (its agent has no --target)' });
    const url = new URL(target.href);
    url.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const [pathname = '', search] = path.split(/\?(.*)/s);
    url.pathname = `${target.pathname.replace(/\/$/, '')}${pathname}`;
    url.search = search ? `?${search}` : '';
    const out: Record<string, string> = {};
    for (const [k, v] of headers) {
      const name = k.toLowerCase();
      // Origin is kept (the target may check it); Host is the target's own.
      if (!HOP_BY_HOP.has(name) && name !== 'host' && !name.startsWith('sec-websocket-')) out[name] = name in out ? `${out[name]}, ${v}` : v;
    }
    const window = this.#tunnel.window();
    const s: Forwarded = {
      conn: undefined,
      path,
      out: new PieceQueue(window),
      in: new MessageAssembler(this.#tunnel.wsMaxMessage(), window, (bytes) => this.#tunnel.send({ type: 'credit', id, bytes })),
      open: false,
      closing: undefined,
    };
    this.#sockets.set(id, s);
    const mine = () => this.#sockets.get(id) === s;
    try {
      s.conn = this.#tunnel.connect({
        url: url.href,
        protocol: protocols,
        headers: out,
        timeoutMs: HANDSHAKE_TIMEOUT_MS,
        maxMessageSize: this.#tunnel.wsMaxMessage(),
        callbacks: {
          clientEstablished: (conn) => {
            if (!mine()) return;
            s.open = true;
            this.#tunnel.send({ type: 'wsaccept', id, protocol: conn.acceptedProtocol });
            this.#log.info({ stream: id, path, protocol: conn.acceptedProtocol }, 'websocket opened');
          },
          clientConnectionError: (conn, err) => {
            if (!mine()) return;
            this.#sockets.delete(id);
            this.#refused(id, path, target, conn.handshakeStatus, err);
          },
          clientReceive: (_conn, data, isBinary) => {
            if (!mine()) return;
            s.out.push(data, isBinary);
            this.#pump(id, s);
          },
          clientWritable: (conn) => {
            const m = s.in.next();
            if (!m) return;
            conn.write(m.data, m.binary);
            s.in.taken();
            if (s.in.pending > 0) conn.requestWritable();
          },
          clientClosed: (_conn, code, reason) => {
            if (!mine()) return;
            s.closing = { code, reason: closeReason(reason) };
            this.#pump(id, s);
          },
        },
      });
    } catch (err) {
      // A malformed subprotocol list is refused before connecting (TSWS_ERR_CLIENT_OPTIONS).
      this.#sockets.delete(id);
      const message = err instanceof Error ? err.message : String(err);
      return this.#tunnel.send({ type: 'wsrefuse', id, status: 400, message: `cannot open a websocket to the target: ${message}` });
    }
  }

  /** A piece of a message for the target: written to its socket when whole, in its clientWritable. */
  piece(id: number, p: Piece): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    const err = s.in.piece(p);
    if (err) {
      this.#log.warn({ stream: id, path: s.path }, `the public node broke the websocket protocol: ${err}`);
      return this.#drop(id, s, 1008, 'protocol error', true);
    }
    // Asked while connecting, it is kept for the open.
    if (s.in.pending > 0) s.conn?.requestWritable();
  }

  credit(id: number, bytes: number): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    s.out.credit(bytes);
    this.#pump(id, s);
  }

  /** The browser's side closed: close the target's with its code where one may be sent. */
  close(id: number, code: number, reason: string): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    this.#log.info({ stream: id, path: s.path, code }, 'websocket closed by the client');
    this.#drop(id, s, code, reason, false);
  }

  /** The tunnel dropped: every websocket is closed (the public node closed the browsers' with 1014). */
  dropAll(): void {
    for (const [id, s] of [...this.#sockets]) this.#drop(id, s, 1001, 'tunnel down', false);
  }

  /** The target refused the upgrade (its status goes to the browser) or could not be reached (502). */
  #refused(id: number, path: string, target: URL, status: number | undefined, err: TswsError): void {
    if (status !== undefined && status !== 101) {
      this.#tunnel.send({ type: 'wsrefuse', id, status: status >= 400 && status <= 599 ? status : 502, message: `the target answered the upgrade with ${status}` });
      this.#log.info({ stream: id, path, status }, 'websocket refused by the target');
      return;
    }
    // Node's own words (connect ECONNREFUSED ...) where there are some: the coded message names this agent's internals.
    const why = err.cause instanceof Error ? err.cause.message : err.code;
    this.#tunnel.send({ type: 'wsrefuse', id, status: 502, message: `target ${target.origin} failed: ${why}` });
    this.#log.warn({ stream: id, path, code: err.code }, `websocket to the target failed: ${why}`);
  }

  /** Sends what the credit allows; the target is not read while anything waits; after the last piece, the close. */
  #pump(id: number, s: Forwarded): void {
    for (let p = s.out.take(); p; p = s.out.take()) this.#tunnel.send(encodePiece(id, p.payload, p.fin, p.binary));
    const waiting = !s.out.isEmpty;
    if (waiting) s.conn?.pauseReceive();
    else s.conn?.resumeReceive();
    if (waiting || !s.closing) return;
    this.#sockets.delete(id);
    this.#tunnel.send({ type: 'wsclose', id, code: s.closing.code, reason: s.closing.reason });
    this.#log.info({ stream: id, path: s.path, code: s.closing.code }, 'websocket closed by the target');
  }

  /** Forgets the stream and closes the target's connection; `tell`: the public node must hear of it too. */
  #drop(id: number, s: Forwarded, code: number, reason: string, tell: boolean): void {
    this.#sockets.delete(id);
    if (tell) this.#tunnel.send({ type: 'wsclose', id, code, reason } satisfies AgentFrame);
    const conn = s.conn;
    if (!conn) return;
    // Still connecting: the attempt is dropped, and the target sees the socket go.
    if (!s.open) return conn.close();
    if (code === NO_STATUS) conn.close(NO_STATUS);
    else if (isSendableCloseCode(code)) conn.close(code, closeReason(reason));
    else conn.close(1001, 'client went away');
  }
}
