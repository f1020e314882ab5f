import { describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../protocol.ts';
import { RESTARTED, RoomSequence, missed } from './sequence.ts';

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

const msg = (epoch: string, id: number): ChatMessage => ({ type: 'message', id, epoch, room: 'r', name: 'n', text: `${epoch}:${id}`, time: 0 });
const welcome = (epoch: string, lastId: number, history: ChatMessage[] = []): Welcome => ({
  type: 'welcome', room: 'r', name: 'me', members: ['me'], history, epoch, lastId, time: 0, limits: { maxText: 1000 },
});
/** Messages as their text, notices as "! notice". */
const lines = (items: readonly (ChatMessage | string)[]) => items.map((i) => (typeof i === 'string' ? `! ${i}` : i.text));

describe('RoomSequence: what a client shows of its room', () => {
  it('shows the history and then each live message once, skipping the overlap around a join', () => {
    const s = new RoomSequence();
    expect(lines(s.welcome(welcome('E', 2, [msg('E', 1), msg('E', 2)]), false))).toEqual(['E:1', 'E:2']);
    expect(lines(s.message(msg('E', 2)))).toEqual([]);
    expect(lines(s.message(msg('E', 3)))).toEqual(['E:3']);
  });

  it('takes ids of a new epoch as new, and says the sequence restarted (the bug: they were skipped in silence)', () => {
    const s = new RoomSequence();
    s.welcome(welcome('E1', 0), false);
    for (const id of [1, 2, 3]) s.message(msg('E1', id));
    expect(lines(s.message(msg('E2', 1)))).toEqual([`! ${RESTARTED}`, 'E2:1']);
    expect(lines(s.message(msg('E2', 2)))).toEqual(['E2:2']);
  });

  it('says which messages did not arrive when an id skips ahead, in the epoch or at the start of a new one', () => {
    const s = new RoomSequence();
    s.welcome(welcome('E1', 4), false);
    expect(lines(s.message(msg('E1', 6)))).toEqual([`! ${missed(5, 5)}`, 'E1:6']);
    expect(lines(s.message(msg('E2', 3)))).toEqual([`! ${RESTARTED}`, `! ${missed(1, 2)}`, 'E2:3']);
  });

  it("does not call a room's first epoch a restart: the welcome of a room with no messages has none", () => {
    const s = new RoomSequence();
    s.welcome(welcome('', 0), false);
    expect(lines(s.message(msg('E1', 1)))).toEqual(['E1:1']);
  });

  it('on a rejoin after a lost connection, shows only the history not yet shown, and what went missing meanwhile', () => {
    const s = new RoomSequence();
    s.welcome(welcome('E', 0), false);
    for (const id of [1, 2, 3]) s.message(msg('E', id));
    // 4 and 5 were trimmed from the history while away; 8 and 9 are past it (sent while the history was read, say)
    expect(lines(s.welcome(welcome('E', 9, [msg('E', 6), msg('E', 7)]), true))).toEqual([`! ${missed(4, 5)}`, 'E:6', 'E:7', `! ${missed(8, 9)}`]);
    expect(lines(s.message(msg('E', 10)))).toEqual(['E:10']);
  });

  it('on a rejoin into a new epoch, says so and shows its whole history, though its ids are ones seen before', () => {
    const s = new RoomSequence();
    s.welcome(welcome('E1', 5, [msg('E1', 5)]), false);
    expect(lines(s.welcome(welcome('E2', 2, [msg('E2', 1), msg('E2', 2)]), true))).toEqual([`! ${RESTARTED}`, 'E2:1', 'E2:2']);
  });

  it('on a rejoin into a room whose sequence is gone with nothing new yet, says so once', () => {
    const s = new RoomSequence();
    s.welcome(welcome('E1', 5), false);
    expect(lines(s.welcome(welcome('', 0), true))).toEqual([`! ${RESTARTED}`]);
    expect(lines(s.message(msg('E2', 1)))).toEqual(['E2:1']);
  });

  it('with a server older than the epoch (no epoch, no lastId), keeps the plain id rule and raises no false alarm', () => {
    const s = new RoomSequence();
    const old = { ...welcome('', 0), epoch: undefined, lastId: undefined } as unknown as Welcome;
    s.welcome(old, false);
    const plain = (id: number) => ({ ...msg('', id), epoch: undefined }) as unknown as ChatMessage;
    expect(lines(s.message(plain(7)))).toEqual([':7']);
    expect(lines(s.message(plain(7)))).toEqual([]);
    expect(lines(s.message(plain(8)))).toEqual([':8']);
  });
});
