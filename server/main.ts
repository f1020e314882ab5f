/** @module The command line: `tsws -c <config-dir> [--data-dir <dir>] [-d <level>] [--check [--strict]]` and `tsws init [dir]`; serving is lifecycle.ts. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TswsError, tswsError } from './base/errors.ts';
import { scaffold, type ScaffoldOptions } from './init/scaffold.ts';
import { serve } from './lifecycle.ts';
import { parseLogLevel, type Level } from './base/log.ts';
import { DEFAULT_DATA_DIR } from './base/paths.ts';
import type { PrepareResult } from './app/prepare.ts';
import { runCheck } from './app/check.ts';
import { VERSION } from './base/version.ts';

const USAGE = `Usage: tsws -c <config-dir> [--data-dir <dir>] [-d <level>] [--check [--strict]]
       tsws init [dir] [--force] [--tsws <spec>]
                             write a new project in dir (default: .): config, a plugin and its test;
                             --force replaces package.json scripts start/test/check of your own,
                             --tsws names the tsws dependency (default: where this tsws came from)

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

/** `tsws init [dir] [--force] [--tsws <spec>]`: what was written, and what to run next. */
function init(args: string[]): void {
  let dir: string;
  let options: ScaffoldOptions;
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { force: { type: 'boolean' }, tsws: { type: 'string' } } });
    if (positionals.length > 1) throw new Error(`init takes one directory, got ${positionals.join(' ')}`);
    dir = positionals[0] ?? '.';
    options = { ...(values.force ? { force: true } : {}), ...(values.tsws === undefined ? {} : { tsws: values.tsws }) };
  } catch (err) {
    process.stderr.write(`${tswsError('TSWS_ERR_CLI_USAGE', { detail: (err as Error).message }).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  let files: string[];
  try {
    files = scaffold(dir, options);
  } catch (err) {
    process.stderr.write(`${err instanceof TswsError ? `error ${err.code}: ` : ''}${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const cd = path.resolve(dir) === process.cwd() ? '' : `  cd ${dir}\n`;
  process.stdout.write(
    `tsws init: wrote ${files.length} files in ${path.resolve(dir)}:\n${files.map((f) => `  ${f}\n`).join('')}\nNext:\n${cd}` +
      '  npm install\n  npm test        the hello plugin\'s test, against a real server\n  npm run check   the config and plugins, types included\n' +
      '  npm start       serves ws://127.0.0.1:7681/ (protocol "hello") and http://127.0.0.1:7681/healthz\n',
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === 'init') return init(process.argv.slice(3));
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (cli === 'help') return void process.stdout.write(USAGE);
  if (cli === 'version') return void process.stdout.write(`tsws ${VERSION}\n`);
  if (cli.check) {
    process.exitCode = printCheck(await runCheck({ configDir: cli.configDir, ...(cli.dataDir ? { dataDir: cli.dataDir } : {}) }), cli.strict);
    return;
  }
  await serve(cli);
}

await main();
