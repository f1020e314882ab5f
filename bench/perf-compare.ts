/** @module npx tsx bench/perf-compare.ts [echo-64|mirror-1 ...] [--reps 3]: whole-process CPU (perf record, cpu-clock) by DSO and symbol, and syscall counts (perf stat on syscall tracepoints), per message, tsws against raw uWS.js under the same load. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareEnv, type BenchEnv } from './lib/contenders.ts';
import { loadgenArgs } from './lib/loadgen.ts';
import { PROFILE_LOADS, type ProfileLoadName } from './lib/profile-load.ts';
import { cpuSeconds, sleep, startChild } from './lib/proc.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: 'string' }, first: { type: 'string', default: '0' }, reps: { type: 'string', default: '3' }, seconds: { type: 'string', default: '6' }, warmup: { type: 'string', default: '2' }, freq: { type: 'string', default: '1999' } },
});
const SCENARIOS = (positionals.length ? positionals : ['echo-64', 'mirror-1']) as ProfileLoadName[];
const REPS = Number(values.reps);
/** Number of the first rep (a later batch does not overwrite an earlier one's files). */
const FIRST = Number(values.first);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const FREQ = Number(values.freq);
const CONTENDERS = ['tsws', 'uws'] as const;
type Who = (typeof CONTENDERS)[number];
type Tool = 'record' | 'stat';

const repo = path.resolve(import.meta.dirname, '..');
const work = path.join(repo, 'bench', '.work');
const out = path.join(work, 'perfcmp');
const env = prepareEnv(repo, out, path.join(work, 'bin', 'loadgen'));
const FLAGS = ['--perf-basic-prof'];
/**
 * A few tracepoints only: perf switches every counter of a task on each context switch, and
 * all of syscalls:sys_enter_* (~330 per thread) added about half to the servers' CPU per message. These
 * cover what an earlier all-syscalls run saw (raw_syscalls counts every syscall, as a check).
 */
const SYSCALL_EVENTS = ['cpu-clock', 'context-switches', 'raw_syscalls:sys_enter', ...['sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'write', 'writev', 'read', 'epoll_wait', 'epoll_pwait', 'epoll_ctl', 'futex', 'mprotect', 'madvise'].map((n) => `syscalls:sys_enter_${n}`)].join(',');

/** Node started directly (so the pid is the server's), with tsws's #! flags for tsws. */
function command(who: Who, e: BenchEnv): string[] {
  if (who === 'uws') return [...FLAGS, '--import', 'tsx', 'bench/contenders/uws-server.ts', '--file', e.staticFile];
  const shebang = /^#!\S*env -S node\s*(.*)$/.exec(fs.readFileSync(path.join(repo, 'bin/tsws.mjs'), 'utf8').split('\n', 1)[0] ?? '');
  return [...(shebang?.[1]?.split(/\s+/) ?? []), ...FLAGS, 'bin/tsws.mjs', '-c', e.tswsConfig];
}

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    p.stdout.on('data', (d: Buffer) => (so += d));
    p.stderr.on('data', (d: Buffer) => (se += d));
    p.on('exit', (c) => (c === 0 ? resolve(so) : reject(new Error(`${cmd} ${args.join(' ')}: ${c} ${se.slice(-2000)}`))));
  });

interface Sample {
  who: Who;
  scenario: string;
  tool: Tool;
  rate: number;
  /** µs of server CPU per counted frame, from /proc over the loadgen's window. */
  usPerMsg: number;
  /** Context switches per counted frame, from /proc over the loadgen's window (absent in runs before they were read). */
  voluntary?: number;
  involuntary?: number;
  /** tool window (s) and the file it wrote. */
  window: number;
  file: string;
  pid: number;
}

/** Context switches of all the process's threads so far: [voluntary (it blocked or waited), involuntary (preempted)]. */
function switches(pid: number): [number, number] {
  const sum: [number, number] = [0, 0];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    sum[0] += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(st)?.[1] ?? 0);
    sum[1] += Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(st)?.[1] ?? 0);
  }
  return sum;
}

