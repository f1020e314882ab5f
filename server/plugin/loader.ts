/** @module Finds plugin files and loads each through a row of named checks, every one failing with its own code. */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TswsError, describeError, tswsError } from '../base/errors.ts';
import { PLUGIN_API_VERSIONS, VHOST_CALLBACKS } from './api.ts';
import { declarePluginDirs } from './module-format.ts';
import { shown } from './protocol-checks.ts';
import type { RuntimePlugin, RuntimeProtocol } from './runtime-protocol.ts';
import { adaptV1 } from './v1-adapter.ts';
import { listV2Protocols, loadV2Protocol } from './v2-protocols.ts';

const ENTRY_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export interface PluginLoadResult {
  readonly protocols: ReadonlyMap<string, RuntimeProtocol>;
  readonly errors: readonly TswsError[];
  readonly warnings: readonly TswsError[];
  /** Every plugin file found, for logs. */
  readonly files: readonly string[];
}

/** A plugin is a file (foo.ts) or a folder with index.ts or <folder>.ts; tests (type tests too) and type files are not plugins. */
export function findPluginFiles(dir: string): string[] {
  const found: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const entry = folderEntry(full);
      if (entry) found.push(entry);
    } else if (ENTRY_EXTENSIONS.includes(path.extname(e.name)) && !/\.(test|spec|test-d|d)\.[mc]?[jt]s$/.test(e.name)) {
      found.push(full);
    }
  }
  return found;
}

/** A plugin folder's entry file: index.ts or <folder>.ts (or .mts, .js, .mjs), if it has one. */
export function folderEntry(folder: string): string | undefined {
  const name = path.basename(folder);
  return ENTRY_EXTENSIONS.flatMap((ext) => [path.join(folder, `index${ext}`), path.join(folder, `${name}${ext}`)]).find((c) => fs.existsSync(c));
}

/**
 * `generation` makes the import URL unique so a reload re-reads changed
 * files instead of getting the module cache's old copy.
 */
export async function loadPlugins(dirs: readonly string[], generation = 0, only: (file: string) => boolean = () => true): Promise<PluginLoadResult> {
  const errors: TswsError[] = [];
  const warnings: TswsError[] = [];
  const protocols = new Map<string, RuntimeProtocol>();
  const files: string[] = [];
  declarePluginDirs(dirs);
  for (const dir of dirs) {
    let inDir: string[];
    try {
      inDir = findPluginFiles(dir).filter(only);
    } catch (err) {
      errors.push(tswsError('TSWS_ERR_PLUGIN_DIR', { dir, reason: describeError(err) }, err));
      continue;
    }
    for (const file of inDir) {
      files.push(file);
      try {
        for (const p of await loadPluginFile(file, generation, warnings)) {
          const first = protocols.get(p.name);
          if (first) throw tswsError('TSWS_ERR_PLUGIN_DUPLICATE_PROTOCOL', { file: shown(file), protocol: p.name, first: shown(first.file) });
          protocols.set(p.name, p);
        }
      } catch (err) {
        if (err instanceof TswsError) errors.push(err);
        else throw err;
      }
    }
  }
  return { protocols, errors, warnings, files };
}

/** One plugin file through every check: its protocols, or the first check's coded error (thrown). */
export async function loadPluginFile(file: string, generation: number, warnings: TswsError[]): Promise<RuntimeProtocol[]> {
  return checkPluginModule(file, await importPlugin(file, generation), warnings);
}

/**
 * The checks of a plugin module already in hand (`{ default: descriptor }`),
 * with `file` naming it in errors: what loading its file does after the
 * import. tsws/testing's protocol kit checks the plugin it was given here.
 */
export function checkPluginModule(file: string, mod: unknown, warnings: TswsError[]): RuntimeProtocol[] {
  return checkProtocols(file, checkDescriptor(file, mod), warnings);
}

async function importPlugin(file: string, generation: number): Promise<unknown> {
  const url = pathToFileURL(file);
  if (generation > 0) url.searchParams.set('tsws-generation', String(generation));
  try {
    return await import(url.href);
  } catch (err) {
    throw tswsError('TSWS_ERR_PLUGIN_IMPORT', { file: shown(file), reason: describeError(err) }, err);
  }
}

/** The descriptor's common part, checked: which version, its name, and its protocols' definitions (not yet checked). */
interface Descriptor {
  readonly apiVersion: 1 | 2;
  readonly name: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

function checkDescriptor(file: string, mod: unknown): Descriptor {
  const d = (mod as { default?: unknown } | null)?.default;
  if (d === undefined || d === null) throw tswsError('TSWS_ERR_PLUGIN_NO_DEFAULT_EXPORT', { file: shown(file) });
  if (typeof d !== 'object') throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `the default export is ${typeof d}, not a descriptor object` });
  const raw = d as Readonly<Record<string, unknown>>;
  const apiVersion = raw.apiVersion;
  if (apiVersion !== 1 && apiVersion !== 2) {
    throw tswsError('TSWS_ERR_PLUGIN_API_VERSION', { file: shown(file), got: String(apiVersion), expected: PLUGIN_API_VERSIONS.join(' and ') });
  }
  if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name === '')) {
    throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `"name" must be a non-empty string, got ${JSON.stringify(raw.name)}` });
  }
  const name = typeof raw.name === 'string' ? raw.name : path.basename(file).replace(/\.[mc]?[jt]s$/, '');
  return { apiVersion, name, raw };
}

/** Version 1 through its adapter, version 2 as it is: either way the runtime's shape, decided here once. */
function checkProtocols(file: string, desc: Descriptor, warnings: TswsError[]): RuntimeProtocol[] {
  const seen = new Set<string>();
  const { raw } = desc;
  if (desc.apiVersion === 1) {
    if (!Array.isArray(raw.protocols) || raw.protocols.length === 0) {
      throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: '"protocols" must be a non-empty array' });
    }
    const plugin: RuntimePlugin = { name: desc.name, file, apiVersion: 1, init: undefined, destroy: undefined };
    return raw.protocols.map((p: unknown, i) => adaptV1(file, plugin, p, i, seen, warnings));
  }
  for (const k of VHOST_CALLBACKS) {
    if (raw[k] !== undefined && typeof raw[k] !== 'function') throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `the plugin's "${k}" must be a function, got ${raw[k] === null ? 'null' : typeof raw[k]}` });
  }
  // Checked a function (or absent) just above; its signature is the plugin's types'.
  const own = raw as Pick<RuntimePlugin, 'init' | 'destroy'>;
  const plugin: RuntimePlugin = { name: desc.name, file, apiVersion: 2, init: own.init, destroy: own.destroy };
  return listV2Protocols(file, raw.protocols).map((p, i) => loadV2Protocol(file, plugin, p, i, seen, warnings));
}
