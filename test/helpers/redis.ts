/** @module Runs a real redis-server for a test on a free port, and kills or restarts it. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: as a crash; nothing is saved. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty unless persistence was on). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** `appendonly`: persist every write (fsync always), as the packet log's durability needs. */
export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-redis-'));
  let proc: ChildProcess | undefined;
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--logfile', '', '--loglevel', 'warning'];
    if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
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