/** One contender, one load; the tool attaches at measure-start for SECONDS-1 s. */
async function once(who: Who, scenario: ProfileLoadName, tool: Tool, rep: number): Promise<Sample> {
  const load = PROFILE_LOADS[scenario].load as Readonly<Record<string, string | number | boolean>>;
  const child = startChild(process.execPath, command(who, env), { cwd: repo });
  const line = await child.waitLine((l) => l.includes('"event":"ready"'));
  const ready = JSON.parse(line) as { port?: number; listeners?: { port: number }[] };
  const port = ready.port ?? ready.listeners?.[0]?.port ?? 0;
  await sleep(500);
  const file = path.join(out, `${scenario}-${who}-${tool}-${rep}.${tool === 'record' ? 'data' : 'csv'}`);
  const window = SECONDS - 1;
  const lg = startChild(env.loadgen, loadgenArgs({ ...load, warmup: WARMUP, duration: SECONDS }, [port]));
  // As lib/loadgen.ts's runLoad, but by hand: the tool attaches at measure-start.
  await lg.waitLine((l) => l.startsWith('{"event":"measure-start"'), 120_000);
  const cpu0 = cpuSeconds(child.pid);
  const sw0 = switches(child.pid);
  const t0 = Date.now();
  const args =
    tool === 'record'
      ? ['record', '-e', 'cpu-clock', '-F', String(FREQ), '-g', '-p', String(child.pid), '-o', file, '--', 'sleep', String(window)]
      : ['stat', '-x', ',', '-o', file, '-e', SYSCALL_EVENTS, '-p', String(child.pid), '--', 'sleep', String(window)];
  const toolDone = run('perf', args);
  await lg.waitLine((l) => l.startsWith('{"event":"measure-end"'), 120_000);
  const cpu1 = cpuSeconds(child.pid);
  const sw1 = switches(child.pid);
  const wall = (Date.now() - t0) / 1000;
  await lg.exited;
  await toolDone;
  await child.stop('SIGTERM');
  const report = JSON.parse(lg.lines.at(-1) ?? '{}') as { servers: { rate: number; seconds: number }[] };
  const rate = report.servers[0]?.rate ?? Number.NaN;
  const perMsg = (n: number) => n / wall / rate;
  return { who, scenario, tool, rate, usPerMsg: perMsg(cpu1 - cpu0) * 1e6, voluntary: perMsg(sw1[0] - sw0[0]), involuntary: perMsg(sw1[1] - sw0[1]), window, file, pid: child.pid };
}

type Cat = 'kernel' | 'uws.node' | 'node' | 'JIT JS' | 'libc' | 'other';
const catOf = (dso: string): Cat =>
  dso === '[kernel.kallsyms]' ? 'kernel' : dso.endsWith('uws.node') ? 'uws.node' : dso === 'node' || dso.endsWith('/node') ? 'node' : /perf-\d+\.map|^\[JIT\]/.test(dso) ? 'JIT JS' : /^libc[.-]/.test(path.basename(dso)) ? 'libc' : 'other';

