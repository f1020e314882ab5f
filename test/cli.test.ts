import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { REPO, killAll, runTsws, runTswsToEnd } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(() => {
  killAll();
  removeConfigDirs();
});

describe('tsws command line', () => {
  it('--check passes on the repo\'s own config', async () => {
    const r = await runTswsToEnd(['-c', REPO, '--check']);
    expect(r.stderr).toMatch(/^OK: 0 error\(s\), 0 warning\(s\); \d+ plugin file\(s\) loaded$/m);
    expect(r.code).toBe(0);
  });

  it("--check loads the seed's lwsws config with warnings only; --strict turns them into a failure", async () => {
    const seed = path.join(REPO, 'test/fixtures/seed-comlink-v2');
    const r = await runTswsToEnd(['-c', seed, '--check']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning TSWS_WARN_CONFIG_WRONG_PLACE: .*conf:7:4: "interface" belongs in a vhost block/m);
    expect(r.stderr).toMatch(/^warning TSWS_WARN_PROTOCOL_NOT_FOUND: .*comlink_v2:\d+:\d+: vhost "localhost" enables protocol "lws-meta"/m);
    expect(r.stderr).toMatch(/OK: 0 error\(s\), \d+ warning\(s\)/);
    const strict = await runTswsToEnd(['-c', seed, '--check', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^error TSWS_WARN_CONFIG_WRONG_PLACE/m);
  });

  it('--check fails with every error at its file:line:col, and a broken plugin by name', async () => {
    const dir = makeConfigDir({
      vhosts: { site: '{\n "vhosts": [{\n  "name": "a",\n  "port": "eighty"\n }]\n}' },
      plugins: { 'bad.js': 'export const notDefault = 1;' },
    });
    const r = await runTswsToEnd(['-c', dir, '--check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error TSWS_ERR_CONFIG_TYPE: .*conf\.d\/site:4:3: "port" must be an integer/);
    const fixed = makeConfigDir({ vhosts: { site: [{ name: 'a', port: '0' }] }, plugins: { 'bad.js': 'export const notDefault = 1;' } });
    const r2 = await runTswsToEnd(['-c', fixed, '--check']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/error TSWS_ERR_PLUGIN_NO_DEFAULT_EXPORT: plugin .*bad\.js has no default export/);
  });

  it('names files by their full path when started from "/"', async () => {
    const dir = makeConfigDir({ vhosts: { site: '{\n "vhosts": [{\n  "name": "a",\n  "port": "eighty"\n }]\n}' } });
    const r = await runTswsToEnd(['-c', dir, '--check'], { cwd: '/' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error TSWS_ERR_CONFIG_TYPE: ${path.join(dir, 'conf.d/site')}:4:3: "port" must be an integer`);
  });

  it('refuses to start on a bad config, exiting 1 with the errors logged', async () => {
    const dir = makeConfigDir({ vhosts: { site: [{ name: 'a', port: '0', mountz: [] }] } });
    const p = runTsws(['-c', dir]);
    expect(await p.exited).toBe(1);
    expect(p.lines.some((l) => l.code === 'TSWS_ERR_CONFIG_UNKNOWN_KEY')).toBe(true);
  });

  it('refuses unknown flags with usage and exit 2', async () => {
    const r = await runTswsToEnd(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TSWS_ERR_CLI_USAGE|Unknown option/);
    expect(r.stderr).toContain('Usage: tsws');
  });

  it('serves a plugin dropped into plugins/ and listed in a conf.d vhost, then stops on SIGTERM', async () => {
    const dir = makeConfigDir({
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ shout: {} }] }] },
      plugins: {
        'shout.ts': `
import { defineProtocol, definePlugin } from ${JSON.stringify(path.join(REPO, 'server/plugin/api.ts'))};
interface Session { pending: string[] }
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, Session>({
  name: 'shout',
  session: () => ({ pending: [] }),
  callbacks: {
    receive(conn, data) { conn.session.pending.push(data.toString().toUpperCase()); conn.requestWritable(); },
    writable(conn) { const m = conn.session.pending.shift(); if (m !== undefined) conn.write(m); if (conn.session.pending.length) conn.requestWritable(); },
  },
})] });`,
      },
    });
    const p = runTsws(['-c', dir]);
    const [listener] = await p.ready;
    const c = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'shout');
    c.send('hello');
    expect(await c.nextText()).toBe('HELLO');
    p.kill('SIGTERM');
    expect(await c.closed).toEqual({ code: 1001, reason: 'going away' });
    expect(await p.exited).toBe(0);
    expect(p.lines.some((l) => l.event === 'stopped')).toBe(true);
  });

  it("serves a plugin that imports 'tsws/plugin' from a config dir with no node_modules, and a protocol of yours named like a shipped one", async () => {
    // The plugin's tsws is the one running it (plugin/module-format.ts): before, Node looked for
    // node_modules/tsws from the plugin's directory and refused the import.
    const dir = makeConfigDir({
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ echo: {} }, { 'dumb-increment-protocol': {} }] }] },
      plugins: {
        'echo/echo.ts': `
import { definePlugin, defineProtocol, TSWS_VERSION } from 'tsws/plugin';
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, { out: string[] }>({
  name: 'echo',
  session: () => ({ out: [] }),
  callbacks: {
    receive(conn, data) { conn.session.out.push(\`mine \${TSWS_VERSION}: \${data.toString()}\`); conn.requestWritable(); },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); if (conn.session.out.length) conn.requestWritable(); },
  },
})] });`,
      },
    });
    const check = await runTswsToEnd(['-c', dir, '--check', '--strict']);
    expect(check.stderr).toMatch(/^OK: 0 error\(s\), 0 warning\(s\); 2 plugin file\(s\) loaded$/m);
    expect(check.code).toBe(0);
    const p = runTsws(['-c', dir]);
    const [listener] = await p.ready;
    const c = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'echo');
    c.send('hi');
    expect(await c.nextText()).toMatch(/^mine \d+\.\d+\.\d+: hi$/);
    // The shipped plugin the vhost names and you do not provide still loads.
    const d = await TestClient.open(`ws://127.0.0.1:${listener?.port}/`, 'dumb-increment-protocol');
    expect(await d.nextText()).toMatch(/^\d+$/);
    p.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 120_000); // the type check of --check runs TypeScript's compiler: seconds of CPU on two busy cores

  it('--check type-checks TypeScript plugins: each error coded at file:line:col, with the nearest tsconfig.json', async () => {
    const plugin = `import { definePlugin, defineProtocol } from 'tsws/plugin';
interface Session { n: number }
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, Session>({
  name: 'counter',
  session: () => ({ n: 0 }),
  callbacks: { receive(conn, data) { conn.sesion.n++; void data; } },
})] });
`;
    const dir = makeConfigDir({ vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ counter: {} }] }] }, plugins: { 'counter.ts': plugin } });
    const r = await runTswsToEnd(['-c', dir, '--check']);
    expect(r.stderr).toContain(`error TSWS_ERR_PLUGIN_TYPE: ${path.join(dir, 'plugins/counter.ts')}:6:43: type error TS2551: Property 'sesion' does not exist on type 'Conn<undefined, Session, unknown>'. Did you mean 'session'?`);
    expect(r.stderr).toMatch(/^FAILED: 1 error\(s\)/m);
    expect(r.code).toBe(1);
    // The project's tsconfig.json rules: here one that also forbids unused parameters.
    const strict = makeConfigDir({
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ counter: {} }] }] },
      plugins: { 'counter.ts': plugin.replace('conn.sesion.n++; void data;', 'conn.session.n++;') },
      files: { 'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, allowImportingTsExtensions: true, module: 'nodenext', noUnusedParameters: true } }) },
    });
    const r2 = await runTswsToEnd(['-c', strict, '--check']);
    expect(r2.stderr).toMatch(/^error TSWS_ERR_PLUGIN_TYPE: .*plugins\/counter\.ts:6:\d+: type error TS6133: 'data' is declared but its value is never read/m);
    expect(r2.code).toBe(1);
  }, 120_000);

  it('prints its version', async () => {
    const r = await runTswsToEnd(['--version']);
    expect(r.stdout).toMatch(/^tsws \d+\.\d+\.\d+/);
    expect(fs.existsSync(path.join(REPO, 'bin/tsws.mjs'))).toBe(true);
  });
});
