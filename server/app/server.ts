/** @module Wiring: turns a Prepared config into listeners and protocol hosts, swaps them on reload, takes them down. */
import type { Logger } from 'pino';
import { LocalBus, type Bus } from '../bus/bus.ts';
import { TopicRouter } from '../bus/topics.ts';
import type { RedisCluster } from '../cluster/cluster.ts';
import { ClusterScope } from '../cluster/scope.ts';
import { ClusterRates, type RateSync } from '../cluster/rate-sync.ts';
import { tswsError } from '../base/errors.ts';
import { buildGeneration, type Generation } from './generation.ts';
import { AccessLogs } from '../vhost/access-log.ts';
import { FileCache } from '../http/file-cache.ts';
import type { FrontDoorConfig } from '../ingress/front-door.ts';
import { sendNotFound } from '../ingress/http-router.ts';
import { InFlight } from '../http/inflight.ts';
import { ListenerSet, type Staged } from './listener-set.ts';
import type { ListenerRef, Route, Routes } from './listener-slot.ts';
import { ALONE, planListeners, wsIdleSecs, type ListenerInfo, type ListenerPlan, type ListenPolicy } from '../ingress/listeners.ts';
import type { Prepared } from './prepare.ts';
import { WritableScheduler } from '../session/scheduler.ts';
import type { WsSession } from '../session/ws-session.ts';
import type { ListenerHandle, Transport } from '../transport/types.ts';
import { SYSTEM_CLOCK, type Clock } from '../base/clock.ts';
import { SilenceSweep } from '../session/liveness.ts';
import { VhostRouter } from '../ingress/vhost-router.ts';
import type { ProtocolHost } from '../session/protocol-host.ts';
import { ServerState } from '../metrics/server-state.ts';
import type { OpsDeps } from '../ingress/ops-routes.ts';
import { openMetricsPort, opsDeps } from '../ingress/metrics-endpoint.ts';
import type { MetricsMesh, MetricsOptions } from '../metrics/prometheus.ts';
import { ServerFigures, type FiguresMesh } from '../ingress/server-view.ts';
import { FdGuard, openFileLimit } from '../ingress/fd-guard.ts';
import type { ChannelStore } from '../channels/store.ts';
import type { ChannelService } from '../channels/channels.ts';
import { LocalChannelStore } from '../channels/local-store.ts';
import { RedisChannelStore } from '../channels/redis-store.ts';

/** How this server takes part in a process of several threads (count-threads); absent when alone. */
export interface ThreadRole {
  readonly index: number;
  readonly count: number;
  /** The lead thread binds first (ports left to the system are its); the others join on its ports. */
  readonly listen: ListenPolicy;
  /** Merges every thread's metrics, for whichever thread a scrape reaches. */
  readonly metrics: MetricsMesh;
  /** Shares every thread's figures, so vhost.server.snapshot() covers them all. */
  readonly figures?: FiguresMesh;
}

export interface ServerOptions {
  /** Carries broadcasts beyond this server (a cluster's Redis bus, the threads' channel); default in-process. */
  readonly bus?: Bus;
  /** Set when this instance is part of a cluster; stop() leaves it to its owner. */
  readonly cluster?: RedisCluster;
  readonly thread?: ThreadRole;
  /** How a server alone binds; default: the configured ports. tsws/testing binds each address on a port the system picks. */
  readonly listen?: ListenPolicy;
  /** uWebSockets.js unless told (tests of the framework and tsws/testing's protocol kit give server/transport/fake/). */
  readonly transport?: Transport;
  /** What the framework's timers run on (plugin timers, slow consumers, body stalls, rate limits); default Node's. */
  readonly clock?: Clock;
  /** Stop accepting near the open-file limit (fd-guard.ts); default true. A transport with no sockets has no files to guard. */
  readonly openFileGuard?: boolean;
  /** Holds vhost.channels: count-threads' worker threads pass the main thread's; default this process's (or the cluster's Redis). */
  readonly channelStore?: ChannelStore;
}

export interface ReloadReport {
  readonly generation: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly rebound: readonly string[];
}

