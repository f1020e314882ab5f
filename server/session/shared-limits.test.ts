import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BucketSpec, RateSync } from '../cluster/rate-sync.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { SharedLimits } from './shared-limits.ts';

const log = pino({ level: 'silent' });

/** The pool as Redis keeps it (server/cluster/scripts.ts SPEND), with no time passing: levels only go down. */
class Pool implements RateSync {
  readonly levels = new Map<string, number>();
  calls = 0;
  async spend(key: string, spec: BucketSpec, spent: number): Promise<number> {
    this.calls++;
    const v = Math.max((this.levels.get(key) ?? spec.burst) - spent, -spec.burst);
    this.levels.set(key, v);
    return v;
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const takes = (n: number, take: () => unknown) => Array.from({ length: n }, take);

describe('shared limits', () => {
  it('connections of one address spend from one bucket; another address has its own', () => {
    const limits = new SharedLimits('v', { address: { perSecond: 1, burst: 3 }, user: undefined }, new ManualClock(), undefined, log);
    const a = limits.hold('10.0.0.1', undefined);
    const b = limits.hold('10.0.0.1', undefined);
    const c = limits.hold('10.0.0.2', undefined);
    expect([a?.take(), b?.take(), a?.take(), b?.take()]).toEqual([undefined, undefined, undefined, 'address']);
    expect(c?.take()).toBe(undefined);
  });

  it('a user bucket only for an authenticated connection, and none at all when nothing is configured', () => {
    const limits = new SharedLimits('v', { address: undefined, user: { perSecond: 1, burst: 1 } }, new ManualClock(), undefined, log);
    expect(limits.hold('10.0.0.1', undefined)).toBeUndefined();
    const u = limits.hold('10.0.0.1', 'alice');
    expect([u?.take(), u?.take()]).toEqual([undefined, 'user']);
  });

  it('refills at the rate, and keeps an idle bucket until it would be full again (reconnecting does not refill it)', () => {
    const clock = new ManualClock();
    const limits = new SharedLimits('v', { address: { perSecond: 2, burst: 2 }, user: undefined }, clock, undefined, log);
    const a = limits.hold('p', undefined);
    expect(takes(3, () => a?.take())).toEqual([undefined, undefined, 'address']);
    a?.release();
    clock.advance(400); // 0.8 of a token back: not one yet
    const again = limits.hold('p', undefined);
    expect(again?.take()).toBe('address');
    again?.release();
    clock.advance(1100); // full again: the bucket is forgotten, and a new one starts full
    expect(clock.pending).toBe(0);
    const fresh = limits.hold('p', undefined);
    expect(takes(2, () => fresh?.take())).toEqual([undefined, undefined]);
  });

  it('in a cluster: spending goes to the pool in chunks, not per message, and a new bucket starts from the pool\'s level', async () => {
    const pool = new Pool();
    const clockA = new ManualClock();
    const a = new SharedLimits('v', { address: undefined, user: { perSecond: 0.001, burst: 100 } }, clockA, pool, log);
    const heldA = a.hold('p', 'alice');
    await heldA?.ready;
    expect(pool.calls).toBe(1); // the first word from the pool
    expect(takes(60, () => heldA?.take()).every((r) => r === undefined)).toBe(true);
    await settle();
    expect(pool.calls).toBeLessThanOrEqual(1 + 6); // chunks of a tenth of the burst
    clockA.advance(100); // what is left over goes within SYNC_MS
    await settle();
    expect(pool.levels.get('u:v/alice')).toBe(40);
    // Another instance: its first connection of alice waits for the pool, then has 40 tokens, not 100.
    const b = new SharedLimits('v', { address: undefined, user: { perSecond: 0.001, burst: 100 } }, new ManualClock(), pool, log);
    const heldB = b.hold('q', 'alice');
    await heldB?.ready;
    expect(takes(41, () => heldB?.take()).filter((r) => r === 'user')).toHaveLength(1);
  });

  it('in a cluster with the pool away: limits locally, and the upgrade does not wait on it for ever', async () => {
    const away: RateSync = { spend: () => Promise.reject(new Error('Redis away')) };
    const limits = new SharedLimits('v', { address: { perSecond: 1, burst: 2 }, user: undefined }, new ManualClock(), away, log);
    const held = limits.hold('p', undefined);
    await held?.ready;
    expect(takes(3, () => held?.take())).toEqual([undefined, undefined, 'address']);
  });
});
