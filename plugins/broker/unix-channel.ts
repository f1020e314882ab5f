/** @module The line channel both handler transports offer, and its UNIX-socket form: one connection, made when needed. */
import net from 'node:net';
import type { Logger } from 'pino';
import { LineReader, MAX_LINE_BYTES } from './handler-wire.ts';

/** What a channel reports to its handler. */
export interface ChannelEvents {
  /** One line from the handler. */
  line(text: string): void;
  /** The stream ended: requests sent on it will get no answer. */
  lost(reason: string): void;
  /** The handler wrote a line longer than MAX_LINE_BYTES: the framing is lost. */
  tooLong(): void;
}

/** A stream of lines to and from one handler, whatever carries it. */
export interface LineChannel {
  /** Writes one line (ending in \n): undefined once the stream has it, otherwise why it could not. */
  send(line: string): Promise<string | undefined>;
  /** Bytes written that the handler has not taken yet. */
  readonly backlog: number;
  /** The stream cannot be trusted any more: drop it (lines still arriving on it are ignored). */
  reset(why: string): void;
  /** For good (destroy). */
  close(): Promise<void>;
}

/**
 * A handler listening on a UNIX socket. The broker keeps one connection to
 * it and sends every request on it, whoever the client: the handler answers
 * in any order, replies are matched by id. The connection is made when a
 * request needs it and made again by the next request after a loss, so a
 * handler restarted by its own supervisor is picked up without the broker
 * doing anything; while it is away each request fails at once (no queue
 * grows behind a dead handler). Outages are logged once, not per request.
 */
export class UnixChannel implements LineChannel {
  readonly #path: string;
  readonly #events: ChannelEvents;
  readonly #log: Logger;
  #socket: net.Socket | undefined;
  #connecting: Promise<net.Socket | string> | undefined;
  #closed = false;
  #down = false;

  constructor(socketPath: string, events: ChannelEvents, log: Logger) {
    this.#path = socketPath;
    this.#events = events;
    this.#log = log;
  }

  get backlog(): number {
    return this.#socket?.writableLength ?? 0;
  }

  async send(line: string): Promise<string | undefined> {
    if (this.#closed) return 'the broker is stopping';
    let socket = this.#socket;
    if (!socket) {
      this.#connecting ??= this.#connect();
      const r = await this.#connecting;
      if (typeof r === 'string') return r;
      socket = r;
    }
    if (socket !== this.#socket) return 'the connection to the handler was dropped';
    socket.write(line);
    return undefined;
  }

  reset(why: string): void {
    const s = this.#socket;
    if (!s) return;
    this.#socket = undefined;
    this.#log.warn({ socket: this.#path, why }, 'broker: dropping the connection to a handler');
    s.destroy();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): Promise<net.Socket | string> {
    return new Promise((resolve) => {
      const s = net.createConnection(this.#path);
      let failure: NodeJS.ErrnoException | undefined;
      let connected = false;
      const reader = new LineReader(
        MAX_LINE_BYTES,
        (l) => this.#socket === s && this.#events.line(l),
        () => this.#socket === s && this.#events.tooLong(),
      );
      s.on('data', (chunk: Buffer) => reader.push(chunk));
      s.on('error', (err: NodeJS.ErrnoException) => (failure = err));
      s.once('connect', () => {
        connected = true;
        this.#connecting = undefined;
        if (this.#closed) {
          s.destroy();
          return resolve('the broker is stopping');
        }
        this.#socket = s;
        if (this.#down) this.#log.info({ socket: this.#path }, 'broker: handler reachable again');
        this.#down = false;
        resolve(s);
      });
      s.once('close', () => {
        if (!connected) {
          this.#connecting = undefined;
          const why = `cannot connect to ${this.#path}: ${failure?.code ?? failure?.message ?? 'closed'}`;
          if (!this.#down) this.#log.error({ socket: this.#path, err: failure?.message }, 'broker: handler unreachable');
          this.#down = true;
          return resolve(why);
        }
        if (this.#socket !== s) return; // reset or closed on purpose: already accounted for
        this.#socket = undefined;
        const why = `the handler closed its connection${failure ? ` (${failure.code ?? failure.message})` : ''}`;
        this.#log.warn({ socket: this.#path }, `broker: ${why}`);
        this.#events.lost(why);
      });
    });
  }
}
