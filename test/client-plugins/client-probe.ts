/** @module Test plugin: opens client connections from its vhost (vhost.connect) and logs every client callback as an "event": "probe" line. */
import fs from 'node:fs';
import { defineProtocol, definePlugin, isTswsError, type ClientConn } from '../../server/plugin/api.ts';

/*
 * Written as a plugin author would: no explicit generics, no casts. The
 * test (test/client-connections.test.ts) runs it on several vhosts, one
 * mode each, and reads what happened from the log.
 */
const options = {
  url: { type: 'string', doc: 'Where to connect.' },
  protocol: { type: 'string', default: '', doc: 'The subprotocol to ask for.' },
  mode: { type: 'string', default: 'once', doc: 'echo | flood | throw | redo | once' },
  count: { type: 'int', default: 5, doc: 'echo: messages to send; flood: 64 KiB chunks to send.' },
  'timeout-ms': { type: 'int', default: 10_000, doc: 'The handshake timeout.' },
  'first-ms': { type: 'int', default: 0, doc: 'Reconnect: the first delay (0: no reconnection).' },
  'max-ms': { type: 'int', default: 0, doc: 'Reconnect: the cap.' },
  'jitter-pct': { type: 'int', default: 0, doc: 'Reconnect: the random share of each delay, in percent.' },
  'ca-file': { type: 'string', default: '', doc: 'A PEM certificate to trust for wss://.' },
  servername: { type: 'string', default: '', doc: 'The TLS server name to expect.' },
  'ping-ms': { type: 'int', default: 0, doc: 'Liveness pings (0: off).' },
} as const;

const CHUNK = 64 * 1024;
/** The framework's writable threshold: a writable never starts above it. */
const THRESHOLD = 64 * 1024;

export default definePlugin({
  apiVersion: 1,
  name: 'client-probe',
  protocols: [
    defineProtocol({
      name: 'client-probe',
      options,
      callbacks: {
        init(vhost, opts) {
          const log = (what: string, conn: ClientConn<{ name: string; queue: string[] }>, more: Record<string, unknown> = {}) =>
            vhost.log.info({ event: 'probe', what, client: conn.session.name, ...more }, `probe: ${what}`);
          const mode = opts.mode;
          const flood = { sent: 0, choked: false, resumed: false };
          const open = (name: string, queue: string[]) =>
            vhost.connect({
              url: opts.url ?? '',
              protocol: opts.protocol === '' ? undefined : opts.protocol,
              timeoutMs: opts['timeout-ms'],
              reconnect: opts['first-ms'] > 0 ? { firstMs: opts['first-ms'], maxMs: opts['max-ms'], jitter: opts['jitter-pct'] / 100 } : false,
              tls: opts['ca-file'] === '' ? undefined : { ca: fs.readFileSync(opts['ca-file'], 'utf8'), servername: opts.servername || undefined },
              pingIntervalMs: opts['ping-ms'],
              session: { name, queue },
              callbacks: {
                clientEstablished(conn) {
                  log('established', conn, { subprotocol: conn.protocol });
                  if (mode === 'redo') conn.session.queue.push('x');
                  try {
                    conn.write('not from here');
                  } catch (err) {
                    log('write-outside', conn, { code: isTswsError(err) ? err.code : String(err) });
                  }
                  conn.requestWritable();
                },
                clientWritable(conn) {
                  if (mode === 'flood') {
                    if (conn.bufferedAmount > THRESHOLD) log('violation', conn, { bufferedAmount: conn.bufferedAmount });
                    if (flood.choked && !flood.resumed) {
                      flood.resumed = true;
                      log('resumed', conn, { bufferedAmount: conn.bufferedAmount, sent: flood.sent });
                    }
                    const status = conn.write(Buffer.alloc(CHUNK, flood.sent % 251), true);
                    flood.sent++;
                    if (status === 'backpressure' && !flood.choked) {
                      flood.choked = true;
                      log('backpressure', conn, { bufferedAmount: conn.bufferedAmount, sent: flood.sent });
                    }
                    if (flood.sent < opts.count) conn.requestWritable();
                    else log('flood-done', conn, { sent: flood.sent, bytes: flood.sent * CHUNK });
                    return;
                  }
                  const next = conn.session.queue.shift();
                  if (next === undefined) return;
                  conn.write(next);
                  if (next === 'm-1') {
                    try {
                      conn.write('a second write');
                    } catch (err) {
                      log('second-write', conn, { code: isTswsError(err) ? err.code : String(err) });
                    }
                  }
                  if (conn.session.queue.length > 0) conn.requestWritable();
                },
                clientReceive(conn, data) {
                  const text = data.toString();
                  log('receive', conn, { text });
                  if (text === 'boom') throw new Error('the probe throws on boom');
                  if (mode === 'echo' && text === `m-${opts.count}`) conn.close(1000, 'done');
                  // "redo": the first two echoes start the link over (reconnect), the third ends it (close).
                  if (mode === 'redo') {
                    if (redone++ < 2) conn.reconnect(4001, 'again');
                    else conn.close(1000, 'enough');
                  }
                },
                clientConnectionError(conn, err) {
                  log('connection-error', conn, { code: err.code, message: err.message });
                },
                clientClosed(conn, code, reason) {
                  log('closed', conn, { code, reason, lastError: conn.lastError?.code });
                  // The survivor of "throw" mode sends once more after its sibling closed.
                  if (mode === 'throw' && conn.session.name === 'bad') {
                    survivor?.session.queue.push('after');
                    survivor?.requestWritable();
                  }
                },
                clientReconnecting(conn, next) {
                  log('reconnecting', conn, { attempt: next.attempt, delayMs: next.delayMs });
                },
              },
            });
          let survivor: ReturnType<typeof open> | undefined;
          let redone = 0;
          if (mode === 'echo') open('echo', Array.from({ length: opts.count }, (_, i) => `m-${i + 1}`));
          else if (mode === 'throw') {
            open('bad', ['boom']);
            survivor = open('good', ['before']);
          } else open(mode, []);
          return { mode };
        },
        destroy(vhost, why) {
          vhost.log.info({ event: 'probe', what: 'destroy', why, mode: vhost.state.mode }, 'probe: destroy');
        },
      },
    }),
  ],
});
