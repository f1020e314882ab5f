// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
/** @module tsws/client's reconnect delays: exponential, capped, with jitter drawn from an injectable random source. */
export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };
/** The options with their defaults, or a RangeError naming the bad one (a retry loop with a zero or negative delay would spin). */
export function backoffPolicy(opts = {}) {
    const b = { ...DEFAULT_BACKOFF, ...opts };
    if (!(b.initialMs > 0) || !(b.maxMs >= b.initialMs))
        throw new RangeError(`tsws/client backoff: need 0 < initialMs <= maxMs, got initialMs ${b.initialMs}, maxMs ${b.maxMs}`);
    if (!(b.factor >= 1))
        throw new RangeError(`tsws/client backoff: factor must be 1 or more, got ${b.factor}`);
    if (!(b.jitter >= 0 && b.jitter <= 1))
        throw new RangeError(`tsws/client backoff: jitter must be from 0 to 1, got ${b.jitter}`);
    return b;
}
/** The wait before retry number `attempt` (1 for the first), `random` giving a number in [0, 1). */
export function backoffDelay(policy, attempt, random) {
    const grown = policy.initialMs * policy.factor ** Math.max(0, attempt - 1);
    const capped = Math.min(policy.maxMs, grown);
    return Math.round(capped * (1 - policy.jitter * random()));
}
