/** hello: answers each text message with a greeting that contains it ("hello, <message>"). */
import { definePlugin, defineProtocol } from 'tsws/plugin';

const options = {
  greeting: { type: 'string', default: 'hello', doc: 'What each answer starts with.' },
} as const;

interface VhostState {          // one per vhost enabling the protocol
  readonly greeting: string;
}

interface Session {             // one per connection
  readonly outbox: string[];
}

export default definePlugin({
  apiVersion: 1,
  protocols: [
    defineProtocol<VhostState, Session, typeof options>({
      name: 'hello',            // the Sec-WebSocket-Protocol name
      maxMessageSize: 4096,     // a longer message closes the connection with 1009
      options,
      session: () => ({ outbox: [] }),
      callbacks: {
        init: (vhost, opts) => ({ greeting: opts.greeting }),
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
