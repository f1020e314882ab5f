/** @module Room state (members, history) behind the RoomStore interface, and its in-memory implementation. */
import { nameKey, type ChatMessage } from './protocol.ts';

export type JoinOutcome =
  | {
      readonly ok: true;
      readonly members: readonly string[];
      readonly history: readonly ChatMessage[];
      /** The room's message sequence and its last id, as the welcome tells them. */
      readonly epoch: string;
      readonly lastId: number;
    }
  | { readonly ok: false; readonly reason: 'name-taken' | 'too-many-rooms' };

/**
 * Everything the chat plugin knows about rooms goes through here, so that a
 * store shared by several tsws instances (Redis: a hash of members and a
 * capped list of messages per room) can replace the in-memory one without
 * touching the plugin. That is why every method returns a promise even
 * though the in-memory store answers at once. Each method must be atomic on
 * its own: `join` checks the name and adds it in one step.
 */
export interface RoomStore {
  /** True when `append` also delivers the message to the room's topic (a shared store keeps one order for every instance). */
  readonly publishesAppends: boolean;
  /** Adds `name` to `room` (creating the room); refuses a name already there, compared case-insensitively. */
  join(room: string, name: string): Promise<JoinOutcome>;
  /** Removes `name`; an empty room is removed, its history kept as the retention policy says. */
  leave(room: string, name: string): Promise<void>;
  /** Member names in the order they joined; empty for a room that does not exist. */
  members(room: string): Promise<readonly string[]>;
  /** Stores a message from a member, assigning its id in the room's epoch; the history keeps the newest ones. */
  append(room: string, name: string, text: string, time: number): Promise<ChatMessage>;
  close(): Promise<void>;
}

export interface RetentionPolicy {
  /** Messages kept per room (and sent on join); 0 keeps none. */
  readonly historySize: number;
  /** How long an empty room's history is kept after its last member left; 0 drops it at once. */
  readonly keepMs: number;
  /** Rooms held at once, live or only remembered for their history. */
  readonly maxRooms: number;
}

let epochs = 0;
/** Milliseconds and a counter, digits as the shared store's (Redis's clock in µs): only its difference from earlier epochs matters. */
const newEpoch = (): string => `${Date.now()}${String(epochs++ % 1000).padStart(3, '0')}`;

interface Room {
  /** nameKey → the name as its owner spelled it. */
  readonly members: Map<string, string>;
  history: ChatMessage[];
  /**
   * Made by the room's first message, as the shared store's log makes it
   * ("" until then): a room forgotten and re-created, or a restarted server,
   * counts again from 1 in a new one.
   */
  epoch: string;
  nextId: number;
  /** Set while the room has no members and only its history is kept. */
  emptySince: number | undefined;
}

export class MemoryRoomStore implements RoomStore {
  readonly publishesAppends = false;
  readonly #rooms = new Map<string, Room>();
  readonly #policy: RetentionPolicy;
  readonly #now: () => number;

  constructor(policy: RetentionPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  async join(room: string, name: string): Promise<JoinOutcome> {
    this.sweep();
    let r = this.#rooms.get(room);
    if (!r) {
      // At the limit, a remembered history makes way for a live room; live rooms never do.
      if (this.#rooms.size >= this.#policy.maxRooms && !this.#evictOldestEmpty()) return { ok: false, reason: 'too-many-rooms' };
      r = { members: new Map(), history: [], epoch: '', nextId: 1, emptySince: undefined };
      this.#rooms.set(room, r);
    }
    const key = nameKey(name);
    if (r.members.has(key)) return { ok: false, reason: 'name-taken' };
    r.members.set(key, name);
    r.emptySince = undefined;
    return { ok: true, members: [...r.members.values()], history: [...r.history], epoch: r.epoch, lastId: r.nextId - 1 };
  }

  async leave(room: string, name: string): Promise<void> {
    const r = this.#rooms.get(room);
    if (!r?.members.delete(nameKey(name)) || r.members.size > 0) return;
    if (this.#policy.keepMs === 0 || r.history.length === 0) this.#rooms.delete(room);
    else r.emptySince = this.#now();
  }

  async members(room: string): Promise<readonly string[]> {
    return [...(this.#rooms.get(room)?.members.values() ?? [])];
  }

  async append(room: string, name: string, text: string, time: number): Promise<ChatMessage> {
    const r = this.#rooms.get(room);
    // The plugin appends only for a member, and a member's room exists: anything else is a bug.
    if (!r?.members.has(nameKey(name))) throw new Error(`chat store: ${JSON.stringify(name)} is not a member of ${JSON.stringify(room)}`);
    if (r.epoch === '') r.epoch = newEpoch();
    const msg: ChatMessage = { type: 'message', id: r.nextId++, epoch: r.epoch, room, name, text, time };
    if (this.#policy.historySize > 0) {
      r.history.push(msg);
      if (r.history.length > this.#policy.historySize) r.history.splice(0, r.history.length - this.#policy.historySize);
    }
    return msg;
  }

  async close(): Promise<void> {
    this.#rooms.clear();
  }

  /** Forgets the histories of rooms empty for longer than the policy keeps them. */
  sweep(): void {
    const cutoff = this.#now() - this.#policy.keepMs;
    for (const [name, r] of this.#rooms) if (r.emptySince !== undefined && r.emptySince <= cutoff) this.#rooms.delete(name);
  }

  /** Rooms held (live or remembered), for tests and logs. */
  get size(): number {
    return this.#rooms.size;
  }

  has(room: string): boolean {
    return this.#rooms.has(room);
  }

  #evictOldestEmpty(): boolean {
    let oldest: [string, number] | undefined;
    for (const [name, r] of this.#rooms) if (r.emptySince !== undefined && (!oldest || r.emptySince < oldest[1])) oldest = [name, r.emptySince];
    if (!oldest) return false;
    this.#rooms.delete(oldest[0]);
    return true;
  }
}
