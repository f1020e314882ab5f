/** @module Wiring: turns a Prepared config into listeners and protocol hosts, swaps them on reload, takes them down. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { LocalBus, type Bus } from './bus/bus.ts';
import { TopicRouter } from './bus/topics.ts';
import type { RedisCluster } from './cluster/cluster.ts';
import { ClusterScope } from './cluster/scope.ts';
import { tswsError } from './errors.ts';
import { buildGeneration, type Generation } from './generation.ts';
import { AccessLogs } from './http/access-log.ts';
import { FileCache } from './http/file-cache.ts';
import type { FrontDoorConfig } from './http/front-door.ts';
import { handleHttp, sendNotFound } from './http/http-router.ts';
import { InFlight } from './http/inflight.ts';
import type { HttpDeps } from './http/mount-request.ts';
import { ALONE, openListener, planListeners, transportSignature, wsIdleSecs, wsOptions, type ListenerInfo, type ListenerPlan, type ListenPolicy } from './listeners.ts';
import type { Prepared } from './prepare.ts';
import { WritableScheduler } from './session/scheduler.ts';
import { handleUpgrade, wsClose, wsDrain, wsMessage, wsOpen, wsPong, type WsDeps } from './session/ws-handlers.ts';
import { SilenceSweep } from './session/liveness.ts';
import type { WsSession } from './session/ws-session.ts';
import type { ListenerHandle, Transport } from './transport/types.ts';
import { uwsTransport } from './transport/uws/uws-adapter.ts';
import { VhostRouter } from './vhost/listener.ts';
import type { ProtocolHost } from './vhost/protocol-host.ts';
import { ServerState } from './server-state.ts';
import type { OpsDeps } from './http/ops-routes.ts';
import { openMetricsPort, opsDeps } from './metrics/endpoints.ts';
import type { MetricsMesh, MetricsOptions } from './metrics/prometheus.ts';
import { ServerFigures } from './metrics/server-view.ts';
import { FdGuard, openFileLimit } from './fd-guard.ts';

/**
 * One listening socket and what its handlers read on every event. A reload
 * swaps `router` and the deps in place: the socket is never re-bound unless
 * its transport settings (TLS files, websocket options) changed.
 */
interface Slot {
  readonly key: string;
  readonly handle: ListenerHandle;
  info: ListenerInfo;
  plan: ListenerPlan;
  readonly signature: string;
  router: VhostRouter;
  httpDeps: HttpDeps;
  wsDeps: WsDeps;
}

/** How this server takes part in a process of several threads (count-threads); absent when alone. */
export interface ThreadRole {
  readonly index: number;
  readonly count: number;
  /** The lead thread binds first (ports left to the system are its); the others join on its ports. */
  readonly listen: ListenPolicy;
  /** Merges every thread's metrics, for whichever thread a scrape reaches. */
  readonly metrics: MetricsMesh;
}

export interface ServerOptions {
  /** Carries broadcasts beyond this server (a cluster's Redis bus, the threads' channel); default in-process. */
  readonly bus?: Bus;
  /** Set when this instance is part of a cluster; stop() leaves it to its owner. */
  readonly cluster?: RedisCluster;
  readonly thread?: ThreadRole;
  /** uWebSockets.js unless told (tests of the framework give server/transport/fake/). */
  readonly transport?: Transport;
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
  /** Draining flag, reload counts and the counters every generation adds to (server/server-state.ts). */
  readonly state = new ServerState();
  readonly #topics: TopicRouter;
  readonly #fileCache = new FileCache();
  readonly #perAddress = { counts: new Map<string, number>(), limit: 0 };
  readonly #slots = new Map<string, Slot>();
  /** Sockets no longer listening whose apps still carry connections (removed or re-bound on reload). */
  readonly #draining: Slot[] = [];
  /** Hosts replaced by a reload, destroyed once their last connection closes. */
  readonly #retiring = new Set<ProtocolHost>();
  /** Pings quiet websockets of every generation and cuts the silent ones (ws-message-timeout-secs). */
  readonly #silence: SilenceSweep;
  #generation: Generation | undefined;
  /** What plugins see of the whole server (vhost.server): the current generation's vhosts and listeners, the process's counters. */
  readonly #figures: ServerFigures;
  /** Health and metrics paths; fixed at start (main.ts notes that a changed "metrics" block needs a restart). */
  #ops: OpsDeps | undefined;
  /** The metrics' own listener when "metrics" names a port: opened at start, kept across reloads. */
  #metricsPort: { readonly info: ListenerInfo; readonly handle: ListenerHandle } | undefined;
  #graceMs = 10_000;
  #stopped = false;
  #fdGuard: FdGuard | undefined;
  readonly #accepted = () => this.#fdGuard?.accepted();
  readonly thread: ThreadRole | undefined;
  readonly #transport: Transport;

