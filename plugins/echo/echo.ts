/** @module echo: every message goes back to its sender unchanged, through the writable path, held in recycled buffers. */
import { BufferPool, definePlugin } from '../../server/plugin/api.ts';

const options = {
  'max-queue': { type: 'int', default: 1024, min: 1, doc: 'Messages waiting to be echoed before a client that does not read is closed (1008).' },
} as const;

interface Session {
  /** The oldest message waiting to be echoed, held apart from the queue: one waits at a time under steady load, and then no array or entry object is made. */
  next: Buffer | undefined;
  nextBinary: boolean;
  /** The messages waiting behind `next`; only while some wait (an idle connection keeps no array). */
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
        session: (): Session => ({ next: undefined, nextBinary: false, queue: undefined, head: 0 }),
        receive(conn, data, isBinary) {
          const s = conn.session;
          const pool = conn.vhost.state.pool;
          if (s.next === undefined) {
            s.next = pool.copy(data);
            s.nextBinary = isBinary;
          } else {
            const queue = (s.queue ??= []);
            if (1 + queue.length - s.head >= conn.vhost.state.maxQueue) {
              conn.close(1008, 'slow consumer');
              return;
            }
            queue.push({ data: pool.copy(data), isBinary });
          }
          conn.requestWritable();
        },
        writable(conn) {
          const s = conn.session;
          const data = s.next;
          if (data === undefined) return;
          conn.write(data, s.nextBinary);
          // The transport copied it or sent it: the buffer can carry the next message.
          conn.vhost.state.pool.release(data);
          const queue = s.queue;
          const msg = queue?.[s.head];
          if (!queue || !msg) {
            s.next = undefined;
            return;
          }
          s.next = msg.data;
          s.nextBinary = msg.isBinary;
          s.head++;
          if (s.head === queue.length) {
            s.queue = undefined;
            s.head = 0;
          } else if (s.head >= 64 && s.head * 2 >= queue.length) {
            // Under steady load the queue may never empty: drop the consumed front now and then.
            queue.splice(0, s.head);
            s.head = 0;
          }
          conn.requestWritable();
        },
      },
    }),
  ],
});
