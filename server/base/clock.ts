/** @module The clock the framework's own timers run on: Node's by default, a manual one in tsws/testing's protocol kit. */

/** What cancels a timer; cancelling twice, or after it ran, does nothing. */
export type CancelTimer = () => void;

/**
 * The framework's timers (plugin timers, the slow-consumer watch, a request
 * body's stall timer, rate limits) ask this rather than Node, so that a unit
 * test can move time by hand and every policy that waits becomes
 * deterministic. Nothing on a per-message path calls it.
 */
export interface Clock {
  /** Runs `fn` once after `ms`, or every `ms` with `every`. */
  timer(ms: number, fn: () => void, every: boolean): CancelTimer;
  /** Milliseconds on a clock no wall-clock step moves (for rates); called unbound. */
  readonly now: () => number;
}

/** Node's timers, unref'd: a framework timer never keeps a stopping process alive (stop cancels them anyway). */
export const SYSTEM_CLOCK: Clock = {
  timer(ms, fn, every) {
    const handle = every ? setInterval(fn, ms) : setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
  now: () => performance.now(),
};
