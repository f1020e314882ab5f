/** @module chat's rooms on channels: join (the name check on presence), leave, send, who. */
import crypto from 'node:crypto';
import type { Channel, ChannelMessage, PresenceMember } from '../../server/plugin/api.ts';
import { errorMessage, nameKey, type ChatMessage } from './protocol.ts';
import { channelFor, frames, reply, type ChatConn } from './session.ts';

/** What a member joins a room's presence with: its name, and the hash of the client's key (the key itself stays secret). */
interface MemberInfo {
  readonly name: string;
  readonly key?: string;
}

const infoOf = (m: PresenceMember): MemberInfo | undefined => {
  const i = m.info as Partial<MemberInfo> | null;
  return typeof i === 'object' && i !== null && typeof i.name === 'string' ? { name: i.name, ...(typeof i.key === 'string' ? { key: i.key } : {}) } : undefined;
};

const hashKey = (key: string | undefined): string | undefined => (key === undefined ? undefined : crypto.createHash('sha256').update(key).digest('base64url').slice(0, 22));

const roomOfChannel = (channel: string): string | undefined => (channel.startsWith('room:') ? channel.slice(5) : undefined);

/** Names in join order, each once (a client back under its key may be listed twice until its lost connection's member expires). */
export async function whoIsIn(channel: Channel): Promise<string[]> {
  return namesOf(await channel.presence.list());
}

const namesOf = (members: readonly PresenceMember[]): string[] => {
  const seen = new Map<string, string>();
  for (const m of members) {
    const i = infoOf(m);
    if (i && !seen.has(nameKey(i.name))) seen.set(nameKey(i.name), i.name);
  }
  return [...seen.values()];
};

/** A channel message as the chat message it carries, or undefined for one chat did not publish. */
export function chatMessage(m: ChannelMessage): ChatMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(typeof m.data === 'string' ? m.data : m.data.toString('utf8'));
  } catch {
    return undefined;
  }
  const o = v as { name?: unknown; text?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.text !== 'string') return undefined;
  return { epoch: m.epoch, offset: m.offset, time: m.time, name: o.name, text: o.text };
}

/**
 * Names are unique in a room, case-insensitively, across threads and
 * instances: presence is the one list every holder sees. Listing and joining
 * are two steps, so two joins of one name at once on two threads can both pass
 * the list; the check after the join settles it the same way on both sides
 * (the member listed first keeps the name, the other gives way with
 * name-taken). A member with the same client key is the joiner's own lost
 * connection (a dead instance's members linger until the cluster's ttl): it
 * does not block the name.
 *
 * Joining another room while in one moves there: the old room is left only
 * once the new one has accepted the name, so a refused move leaves the client
 * where it was.
 */
export async function joinRoom(conn: ChatConn, room: string, name: string, key: string | undefined): Promise<void> {
  const s = conn.session;
  const st = conn.vhost.state;
  try {
    if (s.room === room) {
      return reply(conn, errorMessage('already-joined', `you are already in room "${room}" as "${s.name ?? ''}"; leave it first to come back under another name`, 'join'));
    }
    if (!st.rooms.has(room) && st.rooms.size >= st.maxRooms) {
      return reply(conn, errorMessage('too-many-rooms', 'the server holds as many rooms as it may; join an existing room', 'join'));
    }
    const channel = channelFor(conn, room);
    const mine = hashKey(key);
    const clashes = (members: readonly PresenceMember[]) => members.filter((m) => {
      const i = infoOf(m);
      return i !== undefined && nameKey(i.name) === nameKey(name) && (mine === undefined || i.key !== mine);
    });
    const taken = () => reply(conn, errorMessage('name-taken', `the name "${name}" is already taken in room "${room}"; choose another`, 'join'));
    if (clashes(await channel.presence.list()).length > 0) return refuse(conn, channel, taken);
    const me = await channel.presence.join(conn, { name, ...(mine !== undefined ? { key: mine } : {}) } satisfies MemberInfo);
    const after = await channel.presence.list();
    const first = after.find((m) => m.id === me.id || clashes([m]).length > 0);
    if (first !== undefined && first.id !== me.id) {
      await channel.presence.leave(conn);
      return refuse(conn, channel, taken);
    }
    if (!conn.isOpen) return;
    if (s.room !== undefined) await leaveRoom(conn, true);
    s.room = room;
    s.name = name;
    st.rooms.set(room, (st.rooms.get(room) ?? 0) + 1);
    const read = await channel.history({ limit: st.history.size });
    const history = read.messages.flatMap((m) => chatMessage(m) ?? []);
    conn.vhost.log.debug({ conn: conn.id, room, name }, 'chat: joined');
    reply(conn, {
      type: 'welcome', room, name, channel: channel.name, members: namesOf(after), history,
      epoch: read.position.epoch, offset: read.position.offset, time: Date.now(), limits: { maxText: st.maxText },
    });
  } finally {
    if (s.joining === room) s.joining = undefined;
  }
}

/** A refused join: a subscription its channel frames may have made already (a reconnect sends both at once) is dropped. */
function refuse(conn: ChatConn, channel: Channel, answer: () => void): void {
  if (conn.session.room !== roomOfChannel(channel.name)) frames.unsubscribe(conn, channel.name);
  answer();
}

/** `told`: a leave or a move, answered with the client's own `left`; false for a closed connection (its presence leaves by itself). */
export async function leaveRoom(conn: ChatConn, told: boolean): Promise<void> {
  const s = conn.session;
  const { room, name } = s;
  if (room === undefined || name === undefined) return;
  s.room = undefined;
  s.name = undefined;
  const st = conn.vhost.state;
  const n = (st.rooms.get(room) ?? 1) - 1;
  if (n > 0) st.rooms.set(room, n);
  else st.rooms.delete(room);
  if (!told) return;
  // The client hears `left`, then `unsubscribed`: nothing of the room after its own leave.
  reply(conn, { type: 'left', room, name, time: Date.now() });
  const channel = channelFor(conn, room);
  frames.unsubscribe(conn, channel.name);
  conn.vhost.log.debug({ conn: conn.id, room, name }, 'chat: left');
  await channel.presence.leave(conn);
}

/** The name is the one this connection joined with: a client cannot speak as someone else. The message comes back through the channel: that is the acknowledgement. */
export async function sendLine(conn: ChatConn, room: string, name: string, text: string): Promise<void> {
  await channelFor(conn, room).publish(JSON.stringify({ name, text }));
}
