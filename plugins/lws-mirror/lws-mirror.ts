/** @module lws-mirror-protocol: every message goes to every member of its ?mirror= group, sender included, in order. */
import { definePlugin } from '../../server/plugin/api.ts';

/** lws refuses names it cannot store whole (29 chars) rather than truncating them. */
const MAX_NAME = 29;

export default definePlugin({
  apiVersion: 2,
  name: 'lws-mirror',
  protocols: (protocol) => [
    protocol({
      name: 'lws-mirror-protocol',
      maxMessageSize: 64 * 1024,
      // receive only publishes, and vhost.publish copies a view once for all members: a copy for receive would be a second.
      receiveData: 'view',
      /*
       * Slow readers: lws keeps a 32-entry ring per group and, when it fills,
       * stops reading from the senders and hangs up on whoever holds the
       * oldest entry for 3 s. uWS.js cannot pause reading, so the bound is
       * per member instead: a member more than 512 messages (or 2 MiB)
       * behind whose peer reads nothing for 3 s, or four times that far
       * behind, is closed with 1008 "slow consumer". Nobody else loses
       * data, and memory per member stays bounded.
       */
      inbox: { maxMessages: 512, maxBytes: 2 * 1024 * 1024, onOverflow: 'close' },
      websocket: {
        filter(req) {
          const name = req.queryParam('mirror') ?? '';
          return name.length > MAX_NAME ? { refuse: 400, reason: `mirror name longer than ${MAX_NAME} characters` } : 'accept';
        },
        session: (_vhost, req) => ({ topic: `mirror:${req.queryParam('mirror') ?? ''}` }),
        established(conn) {
          conn.subscribe(conn.session.topic);
        },
        receive(conn, data) {
          // lws mirrors everything as TEXT, whatever frame type it arrived in.
          conn.vhost.publish(conn.session.topic, data, false);
        },
        writable(conn) {
          const msg = conn.nextPublished();
          if (msg) conn.write(msg.data, false);
        },
      },
    }),
  ],
});
