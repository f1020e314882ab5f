/** @module The browser copy of tsws/client the chat page imports (share/tsws-test-server/tsws-client/) is what scripts/client-js.ts makes of server/client-lib now. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_JS_DIR, clientJs } from '../scripts/client-js.ts';

describe('the browser copy of tsws/client', () => {
  it('is in step with server/client-lib (run `npx tsx scripts/client-js.ts` after changing the client)', () => {
    const want = clientJs();
    expect(want.has('index.js')).toBe(true);
    expect(fs.readdirSync(CLIENT_JS_DIR).sort()).toEqual([...want.keys()].sort());
    for (const [file, text] of want) expect(fs.readFileSync(path.join(CLIENT_JS_DIR, file), 'utf8'), file).toBe(text);
  });

  it('imports only its own modules, by relative .js paths (a browser resolves nothing else)', () => {
    for (const [file, text] of clientJs()) {
      for (const m of text.matchAll(/\bfrom\s+["']([^"']+)["']/g)) expect(m[1], file).toMatch(/^\.\/[a-z-]+\.js$/);
    }
  });
});
