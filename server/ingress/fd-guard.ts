/** @module Keeps the process off its open-file limit: stops accepting connections near it, starts again below a low-water mark. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { tswsError } from '../base/errors.ts';
export { openFileLimit } from '../base/os-limits.ts';

/**
 * Why: with the fd table full, accept4() fails with EMFILE and the listening
 * socket stays readable, so the event loop spins on it (a flood of 20000
 * websockets from one address took 96 % of a core) and new clients time out.
 * nginx stops accepting in the same situation; so does this, by closing the
 * listening sockets at HIGH of the soft limit and opening them again below
 * LOW. Connections arriving meanwhile are refused at once, which a load
 * balancer handles better than a silent queue. Open files are counted from
 * /proc/self/fd every CHECK_MS: that sees idle keep-alive sockets too, which
 * no per-connection count of ours would (~3 ms at 19000 files, so at most
 * ~1 % of a core when near the limit). A flood outruns any period, so each
 * accepted websocket also adds one to an estimate, and past the high mark
 * the estimate triggers a real count at once.
 */
const HIGH = 0.9;
const LOW = 0.75;
const CHECK_MS = 250;

/** Open files now; with the table full even this readdir fails (EMFILE): that counts as full. */
function openFiles(limit: number): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return limit;
  }
}

export interface FdGuardHooks {
  /** Close every listening socket (connections stay). */
  pause(): void;
  /** Listen again on the same addresses; rejects when a socket cannot be re-bound (tried again next check). */
  resume(): Promise<void>;
}

export class FdGuard {
  readonly #limit: number;
  readonly #log: Logger;
  readonly #hooks: FdGuardHooks;
  readonly #timer: NodeJS.Timeout;
  #paused = false;
  #resuming = false;
  /** The last count plus the websockets accepted since. */
  #estimate = 0;

  constructor(limit: number, hooks: FdGuardHooks, log: Logger) {
    this.#limit = limit;
    this.#hooks = hooks;
    this.#log = log;
    this.#timer = setInterval(() => this.check(), CHECK_MS);
    this.#timer.unref();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** A websocket was accepted: one integer add, and a real count only near the limit. */
  accepted(): void {
    if (++this.#estimate >= this.#limit * HIGH && !this.#paused) this.check();
  }

  /** One look at the open files (the timer's, or an estimate's past the high mark). */
  check(open = openFiles(this.#limit)): void {
    this.#estimate = open;
    if (!this.#paused && open >= this.#limit * HIGH) {
      this.#paused = true;
      this.#hooks.pause();
      const w = tswsError('TSWS_WARN_FD_HIGH', { open, limit: this.#limit, resumeAt: Math.floor(this.#limit * LOW) });
      this.#log.warn({ code: w.code, event: 'accept-paused', open, limit: this.#limit }, w.message);
    } else if (this.#paused && !this.#resuming && open < this.#limit * LOW) {
      this.#resuming = true;
      this.#hooks.resume().then(
        () => {
          this.#paused = false;
          this.#log.info({ event: 'accept-resumed', open, limit: this.#limit }, `open files down to ${open} of ${this.#limit}: accepting connections again`);
        },
        (err: unknown) => this.#log.error({ err, event: 'accept-resume-failed' }, 'could not listen again after the open-file pause; retrying'),
      ).finally(() => (this.#resuming = false));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
