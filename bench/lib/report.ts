/** @module Turns scenario results into bench/RESULTS.md: the targets first, then one table per scenario with medians, spreads and ratios. */
import { CONTENDERS, type ContenderId } from './contenders.ts';
import type { ContenderResult, Sample, ScenarioResult, Target } from './scenario.ts';

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

function range(xs: readonly number[]): [number, number] {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? [Math.min(...v), Math.max(...v)] : [Number.NaN, Number.NaN];
}

/** 1234567 → "1 234 567"; small numbers keep `digits` decimals. */
export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '–';
  const fixed = x.toFixed(digits);
  const [int = '', dec] = fixed.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  return dec ? `${grouped}.${dec}` : grouped;
}

const us = (x: number) => (!Number.isFinite(x) ? '–' : x >= 10_000 ? `${fmt(x / 1000, 1)} ms` : `${fmt(x)} µs`);
const pct = (x: number) => (Number.isFinite(x) ? `${fmt(x * 100)} %` : '–');
const label = (id: ContenderId) => CONTENDERS[id].label;
const values = (c: ContenderResult | undefined, pick: (s: Sample) => number) => (c ? c.samples.map(pick) : []);

export interface Ratio {
  readonly median: number;
  /** min and max of the per-repetition ratios (rep k of tsws against rep k of the other) */
  readonly spread: [number, number];
}

/**
 * Repetition k of tsws against repetition k of the other (they ran seconds
 * apart), then the median of those ratios: drift of a shared machine between
 * repetitions cancels out of each pair.
 */
export function ratio(result: ScenarioResult, against: ContenderId, pick: (s: Sample) => number = (s) => s.value, mine: ContenderId = 'tsws'): Ratio {
  const a = values(result.contenders.find((c) => c.id === mine), pick);
  const b = values(result.contenders.find((c) => c.id === against), pick);
  const paired = a.map((x, i) => x / (b[i] ?? Number.NaN));
  return { median: median(paired), spread: range(paired) };
}

/** Server CPU per unit of the figure (µs per echo, per request...): what the work costs, whatever else ran on the machine. */
const cpuPerUnit = (s: Sample) => (s.value > 0 ? (s.serverCpu * 1e6) / s.value : Number.NaN);

export interface TargetRow {
  readonly scenario: string;
  readonly target: string;
  readonly runtime: string;
  readonly measured: string;
  readonly spread: string;
  readonly met: boolean;
}

const subjectOf = (t: Extract<Target, { against: ContenderId }>) => t.subject ?? 'tsws';

export function targetRows(results: readonly ScenarioResult[]): TargetRow[] {
  return results.flatMap((r) =>
    r.targets.map((t: Target): TargetRow => {
      if ('against' in t) {
        const q = ratio(r, t.against, (s) => s.value, subjectOf(t));
        return {
          scenario: r.title,
          target: `${label(subjectOf(t))} ≥ ${t.atLeast}× ${label(t.against)}`,
          runtime: r.runtime,
          measured: `${fmt(q.median, 2)}×`,
          spread: `${fmt(q.spread[0], 2)}–${fmt(q.spread[1], 2)}×`,
          met: q.median >= t.atLeast,
        };
      }
      const subject = t.subject ?? 'tsws';
      const v = values(r.contenders.find((c) => c.id === subject), (s) => s.value);
      const [lo, hi] = range(v);
      const [short, d] = [t.short ?? 'B', t.digits ?? 0];
      return {
        scenario: r.title,
        target: `${label(subject)} ≤ ${fmt(t.atMost, d)} ${t.unit}`,
        runtime: r.runtime,
        measured: `${fmt(median(v), d)} ${short}`,
        spread: `${fmt(lo, d)}–${fmt(hi, d)} ${short}`,
        met: median(v) <= t.atMost,
      };
    }),
  );
}

const isTsws = (id: ContenderId) => id.startsWith('tsws');

/** The ratio lines of a scenario: every tsws variant against every other contender, plus each target's pair. */
function pairsOf(r: ScenarioResult): [ContenderId, ContenderId][] {
  const ids = r.contenders.map((c) => c.id);
  const pairs: [ContenderId, ContenderId][] = ids.filter(isTsws).flatMap((mine) => ids.filter((o) => !isTsws(o)).map((o): [ContenderId, ContenderId] => [mine, o]));
  for (const t of r.targets) if ('against' in t && !pairs.some(([a, b]) => a === subjectOf(t) && b === t.against)) pairs.push([subjectOf(t), t.against]);
  return pairs;
}

function ratioText(r: ScenarioResult, mine: ContenderId, other: ContenderId): string {
  const q = ratio(r, other, (s) => s.value, mine);
  // Targets are judged on tsws's default config (or the variant a target names); the access-log variant is shown for its cost.
  const goal = r.targets.find((t) => 'against' in t && t.against === other && subjectOf(t) === mine);
  const verdict = goal && 'against' in goal ? `; target ≥ ${goal.atLeast}×: ${q.median >= goal.atLeast ? 'met' : '**not met**'}` : '';
  // Inverse CPU cost: how many times the other's work per server CPU second tsws does.
  const e = r.metric.isRate ? ratio(r, other, (s) => 1 / cpuPerUnit(s), mine) : undefined;
  const eff = e ? `; per server CPU second ${fmt(e.median, 2)}× (${fmt(e.spread[0], 2)}–${fmt(e.spread[1], 2)}×)` : '';
  return `**${fmt(q.median, 2)}×** (repetitions ${fmt(q.spread[0], 2)}–${fmt(q.spread[1], 2)}×${verdict}${eff})`;
}

