/** @module HTTP loads with wrk: every contender gets the load in short turns, round-robin, as the load generator's slices do for websockets. */
import type { ContenderId, Running } from './contenders.ts';
import { median } from './report.ts';
import type { ContenderResult, RunContext, Sample } from './scenario.ts';
import { runWrk, type WrkRun } from './wrk.ts';

export const HTTP_CONNS = 100;
/** wrk runs whole seconds: each contender gets the load for this long, in turn. */
export const TURN_SECONDS = 1;

export const wrkArgs = (port: number | '<port>', seconds: number, urlPath = '/index.html') => ['-t1', `-c${HTTP_CONNS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${urlPath}`];

const rotate = <T>(items: readonly T[], k: number) => [...items.slice(k % items.length), ...items.slice(0, k % items.length)];

/** Measures the running contenders (already started) with wrk turns; `ctx.reps` samples each. */
export async function measureHttp(ctx: RunContext, running: readonly Running[], urlPath = '/index.html'): Promise<ContenderResult[]> {
  const ids = running.map((r) => r.id);
  const results = new Map<ContenderId, Sample[]>(ids.map((id) => [id, []]));
  const turns = Math.max(1, Math.round(ctx.duration / TURN_SECONDS));
  // wrk has no warm-up phase of its own: one unmeasured run each first.
  for (const r of running) await runWrk(wrkArgs(r.port, Math.max(1, Math.round(ctx.warmup)), urlPath), r.pid);
  for (let rep = 0; rep < ctx.reps; rep++) {
    const runs = new Map<ContenderId, WrkRun[]>(ids.map((id) => [id, []]));
    for (let turn = 0; turn < turns; turn++) {
      for (const r of rotate(running, rep + turn)) runs.get(r.id)?.push(await runWrk(wrkArgs(r.port, TURN_SECONDS, urlPath), r.pid));
    }
    for (const r of running) {
      const mine = runs.get(r.id) ?? [];
      const seconds = mine.reduce((a, w) => a + w.report.seconds, 0);
      const weighted = (pick: (w: WrkRun) => number) => mine.reduce((a, w) => a + pick(w) * w.report.seconds, 0) / seconds;
      const sample: Sample = {
        value: mine.reduce((a, w) => a + w.report.requests, 0) / seconds,
        p50Us: median(mine.map((w) => w.report.p50_us)),
        p99Us: median(mine.map((w) => w.report.p99_us)),
        errors: mine.reduce((a, w) => a + w.report.errors + w.report.non2xx, 0),
        serverCloses: 0,
        serverCpu: weighted((w) => w.serverCpu),
        clientCpu: weighted((w) => w.clientCpu),
      };
      results.get(r.id)?.push(sample);
      ctx.log(
        `  ${r.id.padEnd(11)} rep ${rep + 1}: ${sample.value.toFixed(0)} req/s p99 ${sample.p99Us} us, server cpu ${(sample.serverCpu * 100).toFixed(0)} % ` +
          `(${((sample.serverCpu * 1e6) / sample.value).toFixed(2)} µs each), wrk cpu ${(sample.clientCpu * 100).toFixed(0)} %${sample.errors ? `, ${sample.errors} errors` : ''}`,
      );
    }
  }
  return ids.map((id) => ({ id, samples: results.get(id) ?? [] }));
}
