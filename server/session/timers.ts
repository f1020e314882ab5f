/** @module Timers owned by the framework (lws_sul): cancelled with their owner, callbacks guarded. */
import type { Timer } from '../plugin/api.ts';

/** Runs a timer callback the way its owner wants: isolated, then the scheduler flushed. */
export type TimerRunner = (fn: () => void) => void;

export class OwnedTimers {
  readonly #live = new Set<NodeJS.Timeout>();
  readonly #run: TimerRunner;

  constructor(run: TimerRunner) {
    this.#run = run;
  }

  setTimeout(ms: number, fn: () => void): Timer {
    const handle: NodeJS.Timeout = setTimeout(() => {
      this.#live.delete(handle);
      this.#run(fn);
    }, ms);
    return this.#track(handle);
  }

  setInterval(ms: number, fn: () => void): Timer {
    const handle = setInterval(() => this.#run(fn), ms);
    return this.#track(handle);
  }

  cancelAll(): void {
    for (const h of this.#live) clearTimeout(h);
    this.#live.clear();
  }

  #track(handle: NodeJS.Timeout): Timer {
    // Framework timers never keep a stopping process alive; stop() cancels them anyway.
    handle.unref();
    this.#live.add(handle);
    return {
      cancel: () => {
        clearTimeout(handle);
        this.#live.delete(handle);
      },
    };
  }
}
