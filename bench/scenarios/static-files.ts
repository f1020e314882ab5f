/** @module Scenario 6: GET of one 4 KiB static file with wrk: tsws's file:// mount against raw uWS.js and node:http serving it from memory. */
import type { ContenderId } from '../lib/contenders.ts';
import { rotation, startAll, stopAll, type ContenderResult, type Sample, type Scenario } from '../lib/scenario.ts';
import { median } from '../lib/report.ts';
import { runWrk, type WrkRun } from '../lib/wrk.ts';

const IDS: readonly ContenderId[] = ['tsws', 'tsws-log', 'uws', 'node-http'];
const CONNS = 100;
/** wrk runs whole seconds: each contender gets the load for this long, in turn. */
const TURN_SECONDS = 1;

const wrkArgs = (port: number | '<port>', seconds: number) => ['-t1', `-c${CONNS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/index.html`];

export const staticFilesScenario: Scenario = {
  id: 'static',
  async run(ctx) {
    const title = '6. Static file GET';
    ctx.log(title);
    const running = await startAll(IDS, ctx.env);
    const results = new Map<ContenderId, Sample[]>(IDS.map((id) => [id, []]));
    const turns = Math.max(1, Math.round(ctx.duration / TURN_SECONDS));
    try {
      // wrk has no warm-up phase of its own: one unmeasured run each first.
      for (const r of running) await runWrk(wrkArgs(r.port, Math.max(1, Math.round(ctx.warmup))), r.pid);
      for (let rep = 0; rep < ctx.reps; rep++) {
        // As the load generator does: short turns, round-robin, so machine drift hits every server alike.
        const runs = new Map<ContenderId, WrkRun[]>(IDS.map((id) => [id, []]));
        for (let turn = 0; turn < turns; turn++) {
          for (const r of rotation(running, rep + turn)) runs.get(r.id)?.push(await runWrk(wrkArgs(r.port, TURN_SECONDS), r.pid));
        }
        for (const r of running) {
          const mine = runs.get(r.id) ?? [];
          const seconds = mine.reduce((a, w) => a + w.report.seconds, 0);
          const sample: Sample = {
            value: mine.reduce((a, w) => a + w.report.requests, 0) / seconds,
            p50Us: median(mine.map((w) => w.report.p50_us)),
            p99Us: median(mine.map((w) => w.report.p99_us)),
            errors: mine.reduce((a, w) => a + w.report.errors + w.report.non2xx, 0),
            serverCloses: 0,
            serverCpu: mine.reduce((a, w) => a + w.serverCpu * w.report.seconds, 0) / seconds,
            clientCpu: Number.NaN,
          };
          results.get(r.id)?.push(sample);
          ctx.log(`  ${r.id.padEnd(9)} rep ${rep + 1}: ${sample.value.toFixed(0)} req/s p99 ${sample.p99Us} us, server cpu ${(sample.serverCpu * 100).toFixed(0)} % (${((sample.serverCpu * 1e6) / sample.value).toFixed(2)} µs each)`);
        }
      }
    } finally {
      await stopAll(running);
    }
    const contenders: ContenderResult[] = IDS.map((id) => ({ id, samples: results.get(id) ?? [] }));
    return [
      {
        id: 'static',
        title,
        what:
          `wrk, one thread, ${CONNS} keep-alive connections, GET /index.html (4 KiB), in ${TURN_SECONDS} s turns per contender, round-robin. tsws serves it through its file:// mount ` +
          '(kept in memory, revalidated by stat at most once a second, ETag, Cache-Control); "tsws + access log" also writes an lwsws access-log line per request. ' +
          'Raw uWS.js and node:http answer from memory with the same headers and no log.',
        metric: { label: 'req/s', higherIsBetter: true, isRate: true },
        latencyLabel: 'latency',
        commands: [['wrk', ...wrkArgs('<port>', TURN_SECONDS)].join(' ')],
        contenders,
        targets: [{ against: 'uws', atLeast: 0.8 }],
        notes: ["Not run against lws: its test server allows only 24 requests in progress per peer address and wrk cannot spread its connections over addresses."],
      },
    ];
  },
};
