/** @module chat: rooms of named people exchanging text messages, with history, over a JSON protocol (see README.md). */
import { TokenBucket, definePlugin, isTswsError, type Conn } from '../../server/plugin/api.ts';
import { errorMessage, parseRequest, type LeaveReason, type Request, type RequestType, type ServerMessage } from './protocol.ts';
import { MemoryRoomStore, type RoomStore } from './room-store.ts';
import { SharedRoomStore } from './shared-room-store.ts';

const options = {
  history: { type: 'int', default: 50, min: 0, max: 1000, doc: 'Messages kept per room and sent to whoever joins.' },
  'history-keep-secs': {
    type: 'int',
    default: 3600,
    min: 0,
    doc: "How long an empty room's history is kept for whoever joins it next; 0 forgets it when the last member leaves.",
  },
  'max-rooms': { type: 'int', default: 1000, min: 1, doc: 'Rooms held at once; past it, the oldest kept history makes way, and when every room is live a new one is refused.' },
  'max-message-length': { type: 'int', default: 1000, min: 1, max: 2000, doc: 'Characters (code points) per message.' },
  'rate-burst': { type: 'int', default: 30, min: 1, doc: 'Requests a connection may send at once.' },
  'rate-per-sec': { type: 'int', default: 5, min: 1, doc: 'Requests per second a connection may keep sending after a burst; past it, closed with 1008.' },
} as const;

/** Replies waiting for a client that does not read: past this it is closed (1008), as the bus does for published messages. */
const MAX_OUTBOX = 256;
/** A flooder that does not read never gets the error written: it is closed without it after this. */
const CLOSE_GRACE_MS = 2000;
const SWEEP_MS = 30_000;

interface VhostState {
  readonly store: RoomStore;
  readonly maxText: number;
  readonly rateBurst: number;
  readonly ratePerSec: number;
  /** Set when a reload's new generation took the store over: this one's destroy must not close it. */
  handedOver: boolean;
}

interface Session {
  room: string | undefined;
  name: string | undefined;
  /** Topics whose published messages this client gets: its room's, and the one it is joining. */
  readonly topics: Set<string>;
  /** Replies to this client only (welcome, members, errors), written before published messages. */
  readonly outbox: string[];
  /** Requests are handled one after another, in the order received, though the store answers asynchronously. */
  work: Promise<void>;
  readonly bucket: TokenBucket;
  /** Set once the connection is being closed (flooding): nothing more is handled. */
  closing: { readonly code: number; readonly reason: string } | undefined;
}

type ChatConn = Conn<VhostState, Session>;

const topicOf = (room: string): string => `room:${room}`;

