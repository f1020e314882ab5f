import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_PLUGIN_DIR } from '../base/paths.ts';
import { findPluginFiles, loadPlugins } from './loader.ts';
import { SHIPPED_PROTOCOLS, loadServerPlugins } from './shipped.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A user plugin directory holding one plugin per protocol name, each answering with `mine:`. */
function userPlugins(...names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-user-plugins-'));
  dirs.push(dir);
  for (const name of names) {
    fs.writeFileSync(path.join(dir, `${name}.ts`), `export default { apiVersion: 1, protocols: [{ name: ${JSON.stringify(name)}, callbacks: {} }] };\n`);
  }
  return dir;
}

describe('shipped plugins', () => {
  it('are declared protocol by protocol, exactly as their folders provide them', async () => {
    const r = await loadPlugins([SHIPPED_PLUGIN_DIR]);
    expect(r.errors).toEqual([]);
    const actual = Object.fromEntries([...r.protocols.values()].map((p) => [p.name, path.relative(SHIPPED_PLUGIN_DIR, p.file).split(path.sep)[0]]));
    expect(actual).toEqual(SHIPPED_PROTOCOLS);
    expect(new Set(Object.values(SHIPPED_PROTOCOLS))).toEqual(new Set(findPluginFiles(SHIPPED_PLUGIN_DIR).map((f) => path.basename(path.dirname(f)))));
  });

  it('load only where a vhost names one of their protocols', async () => {
    const mine = userPlugins('mine');
    const none = await loadServerPlugins([SHIPPED_PLUGIN_DIR, mine], ['mine']);
    expect(none.errors).toEqual([]);
    expect(none.files).toEqual([path.join(mine, 'mine.ts')]);
    expect([...none.protocols.keys()]).toEqual(['mine']);
    // Every shipped name is still offered, for the "not found" warning's list.
    expect(none.available).toEqual(expect.arrayContaining(['echo', 'chat', 'mine']));

    const some = await loadServerPlugins([SHIPPED_PLUGIN_DIR, mine], ['mine', 'dumb-increment-protocol', 'broker']);
    expect(some.errors).toEqual([]);
    expect(some.files.map((f) => path.relative(SHIPPED_PLUGIN_DIR, f))).toEqual(expect.arrayContaining(['dumb-increment/dumb-increment.ts', 'broker/broker.ts']));
    expect([...some.protocols.keys()].sort()).toEqual(['broker', 'broker-peer', 'dumb-increment-protocol', 'mine']);
    expect(some.userFiles).toEqual([path.join(mine, 'mine.ts')]);
  });

  it('give way to a plugin of yours with the same protocol name, with no error or --check warning, but each replacement reported with both files', async () => {
    const mine = userPlugins('echo', 'broker-peer');
    const r = await loadServerPlugins([SHIPPED_PLUGIN_DIR, mine], ['echo', 'broker', 'broker-peer']);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.protocols.get('echo')?.file).toBe(path.join(mine, 'echo.ts'));
    expect(r.protocols.get('broker-peer')?.file).toBe(path.join(mine, 'broker-peer.ts'));
    expect(r.protocols.get('broker')?.file).toBe(path.join(SHIPPED_PLUGIN_DIR, 'broker/broker.ts'));
    expect(r.files).not.toContain(path.join(SHIPPED_PLUGIN_DIR, 'echo/echo.ts'));
    expect(r.shadowed).toEqual([
      { protocol: 'echo', yours: path.join(mine, 'echo.ts'), shipped: path.join(SHIPPED_PLUGIN_DIR, 'echo/echo.ts') },
      { protocol: 'broker-peer', yours: path.join(mine, 'broker-peer.ts'), shipped: path.join(SHIPPED_PLUGIN_DIR, 'broker/broker.ts') },
    ]);
  });
});
