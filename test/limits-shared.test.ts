import path from 'node:path';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { killAll, runTsws, type TswsProcess } from './helpers/process.ts';
import { killAllRedis, startRedis, type RedisServer } from './helpers/redis.ts';
import { TestClient } from './helpers/ws-client.ts';

/*
 * ws-rate-limit-address and ws-rate-limit-user from outside: real tsws processes serving
 * test/plugins-auth/jwt-echo.ts (which echoes every message), ws clients that all share
 * 127.0.0.1, tokens minted with jose. Rates are one an hour so that no token comes back
 * during a test: what is spent is the burst, and nothing depends on timing. The cluster
 * part runs two instances on a real Redis.
 */
const PLUGINS = path.resolve(import.meta.dirname, 'plugins-auth');
const SECRET = 'a-test-secret-that-is-32-bytes!!';

const token = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) + 600).setAudience('tsws-test').sign(new TextEncoder().encode(SECRET));

const procs: TswsProcess[] = [];
const clients: TestClient[] = [];
let redis: RedisServer | undefined;

function vhost(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { name, port: '0', interface: '127.0.0.1', ...extra, 'ws-protocols': [{ 'jwt-echo': { secret: SECRET, audience: 'tsws-test' } }] };
}

async function start(conf: Record<string, unknown>, vhosts: Record<string, unknown>[]): Promise<number> {
  const proc = runTsws(['-c', makeConfigDir({ conf: { global: { 'plugin-dir': PLUGINS, metrics: { path: '/metrics' }, ...conf } }, vhosts: { all: vhosts } })]);
  procs.push(proc);
  const [listener] = await proc.ready;
  return listener?.port ?? 0;
}

/** A client of `host` (the vhost, by Host header) as `sub`, past its greeting. */
async function open(port: number, host: string, sub: string): Promise<TestClient> {
  const c = await TestClient.open(`ws://127.0.0.1:${port}/`, 'jwt-echo', { headers: { host, authorization: `Bearer ${await token(sub)}` } });
  clients.push(c);
  expect(await c.nextText()).toBe(`hello ${sub}`);
  return c;
}

/** Sends `n` messages, each answered before the next. */
async function spend(c: TestClient, sub: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    c.send(`m${i}`);
    expect(await c.nextText()).toBe(`${sub}:m${i}`);
  }
}

/** Sends one message and answers how the server took it: the close it caused, or its echo (a limit not applied). */
async function over(c: TestClient, text: string): Promise<{ code: number; reason: string } | { echo: string }> {
  c.send(text);
  return Promise.race([c.closed, c.nextText().then((echo) => ({ echo }), () => c.closed)]);
}

async function limitedCount(port: number, host: string, limit: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { host } })).text();
  const line = text.split('\n').find((l) => l.startsWith('tsws_ws_rate_limited_total{') && l.includes(`vhost="${host}"`) && l.includes(`limit="${limit}"`));
  return Number(line?.split(' ').pop() ?? 'NaN');
}

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  killAll();
  await redis?.stop();
  killAllRedis();
  removeConfigDirs();
});

describe('on one server', () => {
  let port = 0;
  beforeAll(async () => {
    port = await start({}, [
      vhost('addr', { 'ws-rate-limit-address': '1r/h burst=5' }),
      vhost('user', { 'ws-rate-limit-user': '1r/h burst=4' }),
    ]);
  });

  it('ws-rate-limit-address: two connections from one address share a bucket; over it, 1008 "rate limit" and a metric', async () => {
    const a = await open(port, 'addr', 'ann');
    const b = await open(port, 'addr', 'ben');
    await spend(a, 'ann', 3);
    await spend(b, 'ben', 2);
    expect(await over(b, 'one too many')).toEqual({ code: 1008, reason: 'rate limit' });
    expect(await over(a, 'me too')).toEqual({ code: 1008, reason: 'rate limit' });
    expect(await limitedCount(port, 'addr', 'address')).toBe(2);
    // The bucket outlives its connections: reconnecting does not refill it.
    const again = await open(port, 'addr', 'cat');
    expect(await over(again, 'after reconnecting')).toEqual({ code: 1008, reason: 'rate limit' });
  });

  it('ws-rate-limit-user: two connections of one user share a bucket, another user at the same address has their own', async () => {
    const alice1 = await open(port, 'user', 'alice');
    const alice2 = await open(port, 'user', 'alice');
    const bob = await open(port, 'user', 'bob');
    await spend(alice1, 'alice', 2);
    await spend(alice2, 'alice', 2);
    await spend(bob, 'bob', 3);
    expect(await over(alice2, 'one too many')).toEqual({ code: 1008, reason: 'rate limit' });
    await spend(bob, 'bob', 1);
    expect(await limitedCount(port, 'user', 'user')).toBe(1);
    expect(await limitedCount(port, 'user', 'address')).toBe(0);
  });
});

describe('in a cluster', () => {
  it('ws-rate-limit-user is shared through Redis: the second instance sees what the first one spent', async () => {
    redis = await startRedis();
    const cluster = (id: string) => ({ cluster: { redis: redis?.url, instance: id, 'ttl-secs': '1' } });
    const limited = vhost('localhost', { 'ws-rate-limit-user': '1r/h burst=3' });
    const [portA, portB] = await Promise.all([start(cluster('a'), [limited]), start(cluster('b'), [limited])]);
    const onA = await open(portA, 'localhost', 'alice');
    await spend(onA, 'alice', 3);
    // A pools its spending asynchronously: wait until Redis holds it (the key layout is in server/cluster/scripts.ts).
    const watch = new Redis(redis.url);
    const level = async () => Number(await watch.hget('tsws:rl:u:localhost/alice', 'v'));
    let seen = Number.NaN;
    for (let i = 0; i < 100 && !(seen < 1); i++) {
      seen = await level();
      if (!(seen < 1)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toBeLessThan(1);
    watch.disconnect();
    const onB = await open(portB, 'localhost', 'alice');
    expect(await over(onB, 'on the other instance')).toEqual({ code: 1008, reason: 'rate limit' });
    const bobOnB = await open(portB, 'localhost', 'bob');
    await spend(bobOnB, 'bob', 1);
    expect(await limitedCount(portB, 'localhost', 'user')).toBe(1);
  }, 60_000);
});
