import { describe, expect, it } from 'vitest';
import { MemoryRoomStore, type RetentionPolicy } from './room-store.ts';

function store(policy: Partial<RetentionPolicy> = {}) {
  const clock = { now: 1_000_000 };
  const s = new MemoryRoomStore({ historySize: 3, keepMs: 60_000, maxRooms: 10, ...policy }, () => clock.now);
  return { s, clock };
}

describe('MemoryRoomStore', () => {
  it('creates a room on first join and removes it when the last member leaves, if it has no history', async () => {
    const { s } = store();
    expect(await s.join('r', 'a')).toMatchObject({ ok: true, members: ['a'], history: [], epoch: '', lastId: 0 });
    expect(s.has('r')).toBe(true);
    await s.leave('r', 'a');
    expect(s.has('r')).toBe(false);
    expect(await s.members('r')).toEqual([]);
  });

  it('refuses a name already in the room, case-insensitively, and frees it on leave', async () => {
    const { s } = store();
    await s.join('r', 'Alice');
    expect(await s.join('r', 'ALICE')).toEqual({ ok: false, reason: 'name-taken' });
    expect(await s.join('other', 'alice')).toMatchObject({ ok: true });
    await s.leave('r', 'alice');
    expect(await s.join('r', 'alice')).toMatchObject({ ok: true, members: ['alice'] });
  });

  it('numbers messages per room and keeps only the newest historySize', async () => {
    const { s } = store();
    await s.join('r', 'a');
    for (let i = 1; i <= 5; i++) expect((await s.append('r', 'a', `m${i}`, i)).id).toBe(i);
    const joined = await s.join('r', 'b');
    expect(joined.ok && joined.history.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
  });

  it('refuses to store a message from someone who is not a member', async () => {
    const { s } = store();
    await s.join('r', 'a');
    await expect(s.append('r', 'b', 'x', 0)).rejects.toThrow(/not a member/);
  });

  it("keeps an empty room's history for keepMs, then forgets it", async () => {
    const { s, clock } = store();
    await s.join('r', 'a');
    const old = await s.append('r', 'a', 'old', 0);
    await s.leave('r', 'a');
    clock.now += 59_999;
    s.sweep();
    expect(s.has('r')).toBe(true);
    clock.now += 1;
    const back = await s.join('r', 'b'); // join sweeps first
    expect(back).toMatchObject({ ok: true, members: ['b'], history: [], lastId: 0 });
    // Ids start again at 1 in the re-created room: in a new epoch, so a client that saw "old" does not skip them.
    const again = await s.append('r', 'b', 'new', 0);
    expect(again.id).toBe(old.id);
    expect(again.epoch).not.toBe(old.epoch);
  });

  it("gives each message the room's epoch, and the welcome the epoch and the last id", async () => {
    const { s } = store({ historySize: 1 });
    await s.join('r', 'a');
    const one = await s.append('r', 'a', 'one', 0);
    const two = await s.append('r', 'a', 'two', 0);
    expect(two.epoch).toBe(one.epoch);
    expect(await s.join('r', 'b')).toMatchObject({ ok: true, history: [two], epoch: one.epoch, lastId: 2 });
  });

  it('with keepMs 0 forgets a room and its history when it empties', async () => {
    const { s } = store({ keepMs: 0 });
    await s.join('r', 'a');
    await s.append('r', 'a', 'x', 0);
    await s.leave('r', 'a');
    expect(s.size).toBe(0);
  });

  it('at maxRooms evicts the longest-empty kept history for a new room, and refuses when every room is live', async () => {
    const { s, clock } = store({ maxRooms: 3 });
    for (const r of ['r1', 'r2', 'r3']) {
      await s.join(r, 'a');
      await s.append(r, 'a', 'x', 0);
    }
    await s.leave('r2', 'a');
    clock.now += 1;
    await s.leave('r1', 'a');
    expect(await s.join('r4', 'a')).toMatchObject({ ok: true });
    expect([s.has('r1'), s.has('r2')]).toEqual([true, false]);
    expect(await s.join('r5', 'a')).toMatchObject({ ok: true });
    expect(await s.join('r6', 'a')).toEqual({ ok: false, reason: 'too-many-rooms' });
    expect(s.size).toBe(3);
  });
});