export class TswsServer {
  readonly log: Logger;
  /** Every open websocket, of any generation. */
  readonly connections = new Set<WsSession>();
  readonly scheduler = new WritableScheduler();
  readonly bus: Bus;
  /** Set when this instance is part of a cluster; its `stats` are the counters to expose. */
  readonly cluster: RedisCluster | undefined;
  readonly accessLogs = new AccessLogs();
  /** HTTP exchanges still being answered. */
  readonly inflight = new InFlight();
  /** Draining flag, reload counts and the counters every generation adds to (server/metrics/server-state.ts). */
  readonly state = new ServerState();
  readonly #topics: TopicRouter;
  readonly #fileCache = new FileCache();
  readonly #perAddress = { counts: new Map<string, number>(), limit: 0 };
  /** The listening sockets, running and draining; a reload re-binds only those whose transport changed (server/app/listener-set.ts). */
  readonly #listeners: ListenerSet;
  /** Hosts replaced by a reload, destroyed once their last connection closes. */
  readonly #retiring = new Set<ProtocolHost>();
  #generation: Generation | undefined;
  /** What plugins see of the whole server (vhost.server): the current generation's vhosts and listeners, the process's counters. */
  readonly #figures: ServerFigures;
  /** Health and metrics paths; fixed at start (main.ts notes that a changed "metrics" block needs a restart). */
  #ops: OpsDeps | undefined;
  /** The metrics' own listener when "metrics" names a port: opened at start, kept across reloads. */
  #metricsPort: { readonly info: ListenerInfo; readonly handle: ListenerHandle } | undefined;
  /** grace-secs, set by every reload; a stop before the first one is a failed start, which passes its own. */
  #graceMs = 0;
  #stopped = false;
  #fdGuard: FdGuard | undefined;
  readonly #accepted = () => this.#fdGuard?.accepted();
  readonly thread: ThreadRole | undefined;
  readonly #transport: Transport;
  /** Pings quiet websockets of every generation and cuts the silent ones (ws-message-timeout-secs). */
  readonly #silence: SilenceSweep;
  readonly #listen: ListenPolicy;
  readonly #clock: Clock;
  /** vhost.channels' store and counters, shared by every generation. */
  readonly channels: ChannelService;

