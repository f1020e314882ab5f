/** @module protocol-lws-packet (Comlink v2): a controller POSTs JSON packets; they are logged durably and streamed to websocket clients. */
import path from 'node:path';
import { defineProtocol, definePlugin, type Conn, type HttpTxn } from '../../server/plugin/api.ts';
import { FilePacketLog, type PacketLog } from './packet-log.ts';

const options = {
  'log-dir': { type: 'string', default: 'var/lws-packet', doc: 'Directory of the packet log (a subdirectory per vhost); relative to the working directory. `_lws_ddir_` works.' },
  retention: { type: 'int', default: 10000, min: 1, doc: 'Packets kept for replay (and in the file).' },
  'max-packet-size': { type: 'int', default: 64 * 1024, min: 1, doc: 'Largest packet accepted, in bytes; larger ones get 413.' },
  fsync: { type: 'bool', default: true, doc: 'fdatasync before acknowledging a packet.' },
  'page-size': { type: 'int', default: 1000, min: 1, doc: 'Most packets returned by one GET ?since=.' },
} as const;

interface VhostState {
  readonly log: PacketLog;
  readonly maxPacket: number;
  readonly pageSize: number;
}

interface Session {
  // HTTP
  readonly chunks: Buffer[];
  size: number;
  reply: { status: number; body: string } | undefined;
  headSent: boolean;
  // websocket: the last id sent, and the end of the replay part
  cursor: number;
  replayUntil: number;
  notices: string[];
}

type Txn = HttpTxn<VhostState, Session>;
type WsConn = Conn<VhostState, Session>;

const TOPIC = 'packets';
const idOf = (line: string | Buffer) => Number(/^\{"id":(\d+)/.exec(String(line).slice(0, 32))?.[1] ?? 0);

function reply(txn: Txn, status: number, body: unknown): void {
  txn.session.reply = { status, body: JSON.stringify(body) };
  txn.requestWritable();
}

function accept(txn: Txn): void {
  const { log } = txn.vhost.state;
  const s = txn.session;
  if (s.size > txn.vhost.state.maxPacket) return reply(txn, 413, { error: `packet over ${txn.vhost.state.maxPacket} bytes` });
  const text = Buffer.concat(s.chunks).toString('utf8');
  let packet: unknown;
  try {
    if (text.trim() === '') throw new Error('empty body');
    packet = JSON.parse(text);
  } catch (err) {
    return reply(txn, 400, { error: `malformed JSON: ${(err as Error).message}` });
  }
  log.append(packet).then(
    (stored) => {
      // Published only once durable: no subscriber ever sees a packet a crash could take back.
      txn.vhost.publish(TOPIC, JSON.stringify(stored), false);
      reply(txn, 200, { id: stored.id });
    },
    (err: unknown) => {
      txn.vhost.log.error({ err }, 'packet log append failed');
      reply(txn, 500, { error: 'the packet could not be stored' });
    },
  );
}

function startReplay(conn: WsConn, since: number | undefined): void {
  const { log } = conn.vhost.state;
  const s = conn.session;
  s.cursor = since ?? log.lastId;
  s.replayUntil = log.lastId;
  if (since !== undefined && since + 1 < log.firstId) {
    s.notices.push(JSON.stringify({ type: 'gap', from: since + 1, to: log.firstId - 1, reason: 'older packets are no longer kept' }));
  }
  conn.requestWritable();
}

export default definePlugin({
  apiVersion: 1,
  name: 'lws-packet',
  protocols: [
    defineProtocol<VhostState, Session, typeof options>({
      name: 'protocol-lws-packet',
      options,
      rxBufferSize: 1024,
      httpBodyLimit: 16 * 1024 * 1024,
      // A subscriber falling this far behind while its peer does not read is closed (1008); it resumes with ?since=.
      inbox: { maxMessages: 4096, maxBytes: 16 * 1024 * 1024, onOverflow: 'close' },
      session: () => ({ chunks: [], size: 0, reply: undefined, headSent: false, cursor: 0, replayUntil: 0, notices: [] }),
      callbacks: {
        init(vhost, opts) {
          const dir = path.resolve(opts['log-dir'], vhost.vhostName);
          const { log, recoveredTornLine } = FilePacketLog.open(dir, { retention: opts.retention, fsync: opts.fsync });
          if (recoveredTornLine) vhost.log.warn({ file: log.file }, 'dropped a torn last line left by a crash (that packet was never acknowledged)');
          vhost.log.info({ file: log.file, lastId: log.lastId }, 'packet log open');
          return { log, maxPacket: opts['max-packet-size'], pageSize: opts['page-size'] };
        },
        destroy: (vhost) => vhost.state.log.close(),

        // ---- HTTP: POST a packet, GET ?since= ----
        http(txn) {
          const { method } = txn.request;
          if (method === 'POST') return; // answered at httpBodyCompletion
          if (method !== 'GET' && method !== 'HEAD') return reply(txn, 405, { error: 'POST a packet, or GET ?since=<id>' });
          const raw = txn.request.queryParam('since') ?? '0';
          if (!/^\d+$/.test(raw)) return reply(txn, 400, { error: '"since" must be a packet id' });
          const { log, pageSize } = txn.vhost.state;
          const packets = log.after(Number(raw), pageSize);
          reply(txn, 200, { packets, lastId: log.lastId, firstId: log.firstId });
        },
        httpBody(txn, chunk) {
          const s = txn.session;
          s.size += chunk.length;
          // Past the limit keep counting but stop keeping: the answer will be 413.
          if (s.size <= txn.vhost.state.maxPacket) s.chunks.push(chunk);
        },
        httpBodyCompletion: accept,
        httpWritable(txn) {
          // As the seed does: the headers in one writable, the JSON body in the next.
          const s = txn.session;
          if (!s.reply) return;
          if (!s.headSent) {
            s.headSent = true;
            txn.writeHead(s.reply.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(s.reply.body)) });
            txn.requestWritable();
          } else {
            txn.end(s.reply.body);
          }
        },

        // ---- websocket: every new packet live, after an optional replay ----
        established(conn) {
          conn.subscribe(TOPIC);
          const raw = conn.request.queryParam('since');
          if (raw !== undefined && !/^\d+$/.test(raw)) {
            conn.close(1008, '"since" must be a packet id');
            return;
          }
          startReplay(conn, raw === undefined ? undefined : Number(raw));
        },
        receive(conn) {
          conn.session.notices.push(JSON.stringify({ type: 'error', error: 'this stream is read-only: POST packets to the HTTP mount' }));
          conn.requestWritable();
        },
        writable(conn) {
          const s = conn.session;
          const notice = s.notices.shift();
          if (notice !== undefined) {
            conn.write(notice, false);
            conn.requestWritable();
            return;
          }
          if (s.cursor < s.replayUntil) {
            const [p] = conn.vhost.state.log.after(s.cursor, 1);
            if (p && p.id <= s.replayUntil) {
              conn.write(JSON.stringify(p), false);
              s.cursor = p.id;
            } else {
              s.cursor = s.replayUntil;
            }
            conn.requestWritable();
            return;
          }
          // Live: skip what the replay already sent (a packet can be both kept and published).
          for (let m = conn.nextPublished(); m; m = conn.nextPublished()) {
            const id = idOf(m.data);
            if (id <= s.cursor) continue;
            conn.write(m.data, false);
            s.cursor = id;
            return;
          }
        },
      },
    }),
  ],
});
