/**
 * @module Writes tsws/client as a browser loads it into share/tsws-test-server/tsws-client/ (what the chat
 * page imports, no bundler): each module of server/client-lib compiled alone to ES2022, type imports gone,
 * './x.ts' → './x.js'. `npx tsx scripts/client-js.ts` after changing the client; test/client-js.test.ts
 * fails while the copy is behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(REPO, 'server/client-lib');
export const CLIENT_JS_DIR = path.join(REPO, 'share/tsws-test-server/tsws-client');

const HEADER = '// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.\n';

/** File name → JavaScript text, for every module of the client (tests and type tests aside). */
export function clientJs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of fs.readdirSync(LIB).sort()) {
    if (!file.endsWith('.ts') || /\.test(-d)?\.ts$/.test(file)) continue;
    const js = ts.transpileModule(fs.readFileSync(path.join(LIB, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, rewriteRelativeImportExtensions: true, verbatimModuleSyntax: true },
    });
    out.set(file.replace(/\.ts$/, '.js'), HEADER + js.outputText);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.rmSync(CLIENT_JS_DIR, { recursive: true, force: true });
  fs.mkdirSync(CLIENT_JS_DIR, { recursive: true });
  for (const [file, text] of clientJs()) fs.writeFileSync(path.join(CLIENT_JS_DIR, file), text);
}
