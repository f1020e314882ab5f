/** @module Registry entries for `tsws init` (a project it would change, a package.json it cannot read, a tsws it cannot name), spread into errors.ts's REGISTRY. */
import { error } from './error-entry.ts';

export const INIT_ERRORS = {
  TSWS_ERR_INIT_SCRIPTS: error<{ file: string; clashes: string }>(
    (p) => `tsws init: ${p.file} already has ${p.clashes}; nothing was written`,
    'Run `tsws init --force` to replace them with tsws\'s (copy yours under other names first if you still need them), or rename yours and run init again.'),
  TSWS_ERR_INIT_PACKAGE_JSON: error<{ file: string; reason: string }>(
    (p) => `tsws init: cannot read ${p.file}: ${p.reason}; nothing was written`,
    'Fix the file so that it is one JSON object (npm\'s own `npm pkg get` reads it then), or move it aside and run init again.'),
  TSWS_ERR_INIT_TSWS_SOURCE: error<{ root: string; reason: string }>(
    (p) => `tsws init: cannot tell where this tsws (${p.root}) was installed from: ${p.reason}; nothing was written`,
    'Name it: `tsws init --tsws <spec>`, where spec is what `npm install` takes (file:/path/to/tsws-0.1.0.tgz, a git URL, a version).'),
} as const;
