/** @module `tsws init [dir]`: writes a new project (config, a hello plugin with its test, package.json, tsconfig.json, Dockerfile) from template/. */
import fs from 'node:fs';
import path from 'node:path';
import { tswsError } from '../base/errors.ts';
import { PACKAGE_ROOT } from '../base/paths.ts';
import { VERSION } from '../base/version.ts';

const TEMPLATE = path.join(import.meta.dirname, 'template');

/** npm leaves dotfiles such as .gitignore out of a package: the template names them without the dot. */
const RENAMED: Readonly<Record<string, string>> = { dockerignore: '.dockerignore', gitignore: '.gitignore' };

/** The versions tsws itself is tested with: a new project's `npm test` runs on what is known to pass. */
function devDependencies(): Record<string, string> {
  const own = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string>; dependencies?: Record<string, string> };
  const pick = (name: string) => own.devDependencies?.[name] ?? own.dependencies?.[name];
  return Object.fromEntries(['@types/node', 'typescript', 'vitest'].flatMap((n) => (pick(n) ? [[n, pick(n) as string]] : [])));
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023'],
    types: ['node'],
    strict: true,
    noEmit: true,
    // tsx runs the plugins as they are: a plugin may import its own files as './x.ts'.
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
  },
  include: ['plugins'],
};

interface PackageJson {
  name?: string;
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** A package.json already there (npm init, npm install tsws) is kept and added to: its tsws dependency stays as installed. */
function packageJson(dir: string, existing: PackageJson | undefined): PackageJson {
  const name = path.basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'tsws-app';
  const base: PackageJson = existing ?? { name, version: '0.1.0', private: true };
  return {
    ...base,
    type: 'module',
    scripts: { ...base.scripts, start: 'tsws -c .', test: 'tsc --noEmit && vitest run', check: 'tsws -c . --check' },
    dependencies: { ...base.dependencies, tsws: base.dependencies?.tsws ?? `^${VERSION}` },
    devDependencies: { ...devDependencies(), ...base.devDependencies },
  };
}

function templateFiles(dir = TEMPLATE, rel = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name), path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

/** Writes the project; refuses, writing nothing, where any of its files already exists. Returns the files written. */
export function scaffold(target: string): string[] {
  const dir = path.resolve(target);
  const files = templateFiles().map((rel) => ({ from: path.join(TEMPLATE, rel), to: RENAMED[rel] ?? rel }));
  const written = [...files.map((f) => f.to), 'tsconfig.json'];
  const clashes = written.filter((rel) => fs.existsSync(path.join(dir, rel)));
  if (clashes.length > 0) throw tswsError('TSWS_ERR_INIT_EXISTS', { dir, files: clashes.join(', ') });
  const pkgFile = path.join(dir, 'package.json');
  const existing = fs.existsSync(pkgFile) ? (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as PackageJson) : undefined;
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.to)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.to), fs.readFileSync(f.from, 'utf8').replaceAll('{{TSWS_VERSION}}', VERSION));
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  fs.writeFileSync(pkgFile, `${JSON.stringify(packageJson(dir, existing), null, 2)}\n`);
  return [...written, 'package.json'].sort();
}
