/** @module The writable scheduler's policy on plain targets: one queue slot each, a budget per target and per flush, stale slots skipped, the rest on a later turn. */
import { describe, expect, it } from 'vitest';
import { WritableScheduler, type Serviceable } from './scheduler.ts';

/** A target that wants `wants` writables and records each batch it was given. */
class Target implements Serviceable {
  queued = false;
  constructor(
    readonly name: string,
    public wants: number,
    readonly log: string[],
    readonly scheduler: WritableScheduler,
  ) {}
  serviceWritables(budget: number): number {
    const n = Math.min(budget, this.wants);
    this.wants -= n;
    this.log.push(`${this.name}${n}`);
    if (this.wants > 0) this.scheduler.enqueue(this);
    return n;
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function setup(opts: { perTargetBudget?: number; perFlushBudget?: number }, wants: Record<string, number>) {
  const scheduler = new WritableScheduler(opts);
  const log: string[] = [];
  const targets = Object.entries(wants).map(([name, n]) => new Target(name, n, log, scheduler));
  return { scheduler, log, targets };
}

describe('the writable scheduler', () => {
  it('queues a target once however often it asks, and serves it from a later turn of the event loop', async () => {
    const { scheduler, log, targets } = setup({}, { a: 1 });
    const [a] = targets as [Target];
    scheduler.enqueue(a);
    scheduler.enqueue(a);
    expect(log).toEqual([]);
    await nextTurn();
    expect(log).toEqual(['a1']);
    expect(a.queued).toBe(false);
  });

  it('gives each target at most perTargetBudget writables per turn of the queue, then sends it to the back', () => {
    const { scheduler, log, targets } = setup({ perTargetBudget: 2 }, { a: 5, b: 1, c: 3 });
    for (const t of targets) scheduler.enqueue(t);
    scheduler.flush();
    expect(log).toEqual(['a2', 'b1', 'c2', 'a2', 'c1', 'a1']);
  });

  it('stops a flush after perFlushBudget writables and serves the rest on the next turn', async () => {
    const { scheduler, log, targets } = setup({ perTargetBudget: 1, perFlushBudget: 2 }, { a: 1, b: 1, c: 1 });
    for (const t of targets) scheduler.enqueue(t);
    scheduler.flush();
    expect(log).toEqual(['a1', 'b1']);
    await nextTurn();
    expect(log).toEqual(['a1', 'b1', 'c1']);
  });

  it('counts a target that could run nothing (choked) as one writable of the flush budget', () => {
    const { scheduler, log, targets } = setup({ perFlushBudget: 2 }, { a: 0, b: 0, c: 0 });
    for (const t of targets) scheduler.enqueue(t);
    scheduler.flush();
    expect(log).toEqual(['a0', 'b0']);
  });

  it('serveNow serves a queued target at once, and its queue slot goes stale', () => {
    const { scheduler, log, targets } = setup({}, { a: 1, b: 1 });
    const [a, b] = targets as [Target, Target];
    scheduler.enqueue(a);
    scheduler.enqueue(b);
    scheduler.serveNow(b);
    expect(log).toEqual(['b1']);
    scheduler.flush();
    expect(log).toEqual(['b1', 'a1']);
  });

  it('serveNow leaves a target that is not queued alone', () => {
    const { scheduler, log, targets } = setup({}, { a: 1 });
    scheduler.serveNow(targets[0] as Target);
    expect(log).toEqual([]);
  });

  it('a target served early may queue again and is served once more', () => {
    const { scheduler, log, targets } = setup({ perTargetBudget: 1 }, { a: 2 });
    const [a] = targets as [Target];
    scheduler.enqueue(a);
    // Served early, it wants one more and queues itself again: served once more, not twice.
    scheduler.serveNow(a);
    scheduler.flush();
    expect(log).toEqual(['a1', 'a1']);
  });
});
