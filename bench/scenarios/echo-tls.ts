/** @module Scenario 9: echo over TLS, 64 B messages: tsws's TLS vhost against uWS.js's SSLApp, the load generator speaking TLS (OpenSSL). */
import { loadCommand, measureLoad, type Scenario } from '../lib/scenario.ts';

export const echoTlsScenario: Scenario = {
  id: 'echo-tls',
  async run(ctx) {
    const opts = { mode: 'echo', protocol: 'echo', conns: 100, inflight: 8, size: 64, binary: true, sources: 16, tls: true };
    const title = '9. Echo over TLS, 64 B messages';
    ctx.log(`${title} (${ctx.runtime.label})`);
    const contenders = await measureLoad(ctx, ['tsws-tls', 'uws-tls'], opts);
    return [
      {
        id: 'echo-tls',
        runtime: ctx.runtime.label,
        title,
        what:
          `As scenario 1, over TLS: ${opts.conns} connections each keep ${opts.inflight} binary messages of 64 B in flight. Both servers present the same self-signed P-256 ` +
          "certificate; the load generator is an OpenSSL client (no verification, no session reuse: connections are made once), so the suite is what both ends prefer for TLS 1.3. " +
          'Figure: messages echoed per second.',
        metric: { label: 'echoes/s', higherIsBetter: true, isRate: true },
        latencyLabel: 'round trip',
        commands: [loadCommand(ctx, opts, ['tsws-tls', 'uws-tls'])],
        contenders,
        targets: [{ subject: 'tsws-tls', against: 'uws-tls', atLeast: 0.9 }],
        notes: ['Encryption costs the load generator too: see its CPU column against scenario 1.'],
      },
    ];
  },
};