/** One scenario, every runtime's run of it: one table with a runtime column, ratio lines with the runtimes side by side. */
function scenarioSection(runs: readonly ScenarioResult[]): string {
  const r = runs[0] as ScenarioResult;
  const digits = r.metric.digits ?? 0;
  const extra = Object.entries(r.extraColumns ?? {});
  const hasLatency = r.latencyLabel !== '';
  const head = [
    'contender',
    'run',
    `${r.metric.label} (median)`,
    'spread (min–max)',
    ...(hasLatency ? [`${r.latencyLabel} p50`, `${r.latencyLabel} p99`] : []),
    ...extra.map(([, h]) => h),
    'errors',
    'server closes',
    'server CPU',
    ...(r.metric.isRate ? ['server CPU per unit (µs)'] : []),
    'client CPU',
  ];
  const rows = runs.flatMap((run) =>
    run.contenders.map((c) => {
      const [lo, hi] = range(values(c, (s) => s.value));
      return [
        label(c.id),
        run.runtime,
        `**${fmt(median(values(c, (s) => s.value)), digits)}**`,
        `${fmt(lo, digits)}–${fmt(hi, digits)}`,
        ...(hasLatency ? [us(median(values(c, (s) => s.p50Us))), us(median(values(c, (s) => s.p99Us)))] : []),
        ...extra.map(([k]) => fmt(median(values(c, (s) => s.extra?.[k] ?? Number.NaN)), k.endsWith('MiB') || k.endsWith('Seconds') ? 1 : 0)),
        fmt(values(c, (s) => s.errors).reduce((a, b) => a + b, 0)),
        fmt(values(c, (s) => s.serverCloses).reduce((a, b) => a + b, 0)),
        pct(median(values(c, (s) => s.serverCpu))),
        ...(r.metric.isRate ? [fmt(median(values(c, cpuPerUnit)), 2)] : []),
        pct(median(values(c, (s) => s.clientCpu))),
      ];
    }),
  );
  const table = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const ratios = pairsOf(r).map(([mine, other]) => `- ${label(mine)} / ${label(other)}: ${runs.map((run) => `${run.runtime} ${ratioText(run, mine, other)}`).join('; ')}`);
  const better = r.metric.higherIsBetter ? 'higher is better' : 'lower is better';
  return [
    `### ${r.title}`,
    '',
    r.what,
    '',
    ...r.commands.map((c) => `    ${c}`),
    '',
    table,
    '',
    // A scenario of one contender (13's resume) has no pair to compare.
    ...(ratios.length ? [`Ratios, median of the paired repetitions within each runtime's run (${better}):`, '', ...ratios] : [`${r.metric.higherIsBetter ? 'Higher' : 'Lower'} is better.`]),
    ...(r.notes.length ? ['', ...r.notes.map((n) => `Note: ${n}`)] : []),
    '',
  ].join('\n');
}

export interface ReportInput {
  readonly results: readonly ScenarioResult[];
  readonly header: string;
  readonly environment: readonly (readonly [string, string])[];
  readonly contenderCommands: readonly (readonly [string, string])[];
  /** The missed targets' profiles (bench/lib/evidence.ts), right after the targets table; '' if none. */
  readonly evidence: string;
  readonly appendix: string;
}

export function renderReport(input: ReportInput): string {
  const runtimes = [...new Set(input.results.map((r) => r.runtime))];
  // One row per scenario and target, a column per runtime: the runtime we ship beside the one we develop on.
  const rows = new Map<string, Map<string, TargetRow>>();
  for (const t of targetRows(input.results)) {
    const key = `${t.scenario} | ${t.target}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)?.set(t.runtime, t);
  }
  const cell = (t: TargetRow | undefined) => (t ? `**${t.measured}** (${t.spread}) ${t.met ? 'met' : '**not met**'}` : '–');
  const targetTable = [
    `| scenario | target | ${runtimes.map((rt) => `${rt}: measured (spread) verdict`).join(' | ')} |`,
    `| --- | --- | ${runtimes.map(() => '---').join(' | ')} |`,
    ...[...rows].map(([key, byRuntime]) => `| ${key} | ${runtimes.map((rt) => cell(byRuntime.get(rt))).join(' | ')} |`),
  ].join('\n');
  const byScenario = new Map<string, ScenarioResult[]>();
  for (const r of input.results) byScenario.set(r.id, [...(byScenario.get(r.id) ?? []), r]);
  return [
    input.header,
    '',
    '## Targets',
    '',
    targetTable,
    '',
    ...(input.evidence ? [input.evidence, ''] : []),
    '## Machine and versions',
    '',
    '| | |',
    '| --- | --- |',
    ...input.environment.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Contenders (each started by the harness on a port it picks)',
    '',
    '| contender | command |',
    '| --- | --- |',
    ...input.contenderCommands.map(([k, v]) => `| ${k} | \`${v}\` |`),
    '',
    '## Scenarios',
    '',
    ...[...byScenario.values()].map(scenarioSection),
    input.appendix,
  ].join('\n');
}
