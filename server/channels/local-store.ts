/** @module The channel store of one process: offsets, bounded history and presence in memory; also what count-threads' main thread holds for all threads. */
import crypto from 'node:crypto';
import type { ChannelHistory, ChannelMessage, ChannelPosition, PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';
import type { ChannelStore, StoredChannel } from './store.ts';
import { recoveryOf } from './positions.ts';
import { DEFAULT_IDLE_MAX, IdleChannels } from './idle-channels.ts';

interface State {
  /** The store's epoch when this state was made: a channel freed after publications is made again in a later one, so no offset repeats. */
  readonly epoch: string;
  /** As last used: its history bounds, for aging it while idle. */
  channel: StoredChannel;
  /** Followers of this store (this thread's subscriptions, or count-threads' workers'). */
  followers: number;
  last: number;
  /** Kept messages, oldest first, from index `head` (shifting a long array costs; compacted now and then). */
  kept: ChannelMessage[];
  head: number;
  /** Member id → member, in join order. */
  readonly members: Map<string, PresenceMember>;
}

export interface LocalStoreOptions {
  /** Names this process (or thread) in PresenceMember.holder. */
  readonly holder: string;
  /** Wall-clock milliseconds: message times and the age bound (tsws/testing passes its manual clock). */
  readonly now?: () => number;
  /** Idle channels with history kept per scope, least recently used freed first (config `channel-idle-max`). */
  readonly idleMax?: number;
  /**
   * Every publication and presence change of every channel, synchronously in
   * the order they happen: how count-threads' main thread forwards them to
   * the worker threads (server/threads/channel-host.ts).
   */
  readonly sink?: {
    publication(key: string, message: ChannelMessage): void;
    presence(key: string, event: PresenceEvent): void;
  };
}

/**
 * Everything happens synchronously inside each call, so offsets are
 * consecutive and followers see them in order with nothing to coordinate.
 * The epoch is a fresh random string per store: a restarted process tells a
 * resuming reader 'epoch-changed' instead of answering with offsets that
 * mean something else now. The age bound is applied whenever a channel is
 * read or written (lazily: an idle channel holds its last messages until then,
 * bounded by its size anyway).
 *
 * Forgetting, as Centrifugo does: a channel nobody follows and nobody is a
 * member of is freed as soon as it keeps no message (no history, or all of
 * it expired), and idle channels that still keep some are bounded per scope
 * (idleMax, least recently used freed first). Otherwise every name a client
 * made the server touch would stay for the life of the process. A channel
 * made again after publications takes a new epoch (#free): a reader resuming
 * from before is told 'epoch-changed', never handed offsets that mean
 * something else now.
 */
export class LocalChannelStore implements ChannelStore {
  readonly epoch = crypto.randomBytes(9).toString('base64url');
  readonly #o: LocalStoreOptions;
  readonly #now: () => number;
  readonly #channels = new Map<string, State>();
  readonly #idle: IdleChannels<string>;
  /** The epoch new states take: moves on whenever a channel that had publications is freed (see #free). */
  #current = this.epoch;
  #losses = 0;
  readonly #followers = new Map<string, Set<(m: ChannelMessage) => void>>();
  readonly #watchers = new Map<string, Set<(e: PresenceEvent) => void>>();

  constructor(o: LocalStoreOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#idle = new IdleChannels(o.idleMax ?? DEFAULT_IDLE_MAX);
  }

  /** The idle bound, set again by every reload (config channel-idle-max). */
  set idleMax(max: number) {
    this.#idle.max = max;
  }

  /** Channels held now (for tests and figures). */
  get size(): number {
    return this.#channels.size;
  }

  async publish(channel: StoredChannel, data: Buffer | string, isBinary: boolean): Promise<ChannelMessage> {
    return this.publishNow(channel, data, isBinary);
  }

  /** publish without the promise: the main thread answers a worker from here. */
  publishNow(channel: StoredChannel, data: Buffer | string, isBinary: boolean): ChannelMessage {
    const s = this.#state(channel);
    const message: ChannelMessage = { channel: channel.key, epoch: s.epoch, offset: ++s.last, data, isBinary, time: this.#now() };
    if (channel.historySize > 0) {
      s.kept.push(message);
      while (s.kept.length - s.head > channel.historySize) s.head++;
      this.#age(channel, s);
    }
    const followers = this.#followers.get(channel.key);
    if (followers) for (const f of followers) f(message);
    this.#o.sink?.publication(channel.key, message);
    this.#settle(s);
    return message;
  }

  async position(channel: StoredChannel): Promise<ChannelPosition> {
    const s = this.#state(channel);
    this.#settle(s);
    return { epoch: s.epoch, offset: s.last };
  }

  async read(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): Promise<ChannelHistory> {
    return this.readNow(channel, since, limit);
  }

  readNow(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): ChannelHistory {
    const s = this.#state(channel);
    this.#age(channel, s);
    this.#settle(s);
    const position = { epoch: s.epoch, offset: s.last };
    const first = s.kept[s.head]?.offset;
    const recovery = since && recoveryOf(since, s.epoch, s.last, first);
    if (recovery?.recovered === false && recovery.reason === 'epoch-changed') return { messages: [], position, recovery };
    const after = since?.offset ?? 0;
    const from = first === undefined ? s.kept.length : s.head + Math.max(0, after + 1 - first);
    return { messages: s.kept.slice(from, limit >= s.kept.length ? undefined : from + limit), position, recovery };
  }

  follow(channel: StoredChannel, deliver: (message: ChannelMessage) => void): () => void {
    // The state is made now, so its epoch holds for as long as anyone follows.
    const s = this.#state(channel);
    s.followers++;
    this.#idle.remove(channel.scope, channel.key);
    const stop = subscribeTo(this.#followers, channel.key, deliver);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      stop();
      s.followers--;
      if (this.#channels.get(channel.key) === s) this.#settle(s);
    };
  }

  async join(channel: StoredChannel, holderLocalId: string, info: unknown): Promise<PresenceMember> {
    return this.joinAs(channel, this.#o.holder, holderLocalId, info);
  }

  /** A member held by `holder` (a worker thread, for the main thread's store). */
  joinAs(channel: StoredChannel, holder: string, localId: string, info: unknown): PresenceMember {
    const member: PresenceMember = { id: `${holder}/${localId}`, info, holder };
    this.#state(channel).members.set(member.id, member);
    this.#idle.remove(channel.scope, channel.key);
    this.#emit(channel.key, { type: 'join', member });
    return member;
  }

  async leave(channel: StoredChannel, holderLocalId: string): Promise<void> {
    this.leaveAs(channel.key, `${this.#o.holder}/${holderLocalId}`);
  }

  leaveAs(key: string, memberId: string): void {
    const s = this.#channels.get(key);
    const member = s?.members.get(memberId);
    if (!s || !member) return;
    s.members.delete(memberId);
    this.#emit(key, { type: 'leave', member });
    this.#settle(s);
  }

  /** Every member `holder` held leaves now (its thread died): the others are told at once. */
  dropHolder(holder: string): number {
    let n = 0;
    for (const [key, s] of this.#channels) {
      for (const m of [...s.members.values()]) {
        if (m.holder !== holder) continue;
        this.leaveAs(key, m.id);
        n++;
      }
    }
    return n;
  }

  async members(channel: StoredChannel): Promise<PresenceMember[]> {
    return this.membersNow(channel);
  }

  membersNow(channel: StoredChannel): PresenceMember[] {
    return [...(this.#channels.get(channel.key)?.members.values() ?? [])];
  }

  onPresence(channel: StoredChannel, fn: (event: PresenceEvent) => void): () => void {
    return subscribeTo(this.#watchers, channel.key, fn);
  }

  async close(): Promise<void> {
    this.#followers.clear();
    this.#watchers.clear();
  }

  #state(channel: StoredChannel): State {
    let s = this.#channels.get(channel.key);
    if (!s) this.#channels.set(channel.key, (s = { epoch: this.#current, channel, followers: 0, last: 0, kept: [], head: 0, members: new Map() }));
    else s.channel = channel;
    return s;
  }

  /** After a use: a channel in use stays; an idle one is freed when it keeps nothing, else kept under the idle bound. */
  #settle(s: State): void {
    const { key, scope } = s.channel;
    if (s.followers > 0 || s.members.size > 0) return this.#idle.remove(scope, key);
    this.#age(s.channel, s);
    if (s.kept.length - s.head === 0) {
      this.#idle.remove(scope, key);
      return this.#free(s);
    }
    for (const evicted of this.#idle.touch(scope, key, key)) {
      const e = this.#channels.get(evicted);
      if (e) this.#free(e);
    }
  }

  /**
   * Forgets a channel. One that never had a publication loses nothing: made
   * again, it takes the same epoch and a reader at offset 0 resumes as if it
   * had stayed. One that had some moves the store's epoch on for every state
   * made from now on, so its offsets are never given again under its epoch
   * and a reader of it is told 'epoch-changed' (one counter, not a record
   * per freed name, which would be the leak again).
   */
  #free(s: State): void {
    this.#channels.delete(s.channel.key);
    if (s.last > 0 && s.epoch === this.#current) this.#current = `${this.epoch}.${(++this.#losses).toString(36)}`;
  }

  /** Drops what is past the age bound, and compacts the array once half of it is dropped. */
  #age(channel: StoredChannel, s: State): void {
    if (channel.historyTtlMs > 0) {
      const oldest = this.#now() - channel.historyTtlMs;
      while (s.head < s.kept.length && (s.kept[s.head] as ChannelMessage).time < oldest) s.head++;
    }
    if (s.head > 16 && s.head * 2 > s.kept.length) {
      s.kept = s.kept.slice(s.head);
      s.head = 0;
    }
  }

  #emit(key: string, event: PresenceEvent): void {
    const watchers = this.#watchers.get(key);
    if (watchers) for (const w of watchers) w(event);
    this.#o.sink?.presence(key, event);
  }
}

/** Adds `fn` to the set under `key`; returns its removal (the set goes when empty). */
export function subscribeTo<T>(map: Map<string, Set<T>>, key: string, fn: T): () => void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(fn);
  return () => {
    const s = map.get(key);
    if (s?.delete(fn) && s.size === 0) map.delete(key);
  };
}
