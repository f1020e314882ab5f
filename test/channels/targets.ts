/** @module The servers the conformance suite runs against: one process alone, count-threads, instances sharing a Redis. */
import path from 'node:path';
import { makeConfigDir } from '../helpers/config-dir.ts';
import { runTsws, type TswsProcess } from '../helpers/process.ts';
import { Probe } from './probe.ts';
import type { Target } from './conformance.ts';

const PLUGIN = `export { default } from ${JSON.stringify(path.resolve(import.meta.dirname, 'probe-plugin.ts'))};\n`;

export function probeConfig(global: Record<string, unknown>): string {
  return makeConfigDir({
    conf: { global },
    vhosts: { localhost: [{ name: 'localhost', port: '0', interface: '127.0.0.1', 'ws-protocols': [{ chprobe: {} }] }] },
    plugins: { 'chprobe.ts': PLUGIN },
  });
}

export async function startProbeServer(dir: string): Promise<{ p: TswsProcess; port: number }> {
  const p = runTsws(['-c', dir]);
  const [listener] = await p.ready;
  return { p, port: listener?.port ?? 0 };
}

async function stopServer(p: TswsProcess): Promise<void> {
  p.kill('SIGTERM');
  await p.exited;
}

/** One process, no threads (watchdog off so the main thread serves): restarting it is a new store. */
export async function aloneTarget(): Promise<Target> {
  const dir = probeConfig({ 'watchdog-secs': '0' });
  let s = await startProbeServer(dir);
  return {
    places: 1,
    probe: () => Probe.open(s.port),
    async restart() {
      await stopServer(s.p);
      s = await startProbeServer(dir);
    },
    stop: () => stopServer(s.p),
  };
}

/** Probes until one lands on thread `thread` (the kernel spreads connections; the others are closed). */
async function probeOnThread(port: number, thread: number): Promise<Probe> {
  for (let i = 0; i < 200; i++) {
    const p = await Probe.open(port);
    if ((await p.cmd<{ thread: number }>('thread')).thread === thread) return p;
    await p.close();
  }
  throw new Error(`no connection landed on thread ${thread}`);
}

/**
 * count-threads 2, no cluster: the main thread holds the channels for both.
 * No kill here: a worker thread with uWS.js sockets open cannot end alone
 * (process.exit or terminate() in it aborts the whole process: libuv finds
 * the sockets' handles open); server/threads/channel-host.test.ts covers a
 * thread's end on real ports instead.
 */
export async function threadsTarget(): Promise<Target> {
  const dir = probeConfig({ 'count-threads': '2' });
  let s = await startProbeServer(dir);
  return {
    places: 2,
    probe: (place = 0) => probeOnThread(s.port, place),
    async restart() {
      await stopServer(s.p);
      s = await startProbeServer(dir);
    },
    stop: () => stopServer(s.p),
  };
}

/** Two instances sharing a Redis the test starts: restart is FLUSHALL (Redis lost its data), kill is SIGKILL. */
export async function redisTarget(): Promise<Target> {
  const { startRedis } = await import('../helpers/redis.ts');
  const { Redis } = await import('ioredis');
  const redis = await startRedis();
  const ttlSecs = 1;
  const dir = (id: string) => probeConfig({ cluster: { redis: redis.url, instance: id, 'ttl-secs': String(ttlSecs) }, 'watchdog-secs': '0' });
  const servers = await Promise.all(['a', 'b'].map((id) => startProbeServer(dir(id))));
  return {
    places: 2,
    probe: (place = 0) => Probe.open((servers[place] as { port: number }).port),
    async restart() {
      const r = new Redis(redis.url);
      await r.flushall();
      r.disconnect();
    },
    async kill(place) {
      const s = servers[place] as { p: TswsProcess };
      s.p.kill('SIGKILL');
      await s.p.exited;
    },
    async stop() {
      for (const s of servers) if (s.p.proc.exitCode === null && s.p.proc.signalCode === null) await stopServer(s.p);
      await redis.stop();
    },
  };
}
