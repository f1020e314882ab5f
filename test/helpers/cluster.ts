/** @module Runs tsws instances as separate processes sharing one Redis, each with the shipped broadcast plugins. */
import { makeConfigDir } from './config-dir.ts';
import { runTsws, type TswsProcess } from './process.ts';

export interface Instance {
  readonly id: string;
  readonly proc: TswsProcess;
  readonly port: number;
  url(path?: string): string;
  wsUrl(path?: string): string;
  /** Resolves with the first log line after `from` (a lines.length taken earlier) with this event. */
  event(name: string, from?: number): Promise<Record<string, unknown>>;
}

export interface ClusterOptions {
  /**
   * The heartbeat's TTL (default 5 s, renewed every third of it). A live instance whose heartbeat
   * lapses is reaped by the others, its entries (chat names, status clients) gone until it restores
   * them: at 1 s a stall of about 0.7 s (a busy loaded machine) did it. 1 only where a test waits
   * for a killed instance's entries to go.
   */
  readonly ttlSecs?: number;
  readonly maxQueue?: number;
  readonly unreachable?: 'retry' | 'local';
  /** Prometheus metrics at /metrics on the vhost. */
  readonly metrics?: boolean;
  /** The vhost's port (default 0: one the OS picks); fixed, so that an instance restarted there is found again by its clients. */
  readonly port?: number;
  /** Extra options of the chat protocol. */
  readonly chat?: Record<string, string>;
  /** Extra options of protocol-lws-packet. */
  readonly packet?: Record<string, string>;
}

export function clusterConfig(redisUrl: string, id: string, o: ClusterOptions = {}): string {
  return makeConfigDir({
    conf: {
      global: {
        cluster: {
          redis: redisUrl,
          instance: id,
          'ttl-secs': String(o.ttlSecs ?? 5),
          ...(o.maxQueue ? { 'max-queue': String(o.maxQueue) } : {}),
          ...(o.unreachable ? { 'unreachable-at-start': o.unreachable } : {}),
        },
        ...(o.metrics ? { metrics: { path: '/metrics' } } : {}),
      },
    },
    vhosts: {
      localhost: [{
        name: 'localhost', port: String(o.port ?? 0), interface: '127.0.0.1',
        mounts: [
          // The demo pages (the chat's at /chat/), from the default data dir: the repo's share/.
          { mountpoint: '/', origin: 'file://_lws_ddir_/tsws-test-server', default: 'index.html' },
          { mountpoint: '/formtest2', origin: 'callback://protocol-lws-packet' },
        ],
        'ws-protocols': [{
          'lws-mirror-protocol': {},
          'lws-status': {},
          chat: { 'rate-burst': '1000', 'rate-per-sec': '1000', ...o.chat },
          'protocol-lws-packet': { 'log-dir': '/nonexistent-in-a-cluster', ...o.packet },
        }],
      }],
    },
  });
}

/** Starts an instance and waits until it listens (it joined the cluster first). */
export async function startInstance(redisUrl: string, id: string, o: ClusterOptions = {}): Promise<Instance> {
  const proc = runTsws(['-c', clusterConfig(redisUrl, id, o)]);
  const [listener] = await proc.ready;
  const port = listener?.port ?? 0;
  return {
    id,
    proc,
    port,
    url: (p = '/') => `http://127.0.0.1:${port}${p}`,
    wsUrl: (p = '/') => `ws://127.0.0.1:${port}${p}`,
    event: (name, from = 0) => proc.waitFor((l) => l.event === name && proc.lines.indexOf(l) >= from),
  };
}

export async function stopInstance(i: Instance): Promise<void> {
  i.proc.kill('SIGTERM');
  await i.proc.exited;
}
