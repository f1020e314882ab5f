import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBLIC_ENTRIES } from '../server/base/paths.ts';
import { checkConfig, isTswsError, startServer } from '../server/app/embed.ts';
import { startTestServer } from '../server/testing/index.ts';
import { makeConfigDir, removeConfigDirs } from './helpers/config-dir.ts';
import { REPO } from './helpers/process.ts';
import { TestClient } from './helpers/ws-client.ts';

afterAll(removeConfigDirs);

/** A plugin answering each message with `<tag>: <message>`, importing tsws/plugin as a user's would. */
const tagged = (name: string, tag: string) => `
import { definePlugin, defineProtocol } from 'tsws/plugin';
export default definePlugin({ apiVersion: 1, protocols: [defineProtocol<undefined, { out: string[] }>({
  name: ${JSON.stringify(name)},
  session: () => ({ out: [] }),
  callbacks: {
    receive(conn, data) { conn.session.out.push(${JSON.stringify(tag)} + ': ' + data.toString()); conn.requestWritable(); },
    writable(conn) { const m = conn.session.out.shift(); if (m !== undefined) conn.write(m); if (conn.session.out.length) conn.requestWritable(); },
  },
})] });`;

/** Every file a module imports at run time (type-only imports left out), following relative imports. */
function runtimeImports(entry: string, seen = new Set<string>()): Set<string> {
  seen.add(entry);
  const text = fs.readFileSync(entry, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)) {
    if (m[1]) continue;
    const spec = m[2] as string;
    if (!spec.startsWith('.')) {
      seen.add(spec);
      continue;
    }
    const file = path.resolve(path.dirname(entry), spec);
    if (!seen.has(file)) runtimeImports(file, seen);
  }
  return seen;
}

