/** @module The writable scheduler: runs writable callbacks only when a connection can take data, many per corked batch. */

/** Buffered bytes above which a connection (served or client) counts as choked: writable waits for drain. */
export const WRITABLE_THRESHOLD = 64 * 1024;

/** Something that has writable callbacks to run: a websocket connection, later an HTTP transaction. */
export interface Serviceable {
  /** True while waiting in the scheduler's queue; owned by the scheduler and the target. */
  queued: boolean;
  /**
   * Runs up to `budget` writable callbacks inside one cork and returns how
   * many ran. A target that still wants more afterwards enqueues itself again.
   */
  serviceWritables(budget: number): number;
}

/**
 * Why this shape: lws runs one writable per connection per event-loop turn,
 * which in Node would cost a turn per message (measured 5x slower than raw
 * uWS.js). Instead:
 *
 * - A connection that asks for writable inside its own transport event (a
 *   received message, a drain) is served at the end of that event, while
 *   uWS.js still has its socket corked: the reply joins the same syscall.
 * - Everything else queued is served from one setImmediate, outside every
 *   transport callback. That matters: uWS.js corks only one socket at a time,
 *   so serving connection B while A is corked would cost B one syscall per
 *   write. From setImmediate each target corks itself.
 * - Fairness: each target gets at most `perTargetBudget` writables per turn
 *   of the queue, then goes to the back; one flush runs at most
 *   `perFlushBudget` writables before yielding to I/O with a new setImmediate.
 */
export class WritableScheduler {
  readonly perTargetBudget: number;
  readonly perFlushBudget: number;
  #queue: Serviceable[] = [];
  #head = 0;
  #immediate: NodeJS.Immediate | undefined;
  readonly #flush = () => this.flush();

  constructor(opts: { perTargetBudget?: number; perFlushBudget?: number } = {}) {
    this.perTargetBudget = opts.perTargetBudget ?? 32;
    this.perFlushBudget = opts.perFlushBudget ?? 4096;
  }

  /** Nothing queued: every writable asked for so far has run (or its target went away). */
  get idle(): boolean {
    return this.#head >= this.#queue.length;
  }

  enqueue(target: Serviceable): void {
    if (target.queued) return;
    target.queued = true;
    this.#queue.push(target);
    this.#immediate ??= setImmediate(this.#flush);
  }

  /** Serve a queued target now (its own transport event is ending); its queue slot goes stale. */
  serveNow(target: Serviceable): void {
    if (!target.queued) return;
    target.queued = false;
    target.serviceWritables(this.perTargetBudget);
  }

  flush(): void {
    if (this.#immediate) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    let budget = this.perFlushBudget;
    const queue = this.#queue;
    while (this.#head < queue.length && budget > 0) {
      const target = queue[this.#head++] as Serviceable;
      // Slots go stale when a target was served early by serveNow(): skip them.
      if (!target.queued) continue;
      target.queued = false;
      budget -= Math.max(1, target.serviceWritables(this.perTargetBudget));
    }
    if (this.#head >= queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else {
      if (this.#head > 1024) {
        this.#queue = queue.slice(this.#head);
        this.#head = 0;
      }
      this.#immediate = setImmediate(this.#flush);
    }
  }
}
