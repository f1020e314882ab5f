/** @module Where tsws itself is installed: its shipped plugins and its data directory. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** tsws's own plugins, always loaded before the configured plugin-dir entries. */
export const SHIPPED_PLUGIN_DIR = path.join(PACKAGE_ROOT, 'plugins');
/** Default for --data-dir, what `_lws_ddir_` expands to (lwsws: its install's share folder). */
export const DEFAULT_DATA_DIR = path.join(PACKAGE_ROOT, 'share');
