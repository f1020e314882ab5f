/** @module `tsws init [dir]`: writes a new project (config, a hello plugin with its test, package.json, tsconfig.json, Dockerfile) from template/. */
import fs from 'node:fs';
import path from 'node:path';
import { tswsError } from '../base/errors.ts';
import { VERSION } from '../base/version.ts';
import { mergePackageJson, readPackageJson, scriptClashes } from './package-json.ts';
import { tswsSpec } from './tsws-spec.ts';

const TEMPLATE = path.join(import.meta.dirname, 'template');

/** npm leaves dotfiles such as .gitignore out of a package: the template names them without the dot. */
const RENAMED: Readonly<Record<string, string>> = { dockerignore: '.dockerignore', gitignore: '.gitignore' };

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    // Not NodeNext: that takes each file's module kind from package.json's "type", and init keeps
    // the user's (a CommonJS project's hello.test.ts would fail on import.meta). tsws and vitest
    // load these files as ES modules whatever "type" says; "preserve" checks them as such.
    module: 'preserve',
    moduleResolution: 'bundler',
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

function templateFiles(dir = TEMPLATE, rel = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name), path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

export interface ScaffoldOptions {
  /** Replace the user's start/test/check scripts (init refuses otherwise). */
  force?: boolean;
  /** The project's tsws dependency spec, if not where the running tsws came from. */
  tsws?: string;
}

/**
 * Writes the project; refuses, writing nothing, where any of its files already
 * exists or a script of the user's would be replaced. Returns the files written.
 */
export function scaffold(target: string, options: ScaffoldOptions = {}): string[] {
  const dir = path.resolve(target);
  const files = templateFiles().map((rel) => ({ from: path.join(TEMPLATE, rel), to: RENAMED[rel] ?? rel }));
  const written = [...files.map((f) => f.to), 'tsconfig.json'];
  const clashes = written.filter((rel) => fs.existsSync(path.join(dir, rel)));
  if (clashes.length > 0) throw tswsError('TSWS_ERR_INIT_EXISTS', { dir, files: clashes.join(', ') });
  const pkgFile = path.join(dir, 'package.json');
  const existing = readPackageJson(pkgFile);
  const scripts = scriptClashes(existing);
  if (scripts.length > 0 && !options.force) throw tswsError('TSWS_ERR_INIT_SCRIPTS', { file: pkgFile, clashes: scripts.join(', ') });
  const pkg = mergePackageJson(dir, existing, () => options.tsws ?? tswsSpec());
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.to)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.to), fs.readFileSync(f.from, 'utf8').replaceAll('{{TSWS_VERSION}}', VERSION));
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  return [...written, 'package.json'].sort();
}
