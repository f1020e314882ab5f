/** @module npm pack's build (prepack): the JavaScript and .d.ts the package ships in dist/ (the repository itself runs its sources); --clean (postpack) removes them. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** Files tsc does not emit that the compiled code loads beside itself. */
function copyUnemitted(): void {
  // The Node module hooks and the worker thread's entry: .mjs, loaded by URL.
  for (const rel of fs.readdirSync(path.join(ROOT, 'server'), { recursive: true, encoding: 'utf8' })) {
    if (rel.endsWith('.mjs')) fs.cpSync(path.join(ROOT, 'server', rel), path.join(DIST, 'server', rel));
  }
  // tsws init's project: copied as written, its plugin a TypeScript source for the user to edit.
  fs.cpSync(path.join(ROOT, 'server/init/template'), path.join(DIST, 'server/init/template'), { recursive: true });
}

/**
 * tsc keeps the sources' './x.ts' specifiers in declarations. TypeScript
 * 5 resolves them to x.d.ts; written as './x.js' they read as any
 * TypeScript since 4.7 expects under node16 and bundler resolution.
 */
function declarationsSayJs(): void {
  for (const rel of fs.readdirSync(DIST, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.d.ts')) continue;
    const file = path.join(DIST, rel);
    const text = fs.readFileSync(file, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
    if (fixed !== text) fs.writeFileSync(file, fixed);
  }
}

/** Every "exports" target must exist, or the package installs and then fails at its first import. */
function checkExports(): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
  const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
  const missing = targets.filter((t) => !fs.existsSync(path.join(ROOT, t)));
  if (missing.length > 0) throw new Error(`package.json exports name files the build did not make: ${missing.join(', ')}`);
}

fs.rmSync(DIST, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  copyUnemitted();
  declarationsSayJs();
  checkExports();
}