describe('the package surface', () => {
  it("names the same modules in package.json's exports, the repo's tsconfig paths and the loader's table", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] };
    const tsconfig = JSON.parse(fs.readFileSync(path.join(REPO, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
    for (const [specifier, module] of Object.entries(PUBLIC_ENTRIES)) {
      const sub = specifier === 'tsws' ? '.' : `./${specifier.slice('tsws/'.length)}`;
      expect(pkg.exports[sub], specifier).toEqual({ types: `./dist/server/${module}.d.ts`, default: `./dist/server/${module}.js` });
      expect(tsconfig.compilerOptions.paths[specifier], specifier).toEqual([`./server/${module}.ts`]);
      expect(fs.existsSync(path.join(REPO, 'server', `${module}.ts`)), specifier).toBe(true);
    }
    expect(Object.keys(pkg.exports).sort()).toEqual([...Object.keys(PUBLIC_ENTRIES).map((s) => (s === 'tsws' ? '.' : `./${s.slice(5)}`)), './package.json'].sort());
    expect(pkg.files).toEqual(['bin/', 'dist/', 'share/']);
  });

  it('tsws/plugin loads nothing of the transport (uWS.js): types and unit tests work where it cannot load', () => {
    const imports = [...runtimeImports(path.join(REPO, 'server/plugin/api.ts'))];
    expect(imports.filter((f) => f.includes(`${path.sep}transport${path.sep}`) || /uws/i.test(f))).toEqual([]);
    // Only Node's own modules beyond tsws's files.
    expect(imports.filter((f) => !path.isAbsolute(f) && !f.startsWith('node:'))).toEqual([]);
  });

  it('tsws/client imports nothing beyond its own folder at run time: a browser loads it with nothing else', () => {
    const lib = path.join(REPO, 'server', 'client-lib') + path.sep;
    const imports = [...runtimeImports(path.join(REPO, 'server', `${PUBLIC_ENTRIES['tsws/client']}.ts`))];
    expect(imports.length).toBeGreaterThan(1);
    expect(imports.filter((f) => !f.startsWith(lib))).toEqual([]);
  });

  it('tsws and tsws/testing import no module of uWS.js: the protocol kit and the types work where it cannot load', () => {
    for (const entry of ['tsws', 'tsws/testing'] as const) {
      const imports = [...runtimeImports(path.join(REPO, 'server', `${PUBLIC_ENTRIES[entry]}.ts`))];
      expect(imports.filter((f) => f.includes(`${path.sep}transport${path.sep}uws${path.sep}`) || /uWebSockets|@uwsjs/i.test(f)), entry).toEqual([]);
    }
  });

  it('testProtocol serves a plugin without loading any native module, where a real server loads uWS.js', () => {
    const natives = (body: string) => {
      const script = `import { createRequire } from 'node:module';\n${body}\nconsole.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((f) => f.endsWith('.node'))));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').at(-1) as string) as string[];
    };
    expect(natives(`
      import { testProtocol } from './server/testing/index.ts';
      import echo from './plugins/echo/echo.ts';
      const kit = await testProtocol(echo);
      const c = kit.connect();
      c.send('hi');
      if (c.texts[0] !== 'hi') throw new Error('no echo');
      await kit.stop();`)).toEqual([]);
    // The control: the same check sees uWS.js once a real server started.
    expect(natives(`
      import { startServer } from './server/app/embed.ts';
      const s = await startServer({ config: { vhosts: [{ name: 'localhost', port: 0, 'ws-protocols': [{ echo: {} }] }] }, log: 'silent' });
      await s.stop();`)).toEqual([expect.stringMatching(/uws.*\.node$/)]);
  });
});

describe('tsws from code', () => {
  it('serves an inline config with plugins of yours, reloads it with another, refuses a broken one and stops', async () => {
    const dir = makeConfigDir({ plugins: { 'shout.ts': tagged('shout', 'one'), 'other.ts': tagged('other', 'two') } });
    const plugins = path.join(dir, 'plugins');
    const server = await startServer({
      config: { global: { 'plugin-dir': [plugins] }, vhosts: [{ name: 'localhost', port: 0, 'ws-protocols': [{ shout: {} }, { echo: {} }] }] },
      log: 'silent',
    });
    const url = `ws://127.0.0.1:${server.port('localhost')}/`;
    const a = await TestClient.open(url, 'shout');
    a.send('x');
    expect(await a.nextText()).toBe('one: x');
    // A shipped plugin the vhost names loads beside yours.
    const e = await TestClient.open(url, 'echo');
    e.send('y');
    expect(await e.nextText()).toBe('y');

    const report = await server.reload({ global: { 'plugin-dir': [plugins] }, vhosts: [{ name: 'localhost', port: 0, 'ws-protocols': [{ other: {} }] }] });
    expect(report.generation).toBe(2);
    const b = await TestClient.open(`ws://127.0.0.1:${server.port('localhost')}/`, 'other');
    b.send('z');
    expect(await b.nextText()).toBe('two: z');
    // The connection from before the reload stays on what it started with.
    a.send('still');
    expect(await a.nextText()).toBe('one: still');

    const refused = await server.reload({ vhosts: [{ name: 'localhost', port: 'eighty' }] }).catch((err: unknown) => err);
    expect(isTswsError(refused, 'TSWS_ERR_CONFIG_INVALID')).toBe(true);
    expect((refused as Error).message).toMatch(/TSWS_ERR_CONFIG_TYPE: .*"port" must be an integer/);
    const c = await TestClient.open(`ws://127.0.0.1:${server.port('localhost')}/`, 'other');

    expect(await server.stop()).toEqual({ cut: 0 });
    for (const client of [a, b, c, e]) expect((await client.closed).code).toBe(1001);
  });

  it('binds every address on a free port when asked, where the configured one is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const dir = makeConfigDir({
        conf: { global: { 'count-threads': '2' } },
        vhosts: { site: [{ name: 'localhost', port: String(taken), interface: '127.0.0.1', 'ws-protocols': [{ echo: {} }] }] },
      });
      const refused = await startServer({ configDir: dir, log: 'silent' }).catch((err: unknown) => err);
      expect(isTswsError(refused, 'TSWS_ERR_LISTEN')).toBe(true);
      const server = await startTestServer({ configDir: dir });
      expect(server.port()).not.toBe(taken);
      const c = await server.connect('echo');
      c.send('free');
      expect(await c.nextText()).toBe('free');
      expect((await server.request('/nothing-here')).status).toBe(404);
      expect(server.logs.some((l) => l.event === 'listening')).toBe(true);
      // Worker threads are the command's: from code, one thread serves, and the log says so.
      expect(server.logs.filter((l) => l.code === 'TSWS_WARN_EMBEDDED_ONE_THREAD').map((l) => l.msg)).toEqual([expect.stringContaining('count-threads is 2')]);
      await server.stop();
      expect((await c.closed).code).toBe(1001);
    } finally {
      holder.close();
    }
  });

  it('checks a config as --check does, types included, without serving', async () => {
    const dir = makeConfigDir({
      vhosts: { site: [{ name: 'localhost', port: '0', 'ws-protocols': [{ shout: {} }] }] },
      plugins: { 'shout.ts': tagged('shout', 'one').replace('conn.session.out.push', 'conn.sesion.out.push') },
    });
    const r = await checkConfig({ configDir: dir });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => e.code)).toEqual(['TSWS_ERR_PLUGIN_TYPE']);
    expect(r.errors[0]?.message).toContain(`${path.join(dir, 'plugins/shout.ts')}:7:`);
  }, 120_000);
});
