/** @module Scenario 6: GET of one 4 KiB static file with wrk: tsws's file:// mount against raw uWS.js and node:http serving it from memory, and nginx from disk. */
import type { ContenderId } from '../lib/contenders.ts';
import { HTTP_CONNS, TURN_SECONDS, measureHttp, wrkArgs } from '../lib/http-load.ts';
import { startAll, stopAll, type Scenario } from '../lib/scenario.ts';

const IDS: readonly ContenderId[] = ['tsws', 'tsws-log', 'uws', 'node-http', 'nginx'];

export const staticFilesScenario: Scenario = {
  id: 'static',
  async run(ctx) {
    const title = '6. Static file GET';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const running = await startAll(IDS, ctx);
    const contenders = await measureHttp(ctx, running).finally(() => stopAll(running));
    return [
      {
        id: 'static',
        runtime: ctx.runtime.label,
        title,
        what:
          `wrk, one thread, ${HTTP_CONNS} keep-alive connections, GET /index.html (4 KiB), in ${TURN_SECONDS} s turns per contender, round-robin. tsws serves it through its file:// mount ` +
          '(kept in memory, revalidated by stat at most once a second, ETag, Cache-Control); "tsws + access log" also writes an lwsws access-log line per request. ' +
          'Raw uWS.js and node:http answer from memory with the same headers and no log; nginx (one worker process, access_log off, sendfile on) serves the same file from disk.',
        metric: { label: 'req/s', higherIsBetter: true, isRate: true },
        latencyLabel: 'latency',
        commands: [['wrk', ...wrkArgs('<port>', TURN_SECONDS)].join(' ')],
        contenders,
        targets: [
          { against: 'uws', atLeast: 0.9 },
          { against: 'nginx', atLeast: 1.0 },
        ],
        notes: [
          "Not run against lws: its test server allows only 24 requests in progress per peer address and wrk cannot spread its connections over addresses.",
          "nginx's server CPU is its worker process's (the master only waits).",
        ],
      },
    ];
  },
};