  private constructor(log: Logger, opts: ServerOptions) {
    this.log = log;
    this.#transport = opts.transport ?? uwsTransport;
    this.bus = opts.bus ?? new LocalBus();
    this.cluster = opts.cluster;
    this.thread = opts.thread;
    const cluster = opts.cluster;
    this.#topics = new TopicRouter(this.bus);
    this.#silence = new SilenceSweep(this.connections, log);
    const layout = () => ({ vhosts: (this.#generation?.vhosts ?? []).map((v) => ({ name: v.name, protocols: [...v.protocols.keys()] })), listeners: this.listeners });
    const thread = opts.thread && { index: opts.thread.index, count: opts.thread.count };
    this.#figures = new ServerFigures(this.state, layout, cluster?.config.instanceId, thread);
  }

  static async start(prepared: Prepared, log: Logger, opts: ServerOptions = {}): Promise<TswsServer> {
    const server = new TswsServer(log, opts);
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
    const limit = openFileLimit();
    if (limit) server.#fdGuard = new FdGuard(limit, { pause: () => server.#pauseAccepting(), resume: () => server.#resumeAccepting() }, log);
    return server;
  }

  #pauseAccepting(): void {
    this.state.acceptPauses++;
    this.state.acceptPaused = true;
    for (const s of this.#slots.values()) s.handle.stopListening();
  }

  /** The same addresses, on the ports they had (a port left to the system keeps the one it got). */
  async #resumeAccepting(): Promise<void> {
    if (this.#stopped) return;
    const mode = this.thread?.listen.mode ?? 'alone';
    for (const s of this.#slots.values()) {
      const port = s.info.port;
      await openListener(s.plan, s.handle, mode === 'alone' ? { mode: 'alone', portFor: () => port } : joinAt(port));
    }
    this.state.acceptPaused = false;
  }

  /** Listeners of the current configuration. */
  get listeners(): ListenerInfo[] {
    return [...[...this.#slots.values()].map((s) => s.info), ...(this.#metricsPort ? [this.#metricsPort.info] : [])];
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
    const policy = this.thread?.listen ?? ALONE;
    // A UNIX socket has one listener: the lead thread's.
    const plans = planListeners(next.vhosts).filter((p) => !p.address.unixSocket || policy.mode !== 'join');
    const httpsPorts = new Map<string, number>();
    const frontDoor: FrontDoorConfig = { rejectServiceKeywords: g.rejectServiceKeywords, httpsPortFor: (name) => httpsPorts.get(name.toLowerCase()) };
    const ops = (this.#ops ??= opsDeps(g, this.state, this.#metricsOptions(), this.log));
    const fresh = new Map<string, Slot>();
    const rebound: Slot[] = [];
    try {
      // An access log that cannot be opened fails the reload (or the start), naming the file.
      await this.accessLogs.ready();
      for (const plan of plans) {
        const old = this.#slots.get(plan.key);
        const signature = transportSignature(plan, wsIdleSecs(g));
        if (old && old.signature === signature) continue;
        if (old) {
          // Same address, new transport (certificates, websocket options): hand the port over.
          old.handle.stopListening();
          rebound.push(old);
        }
        // A re-bound port is taken over where the other threads still listen: join it.
        const slot = await this.#open(plan, signature, wsIdleSecs(g), old && policy.mode !== 'alone' ? joinAt(old.info.port) : policy);
        // Real routes from the first event on, even before the swap below.
        this.#route(slot, plan, frontDoor, g.serverString, g.timeoutSecs, ops);
        fresh.set(plan.key, slot);
      }
      if (!previous) this.#metricsPort = await openMetricsPort(g, this.state, this.#metricsOptions(), this.log, policy);
    } catch (err) {
      for (const s of fresh.values()) s.handle.closeAll();
      // Give the handed-over ports back to the running configuration.
      for (const old of rebound) await openListener(old.plan, old.handle, policy.mode === 'alone' ? ALONE : joinAt(old.info.port)).catch((e: unknown) => this.log.error({ err: e }, `could not re-listen on ${old.key} after a failed reload`));
      await Promise.all(next.hosts.map((h) => h.destroy('reload')));
      throw err;
    }

    // Past this point nothing can fail: swap.
    this.#graceMs = g.graceSecs * 1000;
    this.#perAddress.limit = g.ipLimitWsi;
    this.#silence.configure(g.wsMessageTimeoutSecs);
    const added: string[] = [];
    for (const plan of plans) {
      const slot = fresh.get(plan.key) ?? (this.#slots.get(plan.key) as Slot);
      const old = this.#slots.get(plan.key);
      if (old && old !== slot) this.#draining.push(old);
      if (!old) added.push(plan.key);
      const tls = plan.tls !== undefined;
      this.#route(slot, plan, frontDoor, g.serverString, g.timeoutSecs, ops);
      this.#slots.set(plan.key, slot);
      if (tls) for (const v of plan.vhosts) if (!httpsPorts.has(v.name.toLowerCase())) httpsPorts.set(v.name.toLowerCase(), slot.info.port);
      if (fresh.has(plan.key)) this.#logListening(slot);
    }
    const removed: string[] = [];
    for (const [key, slot] of this.#slots) {
      if (plans.some((p) => p.key === key)) continue;
      // A vhost gone from the config stops accepting; its open connections drain.
      slot.handle.stopListening();
      this.#slots.delete(key);
      this.#draining.push(slot);
      removed.push(key);
    }
    this.#generation = next;
    for (const h of previous?.hosts ?? []) {
      this.#retiring.add(h);
      void h.retire().then(() => this.#retiring.delete(h));
    }
    return { generation: next.number, added, removed, rebound: rebound.map((s) => s.key) };
  }

  #metricsOptions(): MetricsOptions {
    const t = this.thread;
    return { cluster: this.cluster?.stats, ...(t ? { thread: { index: t.index, mesh: t.metrics } } : {}) };
  }

  #generationDeps() {
    const cluster = this.cluster;
    return {
      scheduler: this.scheduler,
      topics: this.#topics,
      log: this.log,
      accessLogs: this.accessLogs,
      counters: this.state.counters,
      server: this.#figures,
      cluster: cluster ? (vhost: string, protocol: string) => new ClusterScope(cluster, vhost, protocol, (topic) => TopicRouter.key(vhost, protocol, topic)) : undefined,
    };
  }

  /** Points a slot's handlers at a plan's vhosts, with this configuration's settings. */
  #route(slot: Slot, plan: ListenerPlan, frontDoor: FrontDoorConfig, serverString: string, timeoutSecs: number, ops: OpsDeps): void {
    const tls = plan.tls !== undefined;
    slot.plan = plan;
    slot.router = new VhostRouter(plan.vhosts, tls);
    slot.httpDeps = { ...this.#httpDeps(slot, tls, frontDoor, serverString, timeoutSecs), ops };
    slot.wsDeps = this.#wsDeps(tls, frontDoor, serverString);
    slot.info = { ...slot.info, vhosts: plan.vhosts.map((v) => v.name) };
  }

  async #open(plan: ListenerPlan, signature: string, idleTimeout: number, policy: ListenPolicy): Promise<Slot> {
    // Handlers read the slot on every event, so a reload only has to swap its fields.
    const slot = { key: plan.key, signature, plan } as Slot;
    const handle = this.#transport.createListener(
      {
        http: (res, req, sni) => handleHttp(slot.router, res, req, sni, slot.httpDeps),
        upgrade: (res, req, ctx, sni) => handleUpgrade(slot.router, res, req, ctx, sni, slot.wsDeps),
        open: (ws) => wsOpen(ws, slot.wsDeps),
        message: wsMessage,
        drain: wsDrain,
        pong: wsPong,
        close: (ws, code, msg) => wsClose(ws, code, msg, slot.wsDeps),
      },
      wsOptions(plan, idleTimeout),
      plan.tls,
    );
    try {
      slot.info = await openListener(plan, handle, policy);
    } catch (err) {
      handle.closeAll();
      throw err;
    }
    Object.assign(slot, { handle });
    return slot;
  }

  #httpDeps(slot: Slot, tls: boolean, frontDoor: FrontDoorConfig, serverString: string, timeoutSecs: number): Omit<HttpDeps, 'ops'> {
    const fileCache = this.#fileCache;
    return {
      fileCache,
      serverString,
      log: this.log,
      listener: { port: slot.info.port, tls },
      frontDoor,
      inflight: this.inflight,
      bodyStallMs: timeoutSecs * 1000,
      notFound: (ex) => sendNotFound(ex, { fileCache }),
    };
  }

  #wsDeps(tls: boolean, frontDoor: FrontDoorConfig, serverString: string): WsDeps {
    return { serverString, log: this.log, connections: this.connections, tls, frontDoor, perAddress: this.#perAddress, inflight: this.inflight, accepted: this.#accepted, sendOutcomes: this.#transport.sendOutcomes };
  }

  #logListening(slot: Slot): void {
    const i = slot.info;
    this.log.info({ event: 'listening', listener: slot.key, address: i.address, port: i.port, tls: i.tls, vhosts: i.vhosts }, `listening on ${i.tls ? 'https' : 'http'} ${i.address} for ${i.vhosts.join(', ')}`);
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
    const slots = [...this.#slots.values(), ...this.#draining];
    for (const s of slots) s.handle.stopListening();
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
    for (const s of slots) s.handle.closeAll();
    this.#metricsPort?.handle.closeAll();
    for (const s of slots) if (s.info.unixPath) fs.rmSync(s.info.unixPath, { force: true });
    await this.accessLogs.closeAll();
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
    for (const s of [...this.#slots.values(), ...this.#draining]) s.handle.closeAll();
    this.#metricsPort?.handle.closeAll();
  }
}

const joinAt = (port: number): ListenPolicy => ({ mode: 'join', portFor: () => port });

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
