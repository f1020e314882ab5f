import { describe, expect, it } from 'vitest';
import { ReadPosition } from './position.ts';
import { backoffDelay, backoffPolicy } from './backoff.ts';

const at = (epoch: string, offset: number) => ({ epoch, offset });

describe('a reading position: each offset once, jumps reported as one gap', () => {
  it('delivers the next offset, drops what it already delivered, and reports a skip', () => {
    const r = new ReadPosition('c');
    expect(r.subscribed('e1', 3, undefined, undefined)).toBeUndefined();
    expect(r.message('e1', 4)).toEqual({ deliver: true });
    expect(r.message('e1', 4)).toEqual({ deliver: false });
    expect(r.message('e1', 2)).toEqual({ deliver: false });
    expect(r.message('e1', 7)).toEqual({ deliver: true, gap: { channel: 'c', from: at('e1', 4), to: at('e1', 6), reason: 'skipped' } });
    expect(r.position).toEqual(at('e1', 7));
  });

  it('a resume that recovered waits for the missed messages; one that did not jumps with the reason given', () => {
    const r = new ReadPosition('c', at('e1', 5));
    expect(r.subscribed('e1', 9, true, undefined)).toBeUndefined();
    expect(r.position).toEqual(at('e1', 5));
    expect(r.message('e1', 6)).toEqual({ deliver: true });
    const old = new ReadPosition('c', at('e1', 5));
    expect(old.subscribed('e1', 90, false, 'too-old')).toEqual({ channel: 'c', from: at('e1', 5), to: at('e1', 90), reason: 'too-old' });
    expect(old.message('e1', 91)).toEqual({ deliver: true });
  });

  it('a new epoch is one epoch-changed gap, whether the subscribed frame or a message says it first, never two', () => {
    const r = new ReadPosition('c', at('e1', 5));
    expect(r.subscribed('e2', 2, false, 'epoch-changed')).toEqual({ channel: 'c', from: at('e1', 5), to: at('e2', 2), reason: 'epoch-changed' });
    expect(r.message('e2', 3)).toEqual({ deliver: true });
    const early = new ReadPosition('c', at('e1', 5));
    expect(early.message('e2', 3)).toEqual({ deliver: true, gap: { channel: 'c', from: at('e1', 5), to: at('e2', 2), reason: 'epoch-changed' } });
    expect(early.subscribed('e2', 2, false, 'epoch-changed')).toBeUndefined();
    expect(early.position).toEqual(at('e2', 3));
  });

  it('tells whether a message follows straight on from the last one delivered', () => {
    const r = new ReadPosition('c', at('e1', 5));
    expect([r.follows('e1', 6), r.follows('e1', 7), r.follows('e1', 5), r.follows('e2', 6)]).toEqual([true, false, false, false]);
    expect(new ReadPosition('c').follows('e1', 1)).toBe(false);
  });

  it("a server's gap frame moves the position unless it is already past the gap's end", () => {
    const r = new ReadPosition('c', at('e1', 5));
    expect(r.gap(at('e1', 5), at('e1', 8), 'too-old')).toEqual({ channel: 'c', from: at('e1', 5), to: at('e1', 8), reason: 'too-old' });
    expect(r.gap(at('e1', 5), at('e1', 8), 'too-old')).toBeUndefined();
    expect(r.message('e1', 9)).toEqual({ deliver: true });
  });
});

describe('reconnect delays', () => {
  it('grow by the factor up to the cap, the jitter taking off up to its share', () => {
    const p = backoffPolicy({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 });
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(p, 1, () => 0.999999)).toBe(50);
    expect(backoffDelay(p, 9, () => 0.5)).toBe(750);
    expect(() => backoffPolicy({ initialMs: 0 })).toThrow(RangeError);
    expect(() => backoffPolicy({ jitter: 2 })).toThrow(RangeError);
  });
});
