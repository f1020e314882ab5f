/** @module Scenario 3: lws-mirror-protocol fan-out to 100 members, from one sender and from all 100. */
import { loadCommand, measureLoad, type RunContext, type Scenario, type ScenarioResult } from '../lib/scenario.ts';

async function mirror(ctx: RunContext, senders: number, inflight: number, id: string, title: string): Promise<ScenarioResult> {
  const opts = { mode: 'mirror', protocol: 'lws-mirror-protocol', path: '/?mirror=bench', conns: 100, senders, inflight, size: 64, sources: 16 };
  ctx.log(`${title} (${ctx.runtime.label})`);
  const contenders = await measureLoad(ctx, ['tsws', 'uws', 'ws', 'lws'], opts);
  return {
    id,
    runtime: ctx.runtime.label,
    title,
    what:
      `${opts.conns} members of one mirror group; ${senders === 1 ? 'one of them sends' : `all ${senders} send`}, keeping ${inflight} text message(s) of 64 B in flight each ` +
      '(a message counts as delivered back to its sender when the sender receives its own copy). Figure: messages delivered to members per second.',
    metric: { label: 'deliveries/s', higherIsBetter: true, isRate: true },
    latencyLabel: 'send to delivery',
    commands: [loadCommand(ctx, opts, ['tsws', 'uws', 'ws', 'lws'])],
    contenders,
    // [8/8]: one sender's fan-out is uWS.js's publish's home ground; many senders keep the older goals.
    targets:
      senders === 1
        ? [
            { against: 'lws', atLeast: 8 },
            { against: 'uws', atLeast: 0.9 },
          ]
        : [
            { against: 'lws', atLeast: 3 },
            { against: 'uws', atLeast: 0.5 },
          ],
    notes: [],
  };
}

export const mirrorScenario: Scenario = {
  id: 'mirror',
  run: async (ctx) => [
    await mirror(ctx, 1, 8, 'mirror-1', '3a. Mirror fan-out, 1 sender to 100 members'),
    await mirror(ctx, 100, 1, 'mirror-100', '3b. Mirror fan-out, 100 senders to 100 members'),
  ],
};
