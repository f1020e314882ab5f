/** @module For each target a run misses: a CPU profile of tsws under that scenario's load, and where findings.md says what remains to try. */
import path from 'node:path';
import type { BenchEnv } from './contenders.ts';
import { profileUnder, type Origin, type ProfileLoadName, type ProfileRun, type ProfileSummary } from './profile-load.ts';
import { startChild } from './proc.ts';
import { fmt, targetRows } from './report.ts';
import type { Runtime } from './runtime.ts';
import type { ScenarioResult } from './scenario.ts';

/**
 * Per scenario result id: the load to profile (none where the figure is not
 * CPU: idle memory, the resume time), and the heading of bench/findings.md
 * that says where the time goes and what remains to try.
 */
export const EVIDENCE: Readonly<Record<string, { readonly profile?: ProfileLoadName; readonly heap?: true; readonly findings: string }>> = {
  'echo-64': { profile: 'echo-64', findings: 'echo-64-b-and-echo-over-tls' },
  'echo-16k': { profile: 'echo-16k', findings: 'echo-16-kib' },
  'echo-tls': { profile: 'echo-tls', findings: 'echo-64-b-and-echo-over-tls' },
  'mirror-1': { profile: 'mirror-1', findings: 'mirror-fan-out-1-sender-to-100' },
  'mirror-100': { profile: 'mirror-100', findings: 'mirror-fan-out-1-sender-to-100' },
  idle: { heap: true, findings: 'idle-connections' },
  static: { profile: 'static', findings: 'static-file-get' },
  proxy: { profile: 'proxy', findings: 'http-reverse-proxy' },
  'threads-echo': { profile: 'echo-threads', findings: 'count-threads-2-against-1' },
  'threads-static': { profile: 'static-threads', findings: 'count-threads-2-against-1' },
  cluster: { findings: 'cluster-and-channels' },
  'channels-1': { findings: 'cluster-and-channels' },
  'channels-100': { findings: 'cluster-and-channels' },
  resume: { findings: 'cluster-and-channels' },
};

/** One missed scenario on one runtime, with its profile if it has one. */
export interface Evidence {
  readonly result: ScenarioResult;
  readonly targets: readonly string[];
  readonly findings: string;
  readonly profile?: ProfileRun;
  /** For a memory figure: bench/idle-heap.ts's table of JS heap per idle connection, by constructor. */
  readonly heap?: readonly string[];
}

/** The connections idle-heap.ts opens: enough that per-connection objects dominate, few enough to take ~15 s. */
const HEAP_CONNECTIONS = 4000;

/** Runs bench/idle-heap.ts on `runtime` and returns its table's lines (the heading and the largest `top` rows). */
async function heapEvidence(env: BenchEnv, runtime: Runtime, top: number): Promise<string[]> {
  const args = ['--expose-gc', '--max-semi-space-size=4', '--import', 'tsx', 'bench/idle-heap.ts', String(HEAP_CONNECTIONS)];
  const child = startChild(runtime.node, args, { cwd: env.repo, env: runtime.env });
  const code = await child.exited;
  if (code !== 0) return [`bench/idle-heap.ts exited with ${code}: ${child.stderr.join('').slice(-500)}`];
  return child.lines.slice(0, top + 2);
}

const ORIGINS: readonly [Origin, string][] = [
  ['native', 'native inside JS calls (uWS.js send and the like)'],
  ['gc', 'garbage collector'],
  ['tsws', 'tsws (server/)'],
  ['plugin', 'plugins'],
  ['node', 'Node internals'],
  ['deps', 'dependencies'],
];

/**
 * The share of the server's CPU the profile does not see: V8 marks a thread
 * idle for all of libuv's poll phase, and uWS.js reads, parses and writes its
 * sockets (with the kernel's syscalls) inside that phase, outside any call
 * into JS; V8's background threads (concurrent GC, compilers) are never
 * sampled. /proc's CPU time includes both. Undefined when the CPU was not
 * measured (or reads below the samples).
 */
export function outsideJs(s: ProfileSummary, cpuCores: number): number | undefined {
  if (!Number.isFinite(cpuCores) || cpuCores <= 0 || cpuCores < s.busyThreads) return undefined;
  return 1 - s.busyThreads / cpuCores;
}

/**
 * The top self-time entries as a markdown table, with the split by origin
 * above it: shares of the server's whole CPU (from /proc) when it was
 * measured, the time spent outside JS calls as its own row; else shares of
 * the samples V8 took outside its idle state.
 */
