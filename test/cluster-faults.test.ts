import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterConfig, startInstance, stopInstance } from './helpers/cluster.ts';
import { ChatClient } from './helpers/chat.ts';
import { removeConfigDirs } from './helpers/config-dir.ts';
import { freePort } from './helpers/free-port.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { killAllRedis, startRedis, subscribers, until } from './helpers/redis.ts';
import { TestClient, eventually } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  killAllRedis();
  removeConfigDirs();
});

const mirrorChannel = (group: string) => `tsws:bus:localhost/lws-mirror-protocol/mirror:${group}`;
interface Status { conns: { instance?: string }[] }
const lastStatus = (cl: TestClient) => JSON.parse(cl.received.at(-1)?.text ?? '{"conns":[]}') as Status;

describe('an instance killed with SIGKILL', () => {
  it('drops out of the other instances\' status lists and frees its chat names once its heartbeat lapses', async () => {
    const redis = await startRedis();
    const [a, b] = await Promise.all([startInstance(redis.url, 'a', { ttlSecs: 1 }), startInstance(redis.url, 'b', { ttlSecs: 1 })]);
    const sa = await TestClient.open(a.wsUrl(), 'lws-status');
    await TestClient.open(b.wsUrl(), 'lws-status');
    await ChatClient.joined(b.wsUrl(), 'bob', 'crash');
    await eventually(() => lastStatus(sa).conns.length === 2, 'both status clients listed');

    b.proc.kill('SIGKILL');
    await b.proc.exited;
    await eventually(() => lastStatus(sa).conns.length === 1, 'the dead instance\'s client gone (ttl-secs 1)', 15_000);
    expect(lastStatus(sa).conns.map((e) => e.instance)).toEqual(['a']);
    // The status update and the log line leave the instance in either order.
    expect(await a.event('cluster-reaped')).toMatchObject({ event: 'cluster-reaped' });
    // Reaping removed all of b's entries at once: its chat member too.
    const { welcome } = await ChatClient.joined(a.wsUrl(), 'bob', 'crash');
    expect(welcome.members).toEqual(['bob']);

    await stopInstance(a);
    await redis.stop();
  });
});

describe('Redis restarted while instances run', () => {
  it('keeps local delivery, logs and counts the loss, restores subscriptions and entries, delivers nothing twice', async () => {
    const redis = await startRedis();
    const probe = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    await probe.connect();
    const [a, b] = await Promise.all([startInstance(redis.url, 'a'), startInstance(redis.url, 'b')]);
    const ma = await TestClient.open(a.wsUrl('/?mirror=r'), 'lws-mirror-protocol');
    const mb = await TestClient.open(b.wsUrl('/?mirror=r'), 'lws-mirror-protocol');
    await ChatClient.joined(a.wsUrl(), 'alice', 'keep');
    await until(async () => (await subscribers(probe, mirrorChannel('r'))) === 2, 'both instances subscribed');
    ma.send('before');
    await eventually(() => mb.received.some((m) => m.text === 'before'), 'before crosses');

    const fromA = a.proc.lines.length;
    const fromB = b.proc.lines.length;
    await redis.kill();
    const lost = await a.event('cluster-redis-lost', fromA);
    expect(lost.code).toBe('TSWS_WARN_CLUSTER_REDIS_LOST');
    ma.send('during');
    await eventually(() => ma.received.some((m) => m.text === 'during'), 'local delivery without Redis');
    // Shared state refuses politely meanwhile.
    const away = await ChatClient.open(a.wsUrl());
    away.request({ type: 'join', room: 'keep', name: 'zed' });
    expect(await away.expect('error')).toMatchObject({ code: 'unavailable' });

    await redis.restart();
    await Promise.all([a.event('cluster-redis-restored', fromA), b.event('cluster-redis-restored', fromB)]);
    await until(async () => (await subscribers(probe, mirrorChannel('r'))) === 2, 'subscriptions restored without a restart');
    // alice's membership was written again: the name is still hers, across instances.
    await until(async () => (await probe.hlen('tsws:pr:~ch/localhost/chat/room:keep')) === 1, 'chat member restored');
    const taken = await ChatClient.open(b.wsUrl());
    taken.request({ type: 'join', room: 'keep', name: 'Alice' });
    expect(await taken.expect('error')).toMatchObject({ code: 'name-taken' });

    ma.send('after-a');
    mb.send('after-b');
    for (const m of [ma, mb]) await eventually(() => ['after-a', 'after-b'].every((t) => m.received.some((r) => r.text === t)), 'delivery resumed both ways');
    for (const m of [ma, mb]) {
      const texts = m.received.map((r) => r.text);
      expect(new Set(texts).size).toBe(texts.length);
    }
    probe.disconnect();
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await redis.stop();
  });
});

describe('Redis unreachable at start', () => {
  it('"retry" (the default): logs TSWS_ERR_CLUSTER_UNREACHABLE, does not listen, joins once Redis answers', async () => {
    const port = await freePort();
    const proc = runTsws(['-c', clusterConfig(`redis://127.0.0.1:${port}`, 'late')]);
    const unreachable = await proc.waitFor((l) => l.event === 'cluster-unreachable');
    expect(unreachable.code).toBe('TSWS_ERR_CLUSTER_UNREACHABLE');
    expect(proc.lines.some((l) => l.event === 'listening')).toBe(false);
    const redis = await startRedis({ port });
    await proc.ready;
    expect(proc.lines.findIndex((l) => l.event === 'cluster-joined')).toBeGreaterThan(proc.lines.indexOf(unreachable));
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await redis.stop();
  });

  it('"local": warns TSWS_WARN_CLUSTER_LOCAL_ONLY and serves alone', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const i = await startInstance(url, 'alone', { unreachable: 'local' });
    expect(i.proc.lines.find((l) => l.event === 'cluster-local-only')?.code).toBe('TSWS_WARN_CLUSTER_LOCAL_ONLY');
    const m = await TestClient.open(i.wsUrl('/?mirror=x'), 'lws-mirror-protocol');
    m.send('alone');
    expect(await m.nextText()).toBe('alone');
    await m.close();
    await stopInstance(i);
  });
});

describe('a publisher faster than Redis takes', () => {
  it('buffers up to max-queue, then drops for the other instances (logged once, counted), never for local members', async () => {
    const redis = await startRedis();
    const probe = new Redis(redis.url);
    const a = await startInstance(redis.url, 'fast', { maxQueue: 50 });
    const m = await TestClient.open(a.wsUrl('/?mirror=fast'), 'lws-mirror-protocol');
    await until(async () => (await subscribers(probe, mirrorChannel('fast'))) === 1, 'subscribed');
    probe.disconnect();
    const from = a.proc.lines.length;
    redis.pause();
    const n = 2000;
    for (let i = 0; i < n; i++) m.send(`m${i}`);
    await eventually(() => m.received.length === n, 'every message delivered locally');
    expect(m.received.map((r) => r.text)).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    const dropping = await a.event('cluster-dropping', from);
    expect(dropping.code).toBe('TSWS_WARN_CLUSTER_DROPPING');
    expect(a.proc.lines.filter((l) => l.event === 'cluster-dropping')).toHaveLength(1);
    redis.resume();
    await a.event('cluster-dropping-ended', from);
    await stopInstance(a);
    await redis.stop();
  });
});
