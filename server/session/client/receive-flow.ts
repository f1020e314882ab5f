/** @module Reading at a client plugin's pace (lws_rx_flow_control): the pause, the messages held while paused, and their release in order. */

/** What the flow needs from its connection. */
export interface ReceiveSink {
  /** Runs clientReceive for one message (it checks the connection can still take it). */
  deliver(data: Buffer, isBinary: boolean): void;
  /** Open and not closing: messages may be delivered and the socket paused. */
  canDeliver(): boolean;
  /** Stops and restarts reading the current socket. */
  pauseSocket(): void;
  resumeSocket(): void;
}

interface Held {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/**
 * Why messages are held: ws's pause() stops reading the socket, but the
 * messages of a read it already made still come out of its parser. They wait
 * here, so a paused plugin truly gets no clientReceive; that is at most one
 * socket read (64 KiB) of messages, plus the one it completed. Once anything
 * is held, later messages queue behind it, so the order holds.
 *
 * Why the release is from setImmediate: resumeReceive is mostly called from
 * another callback (a bridge's far side drained), and a clientReceive nested
 * inside it would run in the middle of the plugin's own code. The socket is
 * read again only once nothing waits.
 *
 * The pause belongs to the connection, not to one socket: it holds across
 * reconnections (opened() applies it to each new socket).
 */
export class ReceiveFlow {
  readonly #sink: ReceiveSink;
  #paused = false;
  readonly #held: Held[] = [];
  #release: NodeJS.Immediate | undefined;

  constructor(sink: ReceiveSink) {
    this.#sink = sink;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // Connecting or between attempts: opened() applies it. Closing: the server's close frame must still be read.
    if (this.#sink.canDeliver()) this.#sink.pauseSocket();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#sink.canDeliver()) return;
    if (this.#held.length === 0) this.#sink.resumeSocket();
    else this.#release ??= setImmediate(() => this.#releaseHeld());
  }

  /** A new socket is open: a paused connection does not read it either. */
  opened(): void {
    if (this.#paused) this.#sink.pauseSocket();
  }

  /** A message off the socket: delivered now, or held behind the pause and what already waits. */
  received(data: Buffer, isBinary: boolean): void {
    if (this.#paused || this.#held.length > 0) this.#held.push({ data, isBinary });
    else this.#sink.deliver(data, isBinary);
  }

  /** The socket ended: what was read before the end is delivered first, paused or not (nothing read is lost, an end is never held back). */
  flush(): void {
    for (let m = this.#held.shift(); m; m = this.#held.shift()) this.#sink.deliver(m.data, m.isBinary);
  }

  /** The socket is gone, or the plugin closed it: what waited is not delivered. */
  drop(): void {
    this.#held.length = 0;
    clearImmediate(this.#release);
    this.#release = undefined;
  }

  #releaseHeld(): void {
    this.#release = undefined;
    for (let m = this.#held.shift(); m; m = this.#held.shift()) {
      this.#sink.deliver(m.data, m.isBinary);
      if (this.#paused || !this.#sink.canDeliver()) break;
    }
    if (!this.#paused && this.#held.length === 0 && this.#sink.canDeliver()) this.#sink.resumeSocket();
  }
}
