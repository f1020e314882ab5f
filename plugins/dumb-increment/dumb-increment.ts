/** @module dumb-increment-protocol: a counter per connection, sent every 50 ms (wire-compatible with libwebsockets). */
import { definePlugin } from '../../server/plugin/api.ts';

const options = {
  options: { type: 'int', default: 0, doc: 'Bit 0 set ("1") disables the 50 ms timer.' },
} as const;

export default definePlugin({
  apiVersion: 2,
  name: 'dumb-increment',
  protocols: (protocol) => [
    protocol({
      name: 'dumb-increment-protocol',
      options,
      init(vhost, opts) {
        const timer = opts.options & 1 ? undefined : vhost.setInterval(50, () => vhost.requestWritableAll());
        return { timer };
      },
      websocket: {
        session: () => ({ number: 0 }),
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
