import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { REPO, killAll, runTsws } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

// The plugins go inside the repo so that `import ... from 'tsws/plugin'` resolves exactly as in the docs.
const PLUGIN_DIR = path.join(REPO, 'test/.tmp/readme-plugins');

afterAll(() => {
  killAll();
  removeConfigDirs();
  fs.rmSync(PLUGIN_DIR, { recursive: true, force: true });
});

/** The first ```ts block after `heading` in a markdown file of the repo. */
function example(file: string, heading: string): string {
  const text = `\n${fs.readFileSync(path.join(REPO, file), 'utf8')}`;
  const at = text.indexOf(`\n${heading}\n`);
  expect(at, `${file} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1] ?? '';
  expect(code).toContain("from 'tsws/plugin'");
  return code;
}

describe('the plugin examples of README.md and docs/guides/writing-a-plugin.md', () => {
  it('load and behave as the docs say', async () => {
    const upper = example('README.md', '## A plugin in 20 lines');
    expect(upper.trimEnd().split('\n').length).toBeLessThanOrEqual(20);
    const shout = example('docs/guides/writing-a-plugin.md', '## A complete plugin');
    fs.mkdirSync(PLUGIN_DIR, { recursive: true });
    fs.writeFileSync(path.join(PLUGIN_DIR, 'upper.ts'), upper);
    fs.writeFileSync(path.join(PLUGIN_DIR, 'shout.ts'), shout);
    const dir = makeConfigDir({
      conf: { global: { 'plugin-dir': PLUGIN_DIR } },
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ shout: { greeting: 'hi' }, upper: {} }] }] },
    });
    const p = runTsws(['-c', dir]);
    const [listener] = await p.ready;
    const url = `ws://127.0.0.1:${listener?.port}/`;

    const u = await TestClient.open(url, 'upper');
    u.send('abc');
    u.send('déf');
    expect(await u.nextText()).toBe('ABC');
    expect(await u.nextText()).toBe('DÉF');
    await u.close();

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
