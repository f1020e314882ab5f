/** @module What --check runs: prepare (config and plugins), then what start-up does not pay for: the plugins' TypeScript types, and whether the transport loads here. */
import { TswsError } from '../base/errors.ts';
import { typeCheckPlugins } from '../plugin/typecheck.ts';
import { prepare, type PrepareOptions, type PrepareResult } from './prepare.ts';

export async function runCheck(opts: PrepareOptions): Promise<PrepareResult> {
  const checked = await prepare(opts);
  const errors = [...checked.errors];
  const warnings = [...checked.warnings];
  // A plugin that failed to import is type-checked all the same: its type errors often say why.
  const typed = await typeCheckPlugins(checked.userPluginFiles, opts.configDir);
  errors.push(...typed.errors);
  warnings.push(...typed.warnings);
  // A config that checks out is no use where uWS.js cannot load: say so here too. (Imported
  // here, not at the top: `tsws` and tsws/testing load no module of uWS.js's until one is used.)
  const { transportBuild } = await import('../transport/uws/uws-adapter.ts');
  try {
    transportBuild();
  } catch (err) {
    if (!(err instanceof TswsError)) throw err;
    errors.push(err);
  }
  return { ...checked, prepared: errors.length === 0 ? checked.prepared : undefined, errors, warnings };
}
