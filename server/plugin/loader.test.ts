import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPluginFiles, loadPlugins } from './loader.ts';

const BROKEN = path.resolve(import.meta.dirname, '../../test/fixtures/broken-plugins');
const SHIPPED = path.resolve(import.meta.dirname, '../../plugins');

/** Loads one fixture file alone from a fresh directory. */
async function loadOne(fixture: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-plugin-'));
  fs.copyFileSync(path.join(BROKEN, fixture), path.join(dir, fixture));
  try {
    return await loadPlugins([dir]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('plugin loader', () => {
  it('loads every shipped plugin folder, the lws-compatible four among them', async () => {
    const r = await loadPlugins([SHIPPED]);
    expect(r.errors).toEqual([]);
    // Not one declares an rxBufferSize it does not use (rxBufferSize is a piece size, not a limit).
    expect(r.warnings).toEqual([]);
    const folders = fs.readdirSync(SHIPPED, { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(r.files.length).toBe(folders.length);
    expect([...r.protocols.keys()]).toEqual(expect.arrayContaining(['dumb-increment-protocol', 'echo', 'lws-mirror-protocol', 'lws-status']));
  });

  it('finds files and folder entries, never tests or type files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-find-'));
    for (const f of ['a.ts', 'a.test.ts', 'a.test-d.ts', 'b.d.ts', 'README.md', 'c/index.js', 'd/d.ts', 'd/d.test.ts', 'e/other.ts']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), '');
    }
    expect(findPluginFiles(dir).map((f) => path.relative(dir, f))).toEqual(['a.ts', 'c/index.js', 'd/d.ts']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['syntax-error.ts', 'TSWS_ERR_PLUGIN_IMPORT', /syntax-error\.ts cannot be imported/],
    ['missing-import.ts', 'TSWS_ERR_PLUGIN_IMPORT', /no-such-module/],
    ['no-default.ts', 'TSWS_ERR_PLUGIN_NO_DEFAULT_EXPORT', /no-default\.ts has no default export/],
    ['api-version.ts', 'TSWS_ERR_PLUGIN_API_VERSION', /declares apiVersion 99; this server loads apiVersion 1 and 2/],
    ['not-a-function.ts', 'TSWS_ERR_PLUGIN_CALLBACK_NOT_FUNCTION', /callback "receive" is string, not a function/],
    ['unknown-callback.ts', 'TSWS_ERR_PLUGIN_UNKNOWN_CALLBACK', /unknown callback "recieve"\. Did you mean "receive"\?/],
    ['bad-name.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /websocket subprotocol token/],
    ['bad-fragments.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"receiveFragments" must be a boolean/],
    ['bad-receive-data.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"receiveData" must be "copy" or "view", got "borrowed"/],
    ['bad-max-message.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"maxMessageSize" must be a positive integer, got 0/],
    ['bad-mount-upgrades.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"mountUpgrades" must be a boolean, got "yes"/],
    ['v2-mixed-forms.ts', 'TSWS_ERR_PLUGIN_MIXED_FORMS', /protocol "x": its websocket part has "connection" and also receive/],
    ['v2-callbacks-key.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"callbacks" is apiVersion 1's: in apiVersion 2 .* "websocket" and "http" parts/],
    ['v2-protocols-array.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /apiVersion 2 wants "protocols" to be a function .* an array is apiVersion 1's/],
    ['v2-unknown-callback.ts', 'TSWS_ERR_PLUGIN_UNKNOWN_CALLBACK', /unknown callback "websocket\.recieve"\. Did you mean "websocket\.receive"\?/],
    ['v2-protocols-threw.ts', 'TSWS_ERR_PLUGIN_DESCRIPTOR', /"protocols" threw: no protocols today/],
  ])('%s fails with %s naming the file', async (fixture, code, message) => {
    const r = await loadOne(fixture);
    expect(r.errors.map((e) => e.code)).toEqual([code]);
    expect(r.errors[0]?.message).toMatch(message);
    expect(r.protocols.size).toBe(0);
  });

  it('refuses a protocol name defined twice, naming both files', async () => {
    const r = await loadPlugins([path.join(BROKEN, 'duplicate')]);
    expect(r.errors.map((e) => e.code)).toEqual(['TSWS_ERR_PLUGIN_DUPLICATE_PROTOCOL']);
    expect(r.errors[0]?.message).toMatch(/b\.ts defines protocol "same", already defined by .*a\.ts/);
  });

  it('reports an unreadable plugin directory', async () => {
    const r = await loadPlugins(['/nonexistent/plugins']);
    expect(r.errors.map((e) => e.code)).toEqual(['TSWS_ERR_PLUGIN_DIR']);
  });
});
