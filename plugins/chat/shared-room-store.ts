/** @module The RoomStore of a cluster: members and history in the framework's shared state, so a room spans every instance. */
import type { ClusterView, Presence, SharedLog } from '../../server/plugin/api.ts';
import { nameKey, type ChatMessage } from './protocol.ts';
import type { JoinOutcome, RetentionPolicy, RoomStore } from './room-store.ts';

interface LocalRoom {
  readonly members: Presence;
  readonly history: SharedLog;
  /** Members of this room on this instance. */
  count: number;
}

/**
 * What is shared and how:
 * - members: one presence group per room, the key the lower-cased name (so
 *   `claim` is the case-insensitive uniqueness check, atomic across
 *   instances), the value the name as spelled; an instance that dies loses
 *   its members within the cluster's ttl-secs.
 * - history: one shared log per room (ids consecutive across instances); an
 *   append is published to the room's topic in the same step, so every
 *   instance sees a room's messages in id order (the clients' "skip ids not
 *   above the last seen" rule stays right).
 * - retention: when the last member anywhere leaves, the log lingers
 *   `history-keep-secs` and then Redis deletes it (a new member keeps it).
 * - max-rooms counts the rooms this instance's clients are in: Redis holds at
 *   most instances x max-rooms live rooms, plus histories until they expire.
 */
export class SharedRoomStore implements RoomStore {
  readonly publishesAppends = true;
  readonly #cluster: ClusterView;
  readonly #policy: RetentionPolicy;
  readonly #topicOf: (room: string) => string;
  readonly #rooms = new Map<string, LocalRoom>();

  constructor(cluster: ClusterView, policy: RetentionPolicy, topicOf: (room: string) => string) {
    this.#cluster = cluster;
    this.#policy = policy;
    this.#topicOf = topicOf;
  }

  async join(room: string, name: string): Promise<JoinOutcome> {
    let r = this.#rooms.get(room);
    if (!r) {
      if (this.#rooms.size >= this.#policy.maxRooms) return { ok: false, reason: 'too-many-rooms' };
      r = { ...this.#open(room), count: 0 };
      this.#rooms.set(room, r);
    }
    r.count++;
    let claimed = false;
    try {
      claimed = await r.members.claim(nameKey(name), name);
      if (!claimed) return { ok: false, reason: 'name-taken' };
      const [members, history] = await Promise.all([r.members.list(), this.#history(r.history)]);
      return { ok: true, members: members.map((m) => m.value), ...history };
    } catch (err) {
      if (claimed) await r.members.release(nameKey(name));
      claimed = false;
      throw err;
    } finally {
      if (!claimed) this.#forget(room, r);
    }
  }

  async leave(room: string, name: string): Promise<void> {
    const r = this.#rooms.get(room);
    if (!r) return;
    this.#forget(room, r);
    await r.members.release(nameKey(name));
  }

  async members(room: string): Promise<readonly string[]> {
    const r = this.#rooms.get(room) ?? this.#open(room);
    return (await r.members.list()).map((m) => m.value);
  }

  async append(room: string, name: string, text: string, time: number): Promise<ChatMessage> {
    const r = this.#rooms.get(room);
    if (!r) throw new Error(`chat store: ${JSON.stringify(name)} is not a member of ${JSON.stringify(room)} here`);
    // The same bytes as JSON.stringify of the message, with the id and epoch the log assigns spliced in.
    const after = `","room":${JSON.stringify(room)},"name":${JSON.stringify(name)},"text":${JSON.stringify(text)},"time":${time}}`;
    const entry = await r.history.append('{"type":"message","id":', after, ',"epoch":"');
    return { type: 'message', id: entry.id, epoch: entry.epoch, room, name, text, time };
  }

  async close(): Promise<void> {
    this.#rooms.clear();
  }

  #open(room: string): { members: Presence; history: SharedLog } {
    const history = this.#cluster.log(`history:${room}`, { maxLength: this.#policy.historySize, publishTo: this.#topicOf(room) });
    const members = this.#cluster.presence(`room:${room}`, { linger: { logs: [history], ms: this.#policy.keepMs } });
    return { members, history };
  }

  #forget(room: string, r: LocalRoom): void {
    if (--r.count <= 0) this.#rooms.delete(room);
  }

  /**
   * The welcome's part: the last `history` messages, the epoch and its last id.
   * Two reads; should the log move on between them (appends, or a new epoch
   * after Redis lost it), the entries (read in one step with their epoch) win.
   */
  async #history(log: SharedLog): Promise<{ history: ChatMessage[]; epoch: string; lastId: number }> {
    const bounds = await log.bounds();
    const n = this.#policy.historySize;
    const entries = n === 0 ? [] : await log.after(Math.max(0, bounds.lastId - n), n);
    const history = entries.flatMap((e) => parseMessage(e.text, e.epoch) ?? []);
    const newest = entries.at(-1);
    if (!newest || (newest.epoch === bounds.epoch && newest.id <= bounds.lastId)) return { history, epoch: bounds.epoch, lastId: bounds.lastId };
    return { history, epoch: newest.epoch, lastId: newest.id };
  }
}

/** History entries were written by append() above (by an older tsws, without the epoch); still, only well-formed ones are sent. */
function parseMessage(text: string, epoch: string): ChatMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const f = new Map<string, unknown>(typeof v === 'object' && v !== null ? Object.entries(v) : []);
  const [id, room, name, body, time] = [f.get('id'), f.get('room'), f.get('name'), f.get('text'), f.get('time')];
  if (typeof id !== 'number' || typeof room !== 'string' || typeof name !== 'string' || typeof body !== 'string' || typeof time !== 'number') return undefined;
  return { type: 'message', id, epoch, room, name, text: body, time };
}
