/** @module Makes Node load plugin files as ES modules, TypeScript included, with `tsws/*` imports bound to the running tsws. */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';
import { PUBLIC_ENTRIES, RUNS_COMPILED, entryFile, type PublicSpecifier } from '../base/paths.ts';

const declared = new Set<string>();
let tsxRegistered = false;

/**
 * A plugin's `import ... from 'tsws/plugin'` resolves to the tsws running
 * it, not by Node's search from the plugin's directory (as VS Code hands
 * extensions its own 'vscode'). So a plugin gets the very modules the server
 * uses (one isTswsError, one TokenBucket), and a config directory with no
 * node_modules of its own (/etc/tsws, a container's copy of your plugins/)
 * loads plugins that import tsws. Where the project installs tsws and runs
 * that one, it is the same file either way.
 */
function selfUrls(): Record<string, string> {
  return Object.fromEntries(Object.keys(PUBLIC_ENTRIES).map((s) => [s, pathToFileURL(entryFile(s as PublicSpecifier)).href]));
}

/**
 * register() runs the hook's initialize synchronously, so the directories are
 * in force before the next import; it is called again only when a directory
 * is new (a reload may name more), each call adding one small hook.
 *
 * From sources, whoever loaded them (bin/entry.mjs, the worker entry, vitest)
 * already loads TypeScript. The compiled package loads no TypeScript of its
 * own, so .ts plugins need tsx registered here, once per thread (hooks are).
 */
export function declarePluginDirs(dirs: readonly string[]): void {
  if (RUNS_COMPILED && !tsxRegistered) {
    registerTsx();
    tsxRegistered = true;
  }
  const fresh = dirs.filter((d) => !declared.has(d));
  if (fresh.length === 0) return;
  for (const d of fresh) declared.add(d);
  register(new URL('./module-format-hooks.mjs', import.meta.url), { data: { dirs: fresh, self: selfUrls() } });
}
