/** @module vhost.channels of one protocol on one vhost, and the server-wide service (store, counters) every one of them shares. */
import type { ChannelStats } from '../metrics/channel-stats.ts';
import type { ChannelConn, ChannelOptions, Channels } from '../plugin/api-channels.ts';
import { ChannelImpl } from './channel.ts';
import { checkName, checkOptions, type Where } from './positions.ts';
import type { ChannelStore } from './store.ts';
import { tswsError } from '../base/errors.ts';
import { DEFAULT_IDLE_MAX } from './idle-channels.ts';

/**
 * One per serving thread (TswsServer): the store it chose from the
 * configuration (this process, count-threads' main thread, or the cluster's
 * Redis) and the counters. Outlives reloads: a new generation's channels are
 * the same channels.
 */
export interface ChannelService {
  readonly store: ChannelStore;
  readonly stats: ChannelStats;
}

/**
 * Names are scoped as topics are, "<vhost>/<protocol>/<name>", so two vhosts
 * enabling one protocol never share a channel. The first channel() call for
 * a name decides its options on this host; a reload's new host decides
 * again (a plugin may change its history bounds with a reload).
 *
 * A channel is forgotten here once nothing of this thread uses it (its last
 * subscription, member or watch gone), and channels never used that way
 * (publish, history, position only) are let go oldest first past
 * DEFAULT_IDLE_MAX: otherwise every name a client had the plugin look up
 * would stay. A forgotten name decides its options again; its state is the
 * store's, which frees it by its own rule (local-store.ts).
 */
export class VhostChannels implements Channels {
  readonly #service: ChannelService;
  readonly #where: Where;
  readonly #channels = new Map<string, { channel: ChannelImpl; size: number; ttlMs: number }>();
  /** Connections that subscribed or joined somewhere here: let go when they close. */
  readonly #held = new Map<number, Set<ChannelImpl>>();

  constructor(service: ChannelService, vhost: string, protocol: string) {
    this.#service = service;
    this.#where = { vhost, protocol };
  }

  channel(name: string, opts?: ChannelOptions): ChannelImpl {
    checkName(this.#where, name);
    const { size, ttlMs } = checkOptions(this.#where, name, opts);
    const known = this.#channels.get(name);
    if (known) {
      if (opts !== undefined && (known.size !== size || known.ttlMs !== ttlMs)) {
        throw tswsError('TSWS_ERR_CHANNEL_OPTIONS', { ...this.#where, name, reason: `history ${JSON.stringify(opts.history)} differs from the first call's (size ${known.size}, ttlSecs ${known.ttlMs / 1000})` });
      }
      return known.channel;
    }
    const scope = `${this.#where.vhost}/${this.#where.protocol}`;
    const stored = { key: `${scope}/${name}`, scope, historySize: size, historyTtlMs: ttlMs };
    const channel = new ChannelImpl(name, stored, { store: this.#service.store, stats: this.#service.stats, where: this.#where, owner: this });
    this.#channels.set(name, { channel, size, ttlMs });
    if (this.#channels.size > DEFAULT_IDLE_MAX) this.#trim();
    return channel;
  }

  /** Lets go of the oldest idle channels; one in use goes to the back (looked at once per pass). */
  #trim(): void {
    for (let looked = 0; looked < 16 && this.#channels.size > DEFAULT_IDLE_MAX; looked++) {
      const [name, entry] = this.#channels.entries().next().value as [string, { channel: ChannelImpl; size: number; ttlMs: number }];
      this.#channels.delete(name);
      if (!entry.channel.isIdle()) this.#channels.set(name, entry);
    }
  }

  idle(channel: ChannelImpl): void {
    if (this.#channels.get(channel.name)?.channel === channel) this.#channels.delete(channel.name);
  }

  untouched(conn: ChannelConn, channel: ChannelImpl): void {
    const set = this.#held.get(conn.id);
    if (set?.delete(channel) && set.size === 0) this.#held.delete(conn.id);
  }

  touched(conn: ChannelConn, channel: ChannelImpl): void {
    // A channel forgotten while a plugin kept its object, used again: known again (unless the name was taken since).
    if (!this.#channels.has(channel.name)) this.#channels.set(channel.name, { channel, size: channel.stored.historySize, ttlMs: channel.stored.historyTtlMs });
    let set = this.#held.get(conn.id);
    if (!set) this.#held.set(conn.id, (set = new Set()));
    set.add(channel);
  }

  /** The connection closed (or never opened): its subscriptions end and it leaves every presence set here. */
  connectionClosed(conn: ChannelConn): void {
    const set = this.#held.get(conn.id);
    if (!set) return;
    this.#held.delete(conn.id);
    for (const channel of set) channel.forget(conn);
  }

  /** The protocol host is destroyed: its channels stop following the store. */
  close(): void {
    for (const { channel } of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#held.clear();
  }
}
