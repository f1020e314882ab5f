/**
 * @module `tsws` from code: serve a config directory or an inline config in this process, reload it, stop it, or check it without serving.
 *
 * What the command does around this (lifecycle.ts) stays with the command:
 * signal handlers, privilege drop, worker threads and the watchdog. A server
 * started here serves in the calling thread, and the caller decides when it
 * reloads and stops.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { runCheck } from './check.ts';
import { tswsError, type TswsError } from '../base/errors.ts';
import type { ListenerInfo, ListenPolicy } from '../ingress/listeners.ts';
import { createLogger, parseLogLevel, type Level } from '../base/log.ts';
import { logShadowed, prepare, type PrepareResult } from './prepare.ts';
import { LocalService } from './service.ts';

export type { Level, Logger };
export { isTswsError, type TswsError, type ErrorCode } from '../base/errors.ts';

/** A config written in code: what `conf` and a file of `conf.d/` hold, as objects. */
export interface InlineConfig {
  /** `conf`'s "global" block: "plugin-dir", "grace-secs", ... (README, Configuration reference). */
  readonly global?: Readonly<Record<string, unknown>>;
  /** The vhosts, as a conf.d file lists them: `{ name: 'localhost', port: 7681, 'ws-protocols': [{ hello: {} }] }`. */
  readonly vhosts: readonly Readonly<Record<string, unknown>>[];
}

/** What to serve: a config directory, or a config written in code. */
export interface ConfigSource {
  /** A config directory, as the command's -c: conf, conf.d/ and (by default) plugins/. */
  readonly configDir?: string;
  /**
   * Or a config written in code, instead of configDir. It is read from a
   * private temporary directory, so relative paths in it (mount origins,
   * "plugin-dir") would resolve there: give absolute ones.
   */
  readonly config?: InlineConfig;
  /** What `_lws_ddir_` expands to (the command's --data-dir); default: tsws's share/. */
  readonly dataDir?: string;
}

export interface StartOptions extends ConfigSource {
  /** A pino logger, or a level for tsws's JSON lines on stdout; default: the config's "log-level", else info. */
  readonly log?: Logger | Level;
  /** Bind every address on a port the system picks (a test's choice): `port()` and `listeners` tell which. */
  readonly freePorts?: boolean;
}

/** A socket the server listens on. */
export interface Listener {
  /** "host:port", or a UNIX socket's path. */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  /** Vhost names served here; empty for the metrics port. */
  readonly vhosts: readonly string[];
}

/** What a reload changed: listener addresses added, removed, and re-bound (new TLS files or websocket settings). */
export interface ReloadSummary {
  readonly generation: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly rebound: readonly string[];
}

export interface RunningServer {
  readonly listeners: readonly Listener[];
  /** Warnings found at start (each also logged). */
  readonly warnings: readonly TswsError[];
  /** The port serving `vhost` (default: the first listener's). */
  port(vhost?: string): number;
  /**
   * What SIGHUP does: conf, conf.d and every plugin read again (with an
   * inline config: `next`, or the same one again), served to new connections
   * while open ones stay. A config with errors throws
   * TSWS_ERR_CONFIG_INVALID and the running one goes on.
   */
  reload(next?: InlineConfig): Promise<ReloadSummary>;
  /** What SIGTERM does: websockets closed with 1001, HTTP answers finished within `graceMs` (default: "grace-secs"), every destroy run. */
  stop(graceMs?: number): Promise<{ cut: number }>;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly errors: readonly TswsError[];
  readonly warnings: readonly TswsError[];
  readonly pluginFiles: readonly string[];
}

