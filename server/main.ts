/** @module The command line: `tsws -c <config-dir> [--data-dir <dir>] [-d <level>] [--check [--strict]]`; serving is lifecycle.ts. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tswsError } from './errors.ts';
import { serve } from './lifecycle.ts';
import { parseLogLevel, type Level } from './log.ts';
import { DEFAULT_DATA_DIR } from './paths.ts';
import { prepare, type PrepareResult } from './prepare.ts';
import { transportBuild } from './transport/uws/uws-adapter.ts';
import { TswsError } from './errors.ts';
import { VERSION } from './version.ts';

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
  if (cli === 'version') return void process.stdout.write(`tsws ${VERSION}\n`);
  if (cli.check) {
    const checked = await prepare({ configDir: cli.configDir, ...(cli.dataDir ? { dataDir: cli.dataDir } : {}) });
    // A config that checks out is no use where uWS.js cannot load: say so here too.
    let result = checked;
    try {
      transportBuild();
    } catch (err) {
      if (!(err instanceof TswsError)) throw err;
      result = { ...checked, errors: [...checked.errors, err] };
    }
    process.exitCode = printCheck(result, cli.strict);
    return;
  }
  await serve(cli);
}

await main();
