/** @module Wiring only: builds vhosts, protocol hosts and listeners from a Prepared config, and takes them down. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import type { Logger } from 'pino';
import { LocalBus, type Bus } from './bus/bus.ts';
import { TopicRouter } from './bus/topics.ts';
import type { RedisCluster } from './cluster/cluster.ts';
import { ClusterScope } from './cluster/scope.ts';
import { where, type VhostConfig } from './config/model.ts';
import { describeError, tswsError } from './errors.ts';
import { AccessLogs } from './http/access-log.ts';
import { FileCache } from './http/file-cache.ts';
import { handleHttp, sendNotFound } from './http/http-router.ts';
import type { HttpDeps } from './http/mount-request.ts';
import { PROXY_WS_MAX_MESSAGE } from './http/proxy-ws.ts';
import type { Prepared } from './prepare.ts';
import type { WsSession } from './session/ws-session.ts';
import { openListener, planListeners, transportCap, type ListenerInfo } from './listeners.ts';
import { WRITABLE_THRESHOLD } from './session/connection.ts';
import { WritableScheduler } from './session/scheduler.ts';
import { handleUpgrade, wsClose, wsDrain, wsMessage, wsOpen, type WsDeps } from './session/ws-handlers.ts';
import type { ListenerHandle } from './transport/types.ts';
import { createListener } from './transport/uws/uws-adapter.ts';
import { VhostRouter } from './vhost/listener.ts';
import { ProtocolHost } from './vhost/protocol-host.ts';
import { Vhost } from './vhost/vhost.ts';

interface RunningListener {
  readonly info: ListenerInfo;
  readonly handle: ListenerHandle;
}

export class TswsServer {
  readonly log: Logger;
  readonly listeners: ListenerInfo[] = [];
  readonly hosts: ProtocolHost[] = [];
  readonly connections = new Set<WsSession>();
  readonly scheduler = new WritableScheduler();
  readonly bus: Bus;
  /** Set when this instance is part of a cluster; its `stats` are the counters to expose. */
  readonly cluster: RedisCluster | undefined;
  readonly accessLogs = new AccessLogs();
  readonly #running: RunningListener[] = [];
  #stopped = false;

  private constructor(log: Logger, bus: Bus, cluster: RedisCluster | undefined) {
    this.log = log;
    this.bus = bus;
    this.cluster = cluster;
  }

  /** With a cluster, its bus carries the broadcasts and plugins see its shared state; stop() leaves it. */
  static async start(prepared: Prepared, log: Logger, bus: Bus = new LocalBus(), cluster?: RedisCluster): Promise<TswsServer> {
    const server = new TswsServer(log, bus, cluster);
    try {
      await server.#build(prepared);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  async #build(prepared: Prepared): Promise<void> {
    const { config } = prepared;
    const topics = new TopicRouter(this.bus);
    const fileCache = new FileCache();
    const serverString = config.global.serverString;

    const vhosts: Vhost[] = [];
    for (const vc of config.vhosts) {
      const hosts = new Map<string, ProtocolHost>();
      for (const [name, options] of prepared.enabled.get(vc) ?? []) {
        const def = prepared.protocols.get(name);
        if (!def) continue;
        const host = new ProtocolHost(vc.name, def, options, { scheduler: this.scheduler, topics, log: this.log, ...this.#clusterDeps() });
        this.hosts.push(host);
        if (host.init()) hosts.set(name, host);
      }
      vhosts.push(new Vhost(vc, hosts, vc.accessLog ? this.accessLogs.open(vc.accessLog) : undefined));
    }
    // Before privileges are dropped: an access log that cannot be opened stops start-up, naming the file.
    await this.accessLogs.ready();

    const httpsPorts = new Map<string, number>();
    const frontDoor = { rejectServiceKeywords: config.global.rejectServiceKeywords, httpsPortFor: (name: string) => httpsPorts.get(name.toLowerCase()) };
    const perAddress = { counts: new Map<string, number>(), limit: config.global.ipLimitWsi };
    for (const plan of planListeners(vhosts)) {
      const tls = plan.tls !== undefined;
      const router = new VhostRouter(plan.vhosts, tls);
      const proxied = plan.vhosts.some((v) => v.config.mounts.some((m) => m.origin.kind === 'proxy'));
      const maxRx = Math.max(1024, proxied ? PROXY_WS_MAX_MESSAGE : 0, ...plan.vhosts.flatMap((v) => [...v.protocols.values()].map((h) => h.def.rxBufferSize)));
      const wsDeps: WsDeps = { serverString, log: this.log, connections: this.connections, tls, frontDoor, perAddress };
      const httpDeps: HttpDeps = {
        fileCache,
        serverString,
        log: this.log,
        listener: { port: 0, tls },
        frontDoor,
        bodyStallMs: config.global.timeoutSecs * 1000,
        notFound: (ex) => sendNotFound(ex, { fileCache }),
      };
      const handle = createListener(
        {
          http: (res, req, sni) => handleHttp(router, res, req, sni, httpDeps),
          upgrade: (res, req, ctx, sni) => handleUpgrade(router, res, req, ctx, sni, wsDeps),
          open: (ws) => wsOpen(ws, wsDeps),
          message: wsMessage,
          drain: wsDrain,
          close: (ws, code, msg) => wsClose(ws, code, msg, wsDeps),
        },
        { maxPayloadLength: transportCap(maxRx), idleTimeout: config.global.wsPingPongSecs, maxBackpressure: 64 * 1024 * 1024 + WRITABLE_THRESHOLD },
        plan.tls,
      );
      let info: ListenerInfo;
      try {
        info = await openListener(plan, handle);
      } catch (err) {
        handle.closeAll();
        throw err;
      }
      this.#running.push({ info, handle });
      httpDeps.listener.port = info.port;
      if (tls) for (const v of plan.vhosts) if (!httpsPorts.has(v.name.toLowerCase())) httpsPorts.set(v.name.toLowerCase(), info.port);
      this.listeners.push(info);
      this.log.info({ event: 'listening', listener: plan.key, address: info.address, port: info.port, tls, vhosts: info.vhosts }, `listening on ${tls ? 'https' : 'http'} ${info.address} for ${info.vhosts.join(', ')}`);
    }
  }

  #clusterDeps(): { cluster?: (vhost: string, protocol: string) => ClusterScope } {
    const cluster = this.cluster;
    if (!cluster) return {};
    return { cluster: (vhost, protocol) => new ClusterScope(cluster, vhost, protocol, (topic) => TopicRouter.key(vhost, protocol, topic)) };
  }

  /** Stops accepting, closes websockets with 1001, destroys every protocol, flushes the access logs. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const l of this.#running) l.handle.stopListening();
    for (const conn of [...this.connections]) {
      if (conn.isOpen) conn.close(1001, 'going away');
    }
    for (const conn of [...this.connections]) conn.terminate();
    await Promise.all(this.hosts.map((h) => h.destroy()));
    for (const l of this.#running) l.handle.closeAll();
    for (const l of this.listeners) if (l.unixPath) fs.rmSync(l.unixPath, { force: true });
    await this.accessLogs.closeAll();
    // A cluster closes its own bus, after telling the other instances this one's entries are gone.
    await (this.cluster ? this.cluster.close() : this.bus.close());
  }
}
