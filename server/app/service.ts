/** @module What the signal handlers drive: one server in this thread, or the worker threads of count-threads. */
import type { Logger } from 'pino';
import { RedisCluster } from '../cluster/cluster.ts';
import type { ClusterConfig } from '../config/model.ts';
import type { ListenerInfo } from '../ingress/listeners.ts';
import type { Prepared } from './prepare.ts';
import { TswsServer, type ReloadReport, type ServerOptions } from './server.ts';

export interface Service {
  /** Listeners now served (the lead thread's, with threads: the others listen on the same ports). */
  readonly listeners: readonly ListenerInfo[];
  /**
   * Serves a reloaded configuration, validated by the caller in this thread.
   * Throws (nothing changed) when a listener cannot be bound or an init
   * fails; with threads, each thread imports the plugins again itself.
   */
  apply(prepared: Prepared, generation: number): Promise<ReloadReport>;
  /** A SIGHUP whose configuration was refused before apply: counted all the same. */
  refused(): void;
  /** Graceful stop (server.ts stop()), health paths answering 503 from the first moment. */
  stop(graceMs: number): Promise<{ cut: number }>;
  /** SIGUSR1; resolves with the logs that could not be reopened. */
  reopenLogs(): Promise<Error[]>;
  /** Before an exit that cannot wait: every socket closed now (bounded; see TswsServer.closeNow). */
  abandon(): Promise<void>;
}

/** Redis connections for a cluster, when the config has one; `suffix` keeps instance ids apart across threads. */
export async function startCluster(config: ClusterConfig | undefined, log: Logger, suffix = ''): Promise<RedisCluster | undefined> {
  if (!config) return undefined;
  return RedisCluster.start(suffix ? { ...config, instanceId: `${config.instanceId}${suffix}` } : config, log);
}

/** count-threads 1: the server runs in this thread. */
export class LocalService implements Service {
  readonly server: TswsServer;

  private constructor(server: TswsServer) {
    this.server = server;
  }

  /** A cluster's bus, when the config has one, replaces `opts.bus`; `instanceSuffix` tells threads apart in it. */
  static async start(prepared: Prepared, log: Logger, opts: Omit<ServerOptions, 'cluster'> = {}, instanceSuffix = ''): Promise<LocalService> {
    const cluster = await startCluster(prepared.config.global.cluster, log, instanceSuffix);
    try {
      return new LocalService(await TswsServer.start(prepared, log, { ...opts, ...(cluster ? { bus: cluster.bus, cluster } : {}) }));
    } catch (err) {
      await cluster?.close();
      throw err;
    }
  }

  get listeners(): readonly ListenerInfo[] {
    return this.server.listeners;
  }

  async apply(prepared: Prepared): Promise<ReloadReport> {
    try {
      const report = await this.server.reload(prepared);
      this.server.state.reloaded(true);
      return report;
    } catch (err) {
      this.server.state.reloaded(false);
      throw err;
    }
  }

  refused(): void {
    this.server.state.reloaded(false);
  }

  stop(graceMs: number): Promise<{ cut: number }> {
    this.server.state.startDraining();
    return this.server.stop(graceMs);
  }

  reopenLogs(): Promise<Error[]> {
    return this.server.accessLogs.reopenAll();
  }

  async abandon(): Promise<void> {
    this.server.closeNow();
  }
}
