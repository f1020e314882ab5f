/** @module Forwarded websocket messages in the tunnel, for both ends: cut into pieces sent under a credit window, and put back together with credit returned as the destination takes them. */
import { MAX_CHUNK } from './wire.ts';

/** Each piece counts this much beyond its payload, so that a window of empty or tiny messages is bounded in number too. */
export const PIECE_COST = 64;
export const costOf = (payloadBytes: number): number => payloadBytes + PIECE_COST;

export interface Piece {
  readonly payload: Buffer;
  /** The last piece of its message. */
  readonly fin: boolean;
  readonly binary: boolean;
}

export interface Message {
  readonly data: Buffer;
  readonly binary: boolean;
}

/**
 * The sending side of one direction of one forwarded websocket: whole
 * messages in, pieces of at most MAX_CHUNK out, while the peer has credited
 * enough (at most `window` cost unacknowledged). What to do while pieces wait
 * is the caller's: the agent pauses its target socket, the public node (which
 * cannot pause a browser) bounds the queue.
 */
export class PieceQueue {
  readonly #window: number;
  readonly #pieces: Piece[] = [];
  #queuedBytes = 0;
  #inFlight = 0;

  constructor(window: number) {
    this.#window = window;
  }

  push(data: Buffer, binary: boolean): void {
    if (data.length === 0) this.#pieces.push({ payload: data, fin: true, binary });
    for (let i = 0; i < data.length; i += MAX_CHUNK) this.#pieces.push({ payload: data.subarray(i, i + MAX_CHUNK), fin: i + MAX_CHUNK >= data.length, binary });
    this.#queuedBytes += data.length;
  }

  /** Payload bytes waiting to be sent. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get isEmpty(): boolean {
    return this.#pieces.length === 0;
  }

  get canSend(): boolean {
    const next = this.#pieces[0];
    return next !== undefined && this.#inFlight + costOf(next.payload.length) <= this.#window;
  }

  /** The next piece the credit allows, counted as in flight. */
  take(): Piece | undefined {
    if (!this.canSend) return undefined;
    const piece = this.#pieces.shift() as Piece;
    this.#queuedBytes -= piece.payload.length;
    this.#inFlight += costOf(piece.payload.length);
    return piece;
  }

  credit(bytes: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - bytes);
  }

  clear(): void {
    this.#pieces.length = 0;
    this.#queuedBytes = 0;
  }
}

interface Held {
  readonly message: Message;
  /** Cost of its pieces not credited yet: paid when the destination has taken it. */
  owed: number;
}

/**
 * The receiving side: pieces back into whole messages, and the credit policy
 * that bounds what waits here. A piece is credited at once while no complete
 * message waits for the destination, so a message larger than the window
 * still flows; otherwise its cost is owed and paid once the destination has
 * taken the messages before it. So what waits here is at most one message
 * taken on credit plus one window, however slow the destination. A sender
 * past the window (owed and unsent credit above it) breaks the protocol.
 *
 * Credit goes back in batches of a quarter window. That cannot stall the
 * sender: below a quarter unsent, the sender has at least three quarters of
 * a window (48 KiB at the smallest, 64 KiB) free, more than one piece costs.
 */
export class MessageAssembler {
  readonly #maxMessage: number;
  readonly #window: number;
  readonly #sendCredit: (bytes: number) => void;
  #parts: Buffer[] = [];
  #size = 0;
  #binary = false;
  #assemblyOwed = 0;
  /** Complete, not yet handed to the destination. */
  readonly #complete: Held[] = [];
  /** Handed to the destination, not yet taken by it (in order). */
  readonly #handed: Held[] = [];
  #owed = 0;
  #unsent = 0;

  constructor(maxMessage: number, window: number, sendCredit: (bytes: number) => void) {
    this.#maxMessage = maxMessage;
    this.#window = window;
    this.#sendCredit = sendCredit;
  }

  /** Complete messages not yet handed on. */
  get pending(): number {
    return this.#complete.length;
  }

  /** Adds a piece; returns what broke the protocol, if anything did. */
  piece(p: Piece): string | undefined {
    // As PieceQueue cuts them: so a message's pieces are as few as its size allows.
    if (!p.fin && p.payload.length !== MAX_CHUNK) return `a piece that is not its message's last carries ${MAX_CHUNK} bytes`;
    if (this.#parts.length > 0 && p.binary !== this.#binary) return 'a message changed between text and binary';
    this.#binary = p.binary;
    this.#size += p.payload.length;
    if (this.#size > this.#maxMessage) return `a message over ${this.#maxMessage} bytes`;
    this.#parts.push(p.payload);
    const cost = costOf(p.payload.length);
    if (this.#complete.length + this.#handed.length === 0) this.#credit(cost);
    else {
      this.#assemblyOwed += cost;
      this.#owed += cost;
      if (this.#owed + this.#unsent > this.#window) return `went past its credit window of ${this.#window}`;
    }
    if (!p.fin) return undefined;
    const data = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#size);
    this.#complete.push({ message: { data, binary: this.#binary }, owed: this.#assemblyOwed });
    this.#parts = [];
    this.#size = 0;
    this.#assemblyOwed = 0;
    return undefined;
  }

  /** The oldest complete message, handed to the destination: call `taken()` once it took it. */
  next(): Message | undefined {
    const held = this.#complete.shift();
    if (!held) return undefined;
    this.#handed.push(held);
    return held.message;
  }

  /** The destination took the oldest message handed to it. */
  taken(): void {
    const held = this.#handed.shift();
    if (!held) return;
    this.#pay(held.owed);
    // Nothing waits any more: the message being put together is credited as it would have been.
    if (this.#complete.length + this.#handed.length === 0 && this.#assemblyOwed > 0) {
      this.#pay(this.#assemblyOwed);
      this.#assemblyOwed = 0;
    }
  }

  #pay(owed: number): void {
    if (owed === 0) return;
    this.#owed -= owed;
    this.#credit(owed);
  }

  #credit(cost: number): void {
    this.#unsent += cost;
    if (this.#unsent < this.#window / 4) return;
    this.#sendCredit(this.#unsent);
    this.#unsent = 0;
  }
}

/** Codes an endpoint may send in a close frame (RFC 6455 7.4): 1005, 1006 and 1015 only describe a close. */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A close reason cut to the 123 bytes a close frame holds. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
