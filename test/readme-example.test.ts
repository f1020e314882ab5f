import { execFile } from 'node:child_process';
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

/** The first ```ts block after `heading` in a markdown file of the repo, importing from `entry`. */
function example(file: string, heading: string, entry = 'tsws/plugin'): string {
  const text = `\n${fs.readFileSync(path.join(REPO, file), 'utf8')}`;
  const at = text.indexOf(`\n${heading}\n`);
  expect(at, `${file} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1] ?? '';
  expect(code).toContain(`from '${entry}'`);
  return code;
}

describe('the plugin examples of README.md and docs/guides/writing-a-plugin.md', () => {
  it("pass the guide's unit tests of its hello plugin (testProtocol)", async () => {
    fs.mkdirSync(PLUGIN_DIR, { recursive: true });
    fs.writeFileSync(path.join(PLUGIN_DIR, 'hello.ts'), example('docs/guides/writing-a-plugin.md', '## 2. The plugin file'));
    const test = path.join(PLUGIN_DIR, 'hello-guide.test.ts');
    fs.writeFileSync(test, example('docs/guides/writing-a-plugin.md', '### Unit tests of a plugin', 'tsws/testing'));
    // Its own vitest run: the example is a test file, with its own it() calls.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', path.relative(REPO, test)], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (err, stdout, stderr) => (err ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout))),
    );
    expect(out).toMatch(/Tests\s+3 passed/);
  }, 120_000);

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
