/** @module Where tsws itself is installed: its package root, shipped plugins and data directory, from sources or the compiled package alike. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** server/ (or dist/server/): this file sits in its base/ folder. */
const HERE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/**
 * The nearest directory holding package.json: this repository when tsws runs
 * from its sources (server/), the installed package when it runs compiled
 * (dist/server/), one level further up.
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

export const PACKAGE_ROOT = packageRoot(HERE);
/** tsws's own plugins: sources beside server/, or compiled beside dist/server/. Loaded only where a vhost enables them (plugin/shipped.ts). */
export const SHIPPED_PLUGIN_DIR = path.resolve(HERE, '../plugins');
/** Default for --data-dir, what `_lws_ddir_` expands to (lwsws: its install's share folder). */
export const DEFAULT_DATA_DIR = path.join(PACKAGE_ROOT, 'share');

/** True when this is the npm package's compiled JavaScript (dist/), false when TypeScript sources run (this repository, tsx or vitest). */
export const RUNS_COMPILED = import.meta.url.endsWith('.js');

/**
 * The package's public modules, by the specifier a user imports, relative to
 * server/. package.json's "exports" names the same modules under dist/ (a
 * test keeps the two in step); the plugin loader resolves these specifiers to
 * the running tsws's own files (plugin/module-format.ts says why).
 */
export const PUBLIC_ENTRIES = {
  tsws: 'app/embed',
  'tsws/plugin': 'plugin/api',
  'tsws/plugin/runtime': 'plugin/runtime',
  'tsws/testing': 'testing/index',
  'tsws/client': 'client-lib/index',
} as const;
export type PublicSpecifier = keyof typeof PUBLIC_ENTRIES;

/** The running tsws's file for a public specifier: the module itself, or its types (.d.ts when compiled). */
export function entryFile(specifier: PublicSpecifier, want: 'module' | 'types' = 'module'): string {
  const ext = !RUNS_COMPILED ? '.ts' : want === 'types' ? '.d.ts' : '.js';
  return path.join(HERE, `${PUBLIC_ENTRIES[specifier]}${ext}`);
}
