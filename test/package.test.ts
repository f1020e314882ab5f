import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../server/base/version.ts';
import { REPO, killAll, runLogged } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

/**
 * tsws as a dependency, as a new user meets it: npm pack (its prepack builds
 * dist/), the tarball installed into an empty project, `tsws init`, the
 * project's own `npm test`, tsc under node16 and bundler resolution with no
 * special settings, --check, and the server serving hello and a protocol of
 * the user's named echo. Installs reuse the npm cache (--prefer-offline):
 * what the repo's npm ci fetched is not fetched again.
 *
 * The pack runs in a copy of the package's sources (node_modules linked), so
 * that the build writes nothing into this checkout.
 */
const run = promisify(execFile);
let root: string;
let app: string;
let tarball: string;

/** npm's own variables from the `npm test` running us would point the inner npm at this repo (npm_config_local_prefix...). */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_cafile', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_update_notifier', 'npm_config_fund', 'npm_config_audit']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(/^npm_/i.test(k) && !keep.has(k.toLowerCase())) && !/^VITEST/.test(k) && k !== 'INIT_CWD'));
  delete env.FORCE_COLOR;
  // Plain output to read; no NODE_ENV=test of ours in the project's own runs.
  return { ...env, NO_COLOR: '1', NODE_ENV: '' };
}

