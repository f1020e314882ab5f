/** @module Scenario 12: scenario 3's fan-out through a channel with history, a channel without, and a plain topic (bench/plugins/bench-fanout.ts). */
import { loadCommand, measureLoad, type RunContext, type Scenario, type ScenarioResult } from '../lib/scenario.ts';

const IDS = ['tsws-history', 'tsws-channel', 'tsws-topic'] as const;

async function fanout(ctx: RunContext, senders: number, inflight: number, id: string, title: string): Promise<ScenarioResult> {
  // Scenario 3's load unchanged: bench-fanout takes ?mirror= and sends each publication's raw data, as lws-mirror-protocol does.
  const opts = { mode: 'mirror', protocol: 'bench-fanout', path: '/?mirror=bench', conns: 100, senders, inflight, size: 64, sources: 16 };
  ctx.log(`${title} (${ctx.runtime.label})`);
  const contenders = await measureLoad(ctx, IDS, opts);
  return {
    id,
    runtime: ctx.runtime.label,
    title,
    what:
      `Scenario 3${senders === 1 ? 'a' : 'b'}'s load (${opts.conns} members of one group, ${senders === 1 ? 'one of them sends' : `all ${senders} send`}, ` +
      `${inflight} message(s) of 64 B in flight each) against one plugin, bench/plugins/bench-fanout.ts, in three tsws processes: members subscribed to a channel ` +
      'keeping its last 1000 publications, to a channel keeping none, and to a plain topic (vhost.publish). Members write the raw data either way. ' +
      'Figure: messages delivered to members per second.',
    metric: { label: 'deliveries/s', higherIsBetter: true, isRate: true },
    latencyLabel: 'send to delivery',
    commands: [loadCommand(ctx, opts, IDS)],
    contenders,
    // [7/8]: what a channel adds per publication (an offset, a kept copy, the position on each delivery) costs at most a fifth; README.md says why 0.8.
    targets: [
      { subject: 'tsws-history', against: 'tsws-topic', atLeast: 0.8 },
      { subject: 'tsws-channel', against: 'tsws-topic', atLeast: 0.8 },
    ],
    notes: [
      'The channels use the process-local store (no "cluster" block, count-threads 1); a publication is stored and offered to the members in the same process, as a topic\'s is.',
    ],
  };
}

export const channelFanoutScenario: Scenario = {
  id: 'channels',
  run: async (ctx) => [
    await fanout(ctx, 1, 8, 'channels-1', '12a. Channel fan-out with history against plain publish, 1 sender to 100 members'),
    await fanout(ctx, 100, 1, 'channels-100', '12b. Channel fan-out with history against plain publish, 100 senders to 100 members'),
  ],
};
