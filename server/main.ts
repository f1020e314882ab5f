/** @module CLI and signals only: `tsws -c <config-dir> [--data-dir <dir>] [-d <level>] [--check [--strict]]`. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TswsError, tswsError } from './errors.ts';
import { createLogger, parseLogLevel, type Level, type Logger } from './log.ts';
import { DEFAULT_DATA_DIR } from './paths.ts';
import { prepare, type Prepared, type PrepareResult } from './prepare.ts';
import { RedisCluster } from './cluster/cluster.ts';
import { TswsServer } from './server.ts';
import { dropPrivileges } from './privileges.ts';
import pkg from '../package.json' with { type: 'json' };

const USAGE = `Usage: tsws -c <config-dir> [--data-dir <dir>] [-d <level>] [--check [--strict]]

  -c, --config-dir <dir>  directory holding conf and conf.d/ (default: .)
      --data-dir <dir>    what _lws_ddir_ expands to (default: ${DEFAULT_DATA_DIR})
  -d, --debug <level>     log level: a pino name (info, debug, ...) or an lwsws bitmask (7 = notice)
      --check             validate config and plugins, then exit 0 (ok) or 1 (errors)
      --strict            with --check: warnings count as errors
  -h, --help              this text
  -v, --version           print the version
`;

interface Cli {
  configDir: string;
  dataDir: string | undefined;
  level: Level | undefined;
  check: boolean;
  strict: boolean;
}

function parseCli(argv: string[]): Cli | 'help' | 'version' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'config-dir': { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        debug: { type: 'string', short: 'd' },
        check: { type: 'boolean' },
        strict: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw tswsError('TSWS_ERR_CLI_USAGE', { detail: (err as Error).message });
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  let level: Level | undefined;
  if (values.debug !== undefined) {
    level = parseLogLevel(values.debug);
    if (!level) throw tswsError('TSWS_ERR_CLI_USAGE', { detail: `-d ${values.debug} is neither a pino level nor an lwsws bitmask` });
  }
  if (values.strict && !values.check) throw tswsError('TSWS_ERR_CLI_USAGE', { detail: '--strict only applies with --check' });
  return {
    configDir: path.resolve(values['config-dir'] ?? '.'),
    dataDir: values['data-dir'] === undefined ? undefined : path.resolve(values['data-dir']),
    level,
    check: values.check ?? false,
    strict: values.strict ?? false,
  };
}

/** --check prints for a human: one line per finding, then a summary. */
function printCheck(result: PrepareResult, strict: boolean): number {
  const lines = [...result.errors.map((e) => ['error', e] as const), ...result.warnings.map((w) => [strict ? 'error' : 'warning', w] as const)];
  for (const [kind, e] of lines) process.stderr.write(`${kind} ${e.code}: ${e.message}\n`);
  const failed = result.errors.length > 0 || (strict && result.warnings.length > 0);
  process.stderr.write(
    `${failed ? 'FAILED' : 'OK'}: ${result.errors.length} error(s), ${result.warnings.length} warning(s); ${result.pluginFiles.length} plugin file(s) loaded\n`,
  );
  return failed ? 1 : 0;
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
}

