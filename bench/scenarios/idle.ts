/** @module Scenario 5: idle websockets held open; server memory (RSS) per connection, as the slope between two connection counts. */
import type { ContenderId, Running } from '../lib/contenders.ts';
import { loadgenArgs, runIdle, type ServerReport } from '../lib/loadgen.ts';
import { rssBytes, sleep } from '../lib/proc.ts';
import { loadCommand, rotation, startAll, stopAll, type ContenderResult, type LoadOptions, type RunContext, type Sample, type Scenario } from '../lib/scenario.ts';

const IDS: readonly ContenderId[] = ['tsws', 'uws', 'ws', 'lws'];
/**
 * Two steps of 8000: 16000 in all. The open-file limit here is 20000 per
 * process and tsws's fd guard refuses connections past 90 % of it (18000
 * descriptors), so 16000 is what every contender holds without an error.
 */
const STEP = 8000;
/**
 * How long a fresh server is left empty before anything is measured. A tsws
 * process returns its start-up garbage (tsx's compiled modules, two isolates'
 * heaps: the serving worker's and the supervisor's) in steps of 5-20 MiB,
 * whenever V8's memory reducer decides, 15-55 s after start in traces of an
 * empty server. Such a step must not fall between the two readings: see
 * DROP_BYTES for the ones that still do.
 */
const EMPTY_MS = 45_000;
/** After each step, before RSS is read: longer than the memory reducer's 8 s, so that a step's upgrade garbage is collected before its reading. */
const SETTLE_MS = 12_000;
/**
 * RSS is sampled every 500 ms between the two readings; it only grows there
 * unless the process returns garbage it made before the first reading. A
 * fall of this much below the highest sample since the first reading (at
 * once or little by little) voids the measurement, which is made again on
 * a fresh server (at most MAX_TRIES in all).
 */
const DROP_BYTES = 4 * 2 ** 20;
const MAX_TRIES = 3;

/** lws's test server has no echo protocol; an idle mirror member is its cheapest websocket. */
const protocolOf = (id: ContenderId) => (id === 'lws' ? 'lws-mirror-protocol' : 'echo');

const errorsOf = (r: ServerReport) => r.errors.connect + r.errors.handshake + r.errors.protocol;

interface Measurement {
  /** RSS of the empty server, then at the first step and at the second. */
  readonly base: number;
  readonly r1: number;
  readonly r2: number;
  /** Connections open at each reading. */
  readonly n1: number;
  readonly n2: number;
  readonly errors: number;
  readonly serverCloses: number;
  readonly connectSeconds: number;
  /** The largest fall below the highest sample from the first reading to the second, in MiB, when over DROP_BYTES; else 0. */
  readonly droppedMiB: number;
}

/** A fresh server, left empty EMPTY_MS, measured, stopped: a measurement made again. */
async function measureFresh(ctx: RunContext, id: ContenderId, opts: LoadOptions): Promise<Measurement> {
  const [server] = await startAll([id], ctx);
  if (!server) throw new Error(`${id} did not start`);
  try {
    await sleep(EMPTY_MS);
    return await measureOn(ctx, server, opts);
  } finally {
    await stopAll([server]);
  }
}

/** Two steps of STEP connections on a server left empty since its start, the second load generator opening its step while the first holds its own. */
async function measureOn(ctx: RunContext, server: Running, opts: LoadOptions): Promise<Measurement> {
  const base = rssBytes(server.pid);
  const args = loadgenArgs(opts, [server.port]);
  let r1 = Number.NaN;
  let r2 = Number.NaN;
  let n1 = 0;
  let n2 = 0;
  let second: ServerReport | undefined;
  let peak = Number.NaN;
  let drop = 0;
  const watch = setInterval(() => {
    const now = rssBytes(server.pid);
    peak = Math.max(peak, now);
    drop = Math.max(drop, peak - now);
  }, 500);
  try {
    const first = await runIdle(ctx.env.loadgen, args, async (n) => {
      n1 = n;
      await sleep(SETTLE_MS);
      r1 = peak = rssBytes(server.pid);
      drop = 0;
      second = await runIdle(ctx.env.loadgen, args, async (m) => {
        n2 = n + m;
        await sleep(SETTLE_MS);
        r2 = rssBytes(server.pid);
        drop = Math.max(drop, peak - r2);
      });
    });
    const s = second as ServerReport | undefined;
    return {
      base, r1, r2, n1, n2,
      errors: errorsOf(first) + (s ? errorsOf(s) : 0),
      serverCloses: first.server_closes + (s?.server_closes ?? 0),
      connectSeconds: first.connect_seconds + (s?.connect_seconds ?? 0),
      droppedMiB: drop > DROP_BYTES ? drop / 2 ** 20 : 0,
    };
  } finally {
    clearInterval(watch);
  }
}

