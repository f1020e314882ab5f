/** @module tsws/client as a browser loads it, written where a test's page serves it: scripts/client-js.ts's compile, not a second one. */
import fs from 'node:fs';
import path from 'node:path';
import { clientJs } from '../../scripts/client-js.ts';

/** Writes the client's modules into `dir`; its entry is `dir`/index.js. */
export function writeClientJs(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of clientJs()) fs.writeFileSync(path.join(dir, file), text);
}
