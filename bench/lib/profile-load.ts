/** @module Profiles one tsws contender under one scenario's load (node --cpu-prof) and says where its CPU time went during the load only. */
import fs from 'node:fs';
import path from 'node:path';
import { startContender, type BenchEnv, type ContenderId, type Running } from './contenders.ts';
import { loadgenArgs, runLoad } from './loadgen.ts';
import { sleep } from './proc.ts';
import type { Runtime } from './runtime.ts';
import { runWrk } from './wrk.ts';

type LoadOpts = Readonly<Record<string, string | number | boolean>>;

/** A scenario's load as the profiler replays it: which tsws contender, driven by the load generator or by wrk. */
export interface ProfileLoad {
  readonly contender: ContenderId;
  /** Load generator options (bench/lib/loadgen.ts), or 'wrk': GET /index.html, 100 keep-alive connections, as scenario 6. */
  readonly load: LoadOpts | 'wrk';
}

const ECHO = { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, binary: true, sources: 16 };
const MIRROR = { mode: 'mirror', protocol: 'lws-mirror-protocol', path: '/?mirror=bench', conns: 100, size: 64, sources: 16 };

/** The loads of the scenarios, by name (see bench/scenarios/): `npm run bench:profile -- <name>`, and RESULTS.md's evidence. */
export const PROFILE_LOADS = {
  'echo-64': { contender: 'tsws', load: { ...ECHO, size: 64 } },
  'echo-16k': { contender: 'tsws', load: { ...ECHO, size: 16384 } },
  'echo-tls': { contender: 'tsws-tls', load: { ...ECHO, size: 64, tls: true } },
  'echo-threads': { contender: 'tsws-2t', load: { ...ECHO, size: 64 } },
  'mirror-1': { contender: 'tsws', load: { ...MIRROR, senders: 1, inflight: 8 } },
  'mirror-100': { contender: 'tsws', load: { ...MIRROR, senders: 100, inflight: 1 } },
  'dumb-increment': { contender: 'tsws', load: { mode: 'recv', protocol: 'dumb-increment-protocol', conns: 1000, sources: 16, handshakes: 32 } },
  connect: { contender: 'tsws', load: { mode: 'connect', protocol: 'lws-mirror-protocol', path: '/?mirror=connect', conns: 32, handshakes: 32, sources: 16 } },
  static: { contender: 'tsws', load: 'wrk' },
  'static-log': { contender: 'tsws-log', load: 'wrk' },
  'static-threads': { contender: 'tsws-2t', load: 'wrk' },
  // Scenario 8: tsws's http:// mount in front of raw uWS.js (started as the upstream).
  proxy: { contender: 'tsws-proxy', load: 'wrk' },
} as const satisfies Record<string, ProfileLoad>;

export type ProfileLoadName = keyof typeof PROFILE_LOADS;

export const isProfileLoad = (name: string): name is ProfileLoadName => Object.hasOwn(PROFILE_LOADS, name);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface Hotspot {
  readonly share: number;
  readonly fn: string;
  /** The file, relative to the repository ("node:internal/...", "" for V8's own entries). */
  readonly where: string;
}

/** Where the time went, by who spends it (see originOf). */
export type Origin = 'native' | 'gc' | 'tsws' | 'plugin' | 'node' | 'deps';

export interface ProfileSummary {
  /** Samples that were not idle, inside the window, all threads. */
  readonly busySamples: number;
  /** How many threads' worth of the window was busy: 0.9 is one thread busy 90 % of it; count-threads 2 can reach 2. */
  readonly busyThreads: number;
  readonly top: readonly Hotspot[];
  readonly byOrigin: Readonly<Record<Origin, number>>;
}

/**
 * "(program)" is time V8 cannot attribute to JS: uWS.js's C++, the syscalls
 * it makes, and the native side of any JS→C++ call; the rest by the file the
 * function is in.
 */
export function originOf(fn: string, where: string): Origin {
  if (fn === '(garbage collector)') return 'gc';
  if (where === '') return 'native';
  if (where.startsWith('server/')) return 'tsws';
  if (where.startsWith('plugins/') || where.startsWith('bench/plugins/')) return 'plugin';
  if (where.startsWith('node:')) return 'node';
  return 'deps';
}

