/** @module Finds plugin files and loads each through a row of named checks, every one failing with its own code. */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TswsError, describeError, tswsError } from '../base/errors.ts';
import { nearest } from '../config/suggest.ts';
import { displayPath } from '../config/display-path.ts';
import { CALLBACK_NAMES, PLUGIN_API_VERSION, RESERVED_OPTIONS, type OptionSpecs, type PluginDescriptor } from './api.ts';
import { declarePluginDirs } from './module-format.ts';
import { DEFAULT_BODY_LIMIT } from '../config/schema.ts';
import { DEFAULT_INBOX, DEFAULT_RX_BUFFER_SIZE, type InboxLimits, type RuntimeCallbacks, type RuntimeProtocol } from './runtime-protocol.ts';

const ENTRY_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const CALLBACK_SET: ReadonlySet<string> = new Set(CALLBACK_NAMES);
/** A protocol name is an RFC 6455 subprotocol token (no separators, no spaces). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface PluginLoadResult {
  readonly protocols: ReadonlyMap<string, RuntimeProtocol>;
  readonly errors: readonly TswsError[];
  readonly warnings: readonly TswsError[];
  /** Every plugin file found, for logs. */
  readonly files: readonly string[];
}

/** A plugin is a file (foo.ts) or a folder with index.ts or <folder>.ts; tests and type files are not plugins. */
export function findPluginFiles(dir: string): string[] {
  const found: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const entry = folderEntry(full);
      if (entry) found.push(entry);
    } else if (ENTRY_EXTENSIONS.includes(path.extname(e.name)) && !/\.(test|spec|d)\.[mc]?[jt]s$/.test(e.name)) {
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

const shown = displayPath;

async function importPlugin(file: string, generation: number): Promise<unknown> {
  const url = pathToFileURL(file);
  if (generation > 0) url.searchParams.set('tsws-generation', String(generation));
  try {
    return await import(url.href);
  } catch (err) {
    throw tswsError('TSWS_ERR_PLUGIN_IMPORT', { file: shown(file), reason: describeError(err) }, err);
  }
}

function checkDescriptor(file: string, mod: unknown): PluginDescriptor {
  const d = (mod as { default?: unknown } | null)?.default;
  if (d === undefined || d === null) throw tswsError('TSWS_ERR_PLUGIN_NO_DEFAULT_EXPORT', { file: shown(file) });
  if (typeof d !== 'object') throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `the default export is ${typeof d}, not a descriptor object` });
  const desc = d as Partial<PluginDescriptor>;
  if (desc.apiVersion !== PLUGIN_API_VERSION) {
    throw tswsError('TSWS_ERR_PLUGIN_API_VERSION', { file: shown(file), got: String(desc.apiVersion), expected: PLUGIN_API_VERSION });
  }
  if (!Array.isArray(desc.protocols) || desc.protocols.length === 0) {
    throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: '"protocols" must be a non-empty array' });
  }
  return desc as PluginDescriptor;
}

function checkProtocols(file: string, desc: PluginDescriptor, warnings: TswsError[]): RuntimeProtocol[] {
  const pluginName = desc.name ?? path.basename(file).replace(/\.[mc]?[jt]s$/, '');
  const seen = new Set<string>();
  return desc.protocols.map((raw: unknown, i) => {
    const p = raw as Record<string, unknown> | null;
    const bad = (detail: string) => tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `protocols[${i}]: ${detail}` });
    if (!p || typeof p !== 'object') throw bad('not an object');
    const name = p.name;
    if (typeof name !== 'string' || !TOKEN.test(name)) throw bad(`"name" must be a websocket subprotocol token, got ${JSON.stringify(name)}`);
    if (seen.has(name)) throw tswsError('TSWS_ERR_PLUGIN_DUPLICATE_PROTOCOL', { file: shown(file), protocol: name, first: shown(file) });
    seen.add(name);
    const rx = checkSize(p.rxBufferSize, 'rxBufferSize', bad) ?? DEFAULT_RX_BUFFER_SIZE;
    const fragments = p.receiveFragments ?? false;
    if (typeof fragments !== 'boolean') throw bad(`"receiveFragments" must be a boolean, got ${JSON.stringify(fragments)}`);
    // A port of an lws plugin brings its rx_buffer_size; before receiveFragments it was tsws's message limit.
    if (p.rxBufferSize !== undefined && !fragments) warnings.push(tswsError('TSWS_WARN_PLUGIN_RX_BUFFER_UNUSED', { file: shown(file), protocol: name }));
    if (p.session !== undefined && typeof p.session !== 'function') throw bad('"session" must be a function');
    if (p.check !== undefined && typeof p.check !== 'function') throw bad('"check" must be a function');
    const callbacks = checkCallbacks(file, name, p.callbacks);
    const bodyLimit = p.httpBodyLimit ?? DEFAULT_BODY_LIMIT;
    if (typeof bodyLimit !== 'number' || !Number.isInteger(bodyLimit) || bodyLimit < 0) throw bad(`"httpBodyLimit" must be a non-negative integer, got ${JSON.stringify(bodyLimit)}`);
    const mountUpgrades = p.mountUpgrades ?? false;
    if (typeof mountUpgrades !== 'boolean') throw bad(`"mountUpgrades" must be a boolean, got ${JSON.stringify(mountUpgrades)}`);
    return {
      name,
      file,
      pluginName,
      rxBufferSize: rx,
      receiveFragments: fragments,
      maxMessageSize: checkSize(p.maxMessageSize, 'maxMessageSize', bad),
      inbox: checkInbox(p.inbox, bad),
      httpBodyLimit: bodyLimit,
      mountUpgrades,
      rateLimit: checkRateLimit(p.rateLimit, bad),
      optionSpecs: checkOptionSpecs(p.options, bad),
      session: p.session as RuntimeProtocol['session'],
      check: p.check as RuntimeProtocol['check'],
      callbacks,
    };
  });
}

