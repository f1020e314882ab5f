/** @module A websocket of the fake transport: records what the framework sends and lets a test play the peer (messages, pongs, a reader that stalls). */
import type { Bytes, ListenerHandlers, SendCode, SendStatus, SocketData, WsHandle, WsTransportOptions } from '../types.ts';

/**
 * The fake's send codes, deliberately not uWS.js's (there 1 is "sent"): a
 * framework that read bare numbers instead of Transport.sendOutcomes would
 * misread these and fail its tests.
 */
export const FAKE_SEND_OUTCOMES: readonly SendStatus[] = Object.freeze(['sent', 'backpressure', 'dropped']);
const SENT = 0 as SendCode;
const BACKPRESSURE = 1 as SendCode;
const DROPPED = 2 as SendCode;

/** One frame the framework sent. */
export interface SentFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
  /** The compress flag the framework passed (uWS.js compresses only where permessage-deflate was agreed). */
  readonly compress: boolean;
  /** Sent inside a cork (the transport's data event, or the framework's own cork). */
  readonly corked: boolean;
}

/** How the socket ended: with a close frame (end), or cut (close, a dead peer). */
export interface Ending {
  readonly code: number;
  readonly reason: string;
  readonly frame: boolean;
  /** Who ended it. */
  readonly by: 'server' | 'peer';
}

export function bytesOf(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b);
  return Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b);
}

/** A fresh ArrayBuffer holding `b`: what uWS.js hands to a handler. */
function arrayBuffer(b: Bytes): ArrayBuffer {
  const copy = bytesOf(b);
  const ab = new ArrayBuffer(copy.length);
  new Uint8Array(ab).set(copy);
  return ab;
}

/**
 * Behaves as uWS.js's WebSocket does where the framework can tell: the
 * upgrade's userData are its own properties, a message's ArrayBuffer is
 * detached once its handler returns, the socket is corked during a data
 * event, end() and close() run the close handler synchronously, and any
 * call after the close throws.
 */
export class FakeSocket implements WsHandle {
  readonly session: unknown;
  readonly peer: string;
  readonly sent: SentFrame[] = [];
  pings = 0;
  ending: Ending | undefined;
  readonly #handlers: ListenerHandlers;
  readonly #options: WsTransportOptions;
  #buffered = 0;
  #held = false;
  #corks = 0;

  constructor(data: SocketData, handlers: ListenerHandlers, options: WsTransportOptions) {
    this.session = data.session;
    this.peer = data.peer;
    this.#handlers = handlers;
    this.#options = options;
  }

  // ---- what the framework calls (WsHandle) -------------------------------

  send(message: Bytes, isBinary = false, compress = false): SendCode {
    this.#live();
    // uWS.js: past maxBackpressure a send is dropped (and the socket closes once it drains).
    if (this.#buffered > this.#options.maxBackpressure) return DROPPED;
    const data = bytesOf(message);
    this.sent.push({ data, isBinary, compress, corked: this.#corks > 0 });
    if (!this.#held) return SENT;
    this.#buffered += data.length;
    return BACKPRESSURE;
  }

  getBufferedAmount(): number {
    this.#live();
    return this.#buffered;
  }

  end(code = 0, shortMessage: Bytes = ''): void {
    this.#live();
    this.#ended({ code, reason: bytesOf(shortMessage).toString(), frame: true, by: 'server' });
  }

  close(): void {
    this.#live();
    this.#ended({ code: 1006, reason: '', frame: false, by: 'server' });
  }

  cork(cb: () => void): void {
    this.#live();
    this.#corks++;
    try {
      cb();
    } finally {
      this.#corks--;
    }
  }

  ping(): SendCode {
    this.#live();
    this.pings++;
    return SENT;
  }

  getUserData(): unknown {
    return this;
  }

  // ---- the peer's side (for tests) --------------------------------------

  get isOpen(): boolean {
    return this.ending === undefined;
  }

  /** What was sent, as text. */
  get texts(): string[] {
    return this.sent.map((f) => f.data.toString());
  }

  /** A whole message arrives: the data event, corked, its buffer detached afterwards. */
  deliver(message: Bytes, isBinary = typeof message !== 'string'): void {
    this.#live();
    const ab = arrayBuffer(message);
    this.#corks++;
    try {
      this.#handlers.message(this, ab, isBinary);
    } finally {
      this.#corks--;
      // uWS.js neuters the message when the handler returns; so does the fake.
      structuredClone(ab, { transfer: [ab] });
    }
  }

  /** The peer answers a ping. */
  pong(): void {
    this.#live();
    this.#handlers.pong(this);
  }

  /** The peer stops reading: later sends are buffered (backpressure). */
  hold(): void {
    this.#held = true;
  }

  /** The peer reads everything buffered: the drain event. */
  release(): void {
    this.#held = false;
    this.#buffered = 0;
    if (this.isOpen) this.#handlers.drain(this);
  }

  /** The peer closes (with a close frame unless `code` is 1006). */
  closeFromPeer(code = 1000, reason = ''): void {
    this.#live();
    this.#ended({ code, reason, frame: code !== 1006, by: 'peer' });
  }

  #ended(ending: Ending): void {
    this.ending = ending;
    this.#handlers.close(this, ending.code, arrayBuffer(ending.reason));
  }

  #live(): void {
    if (this.ending) throw new Error('Invalid access of closed uWS.WebSocket/SSLWebSocket.');
  }
}
