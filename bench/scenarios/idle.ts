/** @module Scenario 5: 19000 idle websockets held open; server memory (RSS) per connection over the empty server's. */
import type { ContenderId } from '../lib/contenders.ts';
import { loadgenArgs, runIdle } from '../lib/loadgen.ts';
import { rssBytes, sleep } from '../lib/proc.ts';
import { loadCommand, rotation, startAll, stopAll, type ContenderResult, type Sample, type Scenario } from '../lib/scenario.ts';

const IDS: readonly ContenderId[] = ['tsws', 'uws', 'ws', 'lws'];
/** The open-file limit here is 20000 per process; this leaves room for each side's own descriptors. */
const CONNS = 19000;

/** lws's test server has no echo protocol; an idle mirror member is its cheapest websocket. */
const protocolOf = (id: ContenderId) => (id === 'lws' ? 'lws-mirror-protocol' : 'echo');

export const idleScenario: Scenario = {
  id: 'idle',
  async run(ctx) {
    const title = `5. ${CONNS} idle connections`;
    ctx.log(`${title} (${ctx.runtime.label})`);
    // 64 source addresses: lws's test server allows 400 connections per peer address.
    const optsFor = (id: ContenderId) => ({ mode: 'idle', protocol: protocolOf(id), conns: CONNS, sources: 64, handshakes: 128 });
    const results = new Map<ContenderId, Sample[]>(IDS.map((id) => [id, []]));
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const id of rotation(IDS, rep)) {
        // A fresh server each time: the baseline is an empty server that has never held a connection.
        const [server] = await startAll([id], ctx);
        if (!server) throw new Error(`${id} did not start`);
        try {
          await sleep(1000);
          const base = rssBytes(server.pid);
          let held = Number.NaN;
          let connected = 0;
          const report = await runIdle(ctx.env.loadgen, loadgenArgs(optsFor(id), [server.port]), async (n) => {
            connected = n;
            await sleep(2000);
            held = rssBytes(server.pid);
          });
          const perConn = (held - base) / Math.max(1, connected);
          const errors = report.errors.connect + report.errors.handshake + report.errors.protocol;
          results.get(id)?.push({
            value: perConn,
            p50Us: Number.NaN,
            p99Us: Number.NaN,
            errors,
            serverCloses: report.server_closes,
            serverCpu: Number.NaN,
            clientCpu: Number.NaN,
            extra: { baselineMiB: base / 2 ** 20, heldMiB: held / 2 ** 20, connected, connectSeconds: report.connect_seconds },
          });
          ctx.log(`  ${id.padEnd(9)} rep ${rep + 1}: ${connected} open, ${(base / 2 ** 20).toFixed(1)} → ${(held / 2 ** 20).toFixed(1)} MiB, ${perConn.toFixed(0)} B/connection${errors ? `, ${errors} errors` : ''}`);
        } finally {
          await stopAll([server]);
        }
      }
    }
    const contenders: ContenderResult[] = IDS.map((id) => ({ id, samples: results.get(id) ?? [] }));
    return [
      {
        id: 'idle',
        runtime: ctx.runtime.label,
        title,
        what:
          `${CONNS} websockets opened from 64 source addresses (127.0.0.1-64) and left idle. Figure: server RSS after they are all open (and 2 s settled) minus the RSS ` +
          'of the same server freshly started, divided by the connections; a fresh server per measurement.',
        metric: { label: 'B/connection', higherIsBetter: false },
        latencyLabel: '',
        extraColumns: { baselineMiB: 'empty RSS MiB', heldMiB: 'held RSS MiB', connectSeconds: 'open all (s)' },
        commands: IDS.map((id) => `${loadCommand({ ...ctx, warmup: 0, duration: 0 }, optsFor(id)).replace(/ --warmup 0 --duration 0/, '')}   # ${id}`),
        contenders,
        targets: [{ atMost: 1024, unit: 'B/connection (1.0 KiB)' }],
        notes: ['Node contenders serve `echo`; lws serves `lws-mirror-protocol` (its test server has no echo). Nothing is sent while the connections are held.'],
      },
    ];
  },
};