/** perf report: total CPU µs per message, and self µs per message by category and by (DSO, symbol). */
async function readRecord(s: Sample) {
  // perf report finds JIT names in /tmp/perf-<pid>.map: put the kept copy back while it reads.
  const kept = `${s.file}.perf-${s.pid}.map`;
  const map = `/tmp/perf-${s.pid}.map`;
  const linked = fs.existsSync(kept) && !fs.existsSync(map);
  if (linked) fs.symlinkSync(kept, map);
  let txt: string;
  try {
    txt = await run('perf', ['report', '-i', s.file, '--stdio', '--no-children', '-g', 'none', '--sort', 'dso,sym', '--percent-limit', '0', '-F', 'period,dso,sym']);
  } finally {
    if (linked) fs.rmSync(map);
  }
  const msgs = s.rate * s.window;
  const syms = new Map<string, { us: number; cat: Cat; sym: string }>();
  const byCat: Record<string, number> = {};
  let total = 0;
  for (const l of txt.split('\n')) {
    const m = /^\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[(.)\]\s+(.*?)\s*$/.exec(l);
    if (!m) continue;
    const us = Number(m[1]) / 1000 / msgs;
    const cat = catOf(m[2] ?? '');
    const sym = (m[4] ?? '').replace(/\?tsws-generation=\d+/, '').replace(`file://${repo}/`, '').slice(0, 100);
    const key = `${cat}  ${sym}`;
    syms.set(key, { us: (syms.get(key)?.us ?? 0) + us, cat, sym });
    byCat[cat] = (byCat[cat] ?? 0) + us;
    total += us;
  }
  return { perfUsPerMsg: total, byCat, syms: Object.fromEntries([...syms].filter(([, v]) => v.us >= 0.0005).map(([k, v]) => [k, v.us])) };
}

/** perf stat: per-message counts of the syscalls that happened (cpu-clock: µs per message). */
function readStat(s: Sample) {
  const msgs = s.rate * s.window;
  const counts: Record<string, number> = {};
  for (const l of fs.readFileSync(s.file, 'utf8').split('\n')) {
    const f = l.split(',');
    const n = Number(f[0]);
    const name = (f[2] ?? '').replace('syscalls:sys_enter_', '');
    if (name && Number.isFinite(n) && n > 0) counts[name] = name === 'cpu-clock' ? (n * 1000) / msgs : n / msgs;
  }
  return counts;
}

type Rec = Sample & Awaited<ReturnType<typeof readRecord>>;
type Stat = Sample & { syscalls: Record<string, number> };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] ?? Number.NaN) : ((s[h - 1] ?? Number.NaN) + (s[h] ?? Number.NaN)) / 2;
};
const cell = (xs: number[], d = 3) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;

const results: Record<string, (Rec | Stat)[]> = {};
if (values.from) {
  // Re-read the kept perf data of earlier runs (several results files, comma-separated: their reps together).
  for (const file of values.from.split(','))
    for (const [key, rs] of Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, (Rec | Stat)[]>))
      (results[key] ??= []).push(...(await Promise.all(rs.map(async (r) => (r.tool === 'record' ? { ...r, ...(await readRecord(r)) } : r)))));
} else {
  fs.mkdirSync(out, { recursive: true });
  for (const scenario of SCENARIOS) {
    for (let rep = FIRST; rep < FIRST + REPS; rep++) {
      for (const tool of ['record', 'stat'] as const) {
        // Alternate who goes first, against drift in the machine's other load.
        for (const who of rep % 2 ? [...CONTENDERS].reverse() : CONTENDERS) {
          const s = await once(who, scenario, tool, rep);
          // Keep the JIT map (ours) beside the data, for readRecord and a later perf report -i.
          if (fs.existsSync(`/tmp/perf-${s.pid}.map`)) fs.renameSync(`/tmp/perf-${s.pid}.map`, `${s.file}.perf-${s.pid}.map`);
          const detail = tool === 'record' ? await readRecord(s) : { syscalls: readStat(s) };
          (results[`${scenario} ${who}`] ??= []).push({ ...s, ...detail });
          process.stderr.write(`${scenario} ${who} ${tool} #${rep}: ${s.rate.toFixed(0)}/s, ${s.usPerMsg.toFixed(2)} µs/msg (/proc)\n`);
          await sleep(500);
        }
      }
    }
  }
  fs.writeFileSync(path.join(out, `results-${SCENARIOS.join('+')}-${FIRST}.json`), JSON.stringify(results, null, 1));
}

