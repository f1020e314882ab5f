/** @module Scenario 8: an http:// proxy mount against nginx proxy_pass, both in front of the same upstream (raw uWS.js serving the 4 KiB file). */
import { HTTP_CONNS, TURN_SECONDS, measureHttp, wrkArgs } from '../lib/http-load.ts';
import { startAll, stopAll, type Scenario } from '../lib/scenario.ts';

export const proxyScenario: Scenario = {
  id: 'proxy',
  async run(ctx) {
    const title = '8. HTTP reverse proxy';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const [upstream] = await startAll(['uws'], ctx);
    if (!upstream) throw new Error('the upstream did not start');
    try {
      const proxies = await startAll(['tsws-proxy', 'nginx-proxy'], ctx, upstream.port);
      // The upstream also takes turns of its own: the ceiling any proxy in front of it can reach.
      const contenders = await measureHttp(ctx, [...proxies, upstream]).finally(() => stopAll(proxies));
      return [
        {
          id: 'proxy',
          runtime: ctx.runtime.label,
          title,
          what:
            `wrk, one thread, ${HTTP_CONNS} keep-alive connections, GET /index.html through each proxy to one upstream, raw uWS.js answering from memory ` +
            `(on the same runtime), in ${TURN_SECONDS} s turns. tsws: one http:// mount of "/" (an undici Pool, which keeps upstream ` +
            'connections alive and reuses them); nginx: one worker, proxy_pass over HTTP/1.1 with an upstream keepalive pool of 128. ' +
            'The "raw uWS.js" row is wrk on the upstream directly. Figure: requests per second.',
          metric: { label: 'req/s', higherIsBetter: true, isRate: true },
          latencyLabel: 'latency',
          commands: [['wrk', ...wrkArgs('<port>', TURN_SECONDS)].join(' ')],
          contenders,
          targets: [{ subject: 'tsws-proxy', against: 'nginx-proxy', atLeast: 1.0 }],
          notes: ["Server CPU is the proxy process's own (nginx: its worker); the upstream's is not in it. On two cores wrk, the proxy and the upstream share them."],
        },
      ];
    } finally {
      await stopAll([upstream]);
    }
  },
};
