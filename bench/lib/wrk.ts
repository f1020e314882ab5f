/** @module Runs wrk (Debian's HTTP benchmarking tool) and parses its text report. */
import { cpuSeconds, startChild } from './proc.ts';

export interface WrkReport {
  readonly requests: number;
  readonly seconds: number;
  readonly rate: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface WrkRun {
  readonly report: WrkReport;
  readonly serverCpu: number;
  /** wrk's own share of one core over its run (user + system) */
  readonly clientCpu: number;
}

/** "1.23ms", "850.00us", "2.01s" → microseconds. */
function micros(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const scale = { us: 1, ms: 1e3, s: 1e6, m: 60e6 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  return Math.round(Number(m[1]) * scale);
}

export function parseWrk(out: string): WrkReport {
  const pct = (p: string) => micros(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const done = /(\d+) requests in ([\d.]+)(ms|s|m)\b/.exec(out);
  return {
    requests: Number(done?.[1] ?? Number.NaN),
    seconds: Number(done?.[2] ?? Number.NaN) * ({ ms: 1e-3, s: 1, m: 60 }[(done?.[3] ?? 's') as 'ms' | 's' | 'm'] ?? 1),
    rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50_us: pct('50'),
    p99_us: pct('99'),
    errors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** The shell's `times`: its last line is the CPU time of its children (wrk), user then system. */
function childCpu(out: string): number {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out);
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : Number.NaN;
}

/** wrk has no warm-up phase: the server's CPU is sampled over its whole run; wrk's own CPU comes from the shell's `times` after it. */
export async function runWrk(args: readonly string[], serverPid: number): Promise<WrkRun> {
  const cpu0 = cpuSeconds(serverPid);
  const t0 = performance.now();
  const child = startChild('sh', ['-c', 'wrk "$@"; rc=$?; times; exit $rc', 'sh', ...args]);
  const code = await child.exited;
  const elapsed = (performance.now() - t0) / 1000;
  const serverCpu = (cpuSeconds(serverPid) - cpu0) / elapsed;
  const out = child.lines.join('\n');
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${code}): ${child.stderr.join('')}`);
  return { report: parseWrk(out), serverCpu, clientCpu: childCpu(out) / elapsed };
}
