import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { REPO, killAll, runTsws } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

// The plugin goes inside the repo so that `import ... from 'tsws/plugin'` resolves exactly as in the README.
const PLUGIN_DIR = path.join(REPO, 'test/.tmp/readme-plugins');

afterAll(() => {
  killAll();
  removeConfigDirs();
  fs.rmSync(PLUGIN_DIR, { recursive: true, force: true });
});

describe('the README plugin example', () => {
  it('loads and behaves as the README says', async () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Writing a plugin'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("from 'tsws/plugin'");
    fs.mkdirSync(PLUGIN_DIR, { recursive: true });
    fs.writeFileSync(path.join(PLUGIN_DIR, 'shout.ts'), code ?? '');
    const dir = makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGIN_DIR } },
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ shout: { greeting: 'hi' } }] }] },
    });
    const p = runTsws(['-c', dir]);
    const [listener] = await p.ready;
    const url = `ws://127.0.0.1:${listener?.port}/`;
    const a = await TestClient.open(url, 'shout');
    const b = await TestClient.open(url, 'shout');
    expect(await a.nextText()).toBe('hi');
    expect(await b.nextText()).toBe('hi');
    a.send('abc');
    expect(await a.nextText()).toBe('ABC');
    expect(await a.nextText()).toBe('1');
    expect(await b.nextText()).toBe('1');
    await a.close();
    await b.close();
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.some((l) => l.msg === 'shout client left')).toBe(true);
  });
});
