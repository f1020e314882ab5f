/** @module Reconnect delays: exponential backoff with jitter, so agents cut off together do not all come back in the same instant. */

export interface BackoffOptions {
  readonly firstMs: number;
  readonly maxMs: number;
  /** Stands in for Math.random (tests). */
  readonly random?: () => number;
}

/**
 * "Equal jitter": the n-th retry waits between half and all of
 * min(max, first * 2^n). Never zero, so a server that restarts is not hit by
 * every agent at once, and never more than `maxMs`.
 */
export class Backoff {
  readonly #opts: BackoffOptions;
  #attempt = 0;

  constructor(opts: BackoffOptions) {
    this.#opts = opts;
  }

  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const { firstMs, maxMs, random = Math.random } = this.#opts;
    const ceiling = Math.min(maxMs, firstMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
