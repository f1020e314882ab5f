/** @module The channel store of one process: offsets, bounded history and presence in memory; also what count-threads' main thread holds for all threads. */
import crypto from 'node:crypto';
import type { ChannelHistory, ChannelMessage, ChannelPosition, PresenceEvent, PresenceMember } from '../plugin/api-channels.ts';
import type { ChannelStore, StoredChannel } from './store.ts';
import { recoveryOf } from './positions.ts';

interface State {
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
 */
export class LocalChannelStore implements ChannelStore {
  readonly epoch = crypto.randomBytes(9).toString('base64url');
  readonly #o: LocalStoreOptions;
  readonly #now: () => number;
  readonly #channels = new Map<string, State>();
  readonly #followers = new Map<string, Set<(m: ChannelMessage) => void>>();
  readonly #watchers = new Map<string, Set<(e: PresenceEvent) => void>>();

  constructor(o: LocalStoreOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  async publish(channel: StoredChannel, data: Buffer | string, isBinary: boolean): Promise<ChannelMessage> {
    return this.publishNow(channel, data, isBinary);
  }

  /** publish without the promise: the main thread answers a worker from here. */
  publishNow(channel: StoredChannel, data: Buffer | string, isBinary: boolean): ChannelMessage {
    const s = this.#state(channel);
    const message: ChannelMessage = { channel: channel.key, epoch: this.epoch, offset: ++s.last, data, isBinary, time: this.#now() };
    if (channel.historySize > 0) {
      s.kept.push(message);
      while (s.kept.length - s.head > channel.historySize) s.head++;
      this.#age(channel, s);
    }
    const followers = this.#followers.get(channel.key);
    if (followers) for (const f of followers) f(message);
    this.#o.sink?.publication(channel.key, message);
    return message;
  }

  async position(channel: StoredChannel): Promise<ChannelPosition> {
    return { epoch: this.epoch, offset: this.#state(channel).last };
  }

  async read(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): Promise<ChannelHistory> {
    return this.readNow(channel, since, limit);
  }

  readNow(channel: StoredChannel, since: ChannelPosition | undefined, limit: number): ChannelHistory {
    const s = this.#state(channel);
    this.#age(channel, s);
    const position = { epoch: this.epoch, offset: s.last };
    const first = s.kept[s.head]?.offset;
    const recovery = since && recoveryOf(since, this.epoch, s.last, first);
    if (recovery?.recovered === false && recovery.reason === 'epoch-changed') return { messages: [], position, recovery };
    const after = since?.offset ?? 0;
    const from = first === undefined ? s.kept.length : s.head + Math.max(0, after + 1 - first);
    return { messages: s.kept.slice(from, limit >= s.kept.length ? undefined : from + limit), position, recovery };
  }

  follow(channel: StoredChannel, deliver: (message: ChannelMessage) => void): () => void {
    return subscribeTo(this.#followers, channel.key, deliver);
  }

  async join(channel: StoredChannel, holderLocalId: string, info: unknown): Promise<PresenceMember> {
    return this.joinAs(channel, this.#o.holder, holderLocalId, info);
  }

  /** A member held by `holder` (a worker thread, for the main thread's store). */
  joinAs(channel: StoredChannel, holder: string, localId: string, info: unknown): PresenceMember {
    const member: PresenceMember = { id: `${holder}/${localId}`, info, holder };
    this.#state(channel).members.set(member.id, member);
    this.#emit(channel.key, { type: 'join', member });
    return member;
  }

  async leave(channel: StoredChannel, holderLocalId: string): Promise<void> {
    this.leaveAs(channel.key, `${this.#o.holder}/${holderLocalId}`);
  }

  leaveAs(key: string, memberId: string): void {
    const members = this.#channels.get(key)?.members;
    const member = members?.get(memberId);
    if (!member) return;
    members?.delete(memberId);
    this.#emit(key, { type: 'leave', member });
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
    if (!s) this.#channels.set(channel.key, (s = { last: 0, kept: [], head: 0, members: new Map() }));
    return s;
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
