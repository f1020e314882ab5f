/** @module Scenario 4: dumb-increment-protocol to 1000 connections, a counter every 50 ms each: what the server pays per frame. */
import { loadCommand, measureLoad, type Scenario } from '../lib/scenario.ts';

export const dumbIncrementScenario: Scenario = {
  id: 'dumb-increment',
  async run(ctx) {
    const opts = { mode: 'recv', protocol: 'dumb-increment-protocol', conns: 1000, sources: 16, handshakes: 32 };
    const title = '4. dumb-increment to 1000 connections';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const raw = await measureLoad(ctx, ['tsws', 'uws', 'ws', 'lws'], opts);
    // The rate is fixed by the protocol (20 frames/s per connection), so the figure is the server's CPU per frame.
    const contenders = raw.map((c) => ({
      id: c.id,
      samples: c.samples.map((s) => ({ ...s, value: s.value > 0 ? (s.serverCpu * 1e6) / s.value : Number.NaN, extra: { framesPerSec: s.value } })),
    }));
    return [
      {
        id: 'dumb-increment',
        runtime: ctx.runtime.label,
        title,
        what:
          '1000 connections receive a counter every 50 ms (20 000 frames/s in all when the server keeps time). Figure: server CPU time per frame sent ' +
          '(user + system of the server process over the window, divided by the frames received); latency columns are the gap between two frames on one connection.',
        metric: { label: 'server CPU µs/frame', higherIsBetter: false, digits: 2 },
        latencyLabel: 'gap between frames',
        extraColumns: { framesPerSec: 'frames/s' },
        commands: [loadCommand(ctx, opts)],
        contenders,
        targets: [],
        notes: [
          "lws 4.1.6's dumb-increment arms a 50 ms timer per connection and each timer asks for a writable on every connection of the protocol, " +
            'so with 1000 connections it sends several times more than 20 frames/s per connection; CPU per frame keeps the comparison fair.',
        ],
      },
    ];
  },
};
