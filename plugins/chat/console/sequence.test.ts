import { describe, expect, it } from 'vitest';
import { RESTARTED, gapNotice, missed } from './sequence.ts';

const at = (epoch: string, offset: number) => ({ epoch, offset });

describe('gapNotice: what tsws-chat says of a gap in its room', () => {
  it('says the sequence restarted for a new epoch, whatever the offsets', () => {
    expect(gapNotice({ channel: 'room:r', from: at('E1', 9), to: at('E2', 0), reason: 'epoch-changed' })).toBe(RESTARTED);
    expect(gapNotice({ channel: 'room:r', from: at('E1', 3), to: at('E2', 5), reason: 'skipped' })).toBe(RESTARTED);
  });

  it('names the messages that will not arrive within an epoch', () => {
    expect(gapNotice({ channel: 'room:r', from: at('E', 3), to: at('E', 7), reason: 'too-old' })).toBe(missed(4, 7));
    expect(gapNotice({ channel: 'room:r', from: at('E', 3), to: at('E', 4), reason: 'unavailable' })).toBe('message #4 of this room did not arrive');
    expect(missed(4, 7)).toBe('messages #4 to #7 of this room did not arrive');
  });
});
