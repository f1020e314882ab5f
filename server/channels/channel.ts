/** @module One channel of one protocol on one vhost (vhost.channels.channel()): publish, history, subscribe with resume, presence, over a ChannelStore. */
import { tswsError } from '../base/errors.ts';
import type { ChannelStats } from '../metrics/channel-stats.ts';
import type {
  Channel, ChannelConn, ChannelHistory, ChannelMessage, ChannelPosition, ChannelPresence, ChannelRecovery, ChannelSubscription, PresenceEvent, PresenceMember,
} from '../plugin/api-channels.ts';
import type { Published } from '../plugin/api-request.ts';
import type { TopicSubscriber } from '../bus/topics.ts';
import type { ChannelStore, StoredChannel } from './store.ts';
import { checkLimit, checkPosition, type Where } from './positions.ts';

/** A connection the framework made: it has a published queue. */
type Subscriber = ChannelConn & TopicSubscriber;

/** What a channel tells its vhost's channel set: which connections it holds, to let go when they close. */
export interface ChannelOwner {
  touched(conn: ChannelConn, channel: ChannelImpl): void;
  /** The connection neither subscribes nor is a member here any more. */
  untouched(conn: ChannelConn, channel: ChannelImpl): void;
  /** Nothing of this thread uses the channel now (no subscription, member or watch): the owner may forget it. */
  idle(channel: ChannelImpl): void;
}

interface Sub {
  readonly conn: Subscriber;
  /** The epoch and last offset delivered: anything at or before it is a duplicate. */
  epoch: string | undefined;
  last: number;
  /** Set while the subscription reads where to start: live messages wait here. */
  pending: ChannelMessage[] | undefined;
}

export interface ChannelDeps {
  readonly store: ChannelStore;
  readonly stats: ChannelStats;
  readonly where: Where;
  readonly owner: ChannelOwner;
}

/**
 * Subscribe with resume, the order that leaves no gap and no duplicate:
 * follow first (live messages from now on are buffered), then read the
 * position, or the history after `since`; deliver that history, then the
 * buffered live ones, dropping every offset already delivered; from then on
 * live ones go straight to the connection's published queue. The store's
 * contract (store.ts) is what makes the merge exact: a publication is either
 * in what the read returned or reaches the follower after the read began.
 * One follow of the store per channel per thread, shared by its subscribers.
 */
export class ChannelImpl implements Channel {
  readonly name: string;
  readonly stored: StoredChannel;
  readonly presence: ChannelPresence;
  readonly #d: ChannelDeps;
  readonly #subs = new Map<number, Sub>();
  #unfollow: (() => void) | undefined;

  constructor(name: string, stored: StoredChannel, d: ChannelDeps) {
    this.name = name;
    this.stored = stored;
    this.#d = d;
    this.presence = new Presence(this, d);
  }

