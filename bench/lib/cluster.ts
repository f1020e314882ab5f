/** @module The cluster contenders: tsws instances on one Redis (Debian's redis-server on a free port), measured as one server. */
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
  /** Redis first, then the instances in order. */
  readonly children: readonly Child[];
  /** The instances' config dirs, in order: startInstance starts one again. */
  readonly dirs: readonly string[];
}

export function redisCommand(env: BenchEnv, port: number | '<port>'): string[] {
  // No persistence: the bench's Redis only carries the fan-out.
  return ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.relative(env.repo, path.join(env.work, 'redis'))];
}

/** One tsws instance from its config dir, on `runtime`; resolves once its ready line names its port. */
export async function startInstance(env: BenchEnv, runtime: Runtime, dir: string): Promise<{ child: Child; port: number }> {
  const child = startChild(path.join(env.repo, 'bin/tsws.mjs'), ['-c', path.relative(env.repo, dir)], { cwd: env.repo, env: runtime.env });
  try {
    const ready = JSON.parse(await child.waitLine((l) => l.includes('"event":"ready"'))) as { listeners?: { port: number }[] };
    const port = ready.listeners?.[0]?.port;
    if (!port) throw new Error(`tsws cluster instance: no port in its ready line`);
    return { child, port };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Redis, then one instance per config dir `configs` writes for its port (default: scenario 11's mirror instances). */
export async function startCluster(
  env: BenchEnv,
  runtime: Runtime,
  configs: (redisPort: number) => string[] | Promise<string[]> = (redisPort) => writeTswsClusterConfigs(env, redisPort, CLUSTER_INSTANCES),
): Promise<RunningCluster> {
  const children: Child[] = [];
  try {
    const redisPort = await freePort();
    fs.mkdirSync(path.join(env.work, 'redis'), { recursive: true });
    const [cmd = '', ...args] = redisCommand(env, redisPort);
    const redis = startChild(cmd, args, { cwd: env.repo });
    children.push(redis);
    await Promise.race([waitForPort(redisPort), redis.exited.then((c) => Promise.reject(new Error(`redis-server exited (${c}): ${redis.stderr.join('')}`)))]);
    const ports: number[] = [];
    const dirs = await configs(redisPort);
    for (const dir of dirs) {
      const { child, port } = await startInstance(env, runtime, dir);
      children.push(child);
      ports.push(port);
    }
    return { ports, pids: [...children.slice(1), redis].map((c) => c.pid), children, dirs };
  } catch (err) {
    await Promise.all(children.map((c) => c.stop()));
    throw err;
  }
}
