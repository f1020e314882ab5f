/** @module Timers owned by the framework (lws_sul): cancelled with their owner, callbacks guarded. */
import { SYSTEM_CLOCK, type CancelTimer, type Clock } from '../base/clock.ts';
import type { Timer } from '../plugin/api.ts';

/** Runs a timer callback the way its owner wants: isolated, then the scheduler flushed. */
export type TimerRunner = (fn: () => void) => void;

export class OwnedTimers {
  readonly #live = new Set<CancelTimer>();
  readonly #run: TimerRunner;
  readonly #clock: Clock;

  /** `clock`: the server's (a protocol kit's manual one in unit tests). */
  constructor(run: TimerRunner, clock: Clock = SYSTEM_CLOCK) {
    this.#run = run;
    this.#clock = clock;
  }

  setTimeout(ms: number, fn: () => void): Timer {
    const cancel = this.#clock.timer(ms, () => {
      this.#live.delete(cancel);
      this.#run(fn);
    }, false);
    return this.#track(cancel);
  }

  setInterval(ms: number, fn: () => void): Timer {
    return this.#track(this.#clock.timer(ms, () => this.#run(fn), true));
  }

  cancelAll(): void {
    for (const cancel of this.#live) cancel();
    this.#live.clear();
  }

  #track(cancel: CancelTimer): Timer {
    this.#live.add(cancel);
    return {
      cancel: () => {
        cancel();
        this.#live.delete(cancel);
      },
    };
  }
}
