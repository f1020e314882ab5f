/** @module The main thread's channel host and two worker-side stores on real MessagePorts: one offset sequence for both, and a thread's members gone at once when it ends. */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ThreadChannelStore } from '../channels/thread-store.ts';
import type { ChannelMessage, PresenceEvent } from '../plugin/api-channels.ts';
import { ChannelHost } from './channel-host.ts';

const log = pino({ level: 'silent' });
const ch = { key: 'v/p/room', scope: 'v/p', historySize: 10, historyTtlMs: 0 };
const stores: ThreadChannelStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function pair() {
  const host = new ChannelHost(log);
  const a = new ThreadChannelStore(host.connect('thread-0'));
  const b = new ThreadChannelStore(host.connect('thread-1'));
  stores.push(a, b);
  return { host, a, b };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('count-threads channel host', () => {
  it('assigns one offset sequence to both threads and delivers every publication to both, in order', async () => {
    const { a, b } = pair();
    const seenA: ChannelMessage[] = [];
    const seenB: ChannelMessage[] = [];
    a.follow(ch, (m) => seenA.push(m));
    b.follow(ch, (m) => seenB.push(m));
    const replies = await Promise.all([a.publish(ch, 'a1', false), b.publish(ch, Buffer.from('b1'), true), a.publish(ch, 'a2', false), b.publish(ch, 'b2', false)]);
    expect(replies.map((r) => r.offset).sort()).toEqual([1, 2, 3, 4]);
    await until(() => seenA.length === 4 && seenB.length === 4);
    expect(seenA.map((m) => m.offset)).toEqual([1, 2, 3, 4]);
    expect(seenB.map((m) => m.offset)).toEqual([1, 2, 3, 4]);
    const binary = seenA.find((m) => m.isBinary);
    expect(Buffer.isBuffer(binary?.data) && binary.data.toString()).toBe('b1');
    const h = await b.read(ch, { epoch: replies[0]?.epoch ?? '', offset: 2 }, 100);
    expect(h.recovery).toEqual({ recovered: true, missed: 2 });
    expect(h.messages.map((m) => m.offset)).toEqual([3, 4]);
  });

  it("removes an ended thread's presence members at once and tells the other thread", async () => {
    const { host, a, b } = pair();
    const events: PresenceEvent[] = [];
    a.onPresence(ch, (e) => events.push(e));
    const ma = await a.join(ch, '1', 'A');
    const mb = await b.join(ch, '1', 'B');
    expect(ma.holder).toBe('thread-0');
    expect(mb.id).toBe('thread-1/1');
    expect((await a.members(ch)).map((m) => m.id)).toEqual([ma.id, mb.id]);
    host.disconnect('thread-1');
    expect((await a.members(ch)).map((m) => m.id)).toEqual([ma.id]);
    await until(() => events.length === 3);
    expect(events.map((e) => [e.type, e.member.id])).toEqual([['join', ma.id], ['join', mb.id], ['leave', mb.id]]);
  });
});
