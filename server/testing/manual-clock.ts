/** @module A clock that moves only when told (advance): the protocol kit's, so that every framework timer fires when the test says. */
import type { CancelTimer, Clock } from '../base/clock.ts';

interface Scheduled {
  /** Creation order, renewed when an interval is rescheduled: timers due at once fire in this order. */
  seq: number;
  due: number;
  /** The interval's period; 0 for a one-shot timer. */
  readonly every: number;
  readonly fn: () => void;
}

/** As Node does: a delay below 1 ms, above its maximum or not a number is 1 ms. */
const TIMEOUT_MAX = 2 ** 31 - 1;
const delayOf = (ms: number) => (ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1);

export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  /** Few at a time in a test: a list scanned for the earliest is enough. */
  readonly #timers = new Set<Scheduled>();

  /** Milliseconds advanced so far. */
  readonly now = (): number => this.#now;

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  timer(ms: number, fn: () => void, every: boolean): CancelTimer {
    const delay = delayOf(ms);
    const t: Scheduled = { seq: ++this.#seq, due: this.#now + delay, every: every ? delay : 0, fn };
    this.#timers.add(t);
    return () => void this.#timers.delete(t);
  }

  /**
   * Moves time on by `ms`, firing every timer that falls due on the way, in
   * order of due time (then of creation), each at its own moment: a timer a
   * callback sets within the span fires within it too.
   */
  advance(ms: number): void {
    const end = this.#now + Math.max(0, ms);
    for (let t = this.#next(end); t; t = this.#next(end)) {
      this.#now = Math.max(this.#now, t.due);
      if (t.every > 0) {
        t.due += t.every;
        t.seq = ++this.#seq;
      } else this.#timers.delete(t);
      t.fn();
    }
    this.#now = end;
  }

  #next(end: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.#timers) {
      if (t.due <= end && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))) best = t;
    }
    return best;
  }
}
