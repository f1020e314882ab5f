/** @module npm run bench:profile -- <load>: runs tsws under node --cpu-prof through one scenario's load and prints where its time went during the load. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareEnv } from './lib/contenders.ts';
import { PROFILE_LOADS, isProfileLoad, profileUnder } from './lib/profile-load.ts';
import { availableRuntimes } from './lib/runtime.ts';
import { renderHotspots } from './lib/evidence.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, top: { type: 'string', default: '30' }, node: { type: 'string' } },
});
const name = positionals[0] ?? '';
const runtimes = availableRuntimes(path.resolve(import.meta.dirname, '..'));
const runtime = values.node ? runtimes.find((rt) => rt.major === values.node) : runtimes[0];
if (!isProfileLoad(name) || !runtime) {
  process.stderr.write(
    `usage: npm run bench:profile -- <${Object.keys(PROFILE_LOADS).join('|')}> [--seconds 5] [--top 30] [--node ${runtimes.map((rt) => rt.major).join('|')}]\n`,
  );
  process.exit(2);
}
const repo = path.resolve(import.meta.dirname, '..');
const work = path.join(repo, 'bench', '.work');
const env = prepareEnv(repo, path.join(work, 'profile'), path.join(work, 'bin', 'loadgen'));
const run = await profileUnder(name, env, runtime, { seconds: Number(values.seconds), top: Number(values.top), dir: path.join(work, 'profiles') });
process.stdout.write(`${PROFILE_LOADS[name].contender} on ${runtime.label}, ${name}: ${run.rate.toFixed(0)}/s under the profiler, server CPU ${run.cpu.toFixed(2)} cores; profile: ${run.summary.busyThreads.toFixed(2)} threads non-idle\n`);
process.stdout.write(`${run.files.length} thread profile(s) in ${path.relative(repo, path.dirname(run.files[0] ?? repo))}: self time during the load, every thread\n\n`);
process.stdout.write(`${renderHotspots(run.summary, run.cpu)}\n`);
