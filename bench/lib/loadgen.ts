/** @module Runs the C load generator (bench/loadgen) against one server and samples that server's CPU over the measured window. */
import { cpuSeconds, startChild } from './proc.ts';

export interface LoadgenReport {
  readonly mode: string;
  readonly conns: number;
  readonly connected: number;
  readonly open_at_end: number;
  readonly connect_seconds: number;
  readonly seconds: number;
  readonly frames: number;
  readonly upgrades: number;
  /** frames/s, or upgrades/s in connect mode */
  readonly rate: number;
  readonly mbytes_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly max_us: number;
  readonly errors: { readonly connect: number; readonly handshake: number; readonly protocol: number; readonly last_http_status: number };
  readonly server_closes: number;
  readonly close_codes: Readonly<Record<string, number>>;
  /** fraction of one core the load generator used in the window */
  readonly client_cpu: number;
}

export interface LoadRun {
  readonly report: LoadgenReport;
  /** fraction of one core the server process used in the window (user + system; see README about softirq) */
  readonly serverCpu: number;
}

/** Loadgen arguments for a port, as they appear in RESULTS.md (the port shown as <port>). */
export function loadgenArgs(opts: Readonly<Record<string, string | number | boolean>>, port: number | '<port>'): string[] {
  const args = ['--port', String(port)];
  for (const [k, v] of Object.entries(opts)) {
    if (v === false) continue;
    args.push(`--${k}`);
    if (v !== true) args.push(String(v));
  }
  return args;
}

const isEvent = (name: string) => (line: string) => line.startsWith(`{"event":"${name}"`);

/** Runs one load and returns the loadgen's report with the server's CPU share over the same window. */
export async function runLoad(loadgen: string, args: readonly string[], serverPid: number): Promise<LoadRun> {
  const child = startChild(loadgen, args);
  let cpu0 = Number.NaN;
  let t0 = 0;
  let serverCpu = Number.NaN;
  void child.waitLine(isEvent('measure-start'), 600_000).then(
    () => {
      cpu0 = cpuSeconds(serverPid);
      t0 = performance.now();
    },
    () => undefined,
  );
  void child.waitLine(isEvent('measure-end'), 600_000).then(
    () => {
      serverCpu = (cpuSeconds(serverPid) - cpu0) / ((performance.now() - t0) / 1000);
    },
    () => undefined,
  );
  const code = await child.exited;
  const last = child.lines.at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{"mode"')) throw new Error(`loadgen ${args.join(' ')} failed (${code}): ${child.stderr.join('')}`);
  return { report: JSON.parse(last) as LoadgenReport, serverCpu };
}

/**
 * Idle mode: opens the connections, then calls `whileHeld` (which reads the
 * server's memory) before telling the load generator to let go.
 */
export async function runIdle(loadgen: string, args: readonly string[], whileHeld: (connected: number) => Promise<void>): Promise<LoadgenReport> {
  const child = startChild(loadgen, args, { stdin: 'pipe' });
  const line = await child.waitLine(isEvent('connected'), 120_000);
  await whileHeld((JSON.parse(line) as { connected: number }).connected);
  child.proc.stdin?.end('\n');
  const code = await child.exited;
  const last = child.lines.at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{"mode"')) throw new Error(`loadgen ${args.join(' ')} failed (${code}): ${child.stderr.join('')}`);
  return JSON.parse(last) as LoadgenReport;
}
