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
  ['native', 'native (uWS.js C++, syscalls)'],
  ['gc', 'garbage collector'],
  ['tsws', 'tsws (server/)'],
  ['plugin', 'plugins'],
  ['node', 'Node internals'],
  ['deps', 'dependencies'],
];

/** The top self-time entries as a markdown table, with the split by origin above it. */
export function renderHotspots(s: ProfileSummary, top = s.top.length): string {
  const split = ORIGINS.map(([k, name]) => `${name} ${fmt(s.byOrigin[k] * 100)} %`).join(', ');
  const rows = s.top.slice(0, top).map((h) => `| ${fmt(h.share * 100, 1)} % | \`${h.fn}\` | ${h.where ? `\`${h.where}\`` : '(V8)'} |`);
  return [`Self time by origin: ${split}.`, '', '| self time | function | file |', '| --- | --- | --- |', ...rows].join('\n');
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
      ? [`tsws's threads under this scenario's load for a few seconds with \`--cpu-prof\` (\`npm run bench:profile -- ${profileNameOf(e)}\`; ${fmt(e.profile.rate)}/s under the profiler), self time:`, '', renderHotspots(e.profile.summary, top)]
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
      'its samples counted only while the load ran (the idle memory target: a count of the JS heap tsws holds per connection instead). "native" is time V8 attributes to no JS function: uWS.js\'s C++ and its syscalls, and the native side of each JS→C++ call.',
    '',
    ...parts,
  ].join('\n');
}

const profileNameOf = (e: Evidence) => EVIDENCE[e.result.id]?.profile ?? '';
