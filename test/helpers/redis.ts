/** @module Runs a real redis-server for a test on a free port, and kills or restarts it. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: as a crash; nothing is saved. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis stops reading, its clients' writes pile up. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty unless persistence was on). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** `appendonly`: persist every write (fsync always), as the packet log's durability needs. `port`: a port chosen earlier. */
export async function startRedis(opts: { appendonly?: boolean; port?: number } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-redis-'));
  let proc: ChildProcess | undefined;
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--logfile', '', '--loglevel', 'warning'];
    // Without appendonly nothing is persisted at all (no AOF, no RDB): a restart comes back empty.
    args.push(...(opts.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    p.on('exit', () => live.delete(p));
    proc = p;
    await waitForPort(port, p);
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    restart: launch,
    stop: async () => {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kills every redis-server still running (call from afterAll). */
export function killAllRedis(): void {
  for (const p of live) p.kill('SIGKILL');
}

/** Instances subscribed to a bus topic, as Redis counts them: a condition to wait for before publishing across. */
export async function subscribers(client: Redis, channel: string): Promise<number> {
  const reply = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

/** Polls an asynchronous condition until it holds (a liveness bound, not a timing assertion). */
export async function until(cond: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitForPort(port: number, p: ChildProcess): Promise<void> {
  const { createConnection } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
