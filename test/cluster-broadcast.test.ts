import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance, stopInstance, type Instance } from './helpers/cluster.ts';
import { ChatClient } from './helpers/chat.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { killAll } from './helpers/process.ts';
import { killAllRedis, startRedis, subscribers, until, type RedisServer } from './helpers/redis.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';

// Three tsws processes and one real Redis: what a load balancer in front of them would see.
let redis: RedisServer;
let probe: Redis;
let a: Instance;
let b: Instance;
let c: Instance;

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  probe = new Redis(redis.url);
  [a, b, c] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b'), startInstance(redis.url, 'c')]);
});
afterAll(async () => {
  await Promise.all([a, b, c].filter(Boolean).map(stopInstance));
  probe?.disconnect();
  await redis?.stop();
  killAll();
  killAllRedis();
  removeConfigDirs();
});

const channel = (protocol: string, topic: string, prefix = '') => `tsws:bus:${prefix}localhost/${protocol}/${topic}`;
const waitSubscribed = (protocol: string, topic: string, n: number, prefix = '') =>
  until(async () => (await subscribers(probe, channel(protocol, topic, prefix))) === n, `${n} instances subscribed to ${topic}`);

describe('lws-mirror-protocol across instances', () => {
  it('gives every member on every instance each message once, each sender\'s in the order sent', async () => {
    const members = await Promise.all([a, b, c].map((i) => TestClient.open(i.wsUrl('/?mirror=span'), 'lws-mirror-protocol')));
    await waitSubscribed('lws-mirror-protocol', 'mirror:span', 3);
    const senders = ['a', 'b', 'c'];
    members.forEach((m, k) => {
      for (let i = 0; i < 50; i++) m.send(`${senders[k]}-${i}`);
      m.send(`${senders[k]}-end`);
    });
    for (const m of members) await eventually(() => senders.every((s) => m.received.some((r) => r.text === `${s}-end`)), 'every sender\'s last message');
    for (const m of members) {
      const texts = m.received.map((r) => r.text);
      expect(new Set(texts).size).toBe(texts.length);
      expect(texts).toHaveLength(153);
      for (const s of senders) expect(texts.filter((t) => t.startsWith(`${s}-`))).toEqual([...Array.from({ length: 50 }, (_, i) => `${s}-${i}`), `${s}-end`]);
    }
    await Promise.all(members.map((m) => m.close()));
  });
});

describe('chat across instances', () => {
  it('shares members and name uniqueness, orders messages by one id sequence, keeps one history', async () => {
    const { client: alice } = await ChatClient.joined(a.wsUrl(), 'alice', 'span');
    const taken = await ChatClient.open(b.wsUrl());
    taken.request({ type: 'join', room: 'span', name: 'ALICE' });
    expect(await taken.expect('error')).toMatchObject({ code: 'name-taken' });
    // On alice's own instance too, in any case: one kay per room, wherever each connection is.
    for (const name of ['alice', 'Alice']) {
      const twin = await ChatClient.open(a.wsUrl());
      twin.request({ type: 'join', room: 'span', name });
      expect(await twin.expect('error')).toMatchObject({ code: 'name-taken' });
      await twin.raw.close();
    }

    const { client: bob, welcome } = await ChatClient.joined(b.wsUrl(), 'bob', 'span');
    expect(welcome.members).toEqual(['alice', 'bob']);
    expect(await alice.until('joined')).toMatchObject({ name: 'bob' });
    // A room is a channel: its bus topic is the channel's (docs/reference/channels.md).
    await waitSubscribed('chat', 'room:span', 2, '~ch/');

    for (let i = 0; i < 10; i++) {
      alice.send(`a${i}`);
      bob.send(`b${i}`);
    }
    const seen = async (cl: ChatClient) => {
      const out: { id: number; text: string }[] = [];
      while (out.length < 20) {
        const m = await cl.until('message');
        out.push({ id: m.offset, text: m.text });
      }
      return out;
    };
    const [byAlice, byBob] = await Promise.all([seen(alice), seen(bob)]);
    // One order for everybody, wherever connected: the ids', consecutive.
    expect(byBob).toEqual(byAlice);
    expect(byAlice.map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => (byAlice[0]?.id ?? 0) + i));
    expect(byAlice.filter((m) => m.text.startsWith('a')).map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));

    const { client: carol, welcome: w3 } = await ChatClient.joined(c.wsUrl(), 'carol', 'span');
    expect(w3.members).toEqual(['alice', 'bob', 'carol']);
    expect(w3.history.map((m) => ({ id: m.offset, text: m.text }))).toEqual(byAlice);
    await Promise.all([alice, bob, carol, taken].map((x) => x.raw.close()));
  });
});

describe('protocol-lws-packet across instances', () => {
  interface Stored { id: number; packet: unknown }
  const post = (i: Instance, body: unknown) =>
    fetch(i.url('/formtest2'), { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ((await r.json()) as { id: number }).id);

  it('keeps one id sequence, streams it in order on any instance, and resumes from an id on another', async () => {
    // No ?since: the stream starts where it began to follow the log (its subscription, counted below),
    // so a packet stored before the server read the log's end is replayed, not skipped (it once was).
    const live = await TestClient.open(c.wsUrl(), 'protocol-lws-packet');
    // The packet log is the plugin's channel "packets": its bus topic is the channel's.
    await waitSubscribed('protocol-lws-packet', 'packets', 1, '~ch/');
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await post(i % 2 ? a : b, { n: i }));
    const base = (ids[0] ?? 1) - 1;
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => base + 1 + i));
    const got: number[] = [];
    while (got.length < 20) got.push((JSON.parse(await live.nextText()) as Stored).id);
    expect(got).toEqual(ids);

    // Resume on b from an id given out by a and b, while a keeps storing.
    const since = base + 5;
    const posting = (async () => {
      for (let i = 20; i < 60; i++) await post(a, { n: i });
    })();
    const resumed = await TestClient.open(b.wsUrl(`/?since=${since}`), 'protocol-lws-packet');
    const replay: number[] = [];
    while (replay.at(-1) !== base + 60) replay.push((JSON.parse(await resumed.nextText()) as Stored).id);
    await posting;
    expect(replay).toEqual(Array.from({ length: base + 60 - since }, (_, i) => since + 1 + i));

    const page = (await (await fetch(c.url(`/formtest2?since=${base}`))).json()) as { packets: Stored[]; lastId: number };
    expect(page.lastId).toBe(base + 60);
    expect(page.packets.map((p) => p.packet)).toEqual(Array.from({ length: 60 }, (_, n) => ({ n })));
    await Promise.all([live.close(), resumed.close()]);
  });
});

describe('lws-status across instances', () => {
  interface Status { wsi: string; conns: { peer: string; instance?: string }[] }
  it('lists the status clients of every instance, each saying which instance holds it', async () => {
    const sa = await TestClient.open(a.wsUrl(), 'lws-status');
    const sb = await TestClient.open(b.wsUrl(), 'lws-status');
    const last = (cl: TestClient) => JSON.parse(cl.received.at(-1)?.text ?? '{"conns":[]}') as Status;
    for (const cl of [sa, sb]) await eventually(() => last(cl).conns.length === 2, 'both clients listed');
    expect(last(sa).wsi).toBe('2');
    expect(last(sa).conns.map((e) => e.instance).sort()).toEqual(['a', 'b']);
    await sb.close();
    await eventually(() => last(sa).conns.length === 1, 'the closed client gone from the list');
    expect(last(sa).conns[0]?.instance).toBe('a');
    await sa.close();
  });
});
