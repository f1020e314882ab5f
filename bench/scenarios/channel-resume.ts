/**
 * @module Scenario 13: 1000 tsws/client readers on instance a of a two-instance cluster; a is
 * SIGKILLed, messages are published through b, a is started again: how long until every reader
 * has every missed message, in order and with no gap.
 */
import { WebSocket } from 'ws';
import { connect } from 'tsws/client';
import { READER_BACKOFF, openReaders, until, type Reader } from '../lib/channel-readers.ts';
import { CLUSTER_INSTANCES, startCluster, startInstance } from '../lib/cluster.ts';
import { writeTswsChannelClusterConfigs } from '../lib/configs.ts';
import { cpuSeconds, freePort, type Child } from '../lib/proc.ts';
import type { Sample, Scenario } from '../lib/scenario.ts';

const CHANNELS = Array.from({ length: 10 }, (_, i) => `bench:${i}`);
const PER_CHANNEL = 100;
/** Published to each channel while instance a is down: every reader resumes this many. */
const MISSED = 100;
/** [7/8]'s goal: every reader resumed within 5 s of instance a's ready line. */
const GOAL_SECONDS = 5;
const PROTOCOL = 'bench-channels';

const quantile = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;

export const channelResumeScenario: Scenario = {
  id: 'resume',
  async run(ctx) {
    const readers = CHANNELS.length * PER_CHANNEL;
    const title = `13. ${readers} channel clients resuming after a restart`;
    ctx.log(`${title} (${ctx.runtime.label})`);
    const ports = [await freePort(), await freePort()];
    const cluster = await startCluster(ctx.env, ctx.runtime, (redisPort) => writeTswsChannelClusterConfigs(ctx.env, redisPort, ports, CLUSTER_INSTANCES));
    const [redis, first, b] = cluster.children as [Child, Child, Child];
    let a = first;
    const samples: Sample[] = [];
    const publisher = connect(`ws://127.0.0.1:${ports[1]}/`, { protocol: PROTOCOL, WebSocket });
    try {
      for (let rep = 0; rep < ctx.reps; rep++) {
        const fleet = openReaders(`ws://127.0.0.1:${ports[0]}/`, PROTOCOL, CHANNELS, PER_CHANNEL);
        try {
          if (!(await until(() => fleet.every((r) => r.subscribed === 1), 60_000))) throw new Error('readers did not all subscribe within 60 s');
          // One message each first: the path works, and every reader holds a position to resume from.
          const warm = await Promise.all(CHANNELS.map((ch) => publisher.publish(ch, { warm: rep })));
          const warmOffset = new Map(CHANNELS.map((ch, i) => [ch, warm[i]?.offset ?? 0]));
          if (!(await until(() => fleet.every((r) => r.last === warmOffset.get(r.channel)), 30_000))) throw new Error('readers did not all get the first message');

          await a.stop('SIGKILL');
          const missed = await Promise.all(CHANNELS.flatMap((ch) => Array.from({ length: MISSED }, (_, i) => publisher.publish(ch, { n: i }))));
          const target = new Map<string, number>();
          for (const [i, ch] of CHANNELS.entries()) target.set(ch, Math.max(...missed.slice(i * MISSED, (i + 1) * MISSED).map((p) => p.offset)));
          for (const r of fleet) r.awaited = target.get(r.channel) ?? Number.POSITIVE_INFINITY;

          const restarted = await startInstance(ctx.env, ctx.runtime, cluster.dirs[0] ?? '');
          const t0 = performance.now();
          a = restarted.child;
          const pids = [a.pid, b.pid, redis.pid];
          const cpu0 = pids.map(cpuSeconds);
          const client0 = process.cpuUsage();
          const done = (r: Reader) => r.last >= r.awaited;
          await until(() => fleet.every(done), 60_000);
          const t1 = performance.now();
          const wall = (t1 - t0) / 1000;
          const client = process.cpuUsage(client0);
          const serverCpu = pids.map(cpuSeconds).reduce((s, c, i) => s + c - (cpu0[i] ?? 0), 0) / wall;

          const resumed = fleet.filter(done);
          const per = resumed.map((r) => Math.max(0, r.caughtUpAt - t0) * 1000);
          const seconds = Math.max(0, ...resumed.map((r) => r.caughtUpAt - t0)) / 1000;
          const reopened = Math.max(0, ...fleet.map((r) => r.openedAt - t0)) / 1000;
          const gaps = fleet.filter((r) => r.gaps > 0).length;
          const late = readers - resumed.length;
          samples.push({
            // Readers left behind make the figure the whole wait: never a success.
            value: late ? wall : seconds,
            p50Us: quantile(per, 0.5),
            p99Us: quantile(per, 0.99),
            errors: gaps + late,
            serverCloses: 0,
            serverCpu,
            clientCpu: (client.user + client.system) / 1e6 / wall,
            extra: { perSecond: (resumed.length * MISSED) / seconds, reopenSeconds: reopened, gapClients: gaps, lateClients: late },
          });
          ctx.log(
            `  tsws-resume rep ${rep + 1}: all ${readers} resumed in ${seconds.toFixed(2)} s after a's ready line (reopened within ${reopened.toFixed(2)} s), ` +
              `${((resumed.length * MISSED) / seconds).toFixed(0)} resumed messages/s, per reader p50 ${(quantile(per, 0.5) / 1e6).toFixed(2)} s; ` +
              `${gaps} with a gap, ${late} not caught up; server cpu ${(serverCpu * 100).toFixed(0)} %, client cpu ${(((client.user + client.system) / 1e6 / wall) * 100).toFixed(0)} %`,
          );
        } finally {
          for (const r of fleet) r.client.close();
        }
      }
    } finally {
      publisher.close();
      await Promise.all([a, b, redis].map((c) => c.stop()));
    }
    return [
      {
        id: 'resume',
        runtime: ctx.runtime.label,
        title,
        what:
          `Two tsws instances on one Redis serving bench/plugins/bench-channels.ts (channelFrames, history 1000). ${readers} tsws/client readers (Node, ws's WebSocket, in the harness ` +
          `process; retrying every ${READER_BACKOFF.initialMs}–${READER_BACKOFF.maxMs} ms) on instance a, ${PER_CHANNEL} on each of ${CHANNELS.length} channels; a publisher on instance b. ` +
          `Instance a is SIGKILLed, ${MISSED} messages are published to each channel through b, a is started again on its port. ` +
          `Figure: seconds from a's ready line until every reader has delivered every missed message, each checking that offsets follow one another with no gap.`,
        metric: { label: 's until all resumed', higherIsBetter: false, digits: 2 },
        latencyLabel: 'per reader, ready to caught up',
        extraColumns: { perSecond: 'resumed msgs/s', reopenSeconds: 'all reopened (s)', gapClients: 'readers with a gap', lateClients: 'readers not caught up' },
        commands: [`bench/scenarios/channel-resume.ts: ${readers} readers, ${CHANNELS.length} channels, ${MISSED} missed each (no load generator)`],
        contenders: [{ id: 'tsws-resume', samples }],
        targets: [{ subject: 'tsws-resume', atMost: GOAL_SECONDS, unit: 's until all readers resumed', short: 's', digits: 2 }],
        notes: [
          `Server CPU is both instances' and Redis's over the resume, in shares of one core; client CPU is the harness process's (its ${readers} readers), which on two cores competes with them. ` +
            'Readers with a gap, or not caught up after 60 s, must be 0: the errors column counts them.',
        ],
      },
    ];
  },
};