/** Runs a command to completion; resolves with its stdout, and its stderr after a blank line. */
async function sh(cwd: string, command: string, args: readonly string[]): Promise<string> {
  try {
    const r = await run(command, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
    return `${r.stdout}\n\n${r.stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
const npm = (cwd: string, ...args: string[]) => sh(cwd, 'npm', [...args, '--no-audit', '--no-fund', '--prefer-offline']);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-package-'));
  const stage = path.join(root, 'tsws');
  for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-package.ts', 'bin', 'server', 'plugins', 'share']) {
    fs.cpSync(path.join(REPO, entry), path.join(stage, entry), { recursive: true, filter: (f) => !f.includes(`${path.sep}node_modules`) });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'));
  // The JSON array alone: some npm versions print the prepack script's banner on stdout too.
  const out = await npm(stage, 'pack', '--json', '--pack-destination', root);
  const packed = JSON.parse(out.slice(out.search(/^\[$/m), out.search(/^\]$/m) + 1)) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(root, packed[0]?.filename ?? '');
  expect(fs.existsSync(tarball)).toBe(true);
  // What ships: the compiled code and its types, the bins, the data dir; no sources, tests or CI.
  const shipped = (packed[0]?.files ?? []).map((f) => f.path);
  expect(shipped).toEqual(expect.arrayContaining(['bin/tsws.mjs', 'dist/server/app/embed.js', 'dist/server/plugin/api.d.ts', 'dist/server/testing/index.d.ts', 'dist/server/client-lib/index.js', 'dist/plugins/echo/echo.js', 'dist/server/init/template/plugins/hello/hello.ts', 'share/tsws-test-server/index.html']));
  expect(shipped.filter((f) => /^(test|bench|\.ci|server|plugins|scripts)\//.test(f) || f.endsWith('.test.js') || f.endsWith('.test.d.ts'))).toEqual([]);
  expect(fs.existsSync(path.join(stage, 'dist'))).toBe(false); // postpack cleaned up

  // An empty project installs tsws, then lets it write the rest (npm init && npm install tsws && npx tsws init .).
  app = path.join(root, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  await npm(app, 'install', tarball);
  await sh(app, process.execPath, ['node_modules/tsws/bin/tsws.mjs', 'init']);
  await npm(app, 'install');
}, 400_000);

afterAll(() => {
  killAll();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('tsws installed from its tarball into a new project', () => {
  it("passes the project's npm test out of the box (tsc, then hello's unit and integration tests through tsws/testing)", async () => {
    const out = await npm(app, 'test');
    expect(out).toMatch(/Tests\s+5 passed/);
  }, 180_000);

  it('type-checks with tsc under node16 and bundler resolution, with none of the sources special settings', async () => {
    // Every public entry used once, so that each .d.ts behind them is checked too (skipLibCheck off);
    // vitest's own types are left out of this (they are checked, skipped as libraries, by npm test).
    // In ES modules: tsws is ESM-only, and under node16 a file of a CommonJS package (the app's
    // package.json, as npm init writes it, has no "type") cannot import it. The project's own
    // tsconfig checks its files as ES modules either way (npm test above).
    const esm = path.join(app, 'esm');
    fs.mkdirSync(esm);
    fs.writeFileSync(path.join(esm, 'package.json'), JSON.stringify({ type: 'module' }));
    fs.copyFileSync(path.join(app, 'plugins/hello/hello.ts'), path.join(esm, 'hello.ts'));
    fs.writeFileSync(
      path.join(esm, 'uses-tsws.ts'),
      [
        "import { checkConfig, startServer, type RunningServer } from 'tsws';",
        "import { TokenBucket, type Conn } from 'tsws/plugin';",
        "import { parseFormBody } from 'tsws/plugin/runtime';",
        "import { startTestServer, testProtocol, TestClient, type KitClient, type KitResponse, type ProtocolKit, type TestServer } from 'tsws/testing';",
        'export type Used = [RunningServer, TestServer, Conn<undefined, { n: number }>, TestClient, TokenBucket, ProtocolKit, KitClient, KitResponse];',
        'export const used = [checkConfig, startServer, parseFormBody, startTestServer, testProtocol];',
        '',
      ].join('\n'),
    );
    // The .d.ts files themselves are checked once (skipLibCheck off, as tsc's default): what differs
    // between the two resolutions is how the specifiers resolve, not what the files say.
    for (const [module, moduleResolution, skipLibCheck] of [['node16', 'node16', false], ['esnext', 'bundler', true]] as const) {
      const config = path.join(esm, `tsconfig.${moduleResolution}.json`);
      fs.writeFileSync(config, JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module, moduleResolution, types: ['node'], skipLibCheck }, files: ['hello.ts', 'uses-tsws.ts'] }));
      await sh(app, process.execPath, ['node_modules/typescript/bin/tsc', '-p', config]);
    }
    // and a plain Node program imports the programmatic API, with no TypeScript loader
    const out = await sh(app, process.execPath, ['--input-type=module', '-e', "const t = await import('tsws'); const p = await import('tsws/plugin'); console.log(typeof t.startServer, typeof p.definePlugin)"]);
    expect(out.trim()).toBe('function function');
  }, 180_000);

  it('installs by the documented route: npx --yes --package ./tsws-0.1.0.tgz tsws init my-app, then npm install in my-app', async () => {
    // tsws is not on the npm registry: the project must depend on this tarball, not on "^0.1.0" (E404,
    // or whoever publishes the name).
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const local = path.join(empty, path.basename(tarball));
    fs.copyFileSync(tarball, local);
    // --yes: npx asks before installing, and with no terminal to ask on it refuses.
    await sh(empty, 'npx', ['--yes', '--package', `./${path.basename(tarball)}`, 'tsws', 'init', 'my-app']);
    const project = path.join(empty, 'my-app');
    const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ tsws: `file:${local}` });
    await npm(project, 'install');
    const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules/tsws/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(VERSION);
    expect(await sh(project, 'npm', ['run', 'check'])).toMatch(/^OK: 0 error\(s\), 0 warning\(s\); 1 plugin file\(s\) loaded$/m);
  }, 300_000);

  it('serves hello and a protocol of yours named echo, which --check --strict accepts', async () => {
    fs.mkdirSync(path.join(app, 'plugins/echo'));
    fs.writeFileSync(
      path.join(app, 'plugins/echo/echo.ts'),
      fs.readFileSync(path.join(app, 'plugins/hello/hello.ts'), 'utf8').replace("name: 'hello'", "name: 'echo'"),
    );
    const site = path.join(app, 'conf.d/localhost');
    // Ports 7681 and 9464 may be taken on this machine: the one edit a test must make.
    fs.writeFileSync(site, fs.readFileSync(site, 'utf8').replace('"port": "7681"', '"port": "0"').replace('"hello": { "greeting": "hello" }', '"hello": { "greeting": "hello" }, "echo": { "greeting": "mine" }'));
    fs.writeFileSync(path.join(app, 'conf'), fs.readFileSync(path.join(app, 'conf'), 'utf8').replace('"port": "9464"', '"port": "0"'));
    const check = await sh(app, 'npm', ['run', 'check', '--', '--strict']);
    expect(check).toMatch(/^OK: 0 error\(s\), 0 warning\(s\); 2 plugin file\(s\) loaded$/m);

    const server = runLogged(process.execPath, ['node_modules/tsws/bin/tsws.mjs', '-c', '.'], { cwd: app, env: cleanEnv() });
    const listeners = await server.ready;
    const url = `ws://127.0.0.1:${listeners.find((l) => l.vhosts.includes('localhost'))?.port}/`;
    const hello = await TestClient.open(url, 'hello');
    hello.send('there');
    expect(await hello.nextText()).toBe('hello, there');
    const echo = await TestClient.open(url, 'echo');
    echo.send('echo');
    expect(await echo.nextText()).toBe('mine, echo');
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 180_000);
});
