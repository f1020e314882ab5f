/** @module What a scenario is, what it measures, and the shared loop that runs a load against every contender. */
import { startContender, type BenchEnv, type ContenderId, type Running } from './contenders.ts';
import type { Runtime } from './runtime.ts';
import { loadgenArgs, runLoad, type ServerReport } from './loadgen.ts';
import { sleep } from './proc.ts';

/** One measured run of one contender. */
export interface Sample {
  /** The scenario's headline figure (frames/s, req/s, upgrades/s, bytes per connection). */
  readonly value: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly errors: number;
  readonly serverCloses: number;
  readonly serverCpu: number;
  readonly clientCpu: number;
  /** Secondary figures shown beside the headline one (e.g. frames/s where the figure is CPU per frame). */
  readonly extra?: Readonly<Record<string, number>>;
}

export interface ContenderResult {
  readonly id: ContenderId;
  readonly samples: Sample[];
}

/**
 * "subject (tsws unless named) / against" must be at least `atLeast`; or the
 * subject's own figure at most `atMost` (`unit` in the target's wording, `short`
 * after the measured figure: "B" unless given, shown with `digits` decimals).
 */
export type Target =
  | { readonly against: ContenderId; readonly atLeast: number; readonly subject?: ContenderId }
  | { readonly atMost: number; readonly unit: string; readonly subject?: ContenderId; readonly short?: string; readonly digits?: number };

export interface ScenarioResult {
  readonly id: string;
  /** The runtime its Node contenders ran on ("Node 20"): RESULTS.md puts the runtimes side by side. */
  readonly runtime: string;
  readonly title: string;
  /** What the load does, in a sentence. */
  readonly what: string;
  readonly metric: {
    readonly label: string;
    readonly higherIsBetter: boolean;
    readonly digits?: number;
    /** A rate (per second): the report adds server CPU per unit and a CPU-normalised ratio. */
    readonly isRate?: boolean;
  };
  /** How latency columns read here ("latency", "gap between frames", ...). */
  readonly latencyLabel: string;
  /** Secondary figures: key in Sample.extra → column heading. */
  readonly extraColumns?: Readonly<Record<string, string>>;
  /** Load command lines, the port shown as <port>. */
  readonly commands: readonly string[];
  readonly contenders: readonly ContenderResult[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

export interface RunContext {
  readonly env: BenchEnv;
  /** Where the Node contenders run (lws and nginx are the same in every runtime's run). */
  readonly runtime: Runtime;
  readonly reps: number;
  readonly warmup: number;
  readonly duration: number;
  log(message: string): void;
}

export interface Scenario {
  readonly id: string;
  run(ctx: RunContext): Promise<ScenarioResult[]>;
}

/** Contenders take turns in a rotating order, so no one always runs first (or right after the heaviest). */
export function rotation<T>(items: readonly T[], rep: number): T[] {
  const k = rep % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function startAll(ids: readonly ContenderId[], ctx: RunContext, upstream?: number): Promise<Running[]> {
  const started = await Promise.allSettled(ids.map((id) => startContender(id, ctx.env, ctx.runtime, upstream)));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stopAll(running);
    throw (failed as PromiseRejectedResult).reason;
  }
  // Let the servers finish starting up (JIT, lazy module loads) before they are measured.
  await sleep(300);
  return running;
}

export async function stopAll(running: readonly Running[]): Promise<void> {
  await Promise.all(running.map((r) => r.stop()));
}

export type LoadOptions = Readonly<Record<string, string | number | boolean>>;

/** Modes where one load generator can take turns between servers (recv mode's rate is set by the server). */
const SLICED = new Set(['echo', 'mirror', 'connect']);
/** The load generator's slice when it takes turns between servers (its own default, spelled out for RESULTS.md). */
const SLICE_SECONDS = 0.25;

function sampleOf(report: ServerReport, serverCpu: number, clientCpu: number): Sample {
  return {
    value: report.rate,
    p50Us: report.p50_us,
    p99Us: report.p99_us,
    errors: report.errors.connect + report.errors.handshake + report.errors.protocol,
    serverCloses: report.server_closes,
    serverCpu,
    clientCpu,
  };
}

/**
 * Starts every contender, then measures `reps` times. Echo, mirror and
 * connect loads go to all contenders from one load generator that gives each
 * the load in turn for a short slice (see loadgen/main.c): drift of a shared
 * machine then hits every contender alike. Recv loads run one contender
 * after the other in rotating order. `opts` are the load generator's options.
 */
export async function measureLoad(ctx: RunContext, ids: readonly ContenderId[], opts: LoadOptions): Promise<ContenderResult[]> {
  const running = await startAll(ids, ctx);
  const results = new Map<ContenderId, Sample[]>(ids.map((id) => [id, []]));
  const runOnce = async (group: readonly Running[], rep: number) => {
    const sliced: LoadOptions = group.length > 1 ? { slice: SLICE_SECONDS } : {};
    const args = loadgenArgs({ warmup: ctx.warmup, duration: ctx.duration, ...sliced, ...opts }, group.map((r) => r.target));
    const { report, serverCpu } = await runLoad(ctx.env.loadgen, args, group.map((r) => r.cpuPids));
    group.forEach((r, i) => {
      const server = report.servers[i];
      if (!server) throw new Error(`loadgen reported no figures for ${r.id}`);
      const sample = sampleOf(server, serverCpu[i] ?? Number.NaN, report.client_cpu);
      results.get(r.id)?.push(sample);
      const trouble = sample.errors || sample.serverCloses ? `, ${sample.errors} errors, ${sample.serverCloses} server closes ${JSON.stringify(server.close_codes)}` : '';
      ctx.log(
        `  ${r.id.padEnd(12)} rep ${rep + 1}: ${server.rate.toFixed(0)}/s p99 ${server.p99_us} us, server cpu ${(sample.serverCpu * 100).toFixed(0)} % ` +
          `(${((sample.serverCpu * 1e6) / server.rate).toFixed(2)} µs each), client cpu ${(report.client_cpu * 100).toFixed(0)} %${trouble}`,
      );
    });
  };
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      const order = rotation(running, rep);
      if (SLICED.has(String(opts.mode))) await runOnce(order, rep);
      else for (const r of order) await runOnce([r], rep);
    }
  } finally {
    await stopAll(running);
  }
  return ids.map((id) => ({ id, samples: results.get(id) ?? [] }));
}

/**
 * The loadgen command line as RESULTS.md shows it: for sliced loads one
 * command with every contender's port, otherwise the command each one gets.
 */
export function loadCommand(ctx: RunContext, opts: LoadOptions, ids: readonly ContenderId[] = []): string {
  const sliced = SLICED.has(String(opts.mode)) && ids.length > 1;
  const ports = sliced ? ids.map((id) => `<${id} port>`).join(',') : '<port>';
  const args = loadgenArgs({ warmup: ctx.warmup, duration: ctx.duration, ...(sliced ? { slice: SLICE_SECONDS } : {}), ...opts }, '<port>');
  return ['bench/.work/bin/loadgen', ...args].join(' ').replace('--port <port>', `--port ${ports}`);
}