/** One thread's profile and the load's window in its time (µs since its start). */
export interface ThreadWindow {
  readonly profile: CpuProfile;
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * Self time per function over the samples every thread took inside its
 * window, as shares of the busy samples, largest first. tsx compiles each
 * module to one line, so functions are named by file.
 */
export function summarizeProfiles(threads: readonly ThreadWindow[], repo: string, top: number): ProfileSummary {
  const byFn = new Map<string, Hotspot & { hits: number }>();
  const byOrigin: Record<Origin, number> = { native: 0, gc: 0, tsws: 0, plugin: 0, node: 0, deps: 0 };
  let busy = 0;
  let longest = 0;
  for (const { profile, fromUs, toUs } of threads) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    let t = 0;
    let inWindow = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      if (t < fromUs || t > toUs) continue;
      inWindow++;
      const node = byId.get(profile.samples[i] as number);
      if (!node || node.callFrame.functionName === '(idle)') continue;
      const fn = node.callFrame.functionName || '(anonymous)';
      // A plugin module's URL carries the loader's ?tsws-generation=N: one name per file.
      const where = node.callFrame.url.replace(/^file:\/\//, '').replace(`${repo}/`, '').replace(/\?.*$/, '');
      const key = `${fn}  ${where}`;
      const prev = byFn.get(key);
      byFn.set(key, { share: 0, fn, where, hits: (prev?.hits ?? 0) + 1 });
      byOrigin[originOf(fn, where)]++;
      busy++;
    }
    longest = Math.max(longest, inWindow);
  }
  const share = (h: number) => h / Math.max(1, busy);
  return {
    busySamples: busy,
    busyThreads: busy / Math.max(1, longest),
    top: [...byFn.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map(({ fn, where, hits: h }) => ({ fn, where, share: share(h) })),
    byOrigin: Object.fromEntries(Object.entries(byOrigin).map(([k, v]) => [k, share(v)])) as Record<Origin, number>,
  };
}

/** CLOCK_MONOTONIC in µs: the clock of a V8 CPU profile's startTime (and of every thread's, whenever it started). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export interface ProfileRun {
  /** What the load measured while profiled (the profiler slows tsws down: for orientation only). */
  readonly rate: number;
  /** Every thread's samples together (the serving thread or threads, tsx's loader thread, the main thread when workers serve). */
  readonly summary: ProfileSummary;
  /** The server's CPU over the load (cores, from /proc): what the profile's shares are shares of, idle-marked time included. */
  readonly cpu: number;
  readonly files: readonly string[];
}

/**
 * Starts the contender with `--cpu-prof` (beside the flags of bin/tsws.mjs's
 * #! line), waits `settleMs`, drives the load for `seconds`,
 * stops it (the profile is written at exit) and summarizes the load's window.
 */
export async function profileUnder(
  name: ProfileLoadName,
  env: BenchEnv,
  runtime: Runtime,
  opts: { readonly seconds: number; readonly top: number; readonly dir: string; readonly settleMs?: number },
): Promise<ProfileRun> {
  const spec: ProfileLoad = PROFILE_LOADS[name];
  fs.mkdirSync(opts.dir, { recursive: true });
  const before = new Set(fs.readdirSync(opts.dir));
  const profiled: Runtime = { ...runtime, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${opts.dir}`] };
  let upstream: Running | undefined;
  let server: Running | undefined;
  let loadStart = 0;
  let loadEnd = 0;
  let rate = Number.NaN;
  let cpu = Number.NaN;
  try {
    if (spec.contender === 'tsws-proxy') upstream = await startContender('uws', env, runtime);
    server = await startContender(spec.contender, env, profiled, upstream?.port);
    await sleep(opts.settleMs ?? 500);
    loadStart = monotonicUs();
    if (spec.load === 'wrk') {
      const { report, serverCpu } = await runWrk(['-t1', '-c100', `-d${opts.seconds}s`, `http://127.0.0.1:${server.port}/index.html`], server.pid);
      rate = report.rate;
      cpu = serverCpu;
    } else {
      const { report, serverCpu } = await runLoad(env.loadgen, loadgenArgs({ ...spec.load, warmup: 0, duration: opts.seconds }, [server.target]), [server.cpuPids]);
      rate = report.servers[0]?.rate ?? Number.NaN;
      cpu = serverCpu[0] ?? Number.NaN;
    }
    loadEnd = monotonicUs();
  } finally {
    await server?.stop();
    await upstream?.stop();
  }
  const files = fs.readdirSync(opts.dir).filter((f) => !before.has(f) && f.endsWith('.cpuprofile')).map((f) => path.join(opts.dir, f));
  if (files.length === 0) throw new Error(`${name}: ${spec.contender} wrote no CPU profile into ${opts.dir}`);
  // V8 stamps each thread's profile with CLOCK_MONOTONIC microseconds, as hrtime here: the load's window in each one's time.
  const threads = files.map((file) => {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    return { profile, fromUs: loadStart - profile.startTime, toUs: loadEnd - profile.startTime };
  });
  return { rate, cpu, summary: summarizeProfiles(threads, env.repo, opts.top), files };
}
