/** tsws/client resuming while the cluster's Redis is away: no gap is invented, the resume is asked again until Redis answers. */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type ChannelClient, type Gap } from 'tsws/client';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws } from './helpers/process.ts';
import { parseProm } from './helpers/prom.ts';
import { killAllRedis, startRedis, until } from './helpers/redis.ts';
import { switchRelay } from './helpers/switch-relay.ts';

const PLUGINS = path.resolve(import.meta.dirname, 'plugins-v2');
const clients: ChannelClient[] = [];

afterAll(() => {
  for (const c of clients) c.close();
  killAll();
  killAllRedis();
  removeConfigDirs();
});

describe('tsws/client resuming while Redis is away', () => {
  it("reports no gap for the server's 'unavailable' answer: it asks again with backoff, and once Redis is back gets every message it missed, in order", async () => {
    // Persisted (AOF), so Redis comes back with the channel: the same epoch, nothing lost for real.
    const redis = await startRedis({ appendonly: true });
    const server = runTsws(['-c', makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGINS, cluster: { redis: redis.url, instance: 'a', 'ttl-secs': '1' }, metrics: { path: '/metrics' } } },
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'channels-demo': {} }] }] },
    })]);
    const [listener] = await server.ready;
    const port = listener?.port ?? 0;
    const relay = await switchRelay(port);
    const client = (p: number) => {
      const c = connect(`ws://127.0.0.1:${p}/`, { protocol: 'channels-demo', WebSocket, backoff: { initialMs: 20, maxMs: 200 } });
      clients.push(c);
      return c;
    };
    const unavailable = async () => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      return parseProm(text).filter((s) => s.name === 'tsws_channel_recoveries_total' && s.labels.result === 'unavailable').reduce((n, s) => n + s.value, 0);
    };
    try {
      const reader = client(relay.port);
      const writer = client(port);
      const got: { offset: number; data: unknown }[] = [];
      const gaps: Gap[] = [];
      let confirmed = 0;
      reader.subscribe('room:away', { onMessage: ({ offset, data }) => got.push({ offset, data }), onGap: (g) => gaps.push(g), onSubscribed: () => void confirmed++ });
      await until(async () => confirmed === 1, 'subscribed');
      await writer.publish('room:away', 'm1');
      await until(async () => got.length === 1, 'm1');

      // The reader is cut off while m2 and m3 are stored; then Redis goes away, and the reader comes back.
      relay.cut();
      await until(async () => reader.state.state === 'reconnecting', 'the reader cut off');
      await writer.publish('room:away', 'm2');
      await writer.publish('room:away', 'm3');
      await redis.kill();
      await server.waitFor((l) => l.event === 'cluster-redis-lost');
      relay.restore();
      // Its resubscribe is answered 'unavailable', at least twice (it asks again).
      await until(async () => (await unavailable()) >= 2, "two 'unavailable' answers", 30_000);
      expect(gaps).toEqual([]);
      expect(confirmed).toBe(1);

      await redis.restart();
      await until(async () => got.length === 3, 'm2 and m3 recovered', 30_000);
      let m4: { epoch: string; offset: number } | undefined;
      await until(async () => (m4 = await writer.publish('room:away', 'm4').catch(() => undefined)) !== undefined, 'a publish after Redis is back', 30_000);
      await until(async () => got.length === 4, 'm4');
      expect(got).toEqual([1, 2, 3, 4].map((n) => ({ offset: n, data: `m${n}` })));
      expect(m4?.offset).toBe(4);
      expect(gaps).toEqual([]);
      expect(confirmed).toBe(2);
    } finally {
      await relay.close();
      server.kill('SIGTERM');
      await server.exited;
      await redis.stop();
    }
  }, 90_000);
});
