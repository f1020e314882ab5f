/** @module Serving from start to exit: start-up, privilege drop, and the signals (SIGTERM/SIGINT stop, SIGHUP reload, SIGUSR1 reopen). */
import { TswsError, tswsError } from './base/errors.ts';
import { DEFAULT_LEVEL, createLogger, separateLogFromNativeOutput, type Level, type Logger } from './base/log.ts';
import { logShadowed, prepare, type Prepared, type PrepareResult } from './app/prepare.ts';
import { dropPrivileges } from './app/privileges.ts';
import { LocalService, type Service } from './app/service.ts';
import { ThreadedService } from './threads/supervisor.ts';
import { transportBuild } from './transport/uws/uws-adapter.ts';
import { VERSION } from './base/version.ts';

export interface ServeOptions {
  readonly configDir: string;
  readonly dataDir: string | undefined;
  /** From -d; else the config's log level; else info. */
  readonly level: Level | undefined;
}

/** A vhost skipped for its certificate is served by nobody: that deserves an error line, though start-up goes on. */
const LOUD_WARNINGS = new Set(['TSWS_WARN_TLS_VHOST_SKIPPED']);

function logFindings(log: Logger, result: PrepareResult): void {
  for (const w of result.warnings) {
    // When serving, an unknown user is fatal (logged below), not a warning about some other machine.
    if (w.code === 'TSWS_WARN_PRIV_CHECK') continue;
    if (LOUD_WARNINGS.has(w.code)) log.error({ code: w.code }, w.message);
    else log.warn({ code: w.code }, w.message);
  }
  for (const e of result.errors) log.error({ code: e.code }, e.message);
  logShadowed(log, result);
}

function fatal(log: Logger, fields: Record<string, unknown>, message: string): void {
  log.fatal(fields, message);
  log.flush();
  process.exitCode = 1;
}

export async function serve(opts: ServeOptions): Promise<void> {
  const load = (generation?: number) => prepare({ configDir: opts.configDir, ...(generation ? { generation } : {}), ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
  // From the first moment: a SIGTERM (ECS sends one on every deploy, maybe before this process is
  // up) must never meet Node's default action, which kills at once, exit code lost, logs unflushed.
  // Until the server is up a stop is only noted, and carried out as soon as it is.
  let early: 'SIGTERM' | 'SIGINT' | undefined;
  const noteTerm = () => void (early ??= 'SIGTERM');
  const noteInt = () => void (early ??= 'SIGINT');
  process.on('SIGTERM', noteTerm);
  process.on('SIGINT', noteInt);
  const logFd = separateLogFromNativeOutput();
  const bootLog = createLogger(opts.level ?? DEFAULT_LEVEL, logFd);
  const result = await load();
  const level = opts.level ?? result.prepared?.config.global.logLevel ?? DEFAULT_LEVEL;
  const log = level === bootLog.level ? bootLog : createLogger(level, logFd);
  logFindings(log, result);
  if (!result.prepared) return fatal(log, { event: 'config-invalid', errors: result.errors.length }, `not starting: ${result.errors.length} error(s) in ${opts.configDir}`);
  const identity = result.prepared.identity;
  if (identity instanceof TswsError) return fatal(log, { code: identity.code, event: 'config-invalid' }, identity.message);
  try {
    const build = transportBuild();
    log.info({ event: 'transport', ...build }, `transport: ${build.package} (uWS.js ${build.uws}) on Node ${build.node}, ABI ${build.abi}`);
    if (build.node.startsWith('20.')) {
      const w = tswsError('TSWS_WARN_LEGACY_RUNTIME', { node: build.node });
      log.warn({ code: w.code }, w.message);
    }
  } catch (err) {
    const e = err instanceof TswsError ? err : undefined;
    return fatal(log, { code: e?.code, event: 'transport-unavailable' }, e ? e.message : String(err));
  }

  // A plugin's exception must never take the server down: log it and keep serving.
  process.on('uncaughtException', (err) => log.error({ err, event: 'uncaught-exception' }, `uncaught exception: ${err.message}`));
  process.on('unhandledRejection', (reason) => log.error({ err: reason, event: 'unhandled-rejection' }, `unhandled rejection: ${String(reason)}`));

  const threads = result.prepared.config.global.countThreads;
  const watchdogSecs = result.prepared.config.global.watchdogSecs;
  let service: Service;
  try {
    // With the watchdog, even one thread serves from a worker: this thread then runs no plugin code and can interrupt it (docs/guides/operating.md, "Watchdog").
    service =
      threads > 1 || watchdogSecs > 0
        ? await ThreadedService.start({ configDir: opts.configDir, dataDir: opts.dataDir, level, logFd, count: threads, watchdogSecs, sharedChannels: threads > 1 && !result.prepared.config.global.cluster, channelIdleMax: result.prepared.config.global.channelIdleMax }, log)
        : await LocalService.start(result.prepared, log);
  } catch (err) {
    const e = err instanceof TswsError ? err : undefined;
    return fatal(log, { err, code: e?.code }, e ? e.message : `start-up failed: ${String(err)}`);
  }
  // Listeners bound, certificates read, access logs open, every init run (in every thread): now drop, as lwsws does.
  if (identity) {
    try {
      dropPrivileges(identity, log, service.listeners.flatMap((l) => (l.unixPath ? [l.unixPath] : [])));
    } catch (err) {
      await service.stop(0);
      return fatal(log, { err, event: 'privilege-drop-failed' }, `cannot drop privileges: ${(err as Error).message}`);
    }
  }
  // The real handlers replace the early ones in one synchronous step, and before "ready" is
  // logged: whoever waits for that line may signal at once.
  process.off('SIGTERM', noteTerm);
  process.off('SIGINT', noteInt);
  const stop = handleSignals(service, result.prepared, load, log);
  log.info({ event: 'ready', version: VERSION, threads, listeners: service.listeners }, `tsws ${VERSION} ready${threads > 1 ? ` (${threads} threads)` : ''}`);
  if (early) stop(early);
}

/** Installs the signal handlers of a running server; returns its stop, for a signal noted during start-up. */
function handleSignals(service: Service, first: Prepared, load: (generation: number) => Promise<PrepareResult>, log: Logger): (signal: string) => void {
  let stopping = false;
  let graceMs = first.config.global.graceSecs * 1000;
  const exitNow = () => {
    log.flush();
    void service.abandon().finally(() => process.exit(1));
  };
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ event: 'forced-exit', signal }, `${signal} again: exiting now`);
      return exitNow();
    }
    stopping = true;
    log.info({ event: 'stopping', signal, graceMs }, `${signal}: stopping (grace ${graceMs / 1000} s)`);
    // Backstop: whatever hangs, the process is gone shortly after its grace period.
    setTimeout(() => {
      log.error({ event: 'forced-exit' }, 'stop overran its grace period: exiting now');
      exitNow();
    }, graceMs + 5000).unref();
    void service.stop(graceMs).then(({ cut }) => {
      log.info({ event: 'stopped', cut }, cut ? `stopped (${cut} connection(s) cut at the end of the grace period)` : 'stopped');
      log.flush(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGUSR1', () => {
    void service.reopenLogs().then((failed) => {
      for (const err of failed) log.error({ err, code: (err as TswsError).code }, err.message);
      log.info({ event: 'access-logs-reopened', failed: failed.length }, 'SIGUSR1: access logs reopened');
    });
  });

  let generation = 1;
  let reloading = false;
  /** A SIGHUP came during a reload: one more follows it, so the files as they are after it are read (nginx-like). */
  let again = false;
  let running = first;
  const startReload = () => {
    reloading = true;
    log.info({ event: 'reloading' }, 'SIGHUP: reloading the configuration');
    void reload(service, ++generation, running, load, log)
      .then((next) => {
        if (!next) return;
        running = next;
        graceMs = next.config.global.graceSecs * 1000;
      })
      .finally(() => {
        reloading = false;
        if (again && !stopping) {
          again = false;
          startReload();
        }
      });
  };
  process.on('SIGHUP', () => {
    if (stopping) return;
    if (reloading) {
      // The running reload may have read the files before the edit this signal is for: dropping it would
      // lose that edit. Several during one reload make one more.
      if (!again) log.info({ event: 'reload-queued' }, 'SIGHUP while a reload is running: another follows it');
      again = true;
      return;
    }
    startReload();
  });
  return stop;
}