  async publish(data: string | Uint8Array, isBinary: boolean = typeof data !== 'string'): Promise<ChannelPosition> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw tswsError('TSWS_ERR_CHANNEL_POSITION', { ...this.#d.where, name: this.name, reason: 'publish takes a string or bytes' });
    // Copied once here (a view over transient memory must not be kept); every subscriber shares the copy.
    const payload = typeof data === 'string' ? data : Buffer.from(data);
    const m = await this.#d.store.publish(this.stored, payload, isBinary);
    this.#d.stats.published++;
    return { epoch: m.epoch, offset: m.offset };
  }

  position(): Promise<ChannelPosition> {
    return this.#d.store.position(this.stored);
  }

  async history(opts: { readonly since?: ChannelPosition; readonly limit?: number } = {}): Promise<ChannelHistory> {
    const since = opts.since === undefined ? undefined : checkPosition(this.#d.where, this.name, opts.since, 'since');
    const limit = checkLimit(this.#d.where, this.name, opts.limit);
    const h = await this.#d.store.read(this.stored, since, limit);
    if (h.recovery) this.#count(h.recovery);
    return h;
  }

  async subscribe(conn: ChannelConn, since?: ChannelPosition): Promise<ChannelSubscription> {
    const c = this.subscriber(conn);
    // Not yet open (a session maker) or closed: its queue takes nothing, so every message would be a silent gap.
    if (!c.isOpen) throw tswsError('TSWS_ERR_CHANNEL_CONNECTION', { ...this.#d.where, name: this.name });
    const from = since === undefined ? undefined : checkPosition(this.#d.where, this.name, since, 'since');
    // A second subscribe starts again from what it asks: the first one's queue position is dropped.
    this.unsubscribe(c);
    const sub: Sub = { conn: c, epoch: undefined, last: 0, pending: [] };
    this.#subs.set(c.id, sub);
    this.#d.owner.touched(c, this);
    this.#unfollow ??= this.#d.store.follow(this.stored, (m) => this.#live(m));
    let position: ChannelPosition;
    let recovery: ChannelRecovery | undefined;
    let missed: readonly ChannelMessage[] = [];
    try {
      if (from) {
        const h = await this.#d.store.read(this.stored, from, Number.MAX_SAFE_INTEGER);
        position = h.position;
        recovery = h.recovery;
        if (recovery?.recovered) missed = h.messages;
      } else position = await this.#d.store.position(this.stored);
    } catch (err) {
      if (!from) {
        this.#drop(sub);
        throw err;
      }
      // The store is away: nothing can be recovered now. Said, never silent; live messages flow when it is back.
      position = { epoch: '', offset: 0 };
      recovery = { recovered: false, reason: 'unavailable' };
    }
    if (recovery) this.#count(recovery);
    // Unsubscribed (or the connection closed) while reading: deliver nothing.
    if (this.#subs.get(c.id) !== sub) return { position, recovery };
    sub.epoch = position.epoch || undefined;
    sub.last = recovery?.recovered && from ? from.offset : position.offset;
    const waiting = sub.pending ?? [];
    sub.pending = undefined;
    for (const m of [...missed, ...waiting]) this.#offer(sub, m, published(this.name, m));
    return { position, recovery };
  }

  unsubscribe(conn: ChannelConn): void {
    const sub = this.#subs.get(conn.id);
    if (!sub) return;
    this.#drop(sub);
    this.let(conn);
  }

  /** No subscription and no membership of `conn` is left: its owner lets go of it, and of the channel once nothing uses it. */
  let(conn: ChannelConn): void {
    if (this.#subs.has(conn.id) || (this.presence as Presence).holds(conn)) return;
    this.#d.owner.untouched(conn, this);
    if (this.isIdle()) this.#d.owner.idle(this);
  }

  isIdle(): boolean {
    return this.#subs.size === 0 && (this.presence as Presence).idle();
  }

  /** The connection closed: it leaves the subscription and the presence set. */
  forget(conn: ChannelConn): void {
    this.unsubscribe(conn);
    // A store that cannot be told now (Redis away) catches up by itself: the cluster re-sends releases, a dead holder is reaped.
    (this.presence as Presence).closed(conn).catch(() => undefined);
  }

  /** The host is destroyed: stop following and watching. */
  close(): void {
    this.#subs.clear();
    this.#unfollow?.();
    this.#unfollow = undefined;
    (this.presence as Presence).close();
  }

  subscriber(conn: ChannelConn): Subscriber {
    if (typeof (conn as Partial<Subscriber>)?.deliverPublished !== 'function' || typeof conn.id !== 'number') {
      throw tswsError('TSWS_ERR_CHANNEL_CONNECTION', { ...this.#d.where, name: this.name });
    }
    return conn as Subscriber;
  }

  #drop(sub: Sub): void {
    this.#subs.delete(sub.conn.id);
    if (this.#subs.size === 0) {
      this.#unfollow?.();
      this.#unfollow = undefined;
    }
  }

  #live(m: ChannelMessage): void {
    // One shared, immutable Published per publication, however many subscribers.
    const msg = published(this.name, m);
    for (const sub of this.#subs.values()) this.#offer(sub, m, msg);
  }

  /** In order: behind a read in progress (subscribe's, or a hole's), else now. */
  #offer(sub: Sub, m: ChannelMessage, msg: Published): void {
    if (sub.pending) return void sub.pending.push(m);
    if (m.epoch === sub.epoch && m.offset > sub.last + 1) {
      // A hole in the live stream (a cluster subscription that was cut before its first
      // message, so its log follower had nothing to resume from): read it back first.
      sub.pending = [m];
      return void this.#fill(sub);
    }
    this.#deliver(sub, m, msg);
  }

  /**
   * Reads what lies between the last delivered and the held messages. What the
   * store no longer keeps cannot be given: the held ones go on, and the reader
   * sees the offsets jump (never a silent gap: the positions say it).
   */
  async #fill(sub: Sub): Promise<void> {
    try {
      const h = await this.#d.store.read(this.stored, { epoch: sub.epoch as string, offset: sub.last }, Number.MAX_SAFE_INTEGER);
      if (h.recovery) this.#count(h.recovery);
      if (h.recovery?.recovered && this.#subs.get(sub.conn.id) === sub) for (const m of h.messages) this.#deliver(sub, m, published(this.name, m));
    } catch {
      // The store is away: the held messages go on as they are.
    }
    const held = sub.pending ?? [];
    sub.pending = undefined;
    if (this.#subs.get(sub.conn.id) !== sub) return;
    for (const m of held) this.#deliver(sub, m, published(this.name, m));
  }

  #deliver(sub: Sub, m: ChannelMessage, msg: Published): void {
    if (m.epoch === sub.epoch && m.offset <= sub.last) return;
    // Another epoch: the store started again (a Redis that lost its data); the reader sees it in `channel.epoch`.
    sub.epoch = m.epoch;
    sub.last = m.offset;
    sub.conn.deliverPublished(msg);
  }

  #count(r: ChannelRecovery): void {
    this.#d.stats.recoveries[r.recovered ? 'recovered' : r.reason]++;
  }
}

function published(name: string, m: ChannelMessage): Published {
  return { topic: name, data: m.data, isBinary: m.isBinary, channel: { name, epoch: m.epoch, offset: m.offset, time: m.time } };
}

/** A channel's presence set as one connection sees it: one member per connection. */
class Presence implements ChannelPresence {
  readonly #channel: ChannelImpl;
  readonly #d: ChannelDeps;
  /** Connections of this thread that joined (and have not left). */
  readonly #joined = new Set<number>();
  readonly #watches = new Set<() => void>();

  constructor(channel: ChannelImpl, d: ChannelDeps) {
    this.#channel = channel;
    this.#d = d;
  }

  async join(conn: ChannelConn, info: unknown): Promise<PresenceMember> {
    const c = this.#channel.subscriber(conn);
    if (!c.isOpen) throw tswsError('TSWS_ERR_CHANNEL_CONNECTION', { ...this.#d.where, name: this.#channel.name });
    if (!this.#joined.has(c.id)) {
      this.#joined.add(c.id);
      this.#d.stats.members++;
      this.#d.owner.touched(c, this.#channel);
    }
    const member = await this.#d.store.join(this.#channel.stored, String(c.id), info);
    // The connection closed while joining: its leave may have gone first; leave again after the join.
    if (!c.isOpen) await this.closed(c, true);
    return member;
  }

  async leave(conn: ChannelConn): Promise<void> {
    await this.closed(this.#channel.subscriber(conn));
  }

  async closed(conn: ChannelConn, always = false): Promise<void> {
    if (this.#joined.delete(conn.id)) {
      this.#d.stats.members--;
      this.#channel.let(conn);
    } else if (!always) return;
    await this.#d.store.leave(this.#channel.stored, String(conn.id));
  }

  holds(conn: ChannelConn): boolean {
    return this.#joined.has(conn.id);
  }

  idle(): boolean {
    return this.#joined.size === 0 && this.#watches.size === 0;
  }

  list(): Promise<PresenceMember[]> {
    return this.#d.store.members(this.#channel.stored);
  }

  onChange(fn: (event: PresenceEvent) => void): () => void {
    const stop = this.#d.store.onPresence(this.#channel.stored, fn);
    const off = () => {
      stop();
      if (this.#watches.delete(off) && this.#channel.isIdle()) this.#d.owner.idle(this.#channel);
    };
    this.#watches.add(off);
    return off;
  }

  close(): void {
    for (const off of [...this.#watches]) off();
  }
}
