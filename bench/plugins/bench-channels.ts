/**
 * @module Bench plugin: channels served to tsws/client with channelFrames (test/plugins-v2/channels-demo.ts
 * cut to what the resume scenario needs): every "bench:*" channel keeps 1000 publications and takes
 * publishes from clients; nothing else is served.
 */
import { definePlugin, type Conn } from 'tsws/plugin';
import { channelFrames } from 'tsws/plugin/runtime';

/** Enough for what the resume scenario publishes per channel and repetition (bench/scenarios/channel-resume.ts). */
const HISTORY = { size: 1000 };

const frames = channelFrames({
  channel: (conn: Conn, name) => (name.startsWith('bench:') ? conn.vhost.channels.channel(name, { history: HISTORY }) : undefined),
  mayPublish: () => true,
});

export default definePlugin({
  apiVersion: 2,
  name: 'bench-channels',
  protocols: (protocol) => [
    protocol({
      name: 'bench-channels',
      websocket: {
        receive(conn, data, isBinary) {
          // Anything that is not a channel frame is not this protocol's: dropped.
          frames.receive(conn, data, isBinary);
        },
        writable(conn) {
          frames.writeNext(conn);
        },
        closed(conn) {
          frames.closed(conn);
        },
      },
    }),
  ],
});
