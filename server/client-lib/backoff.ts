/** @module tsws/client's reconnect delays: exponential, capped, with jitter drawn from an injectable random source. */

export interface BackoffOptions {
  /** The delay before the first retry (default 500 ms). */
  readonly initialMs?: number;
  /** The cap the growing delay never passes (default 30 000 ms). */
  readonly maxMs?: number;
  /** Each retry waits this many times the one before (default 2). */
  readonly factor?: number;
  /**
   * The share of the delay drawn at random, 0 to 1 (default 0.5): a delay
   * of d waits between d × (1 − jitter) and d. Clients that lost the same
   * server at the same moment then come back spread out, not all at once.
   */
  readonly jitter?: number;
}

export type Backoff = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** The options with their defaults, or a RangeError naming the bad one (a retry loop with a zero or negative delay would spin). */
export function backoffPolicy(opts: BackoffOptions = {}): Backoff {
  const b = { ...DEFAULT_BACKOFF, ...opts };
  if (!(b.initialMs > 0) || !(b.maxMs >= b.initialMs)) throw new RangeError(`tsws/client backoff: need 0 < initialMs <= maxMs, got initialMs ${b.initialMs}, maxMs ${b.maxMs}`);
  if (!(b.factor >= 1)) throw new RangeError(`tsws/client backoff: factor must be 1 or more, got ${b.factor}`);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new RangeError(`tsws/client backoff: jitter must be from 0 to 1, got ${b.jitter}`);
  return b;
}

/** The wait before retry number `attempt` (1 for the first), `random` giving a number in [0, 1). */
export function backoffDelay(policy: Backoff, attempt: number, random: () => number): number {
  const grown = policy.initialMs * policy.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxMs, grown);
  return Math.round(capped * (1 - policy.jitter * random()));
}
