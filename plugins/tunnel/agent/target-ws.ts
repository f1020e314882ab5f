/** @module The agent's side of forwarded websockets: each opened to the local target with ws, its messages relayed under credit both ways, its close carried. */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { HOP_BY_HOP } from '../forward.ts';
import { encodePiece, type AgentFrame, type HeaderPairs } from '../wire.ts';
import { MessageAssembler, PieceQueue, closeReason, isSendableCloseCode, type Piece } from '../ws-flow.ts';
import type { TunnelSide } from './target.ts';

/** What the websockets need from the tunnel beyond what requests do. */
export interface WsTunnelSide extends TunnelSide {
  /** The largest message either way, from the welcome. */
  wsMaxMessage(): number;
}

interface Forwarded {
  readonly ws: WebSocket;
  readonly path: string;
  /** Target → public node. */
  readonly out: PieceQueue;
  /** Public node → target. */
  readonly in: MessageAssembler;
  open: boolean;
  paused: boolean;
  /** The target closed: sent as `wsclose` once the pieces before it are. */
  closing: { code: number; reason: string } | undefined;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Every websocket is the public node's: it names the stream id, and frames
 * for ids not known here are ignored (they were in flight). Backpressure:
 * the target's messages are sent while the public node's credit allows, and
 * the target socket is paused while any wait (ws's pause() stops reading
 * it); messages for the target are credited back once its socket took them
 * (ws.send's callback), so a target that reads slowly holds the browser back.
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
    let origin: string | undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of headers) {
      const name = k.toLowerCase();
      if (name === 'origin') origin = v;
      else if (!HOP_BY_HOP.has(name) && name !== 'host' && !name.startsWith('sec-websocket-')) out[name] = name in out ? `${out[name]}, ${v}` : v;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [...protocols], { headers: out, ...(origin ? { origin } : {}), perMessageDeflate: false, maxPayload: this.#tunnel.wsMaxMessage(), handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    } catch (err) {
      // ws refuses a malformed subprotocol list before connecting.
      return this.#tunnel.send({ type: 'wsrefuse', id, status: 400, message: `cannot open a websocket to the target: ${(err as Error).message}` });
    }
    const window = this.#tunnel.window();
    const s: Forwarded = {
      ws,
      path,
      out: new PieceQueue(window),
      in: new MessageAssembler(this.#tunnel.wsMaxMessage(), window, (bytes) => this.#tunnel.send({ type: 'credit', id, bytes })),
      open: false,
      paused: false,
      closing: undefined,
    };
    this.#sockets.set(id, s);
    const mine = () => this.#sockets.get(id) === s;
    ws.on('open', () => {
      if (!mine()) return;
      s.open = true;
      this.#tunnel.send({ type: 'wsaccept', id, protocol: ws.protocol });
      this.#log.info({ stream: id, path, protocol: ws.protocol }, 'websocket opened');
    });
    ws.on('unexpected-response', (_req, res) => {
      // With this listener ws leaves the refused handshake to us: abort it (its 'error' and 'close' find the stream gone).
      if (!mine()) return void ws.terminate();
      this.#sockets.delete(id);
      ws.terminate();
      const status = res.statusCode ?? 502;
      this.#tunnel.send({ type: 'wsrefuse', id, status: status >= 400 && status <= 599 ? status : 502, message: `the target answered the upgrade with ${status}` });
      this.#log.info({ stream: id, path, status }, 'websocket refused by the target');
    });
    ws.on('error', (err) => {
      if (!mine() || s.open) return; // once open, 'close' follows and says how
      this.#sockets.delete(id);
      this.#tunnel.send({ type: 'wsrefuse', id, status: 502, message: `target ${target.origin} failed: ${err.message}` });
      this.#log.warn({ stream: id, path }, `websocket to the target failed: ${err.message}`);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!mine()) return;
      s.out.push(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data), isBinary);
      this.#pump(id, s);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (!mine()) return;
      s.closing = { code, reason: closeReason(reason.toString()) };
      this.#pump(id, s);
    });
  }

  /** A piece of a message for the target: handed to its socket when whole. */
  piece(id: number, p: Piece): void {
    const s = this.#sockets.get(id);
    if (!s) return;
    const err = s.in.piece(p);
    if (err) {
      this.#log.warn({ stream: id, path: s.path }, `the public node broke the websocket protocol: ${err}`);
      return this.#drop(id, s, 1008, 'protocol error', true);
    }
    for (let m = s.in.next(); m; m = s.in.next()) s.ws.send(m.data, { binary: m.binary }, () => s.in.taken());
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

  /** Sends what the credit allows; pauses the target while anything waits; after the last piece, the close. */
  #pump(id: number, s: Forwarded): void {
    for (let p = s.out.take(); p; p = s.out.take()) this.#tunnel.send(encodePiece(id, p.payload, p.fin, p.binary));
    const waiting = !s.out.isEmpty;
    if (waiting !== s.paused && s.ws.readyState === WebSocket.OPEN) {
      s.paused = waiting;
      if (waiting) s.ws.pause();
      else s.ws.resume();
    }
    if (waiting || !s.closing) return;
    this.#sockets.delete(id);
    this.#tunnel.send({ type: 'wsclose', id, code: s.closing.code, reason: s.closing.reason });
    this.#log.info({ stream: id, path: s.path, code: s.closing.code }, 'websocket closed by the target');
  }

  /** Forgets the stream and closes the target's socket; `tell`: the public node must hear of it too. */
  #drop(id: number, s: Forwarded, code: number, reason: string, tell: boolean): void {
    this.#sockets.delete(id);
    if (tell) this.#tunnel.send({ type: 'wsclose', id, code, reason } satisfies AgentFrame);
    if (!s.open) return s.ws.terminate();
    if (code === 1005) s.ws.close();
    else if (isSendableCloseCode(code)) s.ws.close(code, reason);
    else s.ws.close(1001, 'client went away');
  }
}
