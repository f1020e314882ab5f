/** @module tsws/testing's server: a config directory or an inline config served in the test's own process on free ports, its log kept for assertions, stopped cleanly. */
import pino from 'pino';
import { startServer, type ConfigSource, type InlineConfig, type Listener, type ReloadSummary } from '../app/embed.ts';
import type { TswsError } from '../base/errors.ts';
import { request, type HttpAnswer, type TestRequest } from './http-client.ts';
import { TestClient } from './ws-client.ts';

/** One JSON log line of the server. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly code?: string;
  readonly event?: string;
  readonly [k: string]: unknown;
}

export interface TestServerOptions extends ConfigSource {
  /** The lowest level kept in `logs` (default debug). */
  readonly level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

export interface TestServer {
  /** The server's log so far, parsed. */
  readonly logs: readonly LogLine[];
  readonly warnings: readonly TswsError[];
  readonly listeners: readonly Listener[];
  /** The port serving `vhost` (default: the first listener's). */
  port(vhost?: string): number;
  url(path?: string, vhost?: string): string;
  wsUrl(path?: string, vhost?: string): string;
  /** A websocket to `path` (default "/") asking for `protocol`; closed by stop() if still open. */
  connect(protocol?: string | readonly string[], path?: string, vhost?: string): Promise<TestClient>;
  request(path: string, init?: TestRequest, vhost?: string): Promise<HttpAnswer>;
  /** What SIGHUP does (see tsws's startServer); an inline config may be replaced by `next`. */
  reload(next?: InlineConfig): Promise<ReloadSummary>;
  /** What SIGTERM does, then waits until every client connect() opened has seen its close. */
  stop(): Promise<void>;
}

/**
 * Serves the configuration as tsws would, with one difference: every
 * address listens on a port the system picks (the project's conf.d may say
 * 7681, which another test or a running server holds). Plugins load as the
 * command loads them, TypeScript included.
 */
export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const logs: LogLine[] = [];
  const log = pino({ level: opts.level ?? 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const source: ConfigSource = {
    ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}),
    ...(opts.config !== undefined ? { config: opts.config } : {}),
    ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
  };
  const server = await startServer({ ...source, log, freePorts: true });
  const clients = new Set<TestClient>();
  const scheme = (vhost?: string) => (server.listeners.find((l) => l.port === server.port(vhost))?.tls ? 's' : '');
  const url = (path = '/', vhost?: string) => `http${scheme(vhost)}://127.0.0.1:${server.port(vhost)}${path}`;
  const wsUrl = (path = '/', vhost?: string) => `ws${scheme(vhost)}://127.0.0.1:${server.port(vhost)}${path}`;
  return {
    logs,
    warnings: server.warnings,
    get listeners() {
      return server.listeners;
    },
    port: (vhost) => server.port(vhost),
    url,
    wsUrl,
    async connect(protocol, path = '/', vhost) {
      const client = new TestClient(wsUrl(path, vhost), typeof protocol === 'string' ? protocol : protocol && [...protocol]);
      clients.add(client);
      await client.opened;
      return client;
    },
    request: (path, init, vhost) => request(url(path, vhost), init),
    reload: (next) => server.reload(next),
    async stop() {
      await server.stop();
      await Promise.all([...clients].map((c) => c.closed));
    },
  };
}
