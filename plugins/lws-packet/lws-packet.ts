/** @module protocol-lws-packet (Comlink v2): a controller POSTs JSON packets; they are logged durably and streamed to websocket clients. */
import path from 'node:path';
import { definePlugin, checkLock, type Conn, type HttpTxn } from '../../server/plugin/api.ts';
import { FilePacketLog, type PacketLog, type StoredPacket } from './packet-log.ts';
import { ChannelPacketLog, storedText } from './channel-packet-log.ts';

const options = {
  'log-dir': { type: 'path', default: 'var/lws-packet', doc: 'Directory of the packet log (a subdirectory per vhost); relative to the config directory. `_lws_ddir_` works. One server at a time: the log is locked.' },
  retention: { type: 'int', default: 10000, min: 1, doc: 'Packets kept for replay (and in the file).' },
  'max-packet-size': { type: 'int', default: 64 * 1024, min: 1, doc: 'Largest packet accepted, in bytes; larger ones get 413.' },
  fsync: { type: 'bool', default: true, doc: 'fdatasync before acknowledging a packet.' },
  'page-size': { type: 'int', default: 1000, min: 1, doc: 'Most packets returned by one GET ?since=.' },
} as const;

interface VhostState {
  readonly log: PacketLog;
  /** Where the log lives, to tell whether a reload's successor can take it over. */
  readonly dir: string;
  readonly maxPacket: number;
  readonly pageSize: number;
  /** Set on the old state when a reload's successor took the log over: its destroy leaves it open. */
  handedOver: boolean;
}

/** A POST being received, or the answer to any request. */
interface HttpSession {
  readonly chunks: Buffer[];
  size: number;
  reply: { status: number; body: string } | undefined;
  headSent: boolean;
}

/** A websocket reader: the last id sent, and the end of the part read from the log. */
interface WsSession {
  cursor: number;
  replayUntil: number;
  notices: string[];
  /** False until the log's bounds are known: live packets wait in the inbox meanwhile. */
  started: boolean;
  /** Packets read from the log, not yet written; a read is running. */
  page: StoredPacket[];
  reading: boolean;
}

type Txn = HttpTxn<VhostState, HttpSession>;
type WsConn = Conn<VhostState, WsSession>;

const TOPIC = FilePacketLog.TOPIC;
/** Packets read from the log at once for a replay. */
const PAGE = 256;
/** A read refused (Redis away for a moment) is tried again after this. */
const RETRY_MS = 1000;
const idOf = (line: string | Buffer) => Number(/^\{"id":(\d+)/.exec(String(line).slice(0, 32))?.[1] ?? 0);

function reply(txn: Txn, status: number, body: unknown): void {
  txn.session.reply = { status, body: JSON.stringify(body) };
  txn.requestWritable();
}

/**
 * Only a POST is a packet. Every request that declares a body reaches
 * httpBody/httpBodyCompletion, whatever its method: a PUT already answered
 * 405, or a GET answered from the log, must not have its body kept, stored
 * or fanned out.
 */
const isPost = (txn: Txn) => txn.request.method === 'POST';

function accept(txn: Txn): void {
  if (!isPost(txn)) return;
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
      // (A shared log publishes in the same step as it stores.)
      if (!log.publishesAppends) txn.vhost.publish(TOPIC, JSON.stringify(stored), false);
      reply(txn, 200, { id: stored.id });
    },
    (err: unknown) => {
      txn.vhost.log.error({ err }, 'packet log append failed');
      reply(txn, 500, { error: 'the packet could not be stored' });
    },
  );
}

/**
 * `followedAt`: the last id when the stream began to follow. A stream with
 * no `since` starts there, not at the end of the log read later: a packet
 * stored between the two (after the client's 101) is replayed, not skipped.
 */
function startReplay(conn: WsConn, since: number | undefined, followedAt: number): void {
  const s = conn.session;
  conn.vhost.state.log.bounds().then(
    ({ firstId, lastId }) => {
      s.cursor = since ?? Math.min(followedAt, lastId);
      s.replayUntil = lastId;
      if (since !== undefined && since + 1 < firstId) {
        s.notices.push(JSON.stringify({ type: 'gap', from: since + 1, to: firstId - 1, reason: 'older packets are no longer kept' }));
        s.cursor = firstId - 1;
      }
      s.started = true;
      conn.requestWritable();
    },
    (err: unknown) => {
      conn.vhost.log.warn({ err, conn: conn.id }, 'packet log unavailable: closing the stream; the client may resume with ?since=');
      conn.close(1011, 'packet log unavailable');
    },
  );
}

/**
 * Reads the next page of the part to replay (cursor, replayUntil] into the
 * session; writable writes it. A page that starts past cursor + 1 means
 * those packets are no longer kept: the client is told of the gap.
 */
function readPage(conn: WsConn): void {
  const s = conn.session;
  if (s.reading) return;
  s.reading = true;
  conn.vhost.state.log.read(s.cursor, Math.min(PAGE, s.replayUntil - s.cursor)).then(
    (packets) => {
      s.reading = false;
      const wanted = packets.filter((p) => p.id > s.cursor && p.id <= s.replayUntil);
      const first = wanted[0];
      if (!first) s.cursor = s.replayUntil;
      else if (first.id > s.cursor + 1) s.notices.push(JSON.stringify({ type: 'gap', from: s.cursor + 1, to: first.id - 1, reason: 'older packets are no longer kept' }));
      s.page = wanted;
      conn.requestWritable();
    },
    () => {
      s.reading = false;
      conn.setTimeout(RETRY_MS, () => conn.requestWritable());
    },
  );
}