export const idleScenario: Scenario = {
  id: 'idle',
  async run(ctx) {
    const title = `5. ${2 * STEP} idle connections`;
    ctx.log(`${title} (${ctx.runtime.label})`);
    // 64 source addresses: lws's test server allows 400 connections per peer address (each step puts 125 on each).
    const optsFor = (id: ContenderId) => ({ mode: 'idle', protocol: protocolOf(id), conns: STEP, sources: 64, handshakes: 128 });
    const results = new Map<ContenderId, Sample[]>(IDS.map((id) => [id, []]));
    for (let rep = 0; rep < ctx.reps; rep++) {
      // Every contender's fresh server starts at once and waits out EMPTY_MS together: one wait per
      // repetition, not one per contender (each is measured alone, the others idle meanwhile).
      const running = await startAll(IDS, ctx);
      const byId = new Map(running.map((r) => [r.id, r]));
      await sleep(EMPTY_MS);
      for (const id of rotation(IDS, rep)) {
        const server = byId.get(id);
        if (!server) throw new Error(`${id} did not start`);
        byId.delete(id);
        let m: Measurement;
        try {
          m = await measureOn(ctx, server, optsFor(id));
        } catch (err) {
          await stopAll([...byId.values()]);
          throw err;
        } finally {
          await stopAll([server]);
        }
        for (let tries = 1; m.droppedMiB > 0 && tries < MAX_TRIES; tries++) {
          ctx.log(`  ${id.padEnd(9)} rep ${rep + 1}: RSS fell ${m.droppedMiB.toFixed(1)} MiB between the readings (start-up garbage returned): again on a fresh server`);
          m = await measureFresh(ctx, id, optsFor(id));
        }
        const { base, r1, r2, n1, n2, errors } = m;
        const perConn = (r2 - r1) / Math.max(1, n2 - n1);
        const overEmpty = (r2 - base) / Math.max(1, n2);
        // The first step's cost per connection: far below the second's, the server was still reusing start-up memory it had not returned.
        const firstStep = (r1 - base) / Math.max(1, n1);
        const mib = (b: number) => b / 2 ** 20;
        results.get(id)?.push({
          value: perConn,
          p50Us: Number.NaN,
          p99Us: Number.NaN,
          errors,
          serverCloses: m.serverCloses,
          serverCpu: Number.NaN,
          clientCpu: Number.NaN,
          extra: { baselineMiB: mib(base), halfMiB: mib(r1), heldMiB: mib(r2), overEmpty, firstStep, connected: n2, connectSeconds: m.connectSeconds },
        });
        ctx.log(
          `  ${id.padEnd(9)} rep ${rep + 1}: empty ${mib(base).toFixed(1)} MiB, ${n1} open ${mib(r1).toFixed(1)}, ${n2} open ${mib(r2).toFixed(1)}: ` +
            `${perConn.toFixed(0)} B/connection (${overEmpty.toFixed(0)} over the empty server)${errors ? `, ${errors} errors` : ''}` +
            `${m.droppedMiB > 0 ? `; RSS still fell ${m.droppedMiB.toFixed(1)} MiB between the readings` : ''}`,
        );
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
          `read ${SETTLE_MS / 1000} s after its step; a fresh server per measurement, left empty ${EMPTY_MS / 1000} s first (all contenders' at once, then measured in turn). The slope does not depend on the ` +
          'empty server\'s RSS, which for tsws keeps falling in 5-20 MiB steps for up to ~55 s after start as V8 returns its start-up garbage; RSS is sampled ' +
          `every 0.5 s between the two readings, and a fall of more than ${DROP_BYTES / 2 ** 20} MiB below its highest there (such a step, late) voids the measurement, made ` +
          `again on a fresh server (at most ${MAX_TRIES} tries). ${2 * STEP} because tsws's fd guard refuses connections past 90 % of the open-file limit ` +
          '(20000 here): every contender holds them all without an error. A server still holding its start-up garbage when the first step begins reads ' +
          'low (new connections fill free heap already resident): compare the empty RSS column (bench/findings.md, "Idle memory").',
        metric: { label: 'B/connection', higherIsBetter: false },
        latencyLabel: '',
        extraColumns: { baselineMiB: 'empty RSS MiB', halfMiB: `RSS MiB at ${STEP}`, heldMiB: `RSS MiB at ${2 * STEP}`, overEmpty: 'B/conn over empty', firstStep: `B/conn of the first ${STEP}`, connectSeconds: 'open all (s)' },
        commands: IDS.map((id) => `${loadCommand({ ...ctx, warmup: 0, duration: 0 }, optsFor(id)).replace(/ --warmup 0 --duration 0/, '')}   # ${id}, twice (one per step)`),
        contenders,
        targets: [{ atMost: 1024, unit: 'B/connection (1.0 KiB)' }],
        notes: [
          'Node contenders serve `echo`; lws serves `lws-mirror-protocol` (its test server has no echo). Nothing is sent while the connections are held.',
          `A server that has not yet returned its start-up memory when the first step begins hands it to the new connections, and the slope reads low: ` +
            `then "B/conn of the first ${STEP}" is far below the figure and "empty RSS" high. Such a figure says less than it seems (bench/findings.md, "Idle memory").`,
        ],
      },
    ];
  },
};
