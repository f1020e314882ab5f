/** @module chat: rooms of named people exchanging text messages over a JSON protocol, each room a framework channel (see README.md). */
import { TokenBucket, definePlugin } from '../../server/plugin/api.ts';
import { errorMessage, parseRequest, type Request, type RequestType, type ServerMessage } from './protocol.ts';
import { joinRoom, leaveRoom, sendLine, whoIsIn } from './rooms.ts';
import { channelFor, frames, reply, type ChatConn, type ChatSession, type ChatState } from './session.ts';

const options = {
  history: { type: 'int', default: 50, min: 0, max: 1000, doc: "Messages kept per room (the room channel's history): sent to whoever joins, and what a reconnecting client resumes from." },
  'history-keep-secs': { type: 'int', default: 3600, min: 0, doc: 'How long a message is kept in the history; 0: no age bound (only `history` bounds it).' },
  'max-rooms': { type: 'int', default: 1000, min: 1, doc: "Rooms this thread's clients are in at once; a join of one more is refused." },
  'max-message-length': { type: 'int', default: 1000, min: 1, max: 2000, doc: 'Characters (code points) per message.' },
  'rate-burst': { type: 'int', default: 30, min: 1, doc: 'Requests a connection may send at once.' },
  'rate-per-sec': { type: 'int', default: 5, min: 1, doc: 'Requests per second a connection may keep sending after a burst; past it, closed with 1008.' },
} as const;

/** A flooder that does not read never gets the error written: it is closed without it after this. */
const CLOSE_GRACE_MS = 2000;

export default definePlugin({
  apiVersion: 2,
  name: 'chat',
  protocols: (protocol) => [
    protocol({
      name: 'chat',
      // A longest message, every character escaped as a JSON surrogate pair, still fits; larger frames close with 1009.
      maxMessageSize: 64 * 1024,
      options,
      init(_vhost, opts, previous): ChatState {
        // Rooms live in the channels (the framework's store): a reload keeps them with nothing handed over.
        return {
          history: { size: opts.history, ttlSecs: opts['history-keep-secs'] },
          maxText: opts['max-message-length'],
          maxRooms: opts['max-rooms'],
          rateBurst: opts['rate-burst'],
          ratePerSec: opts['rate-per-sec'],
          rooms: previous?.rooms ?? new Map(),
        };
      },
      websocket: {
        session: (vhost): ChatSession => ({
          room: undefined,
          name: undefined,
          joining: undefined,
          outbox: [],
          work: Promise.resolve(),
          bucket: new TokenBucket(vhost.state.rateBurst, vhost.state.ratePerSec),
          closing: undefined,
        }),
        receive(conn, data, isBinary) {
          const s = conn.session;
          if (s.closing) return;
          if (!s.bucket.take()) return flood(conn);
          if (frames.receive(conn, data, isBinary)) return;
          if (isBinary) return enqueue(conn, () => reply(conn, errorMessage('bad-request', 'binary frames are not part of the chat protocol: send JSON as text')));
          const parsed = parseRequest(data.toString('utf8'), conn.vhost.state.maxText);
          if (parsed.ok && parsed.value.type === 'join') s.joining = parsed.value.room;
          // Errors go through the queue too, so that replies come in the order of the requests.
          enqueue(conn, parsed.ok ? () => handle(conn, parsed.value) : () => reply(conn, parsed.error), parsed.ok ? parsed.value.type : undefined);
        },
        writable(conn) {
          const s = conn.session;
          const own = s.outbox.shift();
          if (own !== undefined) {
            conn.write(own, false);
            if (s.closing && s.outbox.length === 0) conn.close(s.closing.code, s.closing.reason);
            // Channel frames may wait behind the reply (a spurious writable costs nothing).
            else conn.requestWritable();
            return;
          }
          if (s.closing) return;
          // Channel frames only: chat subscribes to no topic of its own.
          const next = frames.next(conn);
          if (typeof next === 'string') conn.write(next, false);
        },
        closed(conn) {
          frames.closed(conn);
          enqueue(conn, () => leaveRoom(conn, false));
        },
      },
    }),
  ],
});

function enqueue(conn: ChatConn, step: () => Promise<void> | void, request?: RequestType): void {
  const s = conn.session;
  s.work = s.work.then(step).catch((err: unknown) => {
    // The channel's store may be away for a moment (Redis): the client is told, and keeps its connection.
    conn.vhost.log.warn({ err, conn: conn.id, request }, 'chat: request failed');
    reply(conn, unavailable(request));
  });
}

/**
 * While the store is away nothing is kept to be sent later: a message held
 * back would arrive into a conversation that moved on, or be lost with the
 * instance. The sender is told, with its request named, so a client can give
 * the text back.
 */
function unavailable(request: RequestType | undefined): ServerMessage {
  if (request !== 'send') return errorMessage('unavailable', 'the chat is unavailable for a moment; try again shortly', request);
  return errorMessage('unavailable', 'the message was not sent: the chat is unavailable for a moment; send it again shortly', request);
}

/**
 * Flooding policy: each request (channel frames included) costs a token of
 * the connection's bucket (`rate-burst` at once, refilled at `rate-per-sec`).
 * The request that finds it empty is not handled; the client gets one
 * "flooding" error, queued ahead of anything else waiting for it, and is
 * closed with 1008. Requests received after that are dropped unread.
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
      return joinRoom(conn, req.room, req.name, req.key);
    case 'leave':
      if (s.room === undefined) return reply(conn, errorMessage('not-joined', 'you are not in a room', 'leave'));
      return leaveRoom(conn, true);
    case 'send':
      if (s.room === undefined || s.name === undefined) return reply(conn, errorMessage('not-joined', 'join a room before sending messages', 'send'));
      return sendLine(conn, s.room, s.name, req.text);
    case 'who':
      if (s.room === undefined) return reply(conn, errorMessage('not-joined', 'join a room to see who is in it', 'who'));
      return reply(conn, { type: 'members', room: s.room, members: await whoIsIn(channelFor(conn, s.room)) });
    default: {
      const unreachable: never = req;
      return unreachable;
    }
  }
}
