/**
 * @module Test plugin (apiVersion 2): channels served to tsws/client with channelFrames, as a plugin
 * author would write it. "room:*" channels keep history and take publishes from clients, "news:*"
 * are read-only for clients, anything else is refused; a `?name=` joins the rooms' presence. A text
 * that is not a channel frame comes back as "own: <text>" (the protocol's own messages, mixed in).
 * test/client-*.test.ts run it.
 */
import { definePlugin, type Conn } from 'tsws/plugin';
import { channelFrames } from 'tsws/plugin/runtime';

const options = {
  'history-size': { type: 'int', default: 100, doc: 'Publications each channel keeps for resume.' },
} as const;

interface Session {
  readonly name: string | undefined;
  /** Replies of the protocol's own, waiting for writables. */
  readonly own: string[];
}

const frames = channelFrames({
  channel: (conn: Conn<{ historySize: number }, Session>, name) =>
    /^(room|news):/.test(name) ? conn.vhost.channels.channel(name, { history: { size: conn.vhost.state.historySize } }) : undefined,
  mayPublish: (_conn, channel) => channel.name.startsWith('room:'),
  presenceInfo: (conn, channel) => (channel.name.startsWith('room:') && conn.session.name !== undefined ? { name: conn.session.name } : undefined),
});

export default definePlugin({
  apiVersion: 2,
  name: 'channels-demo',
  protocols: (protocol) => [
    protocol({
      name: 'channels-demo',
      options,
      init: (_vhost, opts) => ({ historySize: opts['history-size'] }),
      websocket: {
        session: (_vhost, req): Session => ({ name: req.queryParam('name'), own: [] }),
        receive(conn, data, isBinary) {
          if (frames.receive(conn, data, isBinary)) return;
          conn.session.own.push(`own: ${data.toString()}`);
          conn.requestWritable();
        },
        writable(conn) {
          if (!frames.writeNext(conn)) {
            const own = conn.session.own.shift();
            if (own !== undefined) conn.write(own);
          }
          if (conn.session.own.length > 0) conn.requestWritable();
        },
        closed(conn) {
          frames.closed(conn);
        },
      },
    }),
  ],
});
