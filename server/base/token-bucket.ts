/** @module A token bucket: a burst at once, then a steady rate (a protocol's rateLimit; plugins use it too, through the API). */

/**
 * Why a bucket and not "N per second": people type in bursts (a pasted
 * paragraph, a quick exchange) and should not be punished for it, while a
 * script sending in a loop runs out of tokens within one burst, however
 * fast or slow the machine is.
 */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(burst: number, perSecond: number, now: () => number = Date.now) {
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Spends one token; false when none is left. */
  take(): boolean {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#last) * this.#perMs);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
