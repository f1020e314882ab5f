import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

const run = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());

describe('reconnect backoff', () => {
  it('doubles from firstMs to the cap, exactly with no jitter', () => {
    expect(run(new Backoff({ firstMs: 100, maxMs: 1000, jitter: 0 }), 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps each delay within the top jitter share of its ceiling (random at both ends)', () => {
    const low = new Backoff({ firstMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ firstMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 });
    expect(run(low, 6)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(run(high, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    const full = new Backoff({ firstMs: 100, maxMs: 1000, jitter: 1, random: () => 0.25 });
    expect(run(full, 3)).toEqual([25, 50, 100]);
  });

  it('counts attempts past the cap, and starts over from firstMs after a reset', () => {
    const b = new Backoff({ firstMs: 10, maxMs: 20, jitter: 0 });
    run(b, 40);
    expect(b.attempt).toBe(40);
    expect(b.next()).toBe(20);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(10);
    expect(b.attempt).toBe(1);
  });
});
