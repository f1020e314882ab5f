/** @module Runs the real `tsws` command as a child process and follows its JSON log. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(REPO, 'bin/tsws.mjs');

export interface ReadyListener {
  readonly address: string;
  readonly port: number;
  readonly vhosts: readonly string[];
}

export interface TswsProcess {
  readonly proc: ChildProcess;
  /** Parsed stdout lines (non-JSON lines kept as {msg}). */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  /** Resolves with the listeners once the server logged "ready"; rejects if it exits first. */
  readonly ready: Promise<readonly ReadyListener[]>;
  readonly exited: Promise<number | null>;
  /** Resolves with the first log line matching `pred`. */
  waitFor(pred: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

export function runTsws(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): TswsProcess {
  return runLogged(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env } });
}

/** Any command that runs tsws (e.g. a Dockerfile's CMD), with exactly the environment given. */
export function runLogged(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): TswsProcess {
  const proc = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buf = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
  // 'close', not 'exit': 'exit' may come before the last lines were read from stdout.
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => {
    live.delete(proc);
    resolve(code);
  }));
  const waitFor = (pred: (l: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const hit = lines.find(pred);
      if (hit) return resolve(hit);
      waiters.push({ pred, resolve });
      void exited.then((code) => reject(new Error(`tsws exited (${code}) before the awaited line; stderr: ${stderr.join('')}; stdout: ${lines.map((l) => l.msg).join(' | ')}`)));
    });
  const ready = waitFor((l) => l.event === 'ready').then((l) => l.listeners as ReadyListener[]);
  ready.catch(() => undefined);
  return { proc, lines, stderr, ready, exited, waitFor, kill: (s = 'SIGTERM') => void proc.kill(s) };
}

/** Runs tsws to completion (e.g. --check) and returns its exit code and output. */
export async function runTswsToEnd(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = runTsws(args, opts);
  const code = await p.exited;
  return { code, stdout: p.lines.map((l) => (typeof l.msg === 'string' ? l.msg : JSON.stringify(l))).join('\n'), stderr: p.stderr.join('') };
}

/** Kills every child still running (call from afterAll). */
export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
}
