/** @module Scenario 5: idle websockets held open; server memory (RSS) per connection, as the slope between two connection counts. */
import type { ContenderId } from '../lib/contenders.ts';
import { loadgenArgs, runIdle, type ServerReport } from '../lib/loadgen.ts';
import { rssBytes, sleep } from '../lib/proc.ts';
import { loadCommand, rotation, startAll, stopAll, type ContenderResult, type Sample, type Scenario } from '../lib/scenario.ts';

const IDS: readonly ContenderId[] = ['tsws', 'uws', 'ws', 'lws'];
/**
 * Two steps of 8000: 16000 in all. The open-file limit here is 20000 per
 * process and tsws's fd guard refuses connections past 90 % of it (18000
 * descriptors), so 16000 is what every contender holds without an error.
 */
const STEP = 8000;
/**
 * How long a fresh server is left empty before anything is measured: a
 * tsws process returns its start-up garbage (tsx's compiled modules, the
 * loader's worker) in steps of ~10 MiB until ~20 s after start, which must
 * not happen between the two readings.
 */
const EMPTY_MS = 20_000;
/** After each step, before RSS is read: the connections' upgrade garbage collected, RSS flat again. */
const SETTLE_MS = 10_000;

/** lws's test server has no echo protocol; an idle mirror member is its cheapest websocket. */
const protocolOf = (id: ContenderId) => (id === 'lws' ? 'lws-mirror-protocol' : 'echo');

const errorsOf = (r: ServerReport) => r.errors.connect + r.errors.handshake + r.errors.protocol;

export const idleScenario: Scenario = {
  id: 'idle',
  async run(ctx) {
    const title = `5. ${2 * STEP} idle connections`;
    ctx.log(`${title} (${ctx.runtime.label})`);
    // 64 source addresses: lws's test server allows 400 connections per peer address (each step puts 125 on each).
    const optsFor = (id: ContenderId) => ({ mode: 'idle', protocol: protocolOf(id), conns: STEP, sources: 64, handshakes: 128 });
    const results = new Map<ContenderId, Sample[]>(IDS.map((id) => [id, []]));
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const id of rotation(IDS, rep)) {
        // A fresh server each time, left empty long enough to have returned its start-up garbage.
        const [server] = await startAll([id], ctx);
        if (!server) throw new Error(`${id} did not start`);
        try {
          await sleep(EMPTY_MS);
          const base = rssBytes(server.pid);
          const rss = [Number.NaN, Number.NaN];
          const open = [0, 0];
          const args = loadgenArgs(optsFor(id), [server.port]);
          // The second load generator opens its step while the first still holds its own.
          let second: ServerReport | undefined;
          const first = await runIdle(ctx.env.loadgen, args, async (n) => {
            open[0] = n;
            await sleep(SETTLE_MS);
            rss[0] = rssBytes(server.pid);
            second = await runIdle(ctx.env.loadgen, args, async (m) => {
              open[1] = n + m;
              await sleep(SETTLE_MS);
              rss[1] = rssBytes(server.pid);
            });
          });
          const [n1 = 0, n2 = 0] = open;
          const [r1 = Number.NaN, r2 = Number.NaN] = rss;
          const perConn = (r2 - r1) / Math.max(1, n2 - n1);
          const overEmpty = (r2 - base) / Math.max(1, n2);
          const errors = errorsOf(first) + (second ? errorsOf(second) : 0);
          const mib = (b: number) => b / 2 ** 20;
          results.get(id)?.push({
            value: perConn,
            p50Us: Number.NaN,
            p99Us: Number.NaN,
            errors,
            serverCloses: first.server_closes + (second?.server_closes ?? 0),
            serverCpu: Number.NaN,
            clientCpu: Number.NaN,
            extra: { baselineMiB: mib(base), halfMiB: mib(r1), heldMiB: mib(r2), overEmpty, connected: n2, connectSeconds: first.connect_seconds + (second?.connect_seconds ?? 0) },
          });
          ctx.log(
            `  ${id.padEnd(9)} rep ${rep + 1}: empty ${mib(base).toFixed(1)} MiB, ${n1} open ${mib(r1).toFixed(1)}, ${n2} open ${mib(r2).toFixed(1)}: ` +
              `${perConn.toFixed(0)} B/connection (${overEmpty.toFixed(0)} over the empty server)${errors ? `, ${errors} errors` : ''}`,
          );
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
          `Websockets opened from 64 source addresses (127.0.0.1-64) and left idle, in two steps of ${STEP} (a load generator each, the first holding its ` +
          `${STEP} while the second opens more). Figure: the slope, (RSS at ${2 * STEP} − RSS at ${STEP}) / the connections the second step added, each RSS ` +
          `read ${SETTLE_MS / 1000} s after its step; a fresh server per measurement, left empty ${EMPTY_MS / 1000} s first. The slope does not depend on the ` +
          `empty server's RSS, which for tsws keeps falling in ~10 MiB steps for ~20 s after start. ${2 * STEP} because tsws's fd guard refuses connections ` +
          'past 90 % of the open-file limit (20000 here): every contender holds them all without an error.',
        metric: { label: 'B/connection', higherIsBetter: false },
        latencyLabel: '',
        extraColumns: { baselineMiB: 'empty RSS MiB', halfMiB: `RSS MiB at ${STEP}`, heldMiB: `RSS MiB at ${2 * STEP}`, overEmpty: 'B/conn over empty', connectSeconds: 'open all (s)' },
        commands: IDS.map((id) => `${loadCommand({ ...ctx, warmup: 0, duration: 0 }, optsFor(id)).replace(/ --warmup 0 --duration 0/, '')}   # ${id}, twice (one per step)`),
        contenders,
        targets: [{ atMost: 1024, unit: 'B/connection (1.0 KiB)' }],
        notes: ['Node contenders serve `echo`; lws serves `lws-mirror-protocol` (its test server has no echo). Nothing is sent while the connections are held.'],
      },
    ];
  },
};
