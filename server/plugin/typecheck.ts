/** @module --check's type check of your TypeScript plugins, with TypeScript's compiler API and the nearest tsconfig.json, each error a coded finding at file:line:col. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TS from 'typescript';
import { displayPath } from '../config/display-path.ts';
import { describeError, tswsError, type TswsError } from '../base/errors.ts';
import { PUBLIC_ENTRIES, entryFile, type PublicSpecifier } from '../base/paths.ts';

type Ts = typeof TS;

export interface TypeCheckResult {
  readonly errors: TswsError[];
  readonly warnings: TswsError[];
}

/**
 * typescript is an optional peer dependency of tsws: --check is a
 * development-time step, and a server image has no use for 23 MB of
 * compiler. The project's own copy is preferred (its version, as its tsc and
 * editor use); else one beside tsws (this repository's devDependency).
 */
function loadTypeScript(configDir: string): Ts | string {
  for (const from of [path.join(configDir, 'package.json'), import.meta.url]) {
    const require = createRequire(from);
    let file: string;
    try {
      file = require.resolve('typescript');
    } catch {
      continue;
    }
    // require, not import: an import of its 9 MB through tsx's hooks takes seconds more.
    return require(file) as Ts;
  }
  return `no typescript package found from ${displayPath(configDir)} or beside tsws`;
}

/** Without a tsconfig.json: what the project tsws init writes uses. */
const DEFAULTS: TS.CompilerOptions = { strict: true, skipLibCheck: true, allowImportingTsExtensions: true };

/**
 * Options for a group of plugin files: their tsconfig.json's, with no output,
 * and `tsws`/`tsws/*` bound to the running tsws's types, as the plugin loader
 * binds them at run time (module-format.ts), wherever the files are.
 */
function optionsFor(ts: Ts, configFile: string | undefined, errors: TswsError[]): TS.CompilerOptions {
  let options: TS.CompilerOptions = { ...DEFAULTS, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  if (configFile) {
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    const parsed = ts.parseJsonConfigFileContent(read.config ?? {}, ts.sys, path.dirname(configFile), undefined, configFile);
    for (const d of [...(read.error ? [read.error] : []), ...parsed.errors]) errors.push(finding(ts, d, configFile));
    options = parsed.options;
  }
  const self = Object.fromEntries(Object.keys(PUBLIC_ENTRIES).map((s) => [s, [entryFile(s as PublicSpecifier, 'types')]]));
  return { ...options, noEmit: true, paths: { ...options.paths, ...self } };
}

function finding(ts: Ts, d: TS.Diagnostic, fallback: string): TswsError {
  let where = displayPath(fallback);
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    where = `${displayPath(d.file.fileName)}:${line + 1}:${character + 1}`;
  }
  return tswsError('TSWS_ERR_PLUGIN_TYPE', { where, ts: `TS${d.code}`, detail: ts.flattenDiagnosticMessageText(d.messageText, ' ') });
}

/** tsws's own sources or types, and installed packages: not yours to fix. */
function isYours(file: string): boolean {
  const own = path.dirname(entryFile('tsws'));
  return !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith(own + path.sep);
}

/**
 * The tsconfig.json of a plugin's project: the nearest one above the file,
 * searched no higher than the config directory when the plugin is inside it
 * (what tsws init makes), else than the nearest package.json. A stray
 * tsconfig.json in /tmp or $HOME is not the project's.
 */
function projectConfig(file: string, configDir: string): string | undefined {
  const inside = file.startsWith(configDir + path.sep);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'tsconfig.json');
    if (fs.existsSync(candidate)) return candidate;
    if (inside ? dir === configDir : fs.existsSync(path.join(dir, 'package.json'))) return undefined;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export async function typeCheckPlugins(files: readonly string[], configDir: string): Promise<TypeCheckResult> {
  const result: TypeCheckResult = { errors: [], warnings: [] };
  const roots = files.filter((f) => /\.[mc]?ts$/.test(f) && !f.endsWith('.d.ts'));
  if (roots.length === 0) return result;
  const ts = loadTypeScript(configDir);
  if (typeof ts === 'string') {
    result.warnings.push(tswsError('TSWS_WARN_PLUGIN_TYPECHECK_SKIPPED', { reason: ts }));
    return result;
  }
  // Plugins under different tsconfig.json files are checked as their own projects.
  const groups = new Map<string | undefined, string[]>();
  for (const f of roots) {
    const config = projectConfig(f, path.resolve(configDir));
    groups.set(config, [...(groups.get(config) ?? []), f]);
  }
  for (const [configFile, group] of groups) {
    try {
      const options = optionsFor(ts, configFile, result.errors);
      const program = ts.createProgram({ rootNames: group, options });
      for (const d of ts.getPreEmitDiagnostics(program)) {
        if (d.category !== ts.DiagnosticCategory.Error) continue;
        if (d.file && !isYours(d.file.fileName)) continue;
        result.errors.push(finding(ts, d, configFile ?? configDir));
      }
    } catch (err) {
      result.warnings.push(tswsError('TSWS_WARN_PLUGIN_TYPECHECK_SKIPPED', { reason: `TypeScript failed on ${group.map((f) => displayPath(f)).join(', ')}: ${describeError(err)}` }));
    }
  }
  return result;
}
