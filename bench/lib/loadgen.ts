/** @module Runs the C load generator (bench/loadgen) against one server and samples that server's CPU over the measured window. */
import { cpuSeconds, startChild } from './proc.ts';

/** What the load generator saw of one server. */
export interface ServerReport {
  readonly port: number;
  readonly connected: number;
  readonly open_at_end: number;
  readonly connect_seconds: number;
  /** seconds this server had the load inside the measured window */
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
}

export interface LoadgenReport {
  readonly mode: string;
  readonly conns: number;
  /** length of the measured window */
  readonly seconds: number;
  /** fraction of one core the load generator used in the window */
  readonly client_cpu: number;
  /** in the order of --port */
  readonly servers: readonly ServerReport[];
}

export interface LoadRun {
  readonly report: LoadgenReport;
  /** per server: fraction of one core it used while it had the load (user + system; see README about softirq) */
  readonly serverCpu: readonly number[];
}

/** Loadgen arguments for a port, as they appear in RESULTS.md (the port shown as <port>). */
export function loadgenArgs(opts: Readonly<Record<string, string | number | boolean>>, ports: readonly (number | string)[] | '<port>'): string[] {
  const args = ['--port', typeof ports === 'string' ? ports : ports.join(',')];
  for (const [k, v] of Object.entries(opts)) {
    if (v === false) continue;
    args.push(`--${k}`);
    if (v !== true) args.push(String(v));
  }
  return args;
}

const isEvent = (name: string) => (line: string) => line.startsWith(`{"event":"${name}"`);

/**
 * Runs one load against one or more servers (the load generator takes turns
 * between them) and returns its report with each server's CPU share over the
 * time it had the load.
 */
export async function runLoad(loadgen: string, args: readonly string[], serverPids: readonly (readonly number[])[]): Promise<LoadRun> {
  // A server may be several processes (a cluster and its Redis): its CPU is their sum.
  const cpuOf = (pids: readonly number[]) => pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const child = startChild(loadgen, args);
  let cpu0: number[] = [];
  let cpu1: number[] = [];
  void child.waitLine(isEvent('measure-start'), 600_000).then(
    () => (cpu0 = serverPids.map(cpuOf)),
    () => undefined,
  );
  void child.waitLine(isEvent('measure-end'), 600_000).then(
    () => (cpu1 = serverPids.map(cpuOf)),
    () => undefined,
  );
  const code = await child.exited;
  const last = child.lines.at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{"mode"')) throw new Error(`loadgen ${args.join(' ')} failed (${code}): ${child.stderr.join('')}`);
  const report = JSON.parse(last) as LoadgenReport;
  const serverCpu = serverPids.map((_, i) => ((cpu1[i] ?? Number.NaN) - (cpu0[i] ?? Number.NaN)) / (report.servers[i]?.seconds ?? Number.NaN));
  return { report, serverCpu };
}

/**
 * Idle mode: opens the connections, then calls `whileHeld` (which reads the
 * server's memory) before telling the load generator to let go.
 */
export async function runIdle(loadgen: string, args: readonly string[], whileHeld: (connected: number) => Promise<void>): Promise<ServerReport> {
  const child = startChild(loadgen, args, { stdin: 'pipe' });
  const line = await child.waitLine(isEvent('connected'), 120_000);
  await whileHeld((JSON.parse(line) as { connected: number }).connected);
  child.proc.stdin?.end('\n');
  const code = await child.exited;
  const last = child.lines.at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{"mode"')) throw new Error(`loadgen ${args.join(' ')} failed (${code}): ${child.stderr.join('')}`);
  const server = (JSON.parse(last) as LoadgenReport).servers[0];
  if (!server) throw new Error(`loadgen ${args.join(' ')}: no server in its report`);
  return server;
}
