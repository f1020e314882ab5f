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
import { WRITABLE_THRESHOLD } from './session/connection.ts';
import { WritableScheduler } from './session/scheduler.ts';
import { handleUpgrade, wsClose, wsDrain, wsMessage, wsOpen } from './session/ws-handlers.ts';
import type { ListenerHandle } from './transport/types.ts';
import { createListener } from './transport/uws/uws-adapter.ts';
import { VhostRouter, listenerKey } from './vhost/listener.ts';
import { ProtocolHost } from './vhost/protocol-host.ts';
import { Vhost } from './vhost/vhost.ts';

export interface ListenerInfo {
  readonly key: string;
  /** "host:port", or the socket path. */
  readonly address: string;
  readonly port: number;
  readonly unixPath: string | undefined;
  readonly vhosts: readonly string[];
}

interface RunningListener {
  readonly info: ListenerInfo;
  readonly handle: ListenerHandle;
}

/** Above this a message is cut by the transport itself (1006) before it is ever buffered whole. */
function transportCap(maxRx: number): number {
  return Math.min(2 * maxRx + 64 * 1024, 0x7fffffff);
}

/** An interface name ("lo", "eth0") becomes its first address, IPv4 preferred. */
function resolveInterface(vh: VhostConfig): string {
  const iface = vh.iface;
  if (!iface || net.isIP(iface)) return iface ?? '';
  const nics = os.networkInterfaces();
  const addrs = nics[iface];
  const pick = addrs?.find((a) => a.family === 'IPv4') ?? addrs?.[0];
  if (!pick) throw tswsError('TSWS_ERR_INTERFACE_UNKNOWN', { where: where(vh.source), name: iface, known: Object.keys(nics).join(', ') });
  return pick.address;
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

    const groups = new Map<string, Vhost[]>();
    for (const vc of config.vhosts) {
      const hosts = new Map<string, ProtocolHost>();
      for (const [name, options] of prepared.enabled.get(vc) ?? []) {
        const def = prepared.protocols.get(name);
        if (!def) continue;
        const host = new ProtocolHost(vc.name, def, options, { scheduler: this.scheduler, topics, log: this.log, ...this.#clusterDeps() });
        this.hosts.push(host);
        if (host.init()) hosts.set(name, host);
      }
      const vhost = new Vhost(vc, hosts, vc.accessLog ? this.accessLogs.open(vc.accessLog) : undefined);
      const key = listenerKey(vc);
      groups.set(key, [...(groups.get(key) ?? []), vhost]);
    }

    for (const [key, vhosts] of groups) {
      const router = new VhostRouter(vhosts);
      const first = (vhosts[0] as Vhost).config;
      const proxied = vhosts.some((v) => v.config.mounts.some((m) => m.origin.kind === 'proxy'));
      const maxRx = Math.max(1024, proxied ? PROXY_WS_MAX_MESSAGE : 0, ...vhosts.flatMap((v) => [...v.protocols.values()].map((h) => h.def.rxBufferSize)));
      const wsDeps = { serverString, log: this.log, connections: this.connections };
      const httpDeps: HttpDeps = { fileCache, serverString, log: this.log, listener: { port: 0, tls: false }, notFound: (ex) => sendNotFound(ex, { fileCache }) };
      const handle = createListener(
        {
          http: (res, req) => handleHttp(router, res, req, httpDeps),
          upgrade: (res, req, ctx) => handleUpgrade(router, res, req, ctx, wsDeps),
          open: (ws) => wsOpen(ws, wsDeps),
          message: wsMessage,
          drain: wsDrain,
          close: (ws, code, msg) => wsClose(ws, code, msg, wsDeps),
        },
        { maxPayloadLength: transportCap(maxRx), idleTimeout: config.global.wsPingPongSecs, maxBackpressure: 64 * 1024 * 1024 + WRITABLE_THRESHOLD },
      );
      const info = await this.#listen(first, key, handle, vhosts.map((v) => v.name));
      httpDeps.listener.port = info.port;
      this.#running.push({ info, handle });
      this.listeners.push(info);
      this.log.info({ event: 'listening', listener: key, address: info.address, port: info.port, vhosts: info.vhosts }, `listening on ${info.address} for ${info.vhosts.join(', ')}`);
    }
  }

  #clusterDeps(): { cluster?: (vhost: string, protocol: string) => ClusterScope } {
    const cluster = this.cluster;
    if (!cluster) return {};
    return { cluster: (vhost, protocol) => new ClusterScope(cluster, vhost, protocol, (topic) => TopicRouter.key(vhost, protocol, topic)) };
  }

  async #listen(vc: VhostConfig, key: string, handle: ListenerHandle, vhosts: string[]): Promise<ListenerInfo> {
    if (vc.unixSocket) {
      const sock = vc.iface as string;
      // lws unlinks a stale socket file; refuse to delete anything that is not a socket.
      try {
        if (fs.lstatSync(sock).isSocket()) fs.unlinkSync(sock);
      } catch {
        /* absent: fine */
      }
      try {
        await handle.listenUnix(sock);
      } catch (err) {
        throw tswsError('TSWS_ERR_LISTEN', { where: where(vc.source), address: `unix:${sock}`, reason: describeError(err) }, err);
      }
      return { key, address: sock, port: 0, unixPath: sock, vhosts };
    }
    const host = resolveInterface(vc);
    try {
      const port = await handle.listen(host, vc.port);
      const shown = host.includes(':') ? `[${host}]` : host || '*';
      return { key, address: `${shown}:${port}`, port, unixPath: undefined, vhosts };
    } catch (err) {
      throw tswsError('TSWS_ERR_LISTEN', { where: where(vc.source), address: `${host || '*'}:${vc.port}`, reason: describeError(err) }, err);
    }
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
