/** @module HTTP exchanges not finished yet, so a stop can let them complete before closing the sockets. */

export class InFlight {
  readonly #live = new Set<object>();
  #waiters: (() => void)[] = [];

  get size(): number {
    return this.#live.size;
  }

  add(x: object): void {
    this.#live.add(x);
  }

  delete(x: object): void {
    if (this.#live.delete(x) && this.#live.size === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves true once nothing is in flight, false if `deadline` (ms since epoch) comes first. */
  idle(deadline: number): Promise<boolean> {
    if (this.#live.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