// Markdown: per scenario, both servers side by side; medians (min–max) over the reps, per message.
const scenarios = [...new Set(Object.keys(results).map((k) => k.split(' ')[0] ?? ''))];
for (const sc of scenarios) {
  const rec = (who: Who) => (results[`${sc} ${who}`] ?? []).filter((r): r is Rec => r.tool === 'record');
  const st = (who: Who) => (results[`${sc} ${who}`] ?? []).filter((r): r is Stat => r.tool === 'stat');
  // Paired: tsws and raw uWS.js of the same rep ran back to back, under about the same load from the machine's other users.
  const row = (name: string, f: (who: Who) => number[], d = 3) => {
    const [t, u] = [f('tsws'), f('uws')];
    return `| ${name} | ${cell(t, d)} | ${cell(u, d)} | ${cell(t.map((x, i) => x - (u[i] ?? Number.NaN)), d)} |`;
  };
  const lines = [`### ${sc}: per message (µs, or calls), median (min–max) of ${rec('tsws').length} reps`, '', '| | tsws | raw uWS.js | tsws − uWS (paired by rep) |', '|---|---|---|---|'];
  lines.push(row('frames/s under perf record', (w) => rec(w).map((r) => r.rate), 0));
  lines.push(row('CPU µs/msg (/proc, record runs)', (w) => rec(w).map((r) => r.usPerMsg)));
  lines.push(row('CPU µs/msg (perf samples)', (w) => rec(w).map((r) => r.perfUsPerMsg)));
  for (const c of ['kernel', 'uws.node', 'node', 'JIT JS', 'libc', 'other'] as const) {
    lines.push(row(`  ${c}`, (w) => rec(w).map((r) => r.byCat[c] ?? 0)));
    // Samples deferred while interrupts were off land where they come back on: mostly the switch back in after a preemption (the machine is shared).
    if (c === 'kernel') lines.push(row('    of which finish_task_switch + _raw_spin_unlock_irqrestore', (w) => rec(w).map((r) => (r.syms['kernel  finish_task_switch.isra.0'] ?? 0) + (r.syms['kernel  _raw_spin_unlock_irqrestore'] ?? 0))));
  }
  if (rec('tsws').some((r) => r.voluntary !== undefined)) {
    const sw = (w: Who, k: 'voluntary' | 'involuntary') => [...rec(w), ...st(w)].filter((r) => r[k] !== undefined).map((r) => r[k] ?? 0);
    lines.push(row('context switches, voluntary (/proc, all runs that read them)', (w) => sw(w, 'voluntary'), 4));
    lines.push(row('context switches, involuntary', (w) => sw(w, 'involuntary'), 4));
  }
  const names = [...new Set(CONTENDERS.flatMap((w) => st(w).flatMap((r) => Object.keys(r.syscalls))))].sort();
  for (const n of names) if (CONTENDERS.some((w) => median(st(w).map((r) => r.syscalls[n] ?? 0)) >= 0.0005)) lines.push(row(n === 'cpu-clock' ? 'CPU µs/msg (perf stat runs, tracepoints on)' : `syscalls: ${n}`, (w) => st(w).map((r) => r.syscalls[n] ?? 0), 4));
  for (const who of CONTENDERS) {
    lines.push('', `Top 15 symbols, ${who} (self µs/msg, median):`, '');
    const keys = [...new Set(rec(who).flatMap((r) => Object.keys(r.syms)))];
    const med = keys.map((k) => [k, median(rec(who).map((r) => r.syms[k] ?? 0))] as const).sort((a, b) => b[1] - a[1]);
    for (const [k, v] of med.slice(0, 15)) lines.push(`    ${v.toFixed(3)}  ${k}`);
  }
  lines.push('', 'Largest differences, tsws − raw uWS.js (self µs/msg, medians):', '');
  const keys = [...new Set(CONTENDERS.flatMap((w) => rec(w).flatMap((r) => Object.keys(r.syms))))];
  const diff = keys.map((k) => [k, median(rec('tsws').map((r) => r.syms[k] ?? 0)) - median(rec('uws').map((r) => r.syms[k] ?? 0))] as const).sort((a, b) => b[1] - a[1]);
  for (const [k, v] of [...diff.slice(0, 25), ...diff.slice(-8)]) lines.push(`    ${v >= 0 ? '+' : ''}${v.toFixed(3)}  ${k}`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
