/** @module Makes Node load every source file under the plugin directories as an ES module. */
import { register } from 'node:module';

const declared = new Set<string>();

/**
 * register() runs the hook's initialize synchronously, so the directories are
 * in force before the next import; it is called again only when a directory
 * is new (a reload may name more), each call adding one small hook.
 */
export function declarePluginDirs(dirs: readonly string[]): void {
  const fresh = dirs.filter((d) => !declared.has(d));
  if (fresh.length === 0) return;
  for (const d of fresh) declared.add(d);
  register(new URL('./module-format-hooks.mjs', import.meta.url), { data: { dirs: fresh } });
}
