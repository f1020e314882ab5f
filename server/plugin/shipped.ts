/** @module tsws's own plugins: declared by the protocols they provide, imported only where a vhost enables one of them that your plugins do not provide. */
import path from 'node:path';
import { TswsError, tswsError } from '../base/errors.ts';
import { SHIPPED_PLUGIN_DIR } from '../base/paths.ts';
import { folderEntry, loadPluginFile, loadPlugins, type PluginLoadResult } from './loader.ts';
import { declarePluginDirs } from './module-format.ts';
import type { RuntimeProtocol } from './runtime-protocol.ts';

/**
 * Protocol → its folder in tsws's plugins/. Declared, not found by importing
 * every folder: a shipped plugin must cost nothing (no import, no reserved
 * name) where no vhost enables it. A test keeps this table and the folders'
 * descriptors in step.
 *
 * The rule, for start, reload and --check alike: your plugins (every
 * plugin-dir entry, including folders you add beside the shipped ones, as a
 * container's /app/plugins/hello) always load, and their protocols are
 * yours. A shipped plugin loads only when a vhost's ws-protocols (or a
 * callback:// mount) names one of its protocols and none of your plugins
 * provides that name: yours wins, since naming your protocol `echo` may
 * well be meant. Not silently, though: a plugin dropped into plugins/ under
 * a shipped name (or a copy of a shipped one, left behind) changes what the
 * vhost serves, so each such replacement is reported (`shadowed`), with both
 * files, for the server to log. It is no --check warning: --strict would
 * then refuse a deliberate choice.
 */
export const SHIPPED_PROTOCOLS: Readonly<Record<string, string>> = {
  'dumb-increment-protocol': 'dumb-increment',
  'lws-mirror-protocol': 'lws-mirror',
  'lws-status': 'lws-status',
  echo: 'echo',
  'protocol-post-demo': 'post-demo',
  'protocol-lws-packet': 'lws-packet',
  chat: 'chat',
  tunnel: 'tunnel',
  'lws-server-status': 'server-status',
  'example-standalone-protocol': 'example-standalone',
  broker: 'broker',
  'broker-peer': 'broker',
};

const SHIPPED_FOLDERS: ReadonlySet<string> = new Set(Object.values(SHIPPED_PROTOCOLS));

/** A file of a shipped plugin folder (not one you added beside them). */
function isShipped(file: string): boolean {
  const rel = path.relative(SHIPPED_PLUGIN_DIR, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel) && SHIPPED_FOLDERS.has(rel.split(path.sep)[0] ?? '');
}

/** A shipped protocol a vhost names that one of your plugins provides instead. */
export interface ShadowedProtocol {
  readonly protocol: string;
  /** Your plugin file that serves it. */
  readonly yours: string;
  /** The shipped plugin file it replaces. */
  readonly shipped: string;
}

export interface ServerPlugins extends PluginLoadResult {
  /** Your plugin files, tsws's own left out: what --check type-checks. */
  readonly userFiles: readonly string[];
  /** Every protocol name a vhost could enable: yours and all shipped ones, loaded or not. */
  readonly available: readonly string[];
  /** The shipped protocols your plugins replace: logged as a warning at start and reload. */
  readonly shadowed: readonly ShadowedProtocol[];
}

/** Your plugin directories, whole; then the shipped plugins that `wanted` (the protocols the vhosts name) needs. */
export async function loadServerPlugins(dirs: readonly string[], wanted: Iterable<string>, generation = 0): Promise<ServerPlugins> {
  const mine = await loadPlugins(dirs, generation, (f) => !isShipped(f));
  const protocols = new Map<string, RuntimeProtocol>(mine.protocols);
  const errors = [...mine.errors];
  const warnings = [...mine.warnings];
  const files = [...mine.files];
  const folders = new Set<string>();
  const shadowed: ShadowedProtocol[] = [];
  for (const name of new Set(wanted)) {
    const folder = SHIPPED_PROTOCOLS[name];
    if (!folder) continue;
    const yours = mine.protocols.get(name);
    if (!yours) folders.add(folder);
    else shadowed.push({ protocol: name, yours: yours.file, shipped: folderEntry(path.join(SHIPPED_PLUGIN_DIR, folder)) ?? path.join(SHIPPED_PLUGIN_DIR, folder) });
  }
  declarePluginDirs([SHIPPED_PLUGIN_DIR]);
  for (const folder of [...folders].sort()) {
    const entry = folderEntry(path.join(SHIPPED_PLUGIN_DIR, folder));
    if (!entry) {
      errors.push(tswsError('TSWS_ERR_PLUGIN_DIR', { dir: path.join(SHIPPED_PLUGIN_DIR, folder), reason: 'this tsws install lacks a shipped plugin' }));
      continue;
    }
    files.push(entry);
    try {
      for (const p of await loadPluginFile(entry, generation, warnings)) if (!mine.protocols.has(p.name)) protocols.set(p.name, p);
    } catch (err) {
      if (err instanceof TswsError) errors.push(err);
      else throw err;
    }
  }
  const available = [...new Set([...mine.protocols.keys(), ...Object.keys(SHIPPED_PROTOCOLS)])].sort();
  return { protocols, errors, warnings, files, userFiles: mine.files, available, shadowed };
}
