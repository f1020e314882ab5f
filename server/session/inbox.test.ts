/** @module Inbox: FIFO order and the bound's counts hold across emptying, refilling, bursts and a member that never empties it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Published } from '../plugin/api.ts';
import { Inbox } from './inbox.ts';

const msg = (n: number, size = 1): Published => ({ topic: 't', data: Buffer.alloc(size, n % 256), isBinary: true });

describe('Inbox', () => {
  it('under any sequence of pushes and shifts, gives messages back in order and counts messages and bytes right', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: -600, max: -1 })), { maxLength: 30 }), (ops) => {
        const inbox = new Inbox();
        const model: Published[] = [];
        let n = 0;
        for (const op of ops) {
          if (op > 0) {
            for (let i = 0; i < op; i++) {
              const m = msg(n++, 1 + (n % 3));
              inbox.push(m);
              model.push(m);
            }
          } else {
            for (let i = 0; i < -op; i++) expect(inbox.shift()).toBe(model.shift());
          }
          const bytes = model.reduce((a, m) => a + m.data.length, 0);
          expect(inbox.size).toBe(model.length);
          expect(inbox.over({ maxMessages: model.length, maxBytes: bytes })).toBe(false);
          if (model.length > 0) expect(inbox.over({ maxMessages: model.length - 1, maxBytes: bytes })).toBe(true);
          if (bytes > 0) expect(inbox.over({ maxMessages: model.length, maxBytes: bytes - 1 })).toBe(true);
        }
      }),
    );
  });

  it('a member always a few behind still gets everything in order, through the compactions of the consumed front', () => {
    const inbox = new Inbox();
    for (let i = 0; i < 4; i++) inbox.push(msg(i));
    for (let i = 4; i < 5000; i++) {
      inbox.push(msg(i));
      expect(inbox.shift()?.data[0]).toBe((i - 4) % 256);
    }
    expect(inbox.size).toBe(4);
  });
});
