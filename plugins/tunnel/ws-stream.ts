/** @module One websocket forwarded through a tunnel, on the public node: the pending upgrade, messages both ways under credit, the close either way. */
import type { FilterVerdict, Timer, WriteStatus, WsEvents } from '../../server/plugin/api.ts';
import type { UploadSource } from './forward.ts';
import { encodePiece, frameText, type HeaderPairs } from './wire.ts';
import { MessageAssembler, PieceQueue, closeReason, isSendableCloseCode, type Piece } from './ws-flow.ts';

/** What a forwarded websocket needs from the tunnel carrying it. */
export interface WsCarrier {
  /** Cost in flight per direction (the welcome's `window`). */
  readonly window: number;
  readonly wsMaxMessage: number;
  readonly nodeId: string;
  push(frame: string): void;
  readyForData(source: UploadSource): void;
  /** The stream is over as far as the node is concerned: forget its id. */
  dropWs(stream: WsStream): void;
  violation(reason: string): void;
}

/** The browser's side, a plugin Conn. */
export interface BrowserConn {
  readonly isOpen: boolean;
  requestWritable(): void;
  write(data: Uint8Array, isBinary: boolean): WriteStatus;
  close(code?: number, reason?: string): void;
}

export interface WsOpen {
  readonly path: string;
  readonly headers: HeaderPairs;
  readonly protocols: readonly string[];
}

/**
 * opening: `wsopen` sent, the node's answer awaited (the browser waits for its 101).
 * accepted: the filter said accept; the browser's connection is being made.
 * open: messages both ways.
 * node-closed: the node's side closed; waiting messages go to the browser, then the close.
 * browser-closed: the browser left; waiting pieces go to the node, then a `wsclose`.
 * done: nothing more either way.
 */
type Phase = 'opening' | 'accepted' | 'open' | 'node-closed' | 'browser-closed' | 'done';

/**
 * Backpressure. Node to browser: a complete message is written in the
 * connection's own writable, one per call, and the credit of the pieces that
 * waited goes back once it is written (MessageAssembler), so a slow browser
 * holds back the node's target. Browser to node: uWS.js cannot pause reading
 * a websocket, so messages queue here and go out under the node's credit in
 * the tunnel's writables; a browser more than one largest message plus a
 * window ahead of the node is closed with 1013 (try again later), as a
 * proxied websocket is, rather than let the queue grow.
 */
export class WsStream implements UploadSource {
  readonly id: number;
  readonly verdict: Promise<FilterVerdict>;
  queuedForData = false;
  readonly #carrier: WsCarrier;
  readonly #out: PieceQueue;
  readonly #in: MessageAssembler;
  readonly #timer: Timer;
  #phase: Phase = 'opening';
  #resolve: (v: FilterVerdict) => void = () => undefined;
  #conn: BrowserConn | undefined;
  /** What the browser gets once the waiting messages are written (node-closed). */
  #closeBrowser = { code: 1000, reason: '' };
  /** What the node gets once the waiting pieces are sent (browser-closed). */
  #closeNode = { code: 1005, reason: '' };

