/** @module The channels' conformance suite across two instances sharing a real Redis (the Redis store): a SIGKILLed instance's members go within ttl-secs, FLUSHALL changes the epoch; and what a cut subscription missed is read back. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis.ts';
import { pollUntil, Probe, type Msg } from './probe.ts';
import { removeConfigDirs } from '../helpers/config-dir.ts';
import { killAll } from '../helpers/process.ts';
import { channelConformance } from './conformance.ts';
import { probeConfig, redisTarget, startProbeServer } from './targets.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

channelConformance('two instances on Redis', redisTarget, { kill: true });

describe('channels on Redis, faults', () => {
  it("reads back what an instance's subscription missed while cut from Redis, in order; says 'unavailable' while Redis is away; goes on in a new epoch once it is back empty", async () => {
    const redis = await startRedis();
    const dir = (id: string) => probeConfig({ cluster: { redis: redis.url, instance: id, 'ttl-secs': '1' }, 'watchdog-secs': '0' });
    const [a, b] = await Promise.all(['a', 'b'].map((id) => startProbeServer(dir(id))));
    try {
      const history = { size: 100 };
      const pub = await Probe.open(a?.port ?? 0);
      const sub = await Probe.open(b?.port ?? 0);
      await sub.cmd('subscribe', { ch: 'cut', history });
      await pub.cmd('publish', { ch: 'cut', history, data: 'first' });
      await sub.until(() => sub.msgs.length === 1, 'the first message');
      // Every subscriber connection is cut; publications go on meanwhile.
      const admin = new Redis(redis.url);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      for (let n = 2; n <= 30; n++) await pub.cmd('publish', { ch: 'cut', history, data: `m${n}` });
      await sub.until(() => sub.msgs.length >= 30, 'all 30 messages');
      expect(sub.offsets('cut')).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const at = sub.msgs.at(-1) as Msg;
      admin.disconnect();

      await redis.kill();
      await expect(pub.cmd('publish', { ch: 'cut', history, data: 'lost' })).rejects.toMatchObject({ code: 'TSWS_ERR_CLUSTER_UNAVAILABLE' });
      const late = await Probe.open(b?.port ?? 0);
      const s = await late.cmd<{ recovery: unknown }>('subscribe', { ch: 'cut', history, since: { epoch: at.epoch, offset: at.offset } });
      expect(s.recovery).toEqual({ recovered: false, reason: 'unavailable' });

      // Redis comes back empty: a new epoch, and the subscriptions made before it go on with it.
      await redis.restart();
      let again: { epoch: string; offset: number } | undefined;
      await pollUntil(async () => {
        again = await pub.cmd<{ epoch: string; offset: number }>('publish', { ch: 'cut', history, data: 'again' }).catch(() => undefined);
        return again !== undefined;
      }, 'Redis to be back');
      expect(again?.offset).toBe(1);
      expect(again?.epoch).not.toBe(at.epoch);
      await sub.until(() => sub.msgs.some((m) => m.data === 'again'), 'the new epoch\'s message');
      expect(sub.msgs.at(-1)).toMatchObject({ epoch: again?.epoch, offset: 1, data: 'again' });
      const resumed = await (await Probe.open(a?.port ?? 0)).cmd<{ recovery: unknown }>('subscribe', { ch: 'cut', history, since: { epoch: at.epoch, offset: at.offset } });
      expect(resumed.recovery).toEqual({ recovered: false, reason: 'epoch-changed' });
      await Promise.all([pub, sub, late].map((p) => p.close()));
    } finally {
      for (const s of [a, b]) {
        s?.p.kill('SIGTERM');
        await s?.p.exited;
      }
      await redis.stop();
    }
  });
});
