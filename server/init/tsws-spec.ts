/** @module Where the running tsws came from, as the dependency spec a new project needs to install that same tsws. */
import fs from 'node:fs';
import path from 'node:path';
import { tswsError } from '../base/errors.ts';
import { PACKAGE_ROOT } from '../base/paths.ts';
import { VERSION } from '../base/version.ts';

interface LockEntry {
  resolved?: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A `file:` spec as npm records it (relative to the project that holds it) made absolute, so it means the same from the new project. */
function absoluteFile(spec: string, base: string): string {
  return `file:${path.resolve(base, spec.slice('file:'.length))}`;
}

/**
 * What npm recorded for node_modules/tsws in the project that installed it:
 * npx (`npx --package ./tsws-0.1.0.tgz tsws init`) installs into a project of
 * its own under ~/.npm/_npx/<hash>/, whose package-lock.json `resolved` is
 * where the package came from (a tarball, a git URL, a registry URL) and
 * whose package.json dependency is the spec it was asked for.
 */
function installedFrom(owner: string): string | undefined {
  for (const lock of ['package-lock.json', 'node_modules/.package-lock.json', 'npm-shrinkwrap.json']) {
    const packages = readJson(path.join(owner, lock))?.packages as Record<string, LockEntry> | undefined;
    const resolved = packages?.['node_modules/tsws']?.resolved;
    if (resolved) return resolved;
  }
  return (readJson(path.join(owner, 'package.json'))?.dependencies as Record<string, string> | undefined)?.tsws;
}

/**
 * The spec for the new project's `tsws` dependency, never a bare version
 * range unless tsws itself came from a registry: `tsws` is not published
 * there, so "^0.1.0" would fail with E404, or, once anyone claims the name,
 * install their code (dependency confusion). An install of a tarball or a
 * directory becomes `file:` with its absolute path; a checkout of the
 * sources (not under node_modules) becomes `file:` of the checkout.
 */
export function tswsSpec(root: string = PACKAGE_ROOT): string {
  if (path.basename(path.dirname(root)) !== 'node_modules') return `file:${root}`;
  const owner = path.dirname(path.dirname(root));
  const from = installedFrom(owner);
  if (from === undefined) throw tswsError('TSWS_ERR_INIT_TSWS_SOURCE', { root, reason: `${owner} has no record of it in package-lock.json or package.json` });
  if (from.startsWith('file:')) return absoluteFile(from, owner);
  // A registry tarball URL: the package was published under this name, so the version range is the one to follow.
  if (/^https?:\/\/.*\/tsws\/-\/tsws-[^/]+\.tgz$/.test(from)) return `^${VERSION}`;
  // A git URL, a path, a tarball URL elsewhere: npm installs these as written.
  return from;
}