/** Loads a configuration and serves it in this thread; throws TSWS_ERR_CONFIG_INVALID (every error listed) when it has errors. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const source = Source.open(opts);
  try {
    const result = await source.prepare(0);
    const prepared = validOrThrow(result, source.name);
    const level = parseLogLevel(prepared.config.global.logLevel ?? '') ?? 'info';
    const log = typeof opts.log === 'object' ? opts.log : createLogger(opts.log ?? level);
    for (const w of result.warnings) log.warn({ code: w.code }, w.message);
    logShadowed(log, result);
    const threads = prepared.config.global.countThreads;
    if (threads > 1) {
      const w = tswsError('TSWS_WARN_EMBEDDED_ONE_THREAD', { threads });
      log.warn({ code: w.code }, w.message);
    }
    const bound = new Map<string, number>();
    // Free ports stay put across reloads: a re-bound listener takes the port it had.
    const listen: ListenPolicy | undefined = opts.freePorts ? { mode: 'alone', portFor: (key) => bound.get(key) ?? 0 } : undefined;
    const service = await LocalService.start(prepared, log, listen ? { listen } : {});
    const remember = () => {
      for (const l of service.listeners) bound.set(l.key, l.port);
    };
    remember();
    let generation = 0;
    let stopped = false;
    return {
      get listeners() {
        return service.listeners.map(publicListener);
      },
      warnings: result.warnings,
      port: (vhost?: string) => portOf(service.listeners, vhost),
      async reload(next?: InlineConfig) {
        if (next) source.rewrite(next);
        const again = await source.prepare(++generation);
        const report = await service.apply(validOrThrow(again, source.name));
        for (const w of again.warnings) log.warn({ code: w.code }, w.message);
        logShadowed(log, again);
        remember();
        return { generation: report.generation, added: report.added, removed: report.removed, rebound: report.rebound };
      },
      async stop(graceMs?: number) {
        if (stopped) return { cut: 0 };
        stopped = true;
        try {
          return await service.stop(graceMs ?? prepared.config.global.graceSecs * 1000);
        } finally {
          source.close();
        }
      },
    };
  } catch (err) {
    source.close();
    throw err;
  }
}

/** What `tsws --check` does: the config, every plugin it loads, their TypeScript types, and whether the transport loads here. Nothing listens. */
export async function checkConfig(opts: ConfigSource): Promise<CheckResult> {
  const source = Source.open(opts);
  try {
    const r = await runCheck({ configDir: source.dir, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
    return { ok: r.errors.length === 0, errors: r.errors, warnings: r.warnings, pluginFiles: r.pluginFiles };
  } finally {
    source.close();
  }
}

function validOrThrow(result: PrepareResult, name: string) {
  if (result.prepared) return result.prepared;
  const list = result.errors.map((e) => `${e.code}: ${e.detail}`).join('; ');
  throw tswsError('TSWS_ERR_CONFIG_INVALID', { source: name, count: result.errors.length, list }, new AggregateError(result.errors));
}

function publicListener(l: ListenerInfo): Listener {
  return { address: l.address, port: l.port, tls: l.tls, vhosts: l.vhosts };
}

function portOf(listeners: readonly ListenerInfo[], vhost?: string): number {
  const l = vhost === undefined ? listeners[0] : listeners.find((x) => x.vhosts.includes(vhost));
  if (!l) throw new Error(vhost === undefined ? 'the server has no listener' : `no listener serves vhost "${vhost}"`);
  return l.port;
}

/** A config directory as given, or an inline config written to a temporary one (removed at stop). */
class Source {
  readonly dir: string;
  readonly name: string;
  readonly #temporary: boolean;
  readonly #dataDir: string | undefined;

  private constructor(dir: string, temporary: boolean, dataDir: string | undefined) {
    this.dir = dir;
    this.name = temporary ? 'the inline config' : dir;
    this.#temporary = temporary;
    this.#dataDir = dataDir;
  }

  static open(opts: ConfigSource): Source {
    if ((opts.configDir === undefined) === (opts.config === undefined)) {
      throw tswsError('TSWS_ERR_CONFIG_DIR', { dir: String(opts.configDir), reason: 'give either configDir or config, not both nor neither' });
    }
    if (opts.configDir !== undefined) return new Source(path.resolve(opts.configDir), false, opts.dataDir);
    const source = new Source(fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-inline-')), true, opts.dataDir);
    source.rewrite(opts.config as InlineConfig);
    return source;
  }

  /** Pretty-printed, so that a finding's file:line points at something readable. */
  rewrite(config: InlineConfig): void {
    if (!this.#temporary) throw tswsError('TSWS_ERR_CONFIG_DIR', { dir: this.dir, reason: 'reload(next) takes a config only where the server was started from one; edit the directory and reload()' });
    fs.mkdirSync(path.join(this.dir, 'conf.d'), { recursive: true });
    fs.writeFileSync(path.join(this.dir, 'conf'), JSON.stringify({ global: config.global ?? {} }, null, 2));
    fs.writeFileSync(path.join(this.dir, 'conf.d', 'inline'), JSON.stringify({ vhosts: config.vhosts }, null, 2));
  }

  prepare(generation: number): Promise<PrepareResult> {
    return prepare({ configDir: this.dir, ...(generation ? { generation } : {}), ...(this.#dataDir ? { dataDir: this.#dataDir } : {}) });
  }

  close(): void {
    if (this.#temporary) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
