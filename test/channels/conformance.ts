/**
 * @module The channels' conformance suite: one set of tests every store passes (this process, count-threads'
 * main thread, a Redis cluster), run against real servers by a target that knows how to start, restart and kill them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, Probe } from './probe.ts';

interface Position {
  epoch: string;
  offset: number;
}
interface Recovery {
  recovered: boolean;
  missed?: number;
  reason?: string;
}
interface Subscription {
  position: Position;
  recovery?: Recovery;
}
interface History {
  messages: { epoch: string; offset: number; data: string }[];
  position: Position;
  recovery?: Recovery;
}
interface Member {
  id: string;
  info: unknown;
  holder: string;
}

export interface Target {
  /** Where connections are served: threads or instances (1 alone). */
  readonly places: number;
  /** A probe whose connection place `place` serves. */
  probe(place?: number): Promise<Probe>;
  /** The store loses its state: a new process, a Redis that lost its data. */
  restart(): Promise<void>;
  /** Place `place` dies abruptly (a thread exits, an instance gets SIGKILL). */
  kill?(place: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Capabilities {
  /** The target can kill a place: its presence members must go. */
  readonly kill: boolean;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

export function channelConformance(name: string, make: () => Promise<Target>, can: Capabilities): void {
  describe(`channels conformance: ${name}`, () => {
    let t: Target;
    const probes: Probe[] = [];
    const open = async (place = 0) => {
      const p = await t.probe(place);
      probes.push(p);
      return p;
    };
    beforeAll(async () => {
      t = await make();
    }, 120_000);
    afterAll(async () => {
      for (const p of probes) await p.close().catch(() => undefined);
      await t?.stop();
    }, 60_000);

    it('counts offsets 1, 2, 3... under concurrent publishers on every place; every subscriber gets each once, in order', async () => {
      const history = { size: 1000 };
      const ch = 'seq';
      const places = range(0, t.places - 1);
      const subs = await Promise.all(places.map((i) => open(i)));
      for (const s of subs) expect((await s.cmd<Subscription>('subscribe', { ch, history })).position.offset).toBe(0);
      const pubs = await Promise.all(places.map((i) => open(i)));
      const each = 60;
      const replies = await Promise.all(pubs.flatMap((p, i) => range(1, each).map((n) => p.cmd<Position>('publish', { ch, history, data: `${i}:${n}` }))));
      const total = each * pubs.length;
      expect(replies.map((r) => r.offset).sort((a, b) => a - b)).toEqual(range(1, total));
      expect(new Set(replies.map((r) => r.epoch)).size).toBe(1);
      for (const s of subs) {
        await s.until(() => s.msgs.length >= total, `${total} messages`);
        expect(s.offsets(ch)).toEqual(range(1, total));
        expect(s.msgs.every((m) => m.topic === ch && m.epoch === replies[0]?.epoch && m.time > 0)).toBe(true);
      }
      // What each publisher sent arrives in the order it was published.
      const s0 = subs[0] as Probe;
      for (const i of places) {
        const mine = s0.msgs.filter((m) => m.data.startsWith(`${i}:`)).map((m) => Number(m.data.split(':')[1]));
        expect(mine).toEqual(range(1, each));
      }
      const h = await s0.cmd<History>('history', { ch, history, since: { epoch: replies[0]?.epoch, offset: total - 5 } });
      expect(h.recovery).toEqual({ recovered: true, missed: 5 });
      expect(h.messages.map((m) => m.offset)).toEqual(range(total - 4, total));
    });

    it('resumes with exactly the missed messages, then live ones: no gap, no duplicate, whatever the interleaving (property)', async () => {
      const history = { size: 500 };
      const publisher = await open(0);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat(6), fc.nat(6), fc.nat(8), fc.nat(4), fc.nat(t.places - 1), async (before, away, during, after, place) => {
          const ch = `resume-${++run}`;
          const first = await open(place);
          await first.cmd('subscribe', { ch, history });
          for (let n = 0; n < before; n++) await publisher.cmd('publish', { ch, history, data: `b${n}` });
          await first.until(() => first.msgs.length === before, 'the first messages');
          const seen: Position = before === 0 ? await first.cmd<Position>('position', { ch, history }) : { epoch: first.msgs.at(-1)?.epoch as string, offset: before };
          await first.close();
          for (let n = 0; n < away; n++) await publisher.cmd('publish', { ch, history, data: `a${n}` });
          const second = await open((place + 1) % t.places);
          // Publications racing the resume: some land before the read, some after.
          const racing = range(1, during).map((n) => publisher.cmd('publish', { ch, history, data: `d${n}` }));
          const sub = await second.cmd<Subscription>('subscribe', { ch, history, since: seen });
          await Promise.all(racing);
          for (let n = 0; n < after; n++) await publisher.cmd('publish', { ch, history, data: `z${n}` });
          const total = before + away + during + after;
          expect(sub.recovery?.recovered).toBe(true);
          await second.until(() => second.msgs.length >= total - before, `${total - before} messages`);
          expect(second.offsets(ch)).toEqual(range(before + 1, total));
          await second.close();
        }),
        { numRuns: 12 },
      );
    });

    it('says too-old past the size bound, and for a position ahead of the channel; live messages then follow the current position', async () => {
      const history = { size: 3 };
      const ch = 'bounded';
      const p = await open(0);
      let epoch = '';
      for (let n = 1; n <= 5; n++) epoch = (await p.cmd<Position>('publish', { ch, history, data: `m${n}` })).epoch;
      expect((await p.cmd<History>('history', { ch, history, since: { epoch, offset: 1 } })).recovery).toEqual({ recovered: false, reason: 'too-old' });
      const ok = await p.cmd<History>('history', { ch, history, since: { epoch, offset: 2 } });
      expect(ok.recovery).toEqual({ recovered: true, missed: 3 });
      expect(ok.messages.map((m) => m.data)).toEqual(['m3', 'm4', 'm5']);
      expect((await p.cmd<History>('history', { ch, history, since: { epoch, offset: 5 } })).recovery).toEqual({ recovered: true, missed: 0 });
      expect((await p.cmd<History>('history', { ch, history, since: { epoch, offset: 9 } })).recovery).toEqual({ recovered: false, reason: 'too-old' });
      expect((await p.cmd<History>('history', { ch, history, limit: 2 })).messages.map((m) => m.offset)).toEqual([3, 4]);
      const s = await open(t.places - 1);
      const sub = await s.cmd<Subscription>('subscribe', { ch, history, since: { epoch, offset: 0 } });
      expect(sub).toEqual({ position: { epoch, offset: 5 }, recovery: { recovered: false, reason: 'too-old' } });
      await p.cmd('publish', { ch, history, data: 'm6' });
      await s.until(() => s.msgs.length === 1, 'the live message');
      expect(s.msgs.map((m) => [m.offset, m.data])).toEqual([[6, 'm6']]);
    });

    it('says too-old once the kept messages are past the age bound', async () => {
      const history = { size: 10, ttlSecs: 1 };
      const ch = 'aged';
      const p = await open(0);
      const { epoch } = await p.cmd<Position>('publish', { ch, history, data: 'old' });
      // No timing assertion: whenever the second has passed, the answer must be too-old, and nothing kept.
      await pollUntil(async () => (await p.cmd<History>('history', { ch, history, since: { epoch, offset: 0 } })).recovery?.reason === 'too-old', 'too-old by age');
      expect((await p.cmd<History>('history', { ch, history })).messages).toEqual([]);
    });

    it('rejects bad input with coded errors', async () => {
      const p = await open(0);
      await expect(p.cmd('publish', { ch: '' })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_NAME' });
      await expect(p.cmd('publish', { ch: 'x'.repeat(201) })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_NAME' });
      await p.cmd('position', { ch: 'opts', history: { size: 2 } });
      await expect(p.cmd('position', { ch: 'opts', history: { size: 3 } })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_OPTIONS' });
      await expect(p.cmd('position', { ch: 'opts2', history: { size: -1 } })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_OPTIONS' });
      await expect(p.cmd('subscribe', { ch: 'opts', since: { epoch: 'e', offset: 1.5 } })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_POSITION' });
      await expect(p.cmd('history', { ch: 'opts', limit: 0 })).rejects.toMatchObject({ code: 'TSWS_ERR_CHANNEL_POSITION' });
    });

    it('keeps presence: join, list in join order, change events everywhere, leave, and a closed connection leaves', async () => {
      const ch = 'room';
      const watcher = await open(0);
      await watcher.cmd('watch', { ch });
      const a = await open(0);
      const b = await open(t.places - 1);
      const ma = await a.cmd<Member>('join', { ch, info: { name: 'A' } });
      const mb = await b.cmd<Member>('join', { ch, info: 'B' });
      expect(ma.id).not.toBe(mb.id);
      expect(await watcher.cmd<Member[]>('list', { ch })).toEqual([ma, mb]);
      await watcher.until(() => watcher.events.length >= 2, 'two joins');
      await b.cmd('leave', { ch });
      expect(await watcher.cmd<Member[]>('list', { ch })).toEqual([ma]);
      await a.close();
      await pollUntil(async () => (await watcher.cmd<Member[]>('list', { ch })).length === 0, 'the closed connection to leave');
      await watcher.until(() => watcher.events.length >= 4, 'two leaves');
      expect(watcher.events.map((e) => [e.type, e.member.id])).toEqual([['join', ma.id], ['join', mb.id], ['leave', mb.id], ['leave', ma.id]]);
    });

    if (can.kill) {
      it("removes a dead place's presence members, and tells the others", async () => {
        const ch = 'doomed';
        const watcher = await open(0);
        await watcher.cmd('watch', { ch });
        const victim = await open(1);
        const m = await victim.cmd<Member>('join', { ch, info: 'soon gone' });
        expect((await watcher.cmd<Member[]>('list', { ch })).map((x) => x.id)).toEqual([m.id]);
        await t.kill?.(1);
        await pollUntil(async () => (await watcher.cmd<Member[]>('list', { ch })).length === 0, 'the dead member to go');
        await watcher.until(() => watcher.events.some((e) => e.type === 'leave' && e.member.id === m.id), 'its leave event');
      });
    }

    it('says epoch-changed after the store lost its state (last: it restarts the target)', async () => {
      const history = { size: 10 };
      const ch = 'epoch';
      const p = await open(0);
      const before = await p.cmd<Position>('publish', { ch, history, data: 'before' });
      await t.restart();
      const q = await open(0);
      const sub = await q.cmd<Subscription>('subscribe', { ch, history, since: before });
      expect(sub.recovery).toEqual({ recovered: false, reason: 'epoch-changed' });
      expect(sub.position.epoch).not.toBe(before.epoch);
      const h = await q.cmd<History>('history', { ch, history, since: before });
      expect(h.recovery).toEqual({ recovered: false, reason: 'epoch-changed' });
      const after = await q.cmd<Position>('publish', { ch, history, data: 'after' });
      expect(after.offset).toBe(1);
      await q.until(() => q.msgs.length === 1, 'the new epoch\'s message');
      expect(q.msgs[0]).toMatchObject({ epoch: after.epoch, offset: 1, data: 'after' });
    });
  });
}