export function renderHotspots(s: ProfileSummary, cpuCores = Number.NaN, top = s.top.length): string {
  const outside = outsideJs(s, cpuCores);
  const k = outside === undefined ? 1 : 1 - outside;
  const split = [
    ...(outside === undefined ? [] : [`outside JS calls (uWS.js, the kernel, V8's background threads) ${fmt(outside * 100)} %`]),
    ...ORIGINS.map(([o, name]) => `${name} ${fmt(s.byOrigin[o] * k * 100)} %`),
  ].join(', ');
  const head =
    outside === undefined
      ? `Share of the samples V8 took outside its idle state, by origin: ${split}.`
      : `The server used ${fmt(cpuCores, 2)} cores (from /proc, every thread); V8's samples saw ${fmt(s.busyThreads, 2)} of them. The rest is CPU the samples do not see: ` +
        `libuv's poll phase, where uWS.js's C++ and the kernel serve the sockets outside any call into JS (V8 marks it idle), and V8's background threads (concurrent GC, compilers). ` +
        `Share of the server's CPU by origin: ${split}.`;
  const rows = [
    ...(outside === undefined ? [] : [`| ${fmt(outside * 100, 1)} % | outside JS calls: uWS.js and the kernel in the poll phase, V8's background threads | (not sampled) |`]),
    ...s.top.slice(0, top).map((h) => `| ${fmt(h.share * k * 100, 1)} % | \`${h.fn}\` | ${h.where ? `\`${h.where}\`` : '(V8)'} |`),
  ];
  return [head, '', '| CPU | function | file |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Profiles every scenario result with a missed target (once per result and runtime). */
export async function gatherEvidence(
  results: readonly ScenarioResult[],
  env: BenchEnv,
  runtimes: readonly Runtime[],
  log: (m: string) => void,
  opts: { readonly seconds: number; readonly top: number },
): Promise<Evidence[]> {
  const out: Evidence[] = [];
  const rows = targetRows(results);
  for (const result of results) {
    const missed = rows.filter((t) => !t.met && t.scenario === result.title && t.runtime === result.runtime).map((t) => t.target);
    const what = EVIDENCE[result.id];
    if (missed.length === 0 || !what) continue;
    const runtime = runtimes.find((rt) => rt.label === result.runtime);
    let profile: ProfileRun | undefined;
    let heap: string[] | undefined;
    if (what.profile && runtime) {
      log(`evidence: profiling ${what.profile} on ${runtime.label} (${result.title}: ${missed.join(', ')} not met)`);
      profile = await profileUnder(what.profile, env, runtime, { ...opts, dir: path.join(env.work, '..', 'profiles') });
    }
    if (what.heap && runtime) {
      log(`evidence: counting the JS heap per idle connection on ${runtime.label} (${result.title}: ${missed.join(', ')} not met)`);
      heap = await heapEvidence(env, runtime, opts.top);
    }
    out.push({ result, targets: missed, findings: what.findings, profile, heap });
  }
  return out;
}

/** RESULTS.md's section for the missed targets: the profile of each, and the link to what remains to try. */
export function renderEvidence(evidence: readonly Evidence[], top: number): string {
  if (evidence.length === 0) return '';
  const parts = evidence.map((e) => {
    const title = `### ${e.result.title} (${e.result.runtime})`;
    const missed = `Missed: ${e.targets.map((t) => `${t}`).join('; ')}. Where the time goes and what remains to try: [findings.md](findings.md#${e.findings}).`;
    const profile = e.profile
      ? [`tsws's threads under this scenario's load for a few seconds with \`--cpu-prof\` (\`npm run bench:profile -- ${profileNameOf(e)}\`; ${fmt(e.profile.rate)}/s under the profiler), self time:`, '', renderHotspots(e.profile.summary, e.profile.cpu, top)]
      : e.heap
        ? [
            `Not a CPU figure: what tsws's JS heap holds per idle websocket instead, by constructor (\`bench/idle-heap.ts ${HEAP_CONNECTIONS}\`: tsws in one thread, ` +
              `${HEAP_CONNECTIONS} idle echo connections, full GCs, two heap snapshots; RSS adds uWS.js's own per-socket memory, raw uWS.js's figure above):`,
            '',
            ...e.heap.map((l) => `    ${l}`),
          ]
        : ['Not a CPU figure: no profile (see findings.md).'];
    return [title, '', missed, '', ...profile, ''].join('\n');
  });
  return [
    '## Missed targets: where the time goes',
    '',
    'Generated in the same run, after the measurements: each scenario with a missed target replayed against a fresh tsws under `node --cpu-prof`, ' +
      'its samples counted only while the load ran (the idle memory target: a count of the JS heap tsws holds per connection instead). The shares are of the server\'s whole CPU as /proc counts it: V8 marks a thread idle for all of libuv\'s poll phase, where uWS.js\'s C++ and the kernel read, parse and write the sockets outside any call into JS, and never samples its background threads, so that time is its own row; "native inside JS calls" is V8\'s "(program)": the C++ side of calls made from JS (uWS.js\'s send, for one).',
    '',
    ...parts,
  ].join('\n');
}

const profileNameOf = (e: Evidence) => EVIDENCE[e.result.id]?.profile ?? '';
