import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllRedis, startRedis, until, type RedisServer } from '../../test/helpers/redis.ts';
import { RedisPresenceSets } from '../channels/redis-presence.ts';
import { RedisCluster } from './cluster.ts';
import { ClusterScope } from './scope.ts';

// A real redis-server: the epoch is made inside the Lua scripts, so nothing less tests it.
let redis: RedisServer;
let cluster: RedisCluster;
let scope: ClusterScope;
let probe: Redis;

beforeAll(async () => {
  redis = await startRedis();
  const config = { redisUrl: redis.url, prefix: 't:', instanceId: 'one', unreachableAtStart: 'retry', ttlSecs: 5, maxQueue: 1000, source: { file: 'conf', line: 1, col: 1 } } as const;
  const started = await RedisCluster.start(config, pino({ level: 'silent' }));
  if (!started) throw new Error('cluster did not start');
  cluster = started;
  scope = new ClusterScope(cluster, 'v', 'p', (topic) => `v/p/${topic}`);
  probe = new Redis(redis.url);
});
afterAll(async () => {
  probe?.disconnect();
  await cluster?.close();
  await redis?.stop();
  killAllRedis();
});

describe('a shared log\'s epoch', () => {
  it('is made by the first append, carried by every entry and the bounds, and spliced into the text when asked', async () => {
    const log = scope.log('e1', { maxLength: 2 });
    expect(await log.bounds()).toEqual({ firstId: 1, lastId: 0, epoch: '' });
    const first = await log.append('{"id":', '}');
    expect(first).toMatchObject({ id: 1, text: '{"id":1}' });
    expect(first.epoch).toMatch(/^\d{16}$/);
    const second = await log.append('{"id":', '"}', ',"epoch":"');
    expect(second).toEqual({ id: 2, epoch: first.epoch, text: `{"id":2,"epoch":"${first.epoch}"}` });
    await log.append('{"id":', '}');
    expect(await log.bounds()).toEqual({ firstId: 2, lastId: 3, epoch: first.epoch });
    expect(await log.after(0, 10)).toEqual([
      { id: 2, epoch: first.epoch, text: second.text },
      { id: 3, epoch: first.epoch, text: '{"id":3}' },
    ]);
  });

  it('is new when Redis has lost the log: ids start again at 1 in another epoch', async () => {
    const log = scope.log('e2', { maxLength: 10 });
    const before = await log.append('', '');
    await log.append('', '');
    await probe.flushall();
    const after = await log.append('', '');
    expect(after.id).toBe(1);
    expect(after.epoch).not.toBe(before.epoch);
    expect(await log.after(0, 10)).toEqual([{ id: 1, epoch: after.epoch, text: '1' }]);
  });

  it('survives trimming to nothing (maxLength 0): the ids and the epoch go on', async () => {
    const log = scope.log('e3', { maxLength: 0 });
    const one = await log.append('', '');
    const two = await log.append('', '');
    expect(two).toEqual({ id: 2, epoch: one.epoch, text: '2' });
    expect(await log.bounds()).toEqual({ firstId: 3, lastId: 2, epoch: one.epoch });
  });

  it('lingers and goes with its log when the presence group holding it empties', async () => {
    const log = scope.log('e4', { maxLength: 10 });
    const group = scope.presence('g4', { linger: { logs: [log], ms: 0 } });
    expect(await group.claim('k', 'v')).toBe(true);
    await log.append('', '');
    expect(await probe.exists('t:log:v/p/e4', 't:logepoch:v/p/e4')).toBe(2);
    await group.release('k');
    expect(await probe.exists('t:log:v/p/e4', 't:logepoch:v/p/e4')).toBe(0);
  });
});

describe('change notices of presence groups', () => {
  // Channel names come from clients: a group's Redis subscription must end with its last listener.
  const noticeChannels = async () => ((await probe.call('PUBSUB', 'CHANNELS', '*~presence/*')) as string[]).sort();

  it("keep one Redis subscription per group while it has a listener, and end it with the last one's stop", async () => {
    const stopA = cluster.onChange(cluster.groupKey('g1'), () => undefined);
    const stopB = cluster.onChange(cluster.groupKey('g1'), () => undefined);
    await until(async () => (await noticeChannels()).length === 1, 'the group subscribed');
    stopA();
    stopA();
    expect(await noticeChannels()).toHaveLength(1);
    stopB();
    await until(async () => (await noticeChannels()).length === 0, 'the group unsubscribed');
  });

  it("a channel's presence watchers: the group is listened to while one watches, and no longer after", async () => {
    const sets = new RedisPresenceSets(cluster);
    const unwatch = ['c1', 'c2', 'c3'].map((key) => sets.watch(key, () => undefined));
    const again = sets.watch('c1', () => undefined);
    await until(async () => (await noticeChannels()).length === 3, 'three groups subscribed');
    for (const u of unwatch) u();
    await until(async () => (await noticeChannels()).length === 1, "only c1's group left");
    again();
    await until(async () => (await noticeChannels()).length === 0, 'none left');
    sets.close();
  });
});
