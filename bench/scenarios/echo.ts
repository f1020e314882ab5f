/** @module Scenarios 1 and 2: echo, 100 connections with 8 binary messages in flight each, 64 B and 16 KiB. */
import { loadCommand, measureLoad, type RunContext, type Scenario, type ScenarioResult } from '../lib/scenario.ts';

async function echo(ctx: RunContext, size: number, id: string, title: string): Promise<ScenarioResult> {
  const opts = { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, size, binary: true, sources: 16 };
  ctx.log(`${title} (${ctx.runtime.label})`);
  const contenders = await measureLoad(ctx, ['tsws', 'uws', 'ws'], opts);
  return {
    id,
    runtime: ctx.runtime.label,
    title,
    what: `${opts.conns} connections each keep ${opts.inflight} binary messages of ${size} B in flight; every echoed message is answered with a new one. Figure: messages echoed per second.`,
    metric: { label: 'echoes/s', higherIsBetter: true, isRate: true },
    latencyLabel: 'round trip',
    commands: [loadCommand(ctx, opts, ['tsws', 'uws', 'ws'])],
    contenders,
    targets: [
      { against: 'uws', atLeast: 0.9 },
      { against: 'ws', atLeast: 3 },
    ],
    notes: ['libwebsockets-test-server has no echo protocol, so it sits this one out.'],
  };
}

export const echoScenario: Scenario = {
  id: 'echo',
  run: async (ctx) => [await echo(ctx, 64, 'echo-64', '1. Echo, 64 B messages'), await echo(ctx, 16 * 1024, 'echo-16k', '2. Echo, 16 KiB messages')],
};
