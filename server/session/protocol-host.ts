/** @module One protocol on one vhost (lws per-vhost protocol data): its state, connections, timers and topics. */
import { enter, leave, registerHost, whereOf, BEACON_CALLBACKS, type BeaconCallback } from '../base/beacon.ts';
import type { Logger } from 'pino';
import { TopicRouter } from '../bus/topics.ts';
import { describeError, tswsError } from '../base/errors.ts';
import type { Counters, ProtocolCounters } from '../metrics/counters.ts';
import { closeCodeLabel } from '../metrics/close-code.ts';
import type { ClientConn, ClientConnectInfo, ClusterView, Conn, ProtocolVhost, ServerView, Timer } from '../plugin/api.ts';
import type { RuntimeProtocol } from '../plugin/runtime-protocol.ts';
import type { WritableScheduler } from './scheduler.ts';
import { OwnedTimers } from './timers.ts';
import type { PluginHost } from './plugin-host.ts';
import { ClientSet } from './client/client-set.ts';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../config/schema.ts';
import { SYSTEM_CLOCK, type Clock } from '../base/clock.ts';
import type { SharedLimits } from './shared-limits.ts';
import type { WsCompression } from '../config/model.ts';
import { VhostChannels, type ChannelService } from '../channels/channels.ts';
import { LocalChannelStore } from '../channels/local-store.ts';
import { newChannelStats } from '../metrics/channel-stats.ts';

/** What a ProtocolHost needs from the server: nothing more. */
export interface ProtocolHostDeps {
  readonly scheduler: WritableScheduler;
  readonly topics: TopicRouter;
  readonly log: Logger;
  /** The process's counters: this host adds to those of its vhost and protocol name. */
  readonly counters: Counters;
  /** The read-only figures of the whole server, for plugins (vhost.server). */
  readonly server: ServerView;
  /** Set in a cluster: makes the shared-state view of one protocol on one vhost. */
  readonly cluster?: (vhost: string, protocol: string) => ClusterView;
  /** The vhost's ws-max-message-size, and the one its ws-protocols entry gives this protocol (if any). */
  readonly messageLimits?: { readonly vhost: number; readonly protocol: number | undefined };
  /** The plugin's own state on this vhost, shared with its other protocols here (none: undefined, as for a unit test's host). */
  readonly plugin?: PluginHost;
  /** The vhost's per-address and per-user message limits (none configured: undefined). */
  readonly limits?: SharedLimits;
  /** The vhost's permessage-deflate for this protocol ("permessage-deflate" in its ws-protocols entry); the plugin's setting otherwise. */
  readonly compression?: WsCompression;
  /** What this host's timers and its connections' run on (default Node's; tsws/testing's protocol kit gives a manual one). */
  readonly clock?: Clock;
  /** vhost.channels' store and counters (none: a store of this host's own, as for a unit test's host). */
  readonly channels?: ChannelService;
}

/** The part of a connection the host manages. */
export interface HostedConnection extends Conn {
  requestWritable(): void;
}

type HostState = 'new' | 'live' | 'retired' | 'disabled' | 'destroyed';

export class ProtocolHost implements ProtocolVhost {
  readonly vhostName: string;
  readonly protocol: string;
  readonly def: RuntimeProtocol;
  readonly options: Readonly<Record<string, unknown>>;
  readonly log: Logger;
  readonly scheduler: WritableScheduler;
  readonly topics: TopicRouter;
  readonly cluster: ClusterView | undefined;
  readonly server: ServerView;
  /** Plain integers the connections add to; read when metrics are scraped. */
  readonly counters: ProtocolCounters;
  /** WHERE values for the watchdog's beacon, one per callback, by name (server/base/beacon.ts). */
  readonly where: Readonly<Record<BeaconCallback, number>>;
  /** The largest message a connection may send: the lower of the vhost's and the plugin's limits. */
  readonly maxMessageSize: number;
  /** permessage-deflate on this vhost: the operator's word, else the plugin's (default off). The upgrade offers it; writes ask for it. */
  readonly compression: WsCompression;
  /** compression is not off: writes pass uWS.js's compress flag (a no-op on a connection whose client did not accept deflate). */
  readonly compress: boolean;
  /** The clock of every timer of this host, its connections and transactions (plugin timers, slow-consumer watch, rate limit). */
  readonly clock: Clock;
  /** vhost.channels: this protocol's channels on this vhost. */
  readonly channels: VhostChannels;
  /** The protocol's slow-consumer bound (ProtocolVhost.inbox): the plugin's declaration, defaults applied. */
  get inbox(): RuntimeProtocol['inbox'] {
    return this.def.inbox;
  }
  /** The vhost's shared message limits, held by each new connection (upgrade.ts). */
  readonly limits: SharedLimits | undefined;
  #state: unknown = undefined;
  #status: HostState = 'new';
  readonly #conns = new Set<HostedConnection>();
  readonly #timers: OwnedTimers;
  /** Client connections this protocol opened here (vhost.connect); not counted as connections: they never hold a retired host open. */
  readonly #clients: ClientSet;
  #onIdle: (() => void) | undefined;
  readonly #plugin: PluginHost | undefined;
  /** Holding the plugin's state (init succeeded): released after destroy. */
  #holdsPlugin = false;