function checkCallbacks(file: string, protocol: string, raw: unknown): RuntimeCallbacks {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) {
    throw tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `protocol "${protocol}": "callbacks" must be an object` });
  }
  for (const [name, fn] of Object.entries(raw)) {
    if (!CALLBACK_SET.has(name)) {
      const suggestion = nearest(name, CALLBACK_NAMES);
      throw tswsError('TSWS_ERR_PLUGIN_UNKNOWN_CALLBACK', { file: shown(file), protocol, name, ...(suggestion ? { suggestion } : {}) });
    }
    if (typeof fn !== 'function') {
      throw tswsError('TSWS_ERR_PLUGIN_CALLBACK_NOT_FUNCTION', { file: shown(file), protocol, name, got: fn === null ? 'null' : typeof fn });
    }
  }
  return raw as RuntimeCallbacks;
}

function checkSize(v: unknown, what: string, bad: (d: string) => TswsError): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`"${what}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function checkRateLimit(raw: unknown, bad: (d: string) => TswsError): RuntimeProtocol['rateLimit'] {
  if (raw === undefined) return undefined;
  const r = raw as { messagesPerSecond?: unknown; burst?: unknown } | null;
  const rate = r?.messagesPerSecond;
  if (typeof rate !== 'number' || !(rate > 0)) throw bad('"rateLimit.messagesPerSecond" must be a positive number');
  const burst = r?.burst ?? rate;
  if (typeof burst !== 'number' || !(burst >= 1)) throw bad('"rateLimit.burst" must be a number of at least 1');
  return { perMs: rate / 1000, burst };
}

function checkInbox(raw: unknown, bad: (d: string) => TswsError): InboxLimits {
  if (raw === undefined) return DEFAULT_INBOX;
  if (typeof raw !== 'object' || raw === null) throw bad('"inbox" must be an object');
  const r = raw as Partial<InboxLimits>;
  const int = (v: unknown, fallback: number, what: string) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`"inbox.${what}" must be a positive integer`);
    return v;
  };
  if (r.onOverflow !== undefined && r.onOverflow !== 'close' && r.onOverflow !== 'drop-oldest') throw bad('"inbox.onOverflow" must be "close" or "drop-oldest"');
  return {
    maxMessages: int(r.maxMessages, DEFAULT_INBOX.maxMessages, 'maxMessages'),
    maxBytes: int(r.maxBytes, DEFAULT_INBOX.maxBytes, 'maxBytes'),
    onOverflow: r.onOverflow ?? DEFAULT_INBOX.onOverflow,
  };
}

function checkOptionSpecs(raw: unknown, bad: (d: string) => TswsError): OptionSpecs {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw bad('"options" must be an object of option specs');
  for (const [k, spec] of Object.entries(raw)) {
    const t = (spec as { type?: unknown } | null)?.type;
    if (t !== 'string' && t !== 'path' && t !== 'int' && t !== 'bool') throw bad(`option "${k}" needs type "string", "path", "int" or "bool"`);
    if (k in RESERVED_OPTIONS) throw bad(`option "${k}" is reserved by the framework`);
  }
  return raw as OptionSpecs;
}
