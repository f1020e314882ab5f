/** @module Request bodies: checked up front, copied chunk by chunk as they arrive, held back by flow control, capped. */
import { SYSTEM_CLOCK, type CancelTimer, type Clock } from '../base/clock.ts';
import type { HttpRes } from '../transport/types.ts';
import type { BodyFraming } from './framing.ts';

import { DEFAULT_BODY_LIMIT } from '../config/schema.ts';

/** Largest body accepted where a mount or protocol says nothing else (declared with the config defaults). */
export { DEFAULT_BODY_LIMIT };

/** Bytes queued before anyone consumes them, past which the upload is paused. */
const QUEUE_HIGH_WATER = 64 * 1024;

/**
 * Lingering close, after nginx (lingering_timeout 5 s, lingering_time 30 s):
 * the rest of a body we answered early is read and dropped for at most this
 * long without data, this long in all, and (nginx has no such bound) this many
 * bytes, then the connection is closed whatever is left.
 */
export const LINGER_IDLE_MS = 5_000;
export const LINGER_TOTAL_MS = 30_000;
export const LINGER_MAX_BYTES = 64 * 1024 * 1024;

interface Discarding {
  readonly done: (complete: boolean) => void;
  bytes: number;
  readonly idle: NodeJS.Timeout;
  readonly total: NodeJS.Timeout;
}

export type BodyCheck = BodyFraming | { readonly ok: false; readonly status: 400 | 413; readonly detail: string };

/** A declared length over `limit` is refused before a byte of the body is read (framing itself is checked for every request by readFraming). */
export function checkBodyLimit(framing: BodyFraming, limit: number): BodyCheck {
  const length = framing.length;
  if (length !== undefined && length > limit) return { ok: false, status: 413, detail: `the body is ${length} bytes; the limit here is ${limit}` };
  return framing;
}

/** The request declares a body: something to read and drop (discardRest) when it is refused before a byte of it was wanted. */
export function unreadBody(res: HttpRes, framing: BodyFraming): RequestBody | undefined {
  return framing.chunked || (framing.length ?? 0) > 0 ? new RequestBody(res, Number.POSITIVE_INFINITY) : undefined;
}

export interface BodySink {
  chunk(data: Buffer): void;
  end(): void;
  /** Called once when the body passes the limit; nothing more is delivered. */
  tooLarge(received: number): void;
}

/**
 * Attach in the request callback (uWS.js drops body bytes that arrive with
 * no onData handler). Chunks received before `consume()` wait in a queue;
 * past 64 KiB the upload is paused, so a slow access check or a slow plugin
 * never makes the body pile up in memory.
 */
export class RequestBody {
  readonly limit: number;
  #res: HttpRes;
  #received = 0;
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #over = false;
  #paused = false;
  /** The response is gone (aborted): never touch it again. */
  #detached = false;
  #sink: BodySink | undefined;
  /** Answered already: the rest of the body is read and dropped (discardRest). */
  #discarding: Discarding | undefined;
  readonly #stallMs: number;
  readonly #clock: Clock;
  #stallTimer: CancelTimer | undefined;

  /**
   * `stallMs` (timeout-secs): a body that makes no progress for that long is
   * cut, closing the connection (its consumer hears the abort). The clock
   * stops while the upload is paused by our own flow control. `clock`: the
   * server's (a protocol kit's manual one in unit tests).
   */
  constructor(res: HttpRes, limit: number, opts: { stallMs?: number; clock?: Clock } = {}) {
    this.#res = res;
    this.limit = limit;
    this.#stallMs = opts.stallMs ?? 0;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    res.onData((ab, isLast) => this.#onData(ab, isLast));
    this.#armStall();
  }

