import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the given rate', () => {
    const clock = { now: 0 };
    const b = new TokenBucket(3, 2, () => clock.now);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    clock.now += 500;
    expect([b.take(), b.take()]).toEqual([true, false]);
    clock.now += 10_000;
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
  });
});