export default definePlugin({
  apiVersion: 2,
  name: 'chat',
  protocols: (protocol) => [
    protocol({
      name: 'chat',
      // A longest message, every character escaped as a JSON surrogate pair, still fits; larger frames close with 1009.
      maxMessageSize: 64 * 1024,
      options,
      init(vhost, opts, previous): VhostState {
        const keepMs = opts['history-keep-secs'] * 1000;
        const policy = { historySize: opts.history, keepMs, maxRooms: opts['max-rooms'] };
        const settings = { maxText: opts['max-message-length'], rateBurst: opts['rate-burst'], ratePerSec: opts['rate-per-sec'], handedOver: false };
        // A reload keeps the rooms: members who joined before it and after it meet in the same store.
        if (previous && !previous.handedOver) {
          previous.handedOver = true;
          if (previous.store instanceof MemoryRoomStore && keepMs > 0) vhost.setInterval(Math.min(SWEEP_MS, keepMs), () => (previous.store as MemoryRoomStore).sweep());
          return { ...settings, store: previous.store };
        }
        if (!vhost.cluster && vhost.server.thread.count > 1) {
          vhost.log.warn('chat: with count-threads above 1 and no "cluster" block, each thread has its own rooms (members and history); messages still reach every thread. Add a cluster block to share the rooms.');
        }
        let store: RoomStore;
        if (vhost.cluster) {
          // Rooms span every instance; Redis expires kept histories itself.
          store = new SharedRoomStore(vhost.cluster, policy, topicOf);
        } else {
          const memory = new MemoryRoomStore(policy);
          if (keepMs > 0) vhost.setInterval(Math.min(SWEEP_MS, keepMs), () => memory.sweep());
          store = memory;
        }
        return { ...settings, store };
      },
      websocket: {
        session: (vhost): Session => ({
          room: undefined,
          name: undefined,
          topics: new Set(),
          outbox: [],
          work: Promise.resolve(),
          bucket: new TokenBucket(vhost.state.rateBurst, vhost.state.ratePerSec),
          closing: undefined,
        }),
        receive(conn, data, isBinary) {
          const s = conn.session;
          if (s.closing) return;
          if (!s.bucket.take()) return flood(conn);
          if (isBinary) return enqueue(conn, () => reply(conn, errorMessage('bad-request', 'binary frames are not part of the chat protocol: send JSON as text')));
          const parsed = parseRequest(data.toString('utf8'), conn.vhost.state.maxText);
          // Errors go through the queue too, so that replies come in the order of the requests.
          enqueue(conn, parsed.ok ? () => handle(conn, parsed.value) : () => reply(conn, parsed.error), parsed.ok ? parsed.value.type : undefined);
        },
        writable(conn) {
          const s = conn.session;
          const own = s.outbox.shift();
          if (own !== undefined) {
            conn.write(own, false);
            if (s.outbox.length > 0) conn.requestWritable();
            else if (s.closing) conn.close(s.closing.code, s.closing.reason);
            return;
          }
          // Published messages of a room this client has left are dropped here, not written.
          for (let m = conn.nextPublished(); m; m = conn.nextPublished()) {
            if (s.closing || !s.topics.has(m.topic)) continue;
            conn.write(m.data, false);
            return;
          }
        },
        closed(conn) {
          enqueue(conn, () => leaveRoom(conn, 'disconnect'));
        },
      },
      destroy(vhost) {
        if (!vhost.state.handedOver) void vhost.state.store.close();
      },
    }),
  ],
});

function enqueue(conn: ChatConn, step: () => Promise<void> | void, request?: RequestType): void {
  const s = conn.session;
  s.work = s.work.then(step).catch((err: unknown) => {
    // In a cluster, Redis may be away for a moment: the client is told, and keeps its connection.
    if (isTswsError(err, 'TSWS_ERR_CLUSTER_UNAVAILABLE')) return reply(conn, unavailable(err.cause !== undefined, request));
    conn.vhost.log.error({ err, conn: conn.id, peer: conn.request.peer }, 'chat: request failed');
    if (conn.isOpen) conn.close(1011, 'internal error');
  });
}

/**
 * While Redis is away nothing is kept to be sent later: a message held back
 * would arrive into a conversation that moved on, or be lost with the
 * instance. The sender is told, with its request named, so a client can give
 * the text back. A send cut off mid-way (Redis went while running it) may
 * have reached the room all the same, and the error says so.
 */
function unavailable(midway: boolean, request: RequestType | undefined): ServerMessage {
  if (request !== 'send') return errorMessage('unavailable', 'the chat is unavailable for a moment; try again shortly', request);
  if (!midway) return errorMessage('unavailable', 'the message was not sent: the chat is unavailable for a moment; send it again shortly', request);
  return errorMessage('unavailable', 'the chat lost its store while sending: the message may not have reached the room; if it does not appear, send it again', request);
}

/** Queues a message for this client alone. */
function reply(conn: ChatConn, msg: ServerMessage): void {
  const s = conn.session;
  if (!conn.isOpen || s.closing) return;
  if (s.outbox.length >= MAX_OUTBOX) {
    conn.vhost.log.warn({ conn: conn.id, peer: conn.request.peer }, 'chat: client does not read its replies, closing');
    conn.close(1008, 'slow consumer');
    return;
  }
  s.outbox.push(JSON.stringify(msg));
  conn.requestWritable();
}

/**
 * Flooding policy: each request costs a token of the connection's bucket
 * (`rate-burst` at once, refilled at `rate-per-sec`). The request that finds
 * it empty is not handled; the client gets one "flooding" error, queued ahead
 * of anything else waiting for it, and is closed with 1008. Requests received
 * after that are dropped unread.
 */
