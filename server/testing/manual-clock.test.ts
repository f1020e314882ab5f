/** @module The protocol kit's clock: timers fire on advance only, in due order, each at its own moment, intervals included; cancelled ones never. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.ts';

describe('the manual clock', () => {
  it('fires nothing until advanced, then each timer at its due time, in order', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.timer(30, () => fired.push(`b@${clock.now()}`), false);
    clock.timer(10, () => fired.push(`a@${clock.now()}`), false);
    clock.timer(30, () => fired.push(`c@${clock.now()}`), false);
    expect(fired).toEqual([]);
    clock.advance(29);
    expect(fired).toEqual(['a@10']);
    clock.advance(1);
    expect(fired).toEqual(['a@10', 'b@30', 'c@30']);
    expect(clock.now()).toBe(30);
    expect(clock.pending).toBe(0);
  });

  it('repeats an interval, and fires within the span a timer set by a timer', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const cancel = clock.timer(20, () => fired.push(clock.now()), true);
    clock.timer(5, () => clock.timer(10, () => fired.push(-clock.now()), false), false);
    clock.advance(65);
    expect(fired).toEqual([-15, 20, 40, 60]);
    cancel();
    clock.advance(100);
    expect(fired).toEqual([-15, 20, 40, 60]);
  });

  it('takes a delay below 1 ms (or none) as 1 ms, as Node does', () => {
    const clock = new ManualClock();
    let ran = 0;
    clock.timer(0, () => ran++, false);
    clock.timer(Number.NaN, () => ran++, false);
    clock.advance(0);
    expect(ran).toBe(0);
    clock.advance(1);
    expect(ran).toBe(2);
  });
});
