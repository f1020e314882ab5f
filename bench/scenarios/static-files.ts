/** @module Scenario 6: GET of one 4 KiB static file with wrk: tsws's file:// mount against raw uWS.js and node:http serving it from memory. */
import type { ContenderId } from '../lib/contenders.ts';
import { rotation, startAll, stopAll, type ContenderResult, type Sample, type Scenario } from '../lib/scenario.ts';
import { runWrk } from '../lib/wrk.ts';

const IDS: readonly ContenderId[] = ['tsws', 'uws', 'node-http'];
const CONNS = 100;

const wrkArgs = (port: number | '<port>', seconds: number) => ['-t1', `-c${CONNS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/index.html`];

export const staticFilesScenario: Scenario = {
  id: 'static',
  async run(ctx) {
    const title = '6. Static file GET';
    ctx.log(title);
    const running = await startAll(IDS, ctx.env);
    const results = new Map<ContenderId, Sample[]>(IDS.map((id) => [id, []]));
    try {
      // wrk has no warm-up phase of its own: one unmeasured run each first.
      for (const r of running) await runWrk(wrkArgs(r.port, Math.max(1, Math.round(ctx.warmup))), r.pid);
      for (let rep = 0; rep < ctx.reps; rep++) {
        for (const r of rotation(running, rep)) {
          const { report, serverCpu } = await runWrk(wrkArgs(r.port, Math.max(1, Math.round(ctx.duration))), r.pid);
          results.get(r.id)?.push({
            value: report.rate,
            p50Us: report.p50_us,
            p99Us: report.p99_us,
            errors: report.errors + report.non2xx,
            serverCloses: 0,
            serverCpu,
            clientCpu: Number.NaN,
          });
          ctx.log(`  ${r.id.padEnd(9)} rep ${rep + 1}: ${report.rate.toFixed(0)} req/s p99 ${report.p99_us} us, server cpu ${(serverCpu * 100).toFixed(0)} %`);
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
          `wrk, one thread, ${CONNS} keep-alive connections, GET /index.html (4 KiB). tsws serves it through its file:// mount (cache revalidated by stat once a second, ` +
          'ETag, Cache-Control) and writes an access-log line per request; raw uWS.js and node:http answer from memory with the same headers and no log.',
        metric: { label: 'req/s', higherIsBetter: true },
        latencyLabel: 'latency',
        commands: [['wrk', ...wrkArgs('<port>', Math.max(1, Math.round(ctx.duration)))].join(' ')],
        contenders,
        targets: [{ against: 'uws', atLeast: 0.8 }],
        notes: ["Not run against lws: its test server allows only 24 requests in progress per peer address and wrk cannot spread its connections over addresses."],
      },
    ];
  },
};
