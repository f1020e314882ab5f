/** hello: answers each text message with a greeting that contains it ("hello, <message>"). */
import { definePlugin } from 'tsws/plugin';

const options = {
  greeting: { type: 'string', default: 'hello', doc: 'What each answer starts with.' },
} as const;

export default definePlugin({
  apiVersion: 2,
  protocols: (protocol) => [
    protocol({
      name: 'hello',            // the Sec-WebSocket-Protocol name
      maxMessageSize: 4096,     // a longer message closes the connection with 1009
      options,
      init: (vhost, opts) => ({ greeting: opts.greeting }),       // this vhost's state: conn.vhost.state
      websocket: {
        session: (): { outbox: string[] } => ({ outbox: [] }),    // each connection's state: conn.session
        receive(conn, data, isBinary) {
          if (isBinary) return conn.close(1003, 'text only');
          conn.session.outbox.push(`${conn.vhost.state.greeting}, ${data.toString()}`);
          conn.requestWritable();                 // writable() runs once the connection can take data
        },
        writable(conn) {                          // one write per call: tsws enforces it
          const next = conn.session.outbox.shift();
          if (next !== undefined) conn.write(next);
          if (conn.session.outbox.length > 0) conn.requestWritable();
        },
      },
    }),
  ],
});