  constructor(vhostName: string, def: RuntimeProtocol, options: Readonly<Record<string, unknown>>, deps: ProtocolHostDeps) {
    this.vhostName = vhostName;
    this.protocol = def.name;
    this.def = def;
    this.options = options;
    this.scheduler = deps.scheduler;
    this.topics = deps.topics;
    this.log = deps.log.child({ vhost: vhostName, protocol: def.name });
    this.cluster = deps.cluster?.(vhostName, def.name);
    this.counters = deps.counters.protocol(vhostName, def.name);
    const id = registerHost({ vhost: vhostName, plugin: def.pluginName, protocol: def.name });
    this.where = Object.fromEntries(BEACON_CALLBACKS.map((c) => [c, whereOf(id, c)])) as Record<BeaconCallback, number>;
    this.server = deps.server;
    this.#plugin = deps.plugin;
    // The most specific word wins: the operator's for this protocol on this vhost; otherwise the
    // plugin's maxMessageSize may lower the vhost's ceiling (global by default), never raise it.
    const limits = deps.messageLimits ?? { vhost: DEFAULT_MAX_MESSAGE_SIZE, protocol: undefined };
    this.maxMessageSize = limits.protocol ?? Math.min(limits.vhost, def.maxMessageSize ?? limits.vhost);
    this.compression = deps.compression ?? def.compression;
    this.compress = this.compression !== 'off';
    this.counters.compression = this.compression;
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.channels = new VhostChannels(deps.channels ?? { store: new LocalChannelStore({ holder: 'local' }), stats: newChannelStats() }, vhostName, def.name);
    this.limits = deps.limits;
    this.#timers = new OwnedTimers((fn) => this.#runTimer(fn), this.clock);
    this.#clients = new ClientSet({
      vhostName,
      protocol: def.name,
      pluginName: def.pluginName,
      maxMessageSize: this.maxMessageSize,
      log: this.log,
      scheduler: this.scheduler,
      where: this.where,
      counters: this.counters,
    });
  }

  #initFailure: string | undefined;

  get state(): unknown {
    return this.#state;
  }

  /** The plugin's own state on this vhost (ProtocolVhost.plugin). */
  get plugin(): unknown {
    return this.#plugin?.state;
  }

  /** Why init failed, when it did. */
  get initFailure(): string | undefined {
    return this.#initFailure;
  }

  /** False once init failed or destroy ran: new connections are refused. */
  get live(): boolean {
    return this.#status === 'live';
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  connections(): IterableIterator<Conn> {
    return this.#conns.values();
  }

  /** lws PROTOCOL_INIT. A throwing init disables this protocol on this vhost only. `previous`: see api.ts. */
  init(previous?: ProtocolHost): boolean {
    const plugin = this.#plugin;
    if (plugin && !plugin.live) {
      // The plugin's host logged why (TSWS_ERR_PLUGIN_STATE_FAILED); start-up names it with each protocol.
      this.#status = 'disabled';
      this.#initFailure = `the plugin's init failed (${plugin.failure ?? 'destroyed'})`;
      return false;
    }
    const init = this.def.callbacks.init;
    const outer = enter(this.where.init);
    try {
      this.#state = init ? init(this, this.options, previous?.state) : undefined;
      this.#status = 'live';
      if (plugin) {
        plugin.hold();
        this.#holdsPlugin = true;
      }
      this.scheduler.flush();
      return true;
    } catch (err) {
      this.#status = 'disabled';
      this.#initFailure = describeError(err);
      this.#timers.cancelAll();
      this.#clients.cancelAll();
      this.counters.callbackErrors++;
      const e = tswsError('TSWS_ERR_PLUGIN_INIT_FAILED', { vhost: this.vhostName, protocol: this.protocol, reason: describeError(err) }, err);
      this.log.error({ err, code: e.code }, e.message);
      return false;
    } finally {
      leave(outer);
    }
  }

  /**
   * A reload replaced this instance: it takes no new connections and is
   * destroyed ('reload') once its last one closes. Resolves when destroyed.
   */
  retire(): Promise<void> {
    if (this.#status === 'live') this.#status = 'retired';
    if (this.#conns.size === 0) return this.destroy('reload');
    return new Promise((resolve) => (this.#onIdle = () => void this.destroy('reload').then(resolve)));
  }

  /** lws PROTOCOL_DESTROY: after every connection has closed (or been dropped). Never rejects. */
  async destroy(why: 'stop' | 'reload' = 'stop'): Promise<void> {
    if (this.#status === 'destroyed') return;
    const wasUp = this.#status === 'live' || this.#status === 'retired';
    this.#status = 'destroyed';
    this.#onIdle = undefined;
    this.#timers.cancelAll();
    // Before the plugin's destroy, as lws closes a vhost's client wsi before PROTOCOL_DESTROY: their clientClosed runs first.
    this.#clients.cancelAll();
    if (!wasUp) return this.channels.close();
    try {
      await this.def.callbacks.destroy?.(this, why);
    } catch (err) {
      this.counters.callbackErrors++;
      const e = tswsError('TSWS_ERR_PLUGIN_DESTROY_FAILED', { vhost: this.vhostName, protocol: this.protocol, reason: describeError(err) }, err);
      this.log.error({ err, code: e.code }, e.message);
    }
    // After destroy, which may still publish a last message.
    this.channels.close();
    // After its own destroy: the plugin's state outlives every protocol that uses it.
    if (this.#holdsPlugin) {
      this.#holdsPlugin = false;
      await this.#plugin?.release(why);
    }
  }

  attach(conn: HostedConnection): void {
    this.#conns.add(conn);
    this.counters.open++;
    this.counters.opened++;
  }

  /** `code` is the close code, counted for connections that were attached (established). */
  detach(conn: HostedConnection, code: number): void {
    if (!this.#conns.delete(conn)) return;
    this.counters.open--;
    const closes = this.counters.closes;
    const label = closeCodeLabel(code);
    closes.set(label, (closes.get(label) ?? 0) + 1);
    if (this.#conns.size === 0) this.#onIdle?.();
  }

  requestWritableAll(): void {
    for (const c of this.#conns) c.requestWritable();
  }

  topicKey(topic: string): string {
    return TopicRouter.key(this.vhostName, this.protocol, topic);
  }

  publish(topic: string, data: string | Uint8Array, isBinary = typeof data !== 'string'): void {
    // Copy views over transient memory once here; every subscriber shares the copy.
    const payload = typeof data === 'string' ? data : Buffer.from(data);
    this.topics.publish(this.topicKey(topic), payload, isBinary);
  }

  setTimeout(ms: number, fn: () => void): Timer {
    return this.#timers.setTimeout(ms, fn);
  }

  connect<T = undefined>(info: ClientConnectInfo<T, ProtocolVhost>): ClientConn<T> {
    return this.#clients.open(info, this);
  }

  setInterval(ms: number, fn: () => void): Timer {
    return this.#timers.setInterval(ms, fn);
  }

  #runTimer(fn: () => void): void {
    const outer = enter(this.where.timer);
    try {
      fn();
    } catch (err) {
      this.counters.callbackErrors++;
      const e = tswsError('TSWS_ERR_PLUGIN_TIMER_THREW', { vhost: this.vhostName, protocol: this.protocol, reason: describeError(err) }, err);
      this.log.error({ err, code: e.code }, e.message);
    } finally {
      leave(outer);
    }
    // Timers run outside transport events: serve what they asked for right away.
    this.scheduler.flush();
  }
}
