/** @module A connection's authentication: who its gate said it is (or a refresh later), and the close at the token's expiry. */
import { tswsError } from '../base/errors.ts';
import type { Authenticated, Timer } from '../plugin/api.ts';

/** Node's timers take at most this (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The expiry runs on the connection's own framework timers, so it dies with
 * the connection and costs nothing per message; a refresh replaces it.
 */
export class ConnAuth {
  #auth: Authenticated | undefined;
  #expiry: Timer | undefined;

  constructor(auth: Authenticated | undefined) {
    this.#auth = auth;
  }

  get current(): Authenticated | undefined {
    return this.#auth;
  }

  /** A later token: the same subject only (the per-user limit counts by it). */
  renew(auth: Authenticated, protocol: string): void {
    const from = this.#auth?.subject;
    if (from !== undefined && from !== auth.subject) throw tswsError('TSWS_ERR_AUTH_SUBJECT_CHANGED', { protocol, from, to: auth.subject });
    this.#auth = auth;
  }

  /** (Re)arms the close at `expiresAt`: `expired` runs then, on a timer `setTimeout` makes. */
  arm(setTimeout: (ms: number, fn: () => void) => Timer, expired: () => void): void {
    this.#expiry?.cancel();
    this.#expiry = undefined;
    const at = this.#auth?.expiresAt;
    if (at === undefined) return;
    const ms = at * 1000 - Date.now();
    this.#expiry = setTimeout(Math.max(0, Math.min(ms, MAX_TIMER_MS)), () => (ms > MAX_TIMER_MS ? this.arm(setTimeout, expired) : expired()));
  }
}
