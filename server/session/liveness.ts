/** @module The silence sweep (ws-message-timeout-secs): pings quiet websockets and cuts those that stay silent, at no cost per message. */
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';

/**
 * The sweep's coarse clock, in whole seconds from 1. The transport handlers
 * stamp `heardAt` from it on every whole message and pong: one integer store,
 * no clock call per message. Only sweeps move it, so it lags by at most a
 * sweep tick, which only makes a ping come that much early.
 */
export const heard = { now: 1 };

function refresh(): number {
  heard.now = Math.floor(performance.now() / 1000) + 1;
  return heard.now;
}

/** What the sweep needs of a websocket (a plugin connection or a proxy bridge). */
export interface Audible {
  /** `heard.now` when the peer's last whole message or pong arrived (or the socket opened). */
  heardAt: number;
  /** `heard.now` when the sweep last pinged it; 0 before the first ping. */
  pingedAt: number;
  readonly isOpen: boolean;
  /** The remote address, for the log. */
  readonly peer: string;
  ping(): void;
  /** Drops the socket without a close frame. */
  terminate(): void;
}

/** How often the sweep runs: a quarter of the bound, from 1 to 5 s. */
export const sweepSecs = (boundSecs: number) => Math.min(5, Math.max(1, Math.floor(boundSecs / 4)));

/**
 * Why a sweep and not uWS.js's idleTimeout (ws-pingpong-secs): that timer is
 * restarted by every send, which cost a tenth of the mirror fan-out's
 * throughput, and by every byte received, so a frame trickled a byte at a
 * time is never cut. Here a peer counts as heard only for a whole message or
 * a pong. One that has been silent for the bound is pinged; one still silent
 * a whole bound after that ping is cut. A peer stopped in the middle of a
 * frame cannot answer (its pong would be payload), so a message gets at least
 * the bound to arrive and a stalled one is gone within about twice it, while
 * idle peers that answer pings (browsers, every websocket library) stay.
 *
 * Cut without a close frame, as lws cuts a connection that fails its ping:
 * a silent peer would not answer one. (uWS.js's end() does set a timer even
 * with idleTimeout 0: idleTimeoutComponents.second, 4 s, which uSockets
 * rounds to its next 4 s sweep, so the hard close comes 0 to 4 s after
 * end(); see Connection's #finishClose.)
 * The plugin's `closed` sees 1006, what the connection ended as.
 */
export class SilenceSweep {
  readonly #sessions: Iterable<Audible>;
  readonly #log: Logger;
  readonly #defer: (fn: () => void) => void;
  #boundSecs = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `defer` runs the cut after the sweep: by default in the check phase, once the loop has read the sockets. */
  constructor(sessions: Iterable<Audible>, log: Logger, defer: (fn: () => void) => void = setImmediate) {
    this.#sessions = sessions;
    this.#log = log;
    this.#defer = defer;
  }

  /** Runs with `boundSecs` from now on (0 stops it); a reload calls it again. */
  configure(boundSecs: number): void {
    if (boundSecs === this.#boundSecs && (this.#timer !== undefined) === boundSecs > 0) return;
    this.stop();
    this.#boundSecs = boundSecs;
    if (boundSecs <= 0) return;
    refresh();
    this.#timer = setInterval(() => this.sweep(), sweepSecs(boundSecs) * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass; `now` is for tests (it moves the clock too). */
  sweep(now = refresh()): void {
    heard.now = now;
    const quiet = now - this.#boundSecs;
    let silent: Audible[] | undefined;
    for (const s of this.#sessions) {
      if (!s.isOpen || s.heardAt > quiet) continue;
      // Heard at or after the last ping (stamps are whole seconds; a ping is only sent to a
      // peer quiet for the bound, so a stamp equal to it came after it): ping again.
      if (s.heardAt >= s.pingedAt) {
        s.pingedAt = now;
        s.ping();
      } else if (s.pingedAt <= quiet) (silent ??= []).push(s);
    }
    // Cut after the loop, as a plugin's closed callback may close others, and after the loop has read
    // the sockets: timers run before that, so after a stall of this event loop a pong that came in time
    // may still be unread. What is heard by then counts.
    if (silent) this.#defer(() => this.#cut(silent, now));
  }

  #cut(silent: Audible[], now: number): void {
    for (const s of silent) {
      if (!s.isOpen || s.heardAt >= s.pingedAt) continue;
      const e = tswsError('TSWS_ERR_WS_PEER_SILENT', { peer: s.peer, secs: now - s.pingedAt });
      this.#log.debug({ code: e.code, peer: s.peer }, e.message);
      s.terminate();
    }
  }
}
