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
  it("reports no gap for the server's 'unavailable' answer or refusal: it asks again with backoff, and once Redis is back gets every message it missed, in order", async () => {
    // Persisted (AOF), so Redis comes back with the channel: the same epoch, nothing lost for real.
    const redis = await startRedis({ appendonly: true });
    const server = runTsws(['-c', makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGINS, cluster: { redis: redis.url, instance: 'a', 'ttl-secs': '1' }, metrics: { path: '/metrics' } } },
      vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ 'channels-demo': {} }] }] },
    })]);
    const [listener] = await server.ready;
    const port = listener?.port ?? 0;
    const relay = await switchRelay(port);
    const client = (p: number, query = '') => {
      const c = connect(`ws://127.0.0.1:${p}/${query}`, { protocol: 'channels-demo', WebSocket, backoff: { initialMs: 20, maxMs: 200 } });
      clients.push(c);
      return c;
    };
    const unavailable = async () => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
      return parseProm(text).filter((s) => s.name === 'tsws_channel_recoveries_total' && s.labels.result === 'unavailable').reduce((n, s) => n + s.value, 0);
    };
    try {
      // A plain reader, and one in the presence set: its subscribe needs Redis for the members too,
      // and is refused TSWS_ERR_CHANNEL_UNAVAILABLE rather than answered 'unavailable'.
      const readers = [client(relay.port), client(relay.port, '?name=rex')].map((c, k) => {
        const r = { c, got: [] as { offset: number; data: unknown }[], gaps: [] as Gap[], confirmed: 0, errors: [] as string[] };
        c.subscribe('room:away', {
          presence: k === 1,
          onMessage: ({ offset, data }) => r.got.push({ offset, data }),
          onGap: (g) => r.gaps.push(g),
          onSubscribed: () => void r.confirmed++,
          onError: (e) => r.errors.push(e.code),
        });
        return r;
      });
      const [plain, member] = readers as [(typeof readers)[0], (typeof readers)[0]];
      const writer = client(port);
      await until(async () => readers.every((r) => r.confirmed === 1), 'subscribed');
      await writer.publish('room:away', 'm1');
      await until(async () => readers.every((r) => r.got.length === 1), 'm1');

      // The readers are cut off while m2 and m3 are stored; then Redis goes away, and they come back.
      relay.cut();
      await until(async () => readers.every((r) => r.c.state.state === 'reconnecting'), 'the readers cut off');
      await writer.publish('room:away', 'm2');
      await writer.publish('room:away', 'm3');
      await redis.kill();
      await server.waitFor((l) => l.event === 'cluster-redis-lost');
      relay.restore();
      // The plain resubscribe is answered 'unavailable' at least twice (it asks again); the member's is refused twice.
      await until(async () => (await unavailable()) >= 2, "two 'unavailable' answers", 30_000);
      await until(async () => member.errors.length >= 2, 'two refusals', 30_000);
      expect(new Set(member.errors)).toEqual(new Set(['TSWS_ERR_CHANNEL_UNAVAILABLE']));
      expect(plain.errors).toEqual([]);
      for (const r of readers) {
        expect(r.gaps).toEqual([]);
        expect(r.confirmed).toBe(1);
      }

      await redis.restart();
      await until(async () => readers.every((r) => r.got.length === 3), 'm2 and m3 recovered', 30_000);
      let m4: { epoch: string; offset: number } | undefined;
      await until(async () => (m4 = await writer.publish('room:away', 'm4').catch(() => undefined)) !== undefined, 'a publish after Redis is back', 30_000);
      await until(async () => readers.every((r) => r.got.length === 4), 'm4');
      expect(m4?.offset).toBe(4);
      for (const r of readers) {
        expect(r.got).toEqual([1, 2, 3, 4].map((n) => ({ offset: n, data: `m${n}` })));
        expect(r.gaps).toEqual([]);
        expect(r.confirmed).toBe(2);
      }
      expect(member.c.state.state).toBe('open');
    } finally {
      await relay.close();
      server.kill('SIGTERM');
      await server.exited;
      await redis.stop();
    }
  }, 90_000);
});
