/** @module Scenario 10: count-threads 2 against 1, for echo 64 B (the load generator) and static GET (wrk), with the client's share of the two cores. */
import { HTTP_CONNS, TURN_SECONDS, measureHttp, wrkArgs } from '../lib/http-load.ts';
import { loadCommand, measureLoad, startAll, stopAll, type Scenario, type ScenarioResult } from '../lib/scenario.ts';

const IDS = ['tsws-2t', 'tsws'] as const;
const NOTE =
  'The machine has two cores and the client needs most of one (its CPU column): two server threads can at best share what is left, ' +
  'so this measures what a second thread costs or buys here, not how tsws scales on a machine with cores to spare.';

export const threadsScenario: Scenario = {
  id: 'threads',
  async run(ctx) {
    const echoOpts = { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, size: 64, binary: true, sources: 16 };
    const echoTitle = '10a. count-threads 2 against 1: echo, 64 B messages';
    ctx.log(`${echoTitle} (${ctx.runtime.label})`);
    const echo: ScenarioResult = {
      id: 'threads-echo',
      runtime: ctx.runtime.label,
      title: echoTitle,
      what: 'Scenario 1\'s load against tsws with count-threads 2 (two worker threads, one listener through SO_REUSEPORT) and with the default 1. Figure: messages echoed per second.',
      metric: { label: 'echoes/s', higherIsBetter: true, isRate: true },
      latencyLabel: 'round trip',
      commands: [loadCommand(ctx, echoOpts, IDS)],
      contenders: await measureLoad(ctx, IDS, echoOpts),
      targets: [{ subject: 'tsws-2t', against: 'tsws', atLeast: 1.0 }],
      notes: [NOTE],
    };
    const staticTitle = '10b. count-threads 2 against 1: static file GET';
    ctx.log(`${staticTitle} (${ctx.runtime.label})`);
    const running = await startAll(IDS, ctx);
    const contenders = await measureHttp(ctx, running).finally(() => stopAll(running));
    const stat: ScenarioResult = {
      id: 'threads-static',
      runtime: ctx.runtime.label,
      title: staticTitle,
      what: `Scenario 6's wrk load (one wrk thread, ${HTTP_CONNS} connections) against tsws with count-threads 2 and 1. Figure: requests per second.`,
      metric: { label: 'req/s', higherIsBetter: true, isRate: true },
      latencyLabel: 'latency',
      commands: [['wrk', ...wrkArgs('<port>', TURN_SECONDS)].join(' ')],
      contenders,
      targets: [{ subject: 'tsws-2t', against: 'tsws', atLeast: 1.0 }],
      notes: [NOTE],
    };
    return [echo, stat];
  },
};