  private constructor(log: Logger, opts: ServerOptions, transport: Transport) {
    this.log = log;
    this.bus = opts.bus ?? new LocalBus();
    this.cluster = opts.cluster;
    this.thread = opts.thread;
    this.#listen = opts.thread?.listen ?? opts.listen ?? ALONE;
    const cluster = opts.cluster;
    this.#topics = new TopicRouter(this.bus);
    this.#transport = transport;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.channels = { store: opts.channelStore ?? defaultChannelStore(opts), stats: this.state.channels };
    this.#silence = new SilenceSweep(this.connections, log);
    this.#listeners = new ListenerSet((h, ws, tls) => this.#transport.createListener(h, ws, tls), log);
    const layout = () => ({ vhosts: (this.#generation?.vhosts ?? []).map((v) => ({ name: v.name, protocols: [...v.protocols.keys()] })), listeners: this.listeners });
    const thread = opts.thread && { index: opts.thread.index, count: opts.thread.count };
    this.#figures = new ServerFigures(this.state, layout, cluster?.config.instanceId, thread, opts.thread?.figures);
  }

  static async start(prepared: Prepared, log: Logger, opts: ServerOptions = {}): Promise<TswsServer> {
    // Imported here, not at the top: a server on another transport (tsws/testing's protocol kit) never loads uWS.js's module.
    const transport = opts.transport ?? (await import('../transport/uws/uws-adapter.ts')).uwsTransport;
    const server = new TswsServer(log, opts, transport);
    try {
      await server.reload(prepared);
      // Start-up policy, as lws's (a protocol whose init fails fails the vhost, and lwsws exits):
      // a protocol disabled from the first moment is an outage nobody would see, since the rest
      // answers and "ready" follows. At a reload the running server keeps serving (protocol-host.ts).
      const failed = server.hosts.filter((h) => !h.live);
      if (failed.length > 0) throw tswsError('TSWS_ERR_START_PROTOCOLS_DISABLED', { count: failed.length, list: failed.map((h) => `"${h.protocol}" on vhost "${h.vhostName}": ${h.initFailure ?? 'destroyed'}`).join('; ') });
    } catch (err) {
      await server.stop(0);
      throw err;
    }
    const limit = opts.openFileGuard === false ? undefined : openFileLimit();
    if (limit) server.#fdGuard = new FdGuard(limit, { pause: () => server.#pauseAccepting(), resume: () => server.#resumeAccepting() }, log);
    return server;
  }

  #pauseAccepting(): void {
    this.state.acceptPauses++;
    this.state.acceptPaused = true;
    this.#listeners.pause();
  }

  /** The same addresses, on the ports they had (a port left to the system keeps the one it got). */
  async #resumeAccepting(): Promise<void> {
    if (this.#stopped) return;
    await this.#listeners.resume(this.thread?.listen.mode ?? 'alone');
    this.state.acceptPaused = false;
  }

  /** Listeners of the current configuration. */
  get listeners(): ListenerInfo[] {
    return [...this.#listeners.infos, ...(this.#metricsPort ? [this.#metricsPort.info] : [])];
  }

  /** Protocol hosts of the current configuration. */
  get hosts(): readonly ProtocolHost[] {
    return this.#generation?.hosts ?? [];
  }

  get generation(): number {
    return this.#generation?.number ?? 0;
  }

  /**
   * Serves `prepared` from now on (the first call starts the server). New
   * connections get the new vhosts and protocol instances; open ones stay on
   * the instances they started with until they close. Listeners that must be
   * bound are bound before anything is swapped, so a bind failure leaves the
   * running configuration untouched.
   */
  async reload(prepared: Prepared): Promise<ReloadReport> {
    const previous = this.#generation;
    const next = buildGeneration(prepared, this.#generationDeps(), previous);
    const g = prepared.config.global;
    if (this.channels.store instanceof LocalChannelStore) this.channels.store.idleMax = g.channelIdleMax;
    const policy = this.#listen;
    // A UNIX socket has one listener: the lead thread's.
    const plans = planListeners(next.vhosts).filter((p) => !p.address.unixSocket || policy.mode !== 'join');
    // Filled once the listeners are in place; read per request (redirect-http).
    let httpsPorts: ReadonlyMap<string, number> = new Map();
    const frontDoor: FrontDoorConfig = { rejectServiceKeywords: g.rejectServiceKeywords, httpsPortFor: (name) => httpsPorts.get(name.toLowerCase()) };
    const ops = (this.#ops ??= opsDeps(g, this.state, this.#metricsOptions(), this.log));
    const route: Route = (plan, listener) => this.#routes(plan, listener, frontDoor, g.serverString, g.timeoutSecs, ops);
    let staged: Staged | undefined;
    try {
      // An access log that cannot be opened fails the reload (or the start), naming the file.
      await this.accessLogs.ready();
      staged = await this.#listeners.stage(plans, wsIdleSecs(g), route, policy);
      if (!previous) this.#metricsPort = await openMetricsPort(g, this.state, this.#metricsOptions(), this.log, policy, (h, ws) => this.#transport.createListener(h, ws));
    } catch (err) {
      if (staged) await this.#listeners.unstage(staged);
      await Promise.all(next.hosts.map((h) => h.destroy('reload')));
      throw err;
    }

    // Past this point nothing can fail: swap.
    this.#graceMs = g.graceSecs * 1000;
    this.#perAddress.limit = g.ipLimitWsi;
    this.#silence.configure(g.wsMessageTimeoutSecs);
    const changes = this.#listeners.commit(staged, route);
    httpsPorts = this.#listeners.tlsPorts(plans);
    this.#generation = next;
    for (const h of previous?.hosts ?? []) {
      this.#retiring.add(h);
      void h.retire().then(() => this.#retiring.delete(h));
    }
    return { generation: next.number, ...changes };
  }

  #metricsOptions(): MetricsOptions {
    const t = this.thread;
    return { cluster: this.cluster?.stats, ...(t ? { thread: { index: t.index, mesh: t.metrics } } : {}) };
  }

  /** The cluster's pool of the shared rate limits, made once: a reload keeps the vhosts' buckets when their limits are unchanged. */
  #rateSync: RateSync | undefined;

  #generationDeps() {
    const cluster = this.cluster;
    return {
      scheduler: this.scheduler,
      topics: this.#topics,
      log: this.log,
      accessLogs: this.accessLogs,
      counters: this.state.counters,
      server: this.#figures,
      clock: this.#clock,
      channels: this.channels,
      cluster: cluster ? (vhost: string, protocol: string) => new ClusterScope(cluster, vhost, protocol, (topic) => TopicRouter.key(vhost, protocol, topic)) : undefined,
      rateSync: (this.#rateSync ??= cluster ? new ClusterRates(cluster) : undefined),
    };
  }

  /** What a listener's handlers read for a plan's vhosts, with this configuration's settings. */
  #routes(plan: ListenerPlan, listener: ListenerRef, frontDoor: FrontDoorConfig, serverString: string, timeoutSecs: number, ops: OpsDeps): Routes {
    const tls = plan.tls !== undefined;
    const fileCache = this.#fileCache;
    return {
      router: new VhostRouter(plan.vhosts, tls),
      http: { fileCache, serverString, log: this.log, listener, frontDoor, inflight: this.inflight, bodyStallMs: timeoutSecs * 1000, clock: this.#clock, notFound: (ex) => sendNotFound(ex, { fileCache }), ops },
      ws: { serverString, log: this.log, connections: this.connections, tls, frontDoor, perAddress: this.#perAddress, inflight: this.inflight, accepted: this.#accepted, sendOutcomes: this.#transport.sendOutcomes },
    };
  }

  /**
   * Graceful stop, bounded by the grace period (grace-secs): stop accepting,
   * send every websocket a 1001 "going away", let in-flight HTTP responses
   * finish, then cut whatever is left, run every protocol's destroy (within
   * what remains of the grace, at least a second), and flush the access logs.
   */
  async stop(graceMs = this.#graceMs): Promise<{ cut: number }> {
    if (this.#stopped) return { cut: 0 };
    this.#stopped = true;
    this.#fdGuard?.stop();
    this.#silence.stop();
    const deadline = Date.now() + graceMs;
    this.#listeners.stopListening();
    this.#metricsPort?.handle.stopListening();
    for (const conn of [...this.connections]) if (conn.isOpen) conn.close(1001, 'going away');
    await this.inflight.idle(deadline);
    // The last response may have ended inside a uWS.js handler whose corked
    // bytes are sent only when it returns, after this continuation: a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    const cut = this.connections.size + this.inflight.size;
    for (const conn of [...this.connections]) conn.terminate();
    const hosts = [...this.hosts, ...this.#retiring];
    await settleBy(Promise.all(hosts.map((h) => h.destroy('stop'))), Math.max(deadline, Date.now() + 1000));
    this.#listeners.closeAll();
    this.#metricsPort?.handle.closeAll();
    this.#listeners.removeSocketFiles();
    await this.accessLogs.closeAll();
    await this.channels.store.close();
    // A cluster closes its own bus, after telling the other instances this one's entries are gone.
    await (this.cluster ? this.cluster.close() : this.bus.close());
    return { cut };
  }

  /**
   * Closes every socket at once, nothing waited for: for an exit that cannot
   * wait (a second signal). A worker thread must do this before the process
   * exits, or tearing the thread down with live uWS.js sockets aborts it.
   */
  closeNow(): void {
    this.#silence.stop();
    this.#listeners.closeAll();
    this.#metricsPort?.handle.closeAll();
  }
}

/** Waits for `p` until `deadline`; a destroy that hangs must not hold the stop past its grace. */
function settleBy(p: Promise<unknown>, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref();
    void p.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * In a cluster, channels live in its Redis (each thread is an instance of its
 * own there); alone, in this process, their epoch new with every start.
 * (count-threads without a cluster: the worker passes the main thread's.) On
 * a manual clock (tsws/testing) message times and the age bound follow it.
 */
function defaultChannelStore(opts: ServerOptions): ChannelStore {
  const clock = opts.clock;
  const base = Date.now() - (clock?.now() ?? 0);
  const now = clock ? () => base + clock.now() : Date.now;
  if (opts.cluster) return new RedisChannelStore(opts.cluster, now);
  return new LocalChannelStore({ holder: opts.thread ? `thread-${opts.thread.index}` : 'local', now });
}
