/** @module chat's per-vhost and per-connection state, the room channel, and the reply queue. */
import type { Conn, TokenBucket } from '../../server/plugin/api.ts';
import { channelFrames } from '../../server/plugin/runtime.ts';
import type { ServerMessage } from './protocol.ts';

/** Replies waiting for a client that does not read: past this it is closed (1008), as the framework does for published messages. */
const MAX_OUTBOX = 256;

export interface ChatState {
  readonly history: { readonly size: number; readonly ttlSecs: number };
  readonly maxText: number;
  readonly maxRooms: number;
  readonly rateBurst: number;
  readonly ratePerSec: number;
  /** Rooms this thread's clients are in, with how many: max-rooms counts them. */
  readonly rooms: Map<string, number>;
}

export interface ChatSession {
  room: string | undefined;
  name: string | undefined;
  /** The room a join request is on its way to: its channel may be subscribed already (a reconnect sends both at once). */
  joining: string | undefined;
  /** Replies to this client only (welcome, members, errors), written before channel frames. */
  readonly outbox: string[];
  /** Requests are handled one after another, in the order received, though channels answer asynchronously. */
  work: Promise<void>;
  readonly bucket: TokenBucket;
  /** Set once the connection is being closed (flooding): nothing more is handled. */
  closing: { readonly code: number; readonly reason: string } | undefined;
}

export type ChatConn = Conn<ChatState, ChatSession>;

/** The channel of `room` (its messages, history and members), as this vhost's options keep it. */
export function channelFor(conn: ChatConn, room: string) {
  return conn.vhost.channels.channel(`room:${room}`, { history: conn.vhost.state.history });
}

/** Queues a message for this client alone. */
export function reply(conn: ChatConn, msg: ServerMessage): void {
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
 * The room channels on the wire: a client may subscribe to the channel of the
 * room it is in or joining (reading a room is what joining it gives), never
 * publish through frames (a message goes through `send`, which checks it and
 * puts the joined name on it), and joins the presence through `join` (with its
 * name check), not through the subscribe.
 */
export const frames = channelFrames<ChatConn>({
  channel(conn, name) {
    const room = name.startsWith('room:') ? name.slice(5) : undefined;
    const s = conn.session;
    if (room === undefined || (room !== s.room && room !== s.joining)) return undefined;
    return channelFor(conn, room);
  },
});

