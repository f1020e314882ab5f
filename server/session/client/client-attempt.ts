/** @module One attempt of a client connection: a `ws` socket, its handshake timeout and ping liveness, pausing its reads, and what ended it, coded. */
import WebSocket from 'ws';
import { tswsError, type TswsError } from '../../base/errors.ts';
import { NO_STATUS } from '../close-codes.ts';
import { attemptFailure, cutFailure } from './failure.ts';
import type { ClientSettings } from './settings.ts';

/**
 * How an attempt ended: before 'open' always with a coded error (then
 * clientConnectionError), after it with the close (then clientClosed) and an
 * error only for a cut, 1006 with no close frame.
 */
export type AttemptEnd =
  | { readonly established: false; readonly error: TswsError; readonly status: number | undefined }
  | { readonly established: true; readonly code: number; readonly reason: string; readonly error: TswsError | undefined };

/** What the connection hears from its current attempt; nothing once the attempt was abandoned. */
export interface AttemptEvents {
  opened(): void;
  message(data: Buffer, isBinary: boolean): void;
  /** A frame written by send() left the socket's buffer: the drain signal. */
  sent(): void;
  ended(end: AttemptEnd): void;
}

/** ws copies its send options: two shared objects instead of one per message. */
const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

/** ws gives Buffers (binaryType is left at 'nodebuffer'); its type also names the other binaryTypes' shapes. */
const asBuffer = (data: WebSocket.RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

export class ClientAttempt {
  readonly #ws: WebSocket;
  readonly #settings: ClientSettings;
  readonly #events: AttemptEvents;
  readonly #onSent: () => void;
  #abandoned = false;
  #established = false;
  /** Why it failed before 'open' (the first cause wins; the timeout overrides what its own abort reports). */
  #failure: TswsError | undefined;
  /** A transport error after 'open' (the close that follows says 1006). */
  #cause: Error | undefined;
  /** Why the attempt cut its socket itself (a missed pong). */
  #cutReason: string | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  /** The socket is not being read (pause()): no pong could arrive, so the ping check rests. */
  #paused = false;
  /** The HTTP status that answered the handshake, once one did. */
  #status: number | undefined;

  /** Starts connecting; throws at once (as ws does) only for what no retry would fix, such as a header it cannot send. */
  constructor(settings: ClientSettings, events: AttemptEvents) {
    this.#settings = settings;
    this.#events = events;
    this.#onSent = () => {
      if (!this.#abandoned) events.sent();
    };
    const ws = new WebSocket(settings.url, [...settings.subprotocols], settings.ws);
    this.#ws = ws;
    ws.on('upgrade', (res) => (this.#status = res.statusCode));
    // Listened to for the status (a bridge passes a 403 on as a 403); with a listener ws leaves the abort to us.
    ws.on('unexpected-response', (_req, res) => {
      this.#status = res.statusCode;
      this.#failure ??= tswsError('TSWS_ERR_CLIENT_BAD_HANDSHAKE', { ...settings.at, reason: `Unexpected server response: ${res.statusCode ?? '?'}` });
      ws.terminate();
    });
    ws.on('open', () => this.#opened());
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      // Any message shows the server alive, as a pong does: a long message still arriving is no reason to cut.
      this.#awaitingPong = false;
      if (!this.#abandoned) events.message(asBuffer(data), isBinary);
    });
    ws.on('pong', () => (this.#awaitingPong = false));
    // Always listened to, abandoned or not: an 'error' without a listener would take the process down.
    ws.on('error', (err: Error) => this.#errored(err));
    ws.on('close', (code: number, reason: Buffer) => this.#closed(code, reason.toString()));
    this.#handshakeTimer = setTimeout(() => this.#timedOut(), settings.timeoutMs);
  }

  /** Bytes queued in the socket (and in ws), not yet taken by the server. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** The subprotocol the server chose ("" for none). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** The HTTP status of the handshake's answer (101 once open), undefined before one came. */
  get status(): number | undefined {
    return this.#status;
  }

  /** Stops reading the socket: TCP holds the server back. Messages ws had read already still come (the connection holds them). */
  pause(): void {
    this.#paused = true;
    this.#ws.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#ws.resume();
  }

  /** With one shared callback, which ws runs once the frame has left the socket's buffer: the drain signal (see client-connection.ts). */
  send(data: string | Uint8Array | ArrayBuffer, isBinary: boolean): void {
    this.#ws.send(data, isBinary ? BINARY : TEXT, this.#onSent);
  }

  /** The closing handshake: 'ended' follows once the server answers (ws gives up after 30 s). */
  close(code: number, reason: string): void {
    this.#sayClose(code, reason);
  }

  /**
   * Drops the socket with no closing handshake and ends the attempt now
   * ('ended', 1006 with `reason`), without waiting for ws's 'close': for when
   * ws itself is wedged (the watchdog unwound its parser mid-write, and ws
   * emits 'close' only once that parser finishes, which is never).
   */
  cut(reason: string): void {
    this.#cutReason = reason;
    this.#ws.terminate();
    this.#closed(1006, '');
  }

  /** No more events from this attempt: an open socket says `code` to the server, any other is dropped. */
  abandon(code: number, reason: string): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#stopTimers();
    if (this.#ws.readyState === WebSocket.OPEN) this.#sayClose(code, reason);
    else this.#ws.terminate();
  }

  /** A paused socket is read again first: the server's answering close frame must be read, or the close would wait for ws's timeout. */
  #sayClose(code: number, reason: string): void {
    if (this.#paused) this.resume();
    if (code === NO_STATUS) this.#ws.close();
    else this.#ws.close(code, reason);
  }

  #opened(): void {
    if (this.#abandoned) return;
    clearTimeout(this.#handshakeTimer);
    this.#established = true;
    const every = this.#settings.pingIntervalMs;
    if (every > 0) this.#pingTimer = setInterval(() => this.#ping(), every).unref();
    this.#events.opened();
  }

  #errored(err: Error): void {
    if (this.#established) this.#cause ??= err;
    else this.#failure ??= attemptFailure(err, this.#settings.at);
  }

  #timedOut(): void {
    if (this.#abandoned || this.#established) return;
    this.#failure = tswsError('TSWS_ERR_CLIENT_TIMEOUT', { ...this.#settings.at, ms: this.#settings.timeoutMs });
    this.#ws.terminate();
  }

  /**
   * Timers run before the event loop reads the sockets: after a stall of this
   * loop (a GC, a busy callback, a starved machine) a pong that came in time
   * may still be unread. So a missing pong is judged after the next read, in
   * the check phase, as cgi-run.ts judges a script's silence.
   */
  #ping(): void {
    if (this.#paused) {
      this.#awaitingPong = false;
      return;
    }
    if (this.#awaitingPong) {
      setImmediate(() => {
        if (this.#abandoned || this.#paused) return;
        if (!this.#awaitingPong) return this.#sendPing();
        this.#cutReason = `no pong within ${this.#settings.pingIntervalMs} ms`;
        this.#ws.terminate();
      });
      return;
    }
    this.#sendPing();
  }

  #sendPing(): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  #closed(code: number, reasonText: string): void {
    this.#stopTimers();
    if (this.#abandoned) return;
    this.#abandoned = true;
    const at = this.#settings.at;
    if (!this.#established) {
      const error = this.#failure ?? tswsError('TSWS_ERR_CLIENT_CLOSED', { ...at, when: 'before the handshake completed', reason: reasonText || `code ${code}` });
      return this.#events.ended({ established: false, error, status: this.#status });
    }
    const reason = this.#cutReason ?? (reasonText || this.#cause?.message || '');
    const error = code === 1006 ? cutFailure(reason || 'no close frame', at, this.#cause) : undefined;
    this.#events.ended({ established: true, code, reason, error });
  }

  #stopTimers(): void {
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#pingTimer);
  }
}