  #armStall(): void {
    if (this.#stallMs <= 0) return;
    this.#stallTimer?.();
    this.#stallTimer = this.#clock.timer(this.#stallMs, () => {
      this.#stallTimer = undefined;
      if (this.#detached || this.#ended || this.#paused) return;
      this.#detached = true;
      this.#res.close();
    }, false);
  }

  #disarmStall(): void {
    this.#stallTimer?.();
    this.#stallTimer = undefined;
  }

  get received(): number {
    return this.#received;
  }

  get ended(): boolean {
    return this.#ended;
  }

  consume(sink: BodySink): void {
    this.#sink = sink;
    if (this.#over) return sink.tooLarge(this.#received);
    const queued = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    for (const c of queued) sink.chunk(c);
    if (this.#ended) sink.end();
    else if (this.#paused) this.resume();
  }

  /** Flow control for the consumer: stop reading the upload. */
  pause(): void {
    if (this.#paused || this.#ended || this.#detached || this.#discarding) return;
    this.#paused = true;
    this.#disarmStall();
    this.#res.pause();
  }

  resume(): void {
    if (!this.#paused || this.#detached) return;
    this.#paused = false;
    this.#res.resume();
    this.#armStall();
  }

  /**
   * The response went out before the body was read (an error, a refusal):
   * read the rest and drop it, so the connection is closed with nothing
   * unread and the client's kernel gets a FIN, not a reset that would make
   * it lose the response. `done(true)` once the last chunk arrived,
   * `done(false)` at a bound (see LINGER_*); never after detach().
   */
  discardRest(done: (complete: boolean) => void): void {
    if (this.#detached || this.#discarding) return;
    this.#disarmStall();
    this.#sink = undefined;
    this.#queue = [];
    this.#queued = 0;
    if (this.#ended) return done(true);
    const give = () => this.#stopDiscarding(false);
    const idle = setTimeout(give, LINGER_IDLE_MS);
    const total = setTimeout(give, LINGER_TOTAL_MS);
    idle.unref();
    total.unref();
    this.#discarding = { done, bytes: 0, idle, total };
    if (this.#paused) {
      this.#paused = false;
      this.#res.resume();
    }
  }

  #stopDiscarding(complete: boolean): void {
    const d = this.#discarding;
    if (!d || this.#detached) return;
    clearTimeout(d.idle);
    clearTimeout(d.total);
    // Whatever arrives after this is for a response that has ended: nobody calls back again.
    this.#detached = true;
    d.done(complete);
  }

  /**
   * The response is about to end (or be cut) with the body maybe not all
   * read: resume the upload if we paused it (uWS.js reads the rest of a body
   * after end() only from a socket that is not paused, and nothing may
   * resume it once the response has ended), then let go as detach() does.
   * Whatever still arrives is dropped, and nothing here touches the
   * response again: a late resume() from a consumer (a CGI script's stdin
   * closing, a pipe draining) would otherwise throw from uWS.js.
   */
  release(): void {
    if (this.#detached || this.#discarding) return;
    if (this.#paused) {
      this.#paused = false;
      this.#res.resume();
    }
    this.detach();
  }

  /** After the client went away: uWS.js forbids touching an aborted response. */
  detach(): void {
    if (this.#discarding) {
      clearTimeout(this.#discarding.idle);
      clearTimeout(this.#discarding.total);
    }
    this.#disarmStall();
    this.#detached = true;
    this.#queue = [];
    this.#sink = undefined;
  }

  #onData(ab: ArrayBuffer, isLast: boolean): void {
    const discarding = this.#discarding;
    if (discarding) {
      if (this.#detached) return;
      if (isLast) {
        this.#ended = true;
        return this.#stopDiscarding(true);
      }
      const before = discarding.bytes;
      discarding.bytes += ab.byteLength;
      // Closed from outside this data callback (once), as the stall timer does.
      if (discarding.bytes > LINGER_MAX_BYTES) {
        if (before <= LINGER_MAX_BYTES) setImmediate(() => this.#stopDiscarding(false));
        return;
      }
      discarding.idle.refresh();
      return;
    }
    if (this.#over || this.#detached) return;
    this.#received += ab.byteLength;
    if (this.#received > this.limit) {
      this.#over = true;
      this.#disarmStall();
      this.#queue = [];
      this.#sink?.tooLarge(this.#received);
      return;
    }
    // Ended before the last chunk is delivered: pausing for it would leave the
    // client's socket paused for good (no more data, so no resume), and the
    // next request on that keep-alive connection would hang.
    if (isLast) {
      this.#ended = true;
      this.#disarmStall();
    } else {
      this.#armStall();
    }
    if (ab.byteLength > 0) {
      // The ArrayBuffer is neutered when this callback returns: copy it.
      const chunk = Buffer.allocUnsafe(ab.byteLength);
      chunk.set(new Uint8Array(ab));
      if (this.#sink) this.#sink.chunk(chunk);
      else {
        this.#queue.push(chunk);
        this.#queued += chunk.length;
        if (this.#queued > QUEUE_HIGH_WATER) this.pause();
      }
    }
    if (isLast) this.#sink?.end();
  }
}