function flood(conn: ChatConn): void {
  const s = conn.session;
  const { rateBurst, ratePerSec } = conn.vhost.state;
  s.closing = { code: 1008, reason: 'flooding' };
  s.outbox.length = 0;
  s.outbox.push(JSON.stringify(errorMessage('flooding', `more than ${rateBurst} requests at once or ${ratePerSec} a second: closing the connection`)));
  conn.requestWritable();
  conn.setTimeout(CLOSE_GRACE_MS, () => conn.close(1008, 'flooding'));
  conn.vhost.log.warn({ conn: conn.id, peer: conn.request.peer, room: s.room, name: s.name }, 'chat: flooding, closing with 1008');
}

async function handle(conn: ChatConn, req: Request): Promise<void> {
  const s = conn.session;
  if (s.closing) return;
  switch (req.type) {
    case 'join':
      return join(conn, req.room, req.name);
    case 'leave':
      if (s.room === undefined) return reply(conn, errorMessage('not-joined', 'you are not in a room', 'leave'));
      return leaveRoom(conn, 'leave');
    case 'send': {
      if (s.room === undefined || s.name === undefined) return reply(conn, errorMessage('not-joined', 'join a room before sending messages', 'send'));
      // The name is the one this connection joined with: a client cannot speak as someone else.
      const store = conn.vhost.state.store;
      const msg = await store.append(s.room, s.name, req.text, Date.now());
      // The sender gets its own message back through the bus: that is its acknowledgement.
      if (!store.publishesAppends) conn.vhost.publish(topicOf(s.room), JSON.stringify(msg));
      return;
    }
    case 'who': {
      if (s.room === undefined) return reply(conn, errorMessage('not-joined', 'join a room to see who is in it', 'who'));
      const room = s.room;
      return reply(conn, { type: 'members', room, members: await conn.vhost.state.store.members(room) });
    }
    default: {
      const unreachable: never = req;
      return unreachable;
    }
  }
}

/**
 * Joining another room while in one moves there: the old room is left only
 * once the new one has accepted the name, so a refused move leaves the
 * client where it was.
 */
async function join(conn: ChatConn, room: string, name: string): Promise<void> {
  const s = conn.session;
  const store = conn.vhost.state.store;
  if (s.room === room) {
    return reply(conn, errorMessage('already-joined', `you are already in room "${room}" as "${s.name ?? ''}"; leave it first to come back under another name`, 'join'));
  }
  // Subscribe before the store answers: whatever is published after its snapshot then reaches us
  // (possibly also in the history; clients skip message ids they have seen).
  const topic = topicOf(room);
  s.topics.add(topic);
  conn.subscribe(topic);
  const outcome = await store.join(room, name);
  if (!outcome.ok || !conn.isOpen) {
    s.topics.delete(topic);
    conn.unsubscribe(topic);
    if (outcome.ok) return store.leave(room, name);
    return reply(
      conn,
      outcome.reason === 'name-taken'
        ? errorMessage('name-taken', `the name "${name}" is already taken in room "${room}"; choose another`, 'join')
        : errorMessage('too-many-rooms', `the server holds as many rooms as it may; join an existing room`, 'join'),
    );
  }
  if (s.room !== undefined) await leaveRoom(conn, 'leave');
  s.room = room;
  s.name = name;
  const time = Date.now();
  conn.vhost.log.debug({ conn: conn.id, room, name }, 'chat: joined');
  const { members, history, epoch, lastId } = outcome;
  reply(conn, { type: 'welcome', room, name, members, history, epoch, lastId, time, limits: { maxText: conn.vhost.state.maxText } });
  conn.vhost.publish(topic, JSON.stringify({ type: 'joined', room, name, time } satisfies ServerMessage));
}

async function leaveRoom(conn: ChatConn, reason: LeaveReason): Promise<void> {
  const s = conn.session;
  const { room, name } = s;
  if (room === undefined || name === undefined) return;
  s.room = undefined;
  s.name = undefined;
  const topic = topicOf(room);
  s.topics.delete(topic);
  conn.unsubscribe(topic);
  await conn.vhost.state.store.leave(room, name);
  const event = { type: 'left', room, name, reason, time: Date.now() } satisfies ServerMessage;
  conn.vhost.log.debug({ conn: conn.id, room, name, reason }, 'chat: left');
  conn.vhost.publish(topic, JSON.stringify(event));
  // No longer subscribed, the leaver hears of its own leaving directly.
  if (reason === 'leave') reply(conn, event);
}
