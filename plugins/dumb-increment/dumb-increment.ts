/** @module dumb-increment-protocol: a counter per connection, sent every 50 ms (wire-compatible with libwebsockets). */
import { defineProtocol, definePlugin, type Timer } from '../../server/plugin/api.ts';

const options = {
  options: { type: 'int', default: 0, doc: 'Bit 0 set ("1") disables the 50 ms timer.' },
} as const;

interface VhostState {
  readonly timer: Timer | undefined;
}

interface Session {
  number: number;
}

export default definePlugin({
  apiVersion: 1,
  name: 'dumb-increment',
  protocols: [
    defineProtocol<VhostState, Session, typeof options>({
      name: 'dumb-increment-protocol',
      options,
      session: () => ({ number: 0 }),
      callbacks: {
        init(vhost, opts) {
          const timer = opts.options & 1 ? undefined : vhost.setInterval(50, () => vhost.requestWritableAll());
          return { timer };
        },
        writable(conn) {
          conn.write(String(conn.session.number++), false);
        },
        receive(conn, data) {
          if (data.length < 6) return;
          const text = data.toString('latin1');
          if (text.startsWith('reset\n')) conn.session.number = 0;
          if (text.startsWith('closeme\n')) conn.close(1001, 'seeya');
        },
      },
    }),
  ],
});