export default definePlugin({
  apiVersion: 2,
  name: 'lws-packet',
  protocols: (protocol) => [
    protocol({
      name: 'protocol-lws-packet',
      options,
      maxMessageSize: 1024,
      httpBodyLimit: 16 * 1024 * 1024,
      // A subscriber falling this far behind while its peer does not read is closed (1008); it resumes with ?since=.
      inbox: { maxMessages: 4096, maxBytes: 16 * 1024 * 1024, onOverflow: 'close' },
      // Another server writing this log is found by --check, and refuses start-up before anything listens.
      check: (opts, where) => {
        if (!where.clustered) checkLock(FilePacketLog.fileIn(path.join(opts['log-dir'], where.vhostName)));
      },
      init(vhost, opts, previous): VhostState {
        const dir = path.join(opts['log-dir'], vhost.vhostName);
        const base = { dir, maxPacket: opts['max-packet-size'], pageSize: opts['page-size'], handedOver: false };
        // A reload keeps the one writer of the log: the successor takes it over.
        if (previous && !previous.handedOver && previous.dir === dir) {
          previous.handedOver = true;
          return { ...base, log: previous.log };
        }
        if (vhost.cluster) {
          vhost.log.info({ retention: opts.retention }, 'packet log on the channel "packets" (Redis, cluster)');
          return { ...base, log: new ChannelPacketLog(vhost.channels, opts.retention) };
        }
        // One file, one writer: threads would each count ids of their own.
        if (vhost.server.thread.count > 1) throw new Error('the packet log is one file with one writer: with count-threads above 1, share it through a "cluster" block (Redis), or run one thread');
        const { log, recoveredTornLine } = FilePacketLog.open(dir, { retention: opts.retention, fsync: opts.fsync });
        if (recoveredTornLine) vhost.log.warn({ file: log.file }, 'dropped a torn last line left by a crash (that packet was never acknowledged)');
        vhost.log.info({ file: log.file, lastId: log.lastId }, 'packet log open');
        return { ...base, log };
      },
      destroy: (vhost) => (vhost.state.handedOver ? undefined : vhost.state.log.close()),

      // HTTP: POST a packet, GET ?since=
      http: {
        session: (): HttpSession => ({ chunks: [], size: 0, reply: undefined, headSent: false }),
        http(txn) {
          const { method } = txn.request;
          if (method === 'POST') return; // answered at httpBodyCompletion
          if (method !== 'GET' && method !== 'HEAD') return reply(txn, 405, { error: 'POST a packet, or GET ?since=<id>' });
          const raw = txn.request.queryParam('since') ?? '0';
          if (!/^\d+$/.test(raw)) return reply(txn, 400, { error: '"since" must be a packet id' });
          const { log, pageSize } = txn.vhost.state;
          Promise.all([log.read(Number(raw), pageSize), log.bounds()]).then(
            ([packets, { firstId, lastId }]) => {
              if (txn.isOpen) reply(txn, 200, { packets, lastId, firstId });
            },
            (err: unknown) => {
              txn.vhost.log.warn({ err }, 'packet log read failed');
              if (txn.isOpen) reply(txn, 503, { error: 'the packet log is unavailable for a moment' });
            },
          );
        },
        httpBody(txn, chunk) {
          if (!isPost(txn)) return;
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
      },

      // websocket: every new packet live, after an optional replay
      websocket: {
        session: (): WsSession => ({ cursor: 0, replayUntil: 0, notices: [], started: false, page: [], reading: false }),
        established(conn) {
          const raw = conn.request.queryParam('since');
          if (raw !== undefined && !/^\d+$/.test(raw)) {
            conn.close(1008, '"since" must be a packet id');
            return;
          }
          // Following before reading the bounds: nothing stored meanwhile falls between the replay and the live stream.
          conn.vhost.state.log.follow(conn).then(
            (followedAt) => startReplay(conn, raw === undefined ? undefined : Number(raw), followedAt),
            (err: unknown) => {
              conn.vhost.log.warn({ err, conn: conn.id }, 'packet log unavailable: closing the stream; the client may resume with ?since=');
              conn.close(1011, 'packet log unavailable');
            },
          );
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
          if (!s.started) return;
          const p = s.page.shift();
          if (p) {
            conn.write(JSON.stringify(p), false);
            s.cursor = p.id;
            conn.requestWritable();
            return;
          }
          if (s.cursor < s.replayUntil) return readPage(conn);
          // Live: skip what the replay already sent (a packet can be both kept and published).
          for (let m = conn.nextPublished(); m; m = conn.nextPublished()) {
            // A channel's publication (cluster) carries its id as its offset; the file log's, in its text.
            const id = m.channel ? m.channel.offset : idOf(m.data);
            if (id <= s.cursor) continue;
            if (id > s.cursor + 1) {
              // Publications were missed (Redis was away a moment): the log has them, this one included.
              s.replayUntil = id;
              return readPage(conn);
            }
            conn.write(m.channel ? storedText(m, id) : m.data, false);
            s.cursor = id;
            return;
          }
        },
      },
    }),
  ],
});
