/** @module echo: every message goes back to its sender unchanged, through the writable path, held in recycled buffers. */
import { BufferPool, definePlugin } from '../../server/plugin/api.ts';

const options = {
  'max-queue': { type: 'int', default: 1024, min: 1, doc: 'Messages waiting to be echoed before a client that does not read is closed (1008).' },
} as const;

interface Session {
  /** Messages waiting to be echoed; only while some wait (an idle connection keeps no array). */
  queue: { data: Buffer; isBinary: boolean }[] | undefined;
  head: number;
}

export default definePlugin({
  apiVersion: 2,
  name: 'echo',
  protocols: (protocol) => [
    protocol({
      name: 'echo',
      maxMessageSize: 1024 * 1024,
      // A view, copied into a pooled buffer that writable gives back: no allocation per message once warm.
      receiveData: 'view',
      options,
      init: (_vhost, opts) => ({ maxQueue: opts['max-queue'], pool: new BufferPool() }),
      websocket: {
        session: (): Session => ({ queue: undefined, head: 0 }),
        receive(conn, data, isBinary) {
          const s = conn.session;
          const queue = (s.queue ??= []);
          if (queue.length - s.head >= conn.vhost.state.maxQueue) {
            conn.close(1008, 'slow consumer');
            return;
          }
          queue.push({ data: conn.vhost.state.pool.copy(data), isBinary });
          conn.requestWritable();
        },
        writable(conn) {
          const s = conn.session;
          const queue = s.queue;
          const msg = queue?.[s.head];
          if (!queue || !msg) return;
          conn.write(msg.data, msg.isBinary);
          // The transport copied it or sent it: the buffer can carry the next message.
          conn.vhost.state.pool.release(msg.data);
          s.head++;
          if (s.head === queue.length) {
            s.queue = undefined;
            s.head = 0;
            return;
          }
          // Under steady load the queue may never empty: drop the consumed front now and then.
          if (s.head >= 64 && s.head * 2 >= queue.length) {
            queue.splice(0, s.head);
            s.head = 0;
          }
          conn.requestWritable();
        },
      },
    }),
  ],
});