/**
 * Re-reads conf and conf.d and re-imports every plugin (a new generation, so
 * changed files take effect). A configuration that fails validation, or a
 * plugin that fails to load, leaves the running one untouched.
 */
async function reload(service: Service, generation: number, running: Prepared, load: (generation: number) => Promise<PrepareResult>, log: Logger): Promise<Prepared | undefined> {
  const result = await load(generation);
  logFindings(log, result);
  if (!result.prepared) {
    log.error({ event: 'reload-failed', errors: result.errors.length }, `reload refused: ${result.errors.length} error(s); still serving the previous configuration`);
    service.refused();
    return undefined;
  }
  for (const note of needsRestart(running, result.prepared)) log.warn({ event: 'reload-needs-restart' }, note);
  try {
    const report = await service.apply(result.prepared, generation);
    log.info({ event: 'reloaded', ...report, listeners: service.listeners }, `reloaded: generation ${report.generation}`);
    return result.prepared;
  } catch (err) {
    const e = err instanceof TswsError ? err : undefined;
    log.error({ err, code: e?.code, event: 'reload-failed' }, `reload refused: ${e ? e.message : String(err)}; still serving the previous configuration`);
    return undefined;
  }
}

/** Settings a running process cannot change: said, not silently ignored. */
function needsRestart(before: Prepared, after: Prepared): string[] {
  const a = before.config.global;
  const b = after.config.global;
  const notes: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  // Where a block was written (its source) moves with any edit above it: not a change.
  const cluster = (c: typeof a.cluster) => c && { ...c, source: undefined };
  const metrics = (m: typeof a.metrics) => m && { path: m.path, port: m.port, iface: m.iface };
  if (a.watchdogSecs !== b.watchdogSecs) notes.push('watchdog-secs changed: it takes effect at the next restart');
  if (a.countThreads !== b.countThreads) notes.push('count-threads changed: it takes effect at the next restart');
  if (!same(cluster(a.cluster), cluster(b.cluster))) notes.push('cluster changed: it takes effect at the next restart');
  if (!same(metrics(a.metrics), metrics(b.metrics))) notes.push('metrics changed: it takes effect at the next restart');
  if (!same(a.privileges, b.privileges)) notes.push('uid/gid/username/groupname changed: privileges were dropped at start and cannot be taken back');
  if (!same(a.pluginDirs, b.pluginDirs)) notes.push('plugin-dir changed: the new directories are searched now, old imports stay in memory');
  return notes;
}