async function serve(cli: Cli): Promise<void> {
  const bootLog = createLogger(cli.level ?? 'info');
  const result = await prepare({ configDir: cli.configDir, ...(cli.dataDir ? { dataDir: cli.dataDir } : {}) });
  const level = cli.level ?? (result.prepared?.config.global.logLevel ? parseLogLevel(result.prepared.config.global.logLevel) : undefined) ?? 'info';
  const log = level === bootLog.level ? bootLog : createLogger(level);
  logFindings(log, result);
  if (!result.prepared) {
    log.fatal({ event: 'config-invalid', errors: result.errors.length }, `not starting: ${result.errors.length} error(s) in ${cli.configDir}`);
    log.flush();
    process.exitCode = 1;
    return;
  }

  const identity = result.prepared.identity;
  if (identity instanceof TswsError) {
    log.fatal({ code: identity.code, event: 'config-invalid' }, identity.message);
    log.flush();
    process.exitCode = 1;
    return;
  }

  // A plugin's exception must never take the server down: log it and keep serving.
  process.on('uncaughtException', (err) => log.error({ err, event: 'uncaught-exception' }, `uncaught exception: ${err.message}`));
  process.on('unhandledRejection', (reason) => log.error({ err: reason, event: 'unhandled-rejection' }, `unhandled rejection: ${String(reason)}`));

  let server: TswsServer;
  try {
    const clusterConfig = result.prepared.config.global.cluster;
    const cluster = clusterConfig ? await RedisCluster.start(clusterConfig, log) : undefined;
    server = await TswsServer.start(result.prepared, log, cluster?.bus, cluster);
  } catch (err) {
    const e = err instanceof TswsError ? err : undefined;
    log.fatal({ err, code: e?.code }, e ? e.message : `start-up failed: ${String(err)}`);
    log.flush();
    process.exitCode = 1;
    return;
  }
  // Listeners bound, certificates read, access logs open, every init run: now drop, as lwsws does.
  if (identity) {
    try {
      dropPrivileges(identity, log);
    } catch (err) {
      log.fatal({ err, event: 'privilege-drop-failed' }, `cannot drop privileges: ${(err as Error).message}`);
      await server.stop();
      log.flush();
      process.exitCode = 1;
      return;
    }
  }
  log.info({ event: 'ready', version: pkg.version, listeners: server.listeners }, `tsws ${pkg.version} ready`);

  let stopping = false;
  const graceMs = result.prepared.config.global.graceSecs * 1000;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ event: 'forced-exit', signal }, `${signal} again: exiting now`);
      log.flush();
      process.exit(1);
    }
    stopping = true;
    log.info({ event: 'stopping', signal, graceMs }, `${signal}: stopping (grace ${graceMs / 1000} s)`);
    // Health paths answer 503 from here on, for a load balancer still probing (server/server-state.ts).
    server.state.startDraining();
    // Backstop: whatever hangs, the process is gone shortly after its grace period.
    setTimeout(() => {
      log.error({ event: 'forced-exit' }, 'stop overran its grace period: exiting now');
      log.flush();
      process.exit(1);
    }, graceMs + 5000).unref();
    void server.stop(graceMs).then(({ cut }) => {
      log.info({ event: 'stopped', cut }, cut ? `stopped (${cut} connection(s) cut at the end of the grace period)` : 'stopped');
      log.flush(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGUSR1', () => {
    void server.accessLogs.reopenAll().then((failed) => {
      for (const err of failed) log.error({ err, code: (err as TswsError).code }, err.message);
      log.info({ event: 'access-logs-reopened', failed: failed.length }, 'SIGUSR1: access logs reopened');
    });
  });

  let generation = 1;
  let reloading = false;
  let running = result.prepared;
  process.on('SIGHUP', () => {
    if (stopping) return;
    if (reloading) {
      log.warn({ event: 'reload-busy' }, 'SIGHUP while a reload is running: ignored, send it again once the last one is done');
      return;
    }
    reloading = true;
    log.info({ event: 'reloading' }, 'SIGHUP: reloading the configuration');
    void reload(cli, ++generation, running, server, log)
      .then((next) => {
        if (next) running = next;
      })
      .finally(() => {
        reloading = false;
      });
  });
}

/**
 * Re-reads conf and conf.d and re-imports every plugin (a new generation, so
 * changed files take effect). A configuration that fails validation, or a
 * plugin that fails to load, leaves the running one untouched.
 */
async function reload(cli: Cli, generation: number, running: Prepared, server: TswsServer, log: Logger): Promise<Prepared | undefined> {
  const result = await prepare({ configDir: cli.configDir, generation, ...(cli.dataDir ? { dataDir: cli.dataDir } : {}) });
  logFindings(log, result);
  if (!result.prepared) {
    log.error({ event: 'reload-failed', errors: result.errors.length }, `reload refused: ${result.errors.length} error(s); still serving the previous configuration`);
    server.state.reloaded(false);
    return undefined;
  }
  for (const note of needsRestart(running, result.prepared)) log.warn({ event: 'reload-needs-restart' }, note);
  try {
    const report = await server.reload(result.prepared);
    log.info({ event: 'reloaded', ...report, listeners: server.listeners }, `reloaded: generation ${report.generation}`);
    server.state.reloaded(true);
    return result.prepared;
  } catch (err) {
    const e = err instanceof TswsError ? err : undefined;
    log.error({ err, code: e?.code, event: 'reload-failed' }, `reload refused: ${e ? e.message : String(err)}; still serving the previous configuration`);
    server.state.reloaded(false);
    return undefined;
  }
}

/** Settings a running process cannot change: said, not silently ignored. */
function needsRestart(before: Prepared, after: Prepared): string[] {
  const a = before.config.global;
  const b = after.config.global;
  const notes: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (a.countThreads !== b.countThreads) notes.push('count-threads changed: it takes effect at the next restart');
  if (!same(a.cluster, b.cluster)) notes.push('cluster changed: it takes effect at the next restart');
  const metrics = (m: typeof a.metrics) => m && { path: m.path, port: m.port, iface: m.iface };
  if (!same(metrics(a.metrics), metrics(b.metrics))) notes.push('metrics changed: it takes effect at the next restart');
  if (!same(a.privileges, b.privileges)) notes.push('uid/gid/username/groupname changed: privileges were dropped at start and cannot be taken back');
  if (!same(a.pluginDirs, b.pluginDirs)) notes.push('plugin-dir changed: the new directories are searched now, old imports stay in memory');
  return notes;
}

async function main(): Promise<void> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (cli === 'help') return void process.stdout.write(USAGE);
  if (cli === 'version') return void process.stdout.write(`tsws ${pkg.version}\n`);
  if (cli.check) {
    const result = await prepare({ configDir: cli.configDir, ...(cli.dataDir ? { dataDir: cli.dataDir } : {}) });
    process.exitCode = printCheck(result, cli.strict);
    return;
  }
  await serve(cli);
}

await main();
