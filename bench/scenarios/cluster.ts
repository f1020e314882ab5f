/** @module Scenario 11: mirror fan-out across a cluster: two tsws instances on one Redis against one instance alone (bench/cluster-mirror.ts, folded in). */
import { loadCommand, measureLoad, type Scenario } from '../lib/scenario.ts';

export const clusterScenario: Scenario = {
  id: 'cluster',
  async run(ctx) {
    const opts = { mode: 'mirror', protocol: 'lws-mirror-protocol', path: '/?mirror=bench', conns: 100, senders: 1, inflight: 8, size: 64, sources: 16 };
    const title = '11. Mirror fan-out through Redis, 1 sender to 100 members on two instances';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const ids = ['tsws-cluster', 'tsws'] as const;
    const contenders = await measureLoad(ctx, ids, opts);
    return [
      {
        id: 'cluster',
        runtime: ctx.runtime.label,
        title,
        what:
          'Scenario 3a\'s load (one sender keeps 8 messages of 64 B in flight to a group of 100) against two tsws instances sharing one mirror group through Redis: ' +
          'the sender and every other member on instance a, the other 50 members on instance b (the load generator\'s "--port a+b"). ' +
          'Against one tsws instance holding all 100 members. The sender paces on its own copy, which comes from its own instance: instance b\'s deliveries ' +
          'count when they arrive, and a lag shows in the latency. Figure: messages delivered to members per second.',
        metric: { label: 'deliveries/s', higherIsBetter: true, isRate: true },
        latencyLabel: 'send to delivery',
        commands: [loadCommand(ctx, opts, ['tsws-cluster', 'tsws']).replace('<tsws-cluster port>', '<a port>+<b port>')],
        contenders,
        targets: [{ subject: 'tsws-cluster', against: 'tsws', atLeast: 0.5 }],
        notes: [
          'Server CPU of "tsws ×2 + Redis" is both instances\' and Redis\'s together. On two cores the cluster cannot outrun one instance: ' +
            'the goal (at least half of one instance) bounds what crossing Redis costs.',
        ],
      },
    ];
  },
};
