/** @module The cluster contender: two tsws instances on one Redis (Debian's redis-server on a free port), measured as one server. */
import fs from 'node:fs';
import path from 'node:path';
import { writeTswsClusterConfigs, type BenchEnv } from './configs.ts';
import { freePort, startChild, waitForPort, type Child } from './proc.ts';
import type { Runtime } from './runtime.ts';

export const CLUSTER_INSTANCES = ['a', 'b'] as const;

export interface RunningCluster {
  readonly ports: readonly number[];
  /** Both instances and Redis: the cluster's CPU is all of theirs. */
  readonly pids: readonly number[];
  readonly children: readonly Child[];
}

export function redisCommand(env: BenchEnv, port: number | '<port>'): string[] {
  // No persistence: the bench's Redis only carries the fan-out.
  return ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.relative(env.repo, path.join(env.work, 'redis'))];
}

export async function startCluster(env: BenchEnv, runtime: Runtime): Promise<RunningCluster> {
  const children: Child[] = [];
  try {
    const redisPort = await freePort();
    fs.mkdirSync(path.join(env.work, 'redis'), { recursive: true });
    const [cmd = '', ...args] = redisCommand(env, redisPort);
    const redis = startChild(cmd, args, { cwd: env.repo });
    children.push(redis);
    await Promise.race([waitForPort(redisPort), redis.exited.then((c) => Promise.reject(new Error(`redis-server exited (${c}): ${redis.stderr.join('')}`)))]);
    const ports: number[] = [];
    for (const dir of writeTswsClusterConfigs(env, redisPort, CLUSTER_INSTANCES)) {
      const tsws = startChild(path.join(env.repo, 'bin/tsws.mjs'), ['-c', path.relative(env.repo, dir)], { cwd: env.repo, env: runtime.env });
      children.push(tsws);
      const ready = JSON.parse(await tsws.waitLine((l) => l.includes('"event":"ready"'))) as { listeners?: { port: number }[] };
      const port = ready.listeners?.[0]?.port;
      if (!port) throw new Error(`tsws cluster instance: no port in its ready line`);
      ports.push(port);
    }
    return { ports, pids: [...children.slice(1), redis].map((c) => c.pid), children };
  } catch (err) {
    await Promise.all(children.map((c) => c.stop()));
    throw err;
  }
}
