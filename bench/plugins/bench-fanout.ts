/** @module Bench plugin: lws-mirror-protocol's fan-out through a plain topic, a channel, or a channel keeping history, picked by the `mode` option. */
import { definePlugin, type Conn, type ProtocolVhost } from 'tsws/plugin';

const MODES = ['plain', 'channel', 'history'] as const;
type Mode = (typeof MODES)[number];

const options = {
  mode: { type: 'string', default: 'plain', doc: 'plain: vhost.publish to a topic; channel: a channel without history; history: a channel keeping 1000.' },
} as const;

/** The history the [7/8] scenario asks for: 1000 publications kept per channel. */
const HISTORY = { size: 1000 };

interface State {
  readonly mode: Mode;
}

/** The channel of a group, with the same options on every call (channel() throws if a later call disagrees). */
function channelOf(vhost: ProtocolVhost<State>, group: string) {
  return vhost.channels.channel(`fanout:${group}`, vhost.state.mode === 'history' ? { history: HISTORY } : {});
}

/** A failed subscribe or publish closes the connection 1011: the load generator counts the close, a run never stalls silently. */
function fail(conn: Conn, what: string): void {
  if (conn.isOpen) conn.close(1011, `channel ${what} failed`);
}

export default definePlugin({
  apiVersion: 2,
  name: 'bench-fanout',
  protocols: (protocol) => [
    protocol({
      name: 'bench-fanout',
      options,
      // lws-mirror's bounds, so that the three modes and scenario 3's mirror are held to the same slow-reader rule.
      maxMessageSize: 64 * 1024,
      inbox: { maxMessages: 512, maxBytes: 2 * 1024 * 1024, onOverflow: 'close' },
      init: (_vhost, opts): State => {
        const mode = opts.mode as Mode;
        if (!MODES.includes(mode)) throw new Error(`bench-fanout: mode must be one of ${MODES.join(', ')}, not "${mode}"`);
        return { mode };
      },
      websocket: {
        // The load generator's ?mirror= group, as lws-mirror-protocol takes it.
        session: (_vhost, req) => ({ group: req.queryParam('mirror') ?? '' }),
        established(conn) {
          if (conn.vhost.state.mode === 'plain') conn.subscribe(`fanout:${conn.session.group}`);
          // The local store subscribes before its first await: no publication can slip between.
          else channelOf(conn.vhost, conn.session.group).subscribe(conn).catch(() => fail(conn, 'subscribe'));
        },
        receive(conn, data) {
          // TEXT, as lws-mirror: the load generator's mirror mode reads the payload back as it sent it.
          if (conn.vhost.state.mode === 'plain') conn.vhost.publish(`fanout:${conn.session.group}`, data, false);
          else channelOf(conn.vhost, conn.session.group).publish(data, false).catch(() => fail(conn, 'publish'));
        },
        writable(conn) {
          // The raw data only, channel or not: what a channel adds is measured, not what a client frame would.
          const msg = conn.nextPublished();
          if (msg) conn.write(msg.data, false);
        },
      },
    }),
  ],
});
