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
  readonly measured: string;
  readonly spread: string;
  readonly met: boolean;
}

export function targetRows(results: readonly ScenarioResult[]): TargetRow[] {
  return results.flatMap((r) =>
    r.targets.map((t: Target): TargetRow => {
      if ('against' in t) {
        const q = ratio(r, t.against);
        return {
          scenario: r.title,
          target: `tsws ≥ ${t.atLeast}× ${label(t.against)}`,
          measured: `${fmt(q.median, 2)}×`,
          spread: `${fmt(q.spread[0], 2)}–${fmt(q.spread[1], 2)}×`,
          met: q.median >= t.atLeast,
        };
      }
      const v = values(r.contenders.find((c) => c.id === 'tsws'), (s) => s.value);
      const [lo, hi] = range(v);
      return { scenario: r.title, target: `tsws ≤ ${fmt(t.atMost)} ${t.unit}`, measured: `${fmt(median(v))} B`, spread: `${fmt(lo)}–${fmt(hi)} B`, met: median(v) <= t.atMost };
    }),
  );
}

function scenarioSection(r: ScenarioResult): string {
  const digits = r.metric.digits ?? 0;
  const extra = Object.entries(r.extraColumns ?? {});
  const hasLatency = r.latencyLabel !== '';
  const head = [
    'contender',
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
  const rows = r.contenders.map((c) => {
    const [lo, hi] = range(values(c, (s) => s.value));
    return [
      label(c.id),
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
  });
  const table = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const isTsws = (id: ContenderId) => id === 'tsws' || id === 'tsws-log';
  const others = r.contenders.filter((c) => !isTsws(c.id));
  const ratios = r.contenders
    .filter((c) => isTsws(c.id))
    .flatMap((mine) =>
      others.map((c) => {
        const q = ratio(r, c.id, (s) => s.value, mine.id);
        // Targets are judged on tsws's default config; the access-log variant is shown for its cost.
        const goal = mine.id === 'tsws' ? r.targets.find((t) => 'against' in t && t.against === c.id) : undefined;
        const verdict = goal && 'against' in goal ? ` (target ≥ ${goal.atLeast}×: ${q.median >= goal.atLeast ? 'met' : '**not met**'})` : '';
        // Inverse CPU cost: how many times the other's work per server CPU second tsws does.
        const e = r.metric.isRate ? ratio(r, c.id, (s) => 1 / cpuPerUnit(s), mine.id) : undefined;
        const eff = e ? `; per server CPU second ${fmt(e.median, 2)}× (${fmt(e.spread[0], 2)}–${fmt(e.spread[1], 2)}×)` : '';
        return `- ${label(mine.id)} / ${label(c.id)}: **${fmt(q.median, 2)}×** (repetitions ${fmt(q.spread[0], 2)}–${fmt(q.spread[1], 2)}×)${verdict}${eff}`;
      }),
    );
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
    `Ratios, median of the paired repetitions (${better}):`,
    '',
    ...ratios,
    ...(r.notes.length ? ['', ...r.notes.map((n) => `Note: ${n}`)] : []),
    '',
  ].join('\n');
}

export interface ReportInput {
  readonly results: readonly ScenarioResult[];
  readonly header: string;
  readonly environment: readonly (readonly [string, string])[];
  readonly contenderCommands: readonly (readonly [string, string])[];
  readonly appendix: string;
}

export function renderReport(input: ReportInput): string {
  const targets = targetRows(input.results);
  const targetTable = [
    '| scenario | target | measured (median of paired repetitions) | spread | verdict |',
    '| --- | --- | --- | --- | --- |',
    ...targets.map((t) => `| ${t.scenario} | ${t.target} | **${t.measured}** | ${t.spread} | ${t.met ? 'met' : '**not met**'} |`),
  ].join('\n');
  return [
    input.header,
    '',
    '## Targets',
    '',
    targetTable,
    '',
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
    ...input.results.map(scenarioSection),
    input.appendix,
  ].join('\n');
}
