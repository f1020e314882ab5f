/** @module Starts a tsws server inside the test process on real sockets, with its log captured for assertions. */
import pino from 'pino';
import { prepare } from '../../server/app/prepare.ts';
import { TswsServer, type ReloadReport } from '../../server/app/server.ts';
import type { TswsError } from '../../server/base/errors.ts';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly code?: string;
  readonly event?: string;
  readonly [k: string]: unknown;
}

export interface Running {
  readonly server: TswsServer;
  /** Captured JSON log lines. */
  readonly logs: LogLine[];
  readonly warnings: readonly TswsError[];
  /** Port of the listener serving `vhost` (default: the first listener). */
  port(vhost?: string): number;
  url(path?: string, vhost?: string): string;
  wsUrl(path?: string, vhost?: string): string;
  stop(): Promise<void>;
  /** What SIGHUP does: the config directory and plugins read again, then served beside the open connections. */
  reload(): Promise<ReloadReport>;
}

export async function startInProcess(configDir: string, opts: { dataDir?: string } = {}): Promise<Running> {
  const result = await prepare({ configDir, ...opts });
  if (!result.prepared) throw new Error(`config invalid:\n${result.errors.map((e) => `${e.code}: ${e.message}`).join('\n')}`);
  const logs: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const server = await TswsServer.start(result.prepared, log);
  const port = (vhost?: string) => {
    const l = vhost ? server.listeners.find((x) => x.vhosts.includes(vhost)) : server.listeners[0];
    if (!l) throw new Error(`no listener for ${vhost}`);
    return l.port;
  };
  return {
    server,
    logs,
    warnings: result.warnings,
    port,
    url: (p = '/', vhost?: string) => `http://127.0.0.1:${port(vhost)}${p}`,
    wsUrl: (p = '/', vhost?: string) => `ws://127.0.0.1:${port(vhost)}${p}`,
    stop: async () => void (await server.stop()),
    reload: async () => {
      const next = await prepare({ configDir, ...opts, generation: server.generation + 1 });
      if (!next.prepared) throw new Error(`config invalid:\n${next.errors.map((e) => `${e.code}: ${e.message}`).join('\n')}`);
      return server.reload(next.prepared);
    },
  };
}
