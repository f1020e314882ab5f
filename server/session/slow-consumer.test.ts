/** @module The slow-consumer policy's verdicts at the bound, past it choked, and past four times it, for both overflow rules. */
import { describe, expect, it } from 'vitest';
import type { Published } from '../plugin/api.ts';
import { Inbox } from './inbox.ts';
import { ADMITTED, CLOSE, WATCH, admit } from './slow-consumer.ts';

const msg = (n: number): Published => ({ topic: 't', data: `m${n}`, isBinary: false });
const fill = (inbox: Inbox, n: number) => {
  for (let i = 0; i < n; i++) inbox.push(msg(i));
};

describe('admit', () => {
  const close = { maxMessages: 4, maxBytes: 1 << 20, onOverflow: 'close' as const };
  const drop = { ...close, onOverflow: 'drop-oldest' as const };

  it('queues up to the bound, watches a choked member past it, closes past four times it', () => {
    const inbox = new Inbox();
    fill(inbox, 3);
    expect(admit(inbox, msg(3), close, true)).toBe(ADMITTED);
    expect(admit(inbox, msg(4), close, false)).toBe(ADMITTED);
    expect(admit(inbox, msg(5), close, true)).toBe(WATCH);
    fill(inbox, 10);
    expect(admit(inbox, msg(99), close, false)).toBe(CLOSE);
  });

  it('drop-oldest drops back to the bound when choked or past four times it, keeping the newest', () => {
    const inbox = new Inbox();
    fill(inbox, 4);
    expect(admit(inbox, msg(4), drop, false)).toBe(ADMITTED);
    expect(inbox.size).toBe(5);
    expect(admit(inbox, msg(5), drop, true)).toBe(2);
    expect(inbox.size).toBe(4);
    expect(inbox.shift()?.data).toBe('m2');
  });
});
