/**
 * @module example-standalone-protocol: the Comlink v2 seed's worked example of a plugin (lws's
 * plugin-standalone), wire-compatible: a counter every 50 ms, and "reset\n" / "closeme\n" read
 * as lws reads them, in pieces of its 10-byte receive buffer.
 */
import { definePlugin } from '../../server/plugin/api.ts';

export default definePlugin({
  apiVersion: 2,
  name: 'example-standalone',
  protocols: (protocol) => [
    protocol({
      name: 'example-standalone-protocol',
      // The C plugin's rx buffer: a longer message arrives in 10-byte pieces, each compared on its own.
      rxBufferSize: 10,
      receiveFragments: true,
      // PROTOCOL_INIT: the uv timer, every 50 ms, asks for a writable on every connection.
      init: (vhost) => ({ timer: vhost.setInterval(50, () => vhost.requestWritableAll()) }),
      // PROTOCOL_DESTROY stops the timer: the framework cancels it with the vhost.
      websocket: {
        session: () => ({ number: 0 }),
        // SERVER_WRITEABLE: the counter as decimal text, then one more.
        writable(conn) {
          conn.write(String(conn.session.number++), false);
        },
        // RECEIVE: strcmp on the piece, so only a piece that is exactly the command counts.
        receive(conn, data) {
          if (data.length < 6) return;
          const text = data.toString('latin1');
          if (text === 'reset\n') conn.session.number = 0;
          if (text === 'closeme\n') conn.close(1001, 'seeya');
        },
      },
    }),
  ],
});
