/** @module Scenario 7: connection setup rate, websocket upgrades per second with 32 in progress at a time. */
import { loadCommand, measureLoad, type Scenario } from '../lib/scenario.ts';

export const connectScenario: Scenario = {
  id: 'connect',
  async run(ctx) {
    const opts = { mode: 'connect', protocol: 'lws-mirror-protocol', path: '/?mirror=connect', conns: 32, handshakes: 32, sources: 16 };
    const title = '7. Connection setup rate';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const contenders = await measureLoad(ctx, ['tsws', 'tsws-log', 'uws', 'ws', 'lws'], opts);
    return [
      {
        id: 'connect',
        runtime: ctx.runtime.label,
        title,
        what:
          '32 clients each connect, upgrade to lws-mirror-protocol (joining a mirror group), and reset the connection as soon as the 101 arrives, then start over ' +
          '(RST, so neither side keeps TIME_WAIT). Figure: upgrades completed per second; latency is connect() to 101.',
        metric: { label: 'upgrades/s', higherIsBetter: true, isRate: true },
        latencyLabel: 'connect to 101',
        commands: [loadCommand(ctx, opts, ['tsws', 'tsws-log', 'uws', 'ws', 'lws'])],
        contenders,
        targets: [],
        notes: [],
      },
    ];
  },
};
