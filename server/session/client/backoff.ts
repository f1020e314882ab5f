/** @module Reconnect delays for client connections: exponential backoff with a cap and jitter. */

export interface BackoffOptions {
  readonly firstMs: number;
  readonly maxMs: number;
  /** The random share of each delay, 0 to 1. */
  readonly jitter: number;
  /** Stands in for Math.random (tests). */
  readonly random?: () => number;
}

/**
 * The n-th retry (n from 1) waits within the top `jitter` share of
 * min(maxMs, firstMs * 2^(n-1)): with 0.5 ("equal jitter") between half and
 * all of it, so clients cut off together do not come back in one instant,
 * and never more than maxMs. The attempt count goes on growing past the cap,
 * so events keep telling how long an outage has lasted.
 */
export class Backoff {
  readonly #opts: BackoffOptions;
  #attempt = 0;

  constructor(opts: BackoffOptions) {
    this.#opts = opts;
  }

  /** Retries since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const { firstMs, maxMs, jitter, random = Math.random } = this.#opts;
    const ceiling = Math.min(maxMs, firstMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling * (1 - jitter) + random() * ceiling * jitter);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
