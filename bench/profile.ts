/** @module npm run bench:profile -- <load>: runs tsws under node --cpu-prof through one load and prints where its time went. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeTswsProxyConfig } from './lib/configs.ts';
import { prepareEnv, startContender } from './lib/contenders.ts';
import { loadgenArgs, runLoad } from './lib/loadgen.ts';
import { sleep, startChild } from './lib/proc.ts';
import { availableRuntimes, type Runtime } from './lib/runtime.ts';
import { runWrk } from './lib/wrk.ts';

/** The loads of the scenarios, by name (see bench/scenarios/). */
const LOADS: Readonly<Record<string, Readonly<Record<string, string | number | boolean>>>> = {
  'echo-64': { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, size: 64, binary: true, sources: 16 },
  'echo-16k': { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, size: 16384, binary: true, sources: 16 },
  'mirror-1': { mode: 'mirror', protocol: 'lws-mirror-protocol', path: '/?mirror=bench', conns: 100, senders: 1, inflight: 8, size: 64, sources: 16 },
  'mirror-100': { mode: 'mirror', protocol: 'lws-mirror-protocol', path: '/?mirror=bench', conns: 100, senders: 100, inflight: 1, size: 64, sources: 16 },
  'dumb-increment': { mode: 'recv', protocol: 'dumb-increment-protocol', conns: 1000, sources: 16, handshakes: 32 },
  connect: { mode: 'connect', protocol: 'lws-mirror-protocol', path: '/?mirror=connect', conns: 32, handshakes: 32, sources: 16 },
  static: {},
  // Scenario 8: tsws's http:// mount in front of raw uWS.js (started here as the upstream), under wrk.
  proxy: {},
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Summary {
  readonly busy: number;
  readonly lines: string[];
}

/**
 * Self time per function as a share of the busy (non-idle) samples, largest
 * first. tsx compiles each module to one line, so functions are named by file.
 */
export function summarize(file: string, top: number): Summary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    const { functionName, url } = n.callFrame;
    if (!hits || functionName === '(idle)') continue;
    const where = url.replace(/^file:\/\//, '').replace(`${path.resolve(import.meta.dirname, '..')}/`, '');
    const key = `${functionName || '(anonymous)'}  ${where}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
    busy += hits;
  }
  const lines = [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${((v / Math.max(1, busy)) * 100).toFixed(1).padStart(5)} %  ${k}`);
  return { busy, lines };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, top: { type: 'string', default: '30' }, 'access-log': { type: 'boolean', default: false } },
});
const name = positionals[0] ?? '';
const load = LOADS[name];
if (!load) {
  process.stderr.write(`usage: npm run bench:profile -- <${Object.keys(LOADS).join('|')}> [--seconds 5] [--top 30] [--access-log]\n`);
  process.exit(2);
}
const repo = path.resolve(import.meta.dirname, '..');
const work = path.join(repo, 'bench', '.work');
const env = prepareEnv(repo, path.join(work, 'profile'), path.join(work, 'bin', 'loadgen'));
const profDir = path.join(work, 'profiles');
fs.mkdirSync(profDir, { recursive: true });
const before = new Set(fs.readdirSync(profDir));
const upstream = name === 'proxy' ? await startContender('uws', env, availableRuntimes(repo)[0] as Runtime) : undefined;
if (upstream) writeTswsProxyConfig(env, upstream.port);
const config = upstream ? env.tswsProxyConfig : values['access-log'] ? env.tswsLogConfig : env.tswsConfig;
// The flags of bin/tsws.mjs's #! line, plus the profiler's.
const tsws = startChild(process.execPath, ['--max-semi-space-size=4', '--cpu-prof', `--cpu-prof-dir=${profDir}`, 'bin/tsws.mjs', '-c', config], { cwd: repo });
const ready = JSON.parse(await tsws.waitLine((l) => l.includes('"event":"ready"'))) as { listeners: { port: number }[] };
const port = ready.listeners[0]?.port ?? 0;
await sleep(300);
const seconds = Number(values.seconds);
if (name === 'static' || name === 'proxy') {
  const { report } = await runWrk(['-t1', '-c100', `-d${seconds}s`, `http://127.0.0.1:${port}/index.html`], tsws.pid);
  process.stdout.write(`${report.rate.toFixed(0)} req/s\n`);
} else {
  const { report, serverCpu } = await runLoad(env.loadgen, loadgenArgs({ ...load, warmup: 1, duration: seconds }, [port]), [[tsws.pid]]);
  const server = report.servers[0];
  const cpu = serverCpu[0] ?? Number.NaN;
  if (server) process.stdout.write(`${server.rate.toFixed(0)}/s, p99 ${server.p99_us} us, server cpu ${(cpu * 100).toFixed(0)} % (${((cpu * 1e6) / server.rate).toFixed(2)} µs each)\n`);
}
await tsws.stop('SIGTERM', 15_000);
await upstream?.stop();
// tsx's module-loader thread writes a profile too: show the main thread's (the busiest).
const made = fs.readdirSync(profDir).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
const summaries = made.map((f) => ({ f, s: summarize(path.join(profDir, f), Number(values.top)) })).sort((a, b) => b.s.busy - a.s.busy);
const main = summaries[0];
if (main) {
  process.stdout.write(`\n${path.relative(repo, path.join(profDir, main.f))}: self time, share of the busy samples (startup included)\n`);
  for (const line of main.s.lines) process.stdout.write(`${line}\n`);
}
