/** @module The project's package.json as init leaves it: read as npm reads it, then added to without changing a value the user had. */
import fs from 'node:fs';
import path from 'node:path';
import { tswsError } from '../base/errors.ts';
import { PACKAGE_ROOT } from '../base/paths.ts';

export interface PackageJson {
  name?: string;
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The scripts init adds, and the ones the next steps it prints run. */
export const SCRIPTS: Readonly<Record<string, string>> = { start: 'tsws -c .', test: 'tsc --noEmit && vitest run', check: 'tsws -c . --check' };

/**
 * npm reads a package.json with a byte order mark (editors on Windows write
 * one), so init does too; anything else that is not one JSON object stops
 * it with the file named, rather than JSON.parse's bare SyntaxError.
 */
export function readPackageJson(file: string): PackageJson | undefined {
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw tswsError('TSWS_ERR_INIT_PACKAGE_JSON', { file, reason: (err as Error).message }, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw tswsError('TSWS_ERR_INIT_PACKAGE_JSON', { file, reason: 'it is not a JSON object' });
  }
  return parsed as PackageJson;
}

/** The user's scripts that init would replace, each with both values: what TSWS_ERR_INIT_SCRIPTS prints. */
export function scriptClashes(existing: PackageJson | undefined): string[] {
  return Object.entries(SCRIPTS).flatMap(([name, ours]) => {
    const theirs = existing?.scripts?.[name];
    return theirs === undefined || theirs === ours ? [] : [`scripts.${name} (yours: ${JSON.stringify(theirs)}, tsws's: ${JSON.stringify(ours)})`];
  });
}

/** The versions tsws itself is tested with: a new project's `npm test` runs on what is known to pass. */
function devDependencies(): Record<string, string> {
  const own = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
  const pick = (name: string) => own.devDependencies?.[name] ?? own.dependencies?.[name];
  return Object.fromEntries(['@types/node', 'typescript', 'vitest'].flatMap((n) => (pick(n) ? [[n, pick(n) as string]] : [])));
}

/**
 * A package.json already there (npm init, npm install tsws) keeps every value
 * it had but the scripts the caller agreed to replace (--force): its `type`
 * above all, which decides how Node runs the user's own .js files. tsws does
 * not need "type": "module" there: it loads plugin files as ES modules
 * whatever surrounds them (plugin/module-format.ts), vitest does the same, and
 * the tsconfig init writes type-checks them as ES modules too. A new
 * package.json says "module", the kind of code the template is.
 * `tsws` is asked for only when the project does not depend on it yet.
 */
export function mergePackageJson(dir: string, existing: PackageJson | undefined, tswsSpec: () => string): PackageJson {
  const name = path.basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'tsws-app';
  const base: PackageJson = existing ?? { name, version: '0.1.0', private: true, type: 'module' };
  return {
    ...base,
    scripts: { ...base.scripts, ...SCRIPTS },
    dependencies: { ...base.dependencies, tsws: base.dependencies?.tsws ?? tswsSpec() },
    devDependencies: { ...devDependencies(), ...base.devDependencies },
  };
}