  constructor(id: number, carrier: WsCarrier, open: WsOpen, timer: (ms: number, fn: () => void) => Timer, timeoutMs: number) {
    this.id = id;
    this.#carrier = carrier;
    this.#out = new PieceQueue(carrier.window);
    this.#in = new MessageAssembler(carrier.wsMaxMessage, carrier.window, (bytes) => carrier.push(frameText({ type: 'credit', id, bytes })));
    this.verdict = new Promise((resolve) => (this.#resolve = resolve));
    carrier.push(frameText({ type: 'wsopen', id, path: open.path, headers: open.headers, protocols: open.protocols }));
    this.#timer = timer(timeoutMs, () => {
      if (this.#phase !== 'opening') return;
      this.#tellNode(1001, 'timeout');
      this.#finish();
      this.#resolve({ refuse: 504, reason: `node ${carrier.nodeId} did not answer within ${Math.round(timeoutMs / 1000)} s` });
    });
  }

  // ---- the node's answers -------------------------------------------------------

  accepted(protocol: string): void {
    if (this.#phase !== 'opening') return this.#carrier.violation(`a second answer for websocket ${this.id}`);
    this.#phase = 'accepted';
    this.#timer.cancel();
    this.#resolve({ accept: true, protocol, dropped: () => this.#dropped() });
  }

  refused(status: number, message: string): void {
    if (this.#phase !== 'opening') return this.#carrier.violation(`a second answer for websocket ${this.id}`);
    this.#finish();
    this.#resolve({ refuse: status, reason: message || `node ${this.#carrier.nodeId}'s service refused the websocket` });
  }

  piece(p: Piece): void {
    switch (this.#phase) {
      case 'opening':
        return this.#carrier.violation(`websocket ${this.id}: a message before it was accepted`);
      case 'accepted':
      case 'open': {
        const err = this.#in.piece(p);
        if (err) return this.#carrier.violation(`websocket ${this.id}: ${err}`);
        if (this.#in.pending > 0) this.#conn?.requestWritable();
        return;
      }
      case 'browser-closed':
      case 'node-closed':
      case 'done':
        return; // in flight when this side closed
      default: {
        const unreachable: never = this.#phase;
        return unreachable;
      }
    }
  }

  credit(bytes: number): void {
    this.#out.credit(bytes);
    if (this.hasSendableUpload) this.#carrier.readyForData(this);
  }

  /** The node's side closed (`wsclose`), after its last piece. */
  nodeClosed(code: number, reason: string): void {
    switch (this.#phase) {
      case 'opening':
        this.#finish();
        return this.#resolve({ refuse: 502, reason: `node ${this.#carrier.nodeId}'s service closed the websocket before it opened` });
      case 'accepted':
      case 'open':
        return this.#toBrowserClose(code, reason);
      case 'browser-closed':
        return this.#finish();
      case 'node-closed':
      case 'done':
        return;
      default: {
        const unreachable: never = this.#phase;
        return unreachable;
      }
    }
  }

  /** The tunnel closed under this websocket. */
  tunnelGone(): void {
    const why = `the tunnel to node ${this.#carrier.nodeId} closed`;
    switch (this.#phase) {
      case 'opening':
        this.#finish();
        return this.#resolve({ refuse: 502, reason: why });
      case 'accepted':
      case 'open':
        return this.#toBrowserClose(1014, why);
      case 'browser-closed':
        return this.#finish();
      case 'node-closed': // its close is on the way already
      case 'done':
        return;
      default: {
        const unreachable: never = this.#phase;
        return unreachable;
      }
    }
  }

  // ---- the browser's connection ---------------------------------------------------

  /** The browser's connection as one object (websocket.connection): its callbacks are this stream's browser side. */
  browserSide(conn: BrowserConn): WsEvents {
    return {
      established: () => this.attach(conn),
      receive: (data, isBinary) => this.fromBrowser(data, isBinary),
      writable: () => this.writable(),
      closed: (code, reason) => this.browserClosed(code, reason),
    };
  }

  /** established: the 101 went out. */
  attach(conn: BrowserConn): void {
    this.#conn = conn;
    if (this.#phase === 'accepted') this.#phase = 'open';
    if (this.#in.pending > 0 || this.#phase === 'node-closed') conn.requestWritable();
  }

  /** receive: a whole message from the browser. */
  fromBrowser(data: Buffer, isBinary: boolean): void {
    const conn = this.#conn;
    if (this.#phase !== 'open' || !conn) return;
    if (data.length > this.#carrier.wsMaxMessage) return conn.close(1009, 'message too big');
    this.#out.push(data, isBinary);
    if (this.#out.queuedBytes > this.#carrier.wsMaxMessage + this.#carrier.window) return conn.close(1013, `node ${this.#carrier.nodeId} is not keeping up`);
    this.#carrier.readyForData(this);
  }

  /** writable: at most one message to the browser, or the close the node asked for. */
  writable(): void {
    const conn = this.#conn;
    if (!conn?.isOpen) return;
    const m = this.#in.next();
    if (m) {
      conn.write(m.data, m.binary);
      this.#in.taken();
    }
    if (this.#in.pending > 0) conn.requestWritable();
    else if (this.#phase === 'node-closed') conn.close(this.#closeBrowser.code, this.#closeBrowser.reason);
  }

  /** closed: the browser's connection is gone (its close, or ours). */
  browserClosed(code: number, reason: string): void {
    if (this.#phase === 'open') {
      this.#phase = 'browser-closed';
      this.#closeNode = { code, reason: closeReason(reason) };
      this.#carrier.readyForData(this);
    } else if (this.#phase !== 'opening') this.#finish();
  }

  // ---- the tunnel's round robin (UploadSource) --------------------------------------

  get hasSendableUpload(): boolean {
    return this.#out.canSend || (this.#phase === 'browser-closed' && this.#out.isEmpty);
  }

  nextFrame(): string | Buffer | undefined {
    const piece = this.#out.take();
    if (piece) return encodePiece(this.id, piece.payload, piece.fin, piece.binary);
    if (this.#phase !== 'browser-closed' || !this.#out.isEmpty) return undefined;
    const { code, reason } = this.#closeNode;
    this.#finish();
    return frameText({ type: 'wsclose', id: this.id, code, reason });
  }

  // ---- endings -------------------------------------------------------------------------

  /** The framework dropped the accepted upgrade (the browser left before its 101). */
  #dropped(): void {
    if (this.#phase !== 'accepted') return;
    this.#tellNode(1001, 'client went away');
    this.#finish();
  }

  /** Waiting messages first, then the node's close code where one may be sent (1005: none given; 1006 and such: lost). */
  #toBrowserClose(code: number, reason: string): void {
    this.#closeBrowser = isSendableCloseCode(code) ? { code, reason: closeReason(reason) } : code === 1005 ? { code: 1000, reason: '' } : { code: 1014, reason: closeReason(reason || `node ${this.#carrier.nodeId}'s service went away`) };
    this.#phase = 'node-closed';
    this.#out.clear();
    this.#carrier.dropWs(this);
    this.#conn?.requestWritable();
  }

  #tellNode(code: number, reason: string): void {
    this.#carrier.push(frameText({ type: 'wsclose', id: this.id, code, reason }));
  }

  #finish(): void {
    this.#phase = 'done';
    this.#timer.cancel();
    this.#out.clear();
    this.#carrier.dropWs(this);
  }
}
