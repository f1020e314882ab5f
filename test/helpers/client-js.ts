/** @module tsws/client as a browser loads it: server/client-lib's modules compiled one by one to ES2022 JavaScript, as the package build emits them (type imports gone, './x.ts' → './x.js'). */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const LIB = path.resolve(import.meta.dirname, '../../server/client-lib');

/** Writes the client's modules into `dir`; its entry is `dir`/index.js. */
export function writeClientJs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const file of fs.readdirSync(LIB)) {
    if (!file.endsWith('.ts') || /\.test(-d)?\.ts$/.test(file)) continue;
    const out = ts.transpileModule(fs.readFileSync(path.join(LIB, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
    });
    fs.writeFileSync(path.join(dir, file.replace(/\.ts$/, '.js')), out.outputText);
  }
}
