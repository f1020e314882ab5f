import { describe, expect, it } from 'vitest';
import { LogFollower, type LogRead } from './log-follower.ts';

/** A log in memory standing for the Redis stream (a unit test of the follower's policy; the real one is in test/cluster-chat-restart.test.ts). */
class FakeLog {
  epoch = 'E1';
  entries: { id: number; text: string }[] = [];
  lastId = 0;
  /** Reads wait here until released, so that publications can arrive during a catch-up. */
  pending: (() => void)[] = [];
  hold = false;
  fail = false;
  reads = 0;

  add(n: number): void {
    for (let i = 0; i < n; i++) this.entries.push({ id: ++this.lastId, text: `${this.epoch}:${this.lastId}` });
  }

  restart(epoch: string): void {
    this.epoch = epoch;
    this.entries = [];
    this.lastId = 0;
  }

  read = async (after: number, count: number): Promise<LogRead> => {
    this.reads++;
    if (this.hold) await new Promise<void>((r) => this.pending.push(r));
    if (this.fail) throw new Error('Redis away');
    return { epoch: this.epoch, lastId: this.lastId, entries: this.entries.filter((e) => e.id > after).slice(0, count) };
  };

  release(): void {
    this.hold = false;
    for (const r of this.pending.splice(0)) r();
  }
}

function follower(log: FakeLog, keep = 100) {
  const out: string[] = [];
  const counters = { logRecovered: 0, logUnrecovered: 0 };
  const f = new LogFollower(log.read, keep, (t) => out.push(t), counters);
  const arrive = (id: number, epoch = log.epoch) => f.arrived(epoch, id, `${epoch}:${id}`);
  return { f, out, counters, arrive };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('LogFollower: a shared log\'s publications on one instance', () => {
  it('delivers each publication once, in order, without reading the log while nothing is missed', async () => {
    const log = new FakeLog();
    const { out, arrive } = follower(log);
    for (const id of [1, 2, 2, 3]) arrive(id);
    expect(out).toEqual(['E1:1', 'E1:2', 'E1:3']);
    expect(log.reads).toBe(0);
  });

  it('after the subscription comes back, delivers from the log what it missed, before what arrives meanwhile', async () => {
    const log = new FakeLog();
    const { f, out, counters, arrive } = follower(log);
    log.add(2);
    arrive(1);
    arrive(2);
    log.add(3); // 3, 4, 5 published while unsubscribed
    log.hold = true;
    f.subscribed();
    log.add(2);
    arrive(5); // published after the subscription, before the read: the read has it too
    arrive(6);
    arrive(7); // after the read
    log.release();
    await settle();
    expect(out).toEqual(['E1:1', 'E1:2', 'E1:3', 'E1:4', 'E1:5', 'E1:6', 'E1:7']);
    expect(counters).toEqual({ logRecovered: 5, logUnrecovered: 0 });
  });

  it('reads a missed stretch when an id skips ahead, holding the one that showed it', async () => {
    const log = new FakeLog();
    const { out, arrive } = follower(log);
    log.add(4);
    arrive(1);
    arrive(4);
    await settle();
    expect(out).toEqual(['E1:1', 'E1:2', 'E1:3', 'E1:4']);
  });

  it('reads a new epoch from its start: the log began again while the subscription was away', async () => {
    const log = new FakeLog();
    const { f, out, arrive } = follower(log);
    log.add(3);
    for (const id of [1, 2, 3]) arrive(id);
    log.restart('E2');
    log.add(2);
    f.subscribed();
    await settle();
    arrive(3);
    expect(out).toEqual(['E1:1', 'E1:2', 'E1:3', 'E2:1', 'E2:2', 'E2:3']);
  });

  it('counts what the log no longer keeps, and delivers around the hole', async () => {
    const log = new FakeLog();
    const { f, out, counters, arrive } = follower(log, 2);
    log.add(1);
    arrive(1);
    log.add(4);
    log.entries = log.entries.slice(-2); // keeps 4 and 5
    f.subscribed();
    await settle();
    expect(out).toEqual(['E1:1', 'E1:4', 'E1:5']);
    expect(counters).toEqual({ logRecovered: 2, logUnrecovered: 2 });
  });

  it('reads in pages a stretch longer than one read', async () => {
    const log = new FakeLog();
    const { f, out, arrive } = follower(log, 10_000);
    log.add(1);
    arrive(1);
    log.add(1200);
    f.subscribed();
    for (let i = 0; i < 5; i++) await settle();
    expect(out).toHaveLength(1201);
    expect(out.at(-1)).toBe('E1:1201');
  });

  it('with the log unreadable (Redis gone again), delivers what arrived as it is and counts the hole', async () => {
    const log = new FakeLog();
    const { f, out, counters, arrive } = follower(log);
    log.add(1);
    arrive(1);
    log.add(2);
    log.fail = true;
    f.subscribed();
    log.add(1);
    arrive(4);
    await settle();
    // Not held back until Redis is readable again (it may not be for long): the readers see the hole in the ids.
    expect(out).toEqual(['E1:1', 'E1:4']);
    expect(counters.logUnrecovered).toBe(2);
  });

  it('does nothing on a subscription before its first publication: where its members stand is their welcome\'s', async () => {
    const log = new FakeLog();
    const { f, out } = follower(log);
    log.add(3);
    f.subscribed();
    await settle();
    expect(out).toEqual([]);
    expect(log.reads).toBe(0);
  });
});
